"""One analysis of a text, shared by the chat actions and the hotline API.

Input is what the NLU pipeline said about the text (intent ranking) plus the
raw text; output is the scam type, how sure we are, the red flags found in the
text, a risk level and the knowledge texts for that type in the reader's
language. The chat and the hotline call the same `analyze`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from bot.identifiers import CAUTION, WARNING, check_identifiers
from bot.knowledge import Knowledge, RedFlag, ScamType, load_knowledge, localized
from bot.spans import longest_non_overlapping

SCAM_INTENT_PREFIX = "scam_"
NO_SCAM = "none"
# The verdicts (bot/nlu/verdict.py): a scam, not a scam (NO_SCAM), or unsure.
SCAM, UNSURE = "scam", "unsure"
# Other types at least this likely are reported as alternatives.
ALTERNATIVE_MIN_SCORE = 0.03
MAX_ALTERNATIVES = 3
# A second type this likely, or with this many of its own red flags, is mentioned
# in the warning too (a romance that turned into an investment "opportunity").
RELATED_MIN_SCORE = 0.2
RELATED_MIN_FLAGS = 2
# Entities staff want listed: who the other side claimed to be, where, and how to reach them.
MENTIONED_ENTITIES = ("claimed_identity", "platform", "phone_number", "url", "bank_card")
# Money sent within this many minutes: an emergency stop-payment may still work.
CRITICAL_WINDOW_MINUTES = 24 * 60


@dataclass
class FoundFlag:
    id: str
    phrase: str
    start: int
    end: int
    why: str
    scam_type: Optional[str]


@dataclass
class Analysis:
    scam_type: str
    scam_name: Optional[str]
    confidence: float
    alternatives: List[Dict[str, Any]]
    related_types: List[str]
    risk_level: str
    risk_title: str
    red_flags: List[Dict[str, Any]]
    next_questions: List[str]
    script: str
    do_now: List[str]
    report_steps: List[str]
    lang: str
    verdict: str
    scam_probability: float
    signals: Dict[str, bool] = field(default_factory=dict)
    mentioned: List[Dict[str, Any]] = field(default_factory=list)
    identifiers: List[Dict[str, Any]] = field(default_factory=list)
    reported: List[Dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def scam_type_of_intent(intent: Optional[str]) -> Optional[str]:
    if intent and intent.startswith(SCAM_INTENT_PREFIX):
        return intent[len(SCAM_INTENT_PREFIX) :]
    return None


def _find(flags: Sequence[RedFlag], text: str, lang: str, scam_type: Optional[str]) -> List[FoundFlag]:
    found = []
    for flag in flags:
        for match in flag.matches(text):
            found.append(
                FoundFlag(flag.id, match.group(0), match.start(), match.end(),
                          localized(flag.why, lang), scam_type)
            )
            break  # one mention of a flag is enough to explain it
    return found


def find_red_flags(text: str, lang: str, knowledge: Knowledge) -> List[FoundFlag]:
    """Every red flag of every type and the shared ones, one match per flag."""
    found = _find(knowledge.shared_red_flags, text, lang, None)
    for scam in knowledge.types.values():
        found.extend(_find(scam.red_flags, text, lang, scam.id))
    return found


def flags_per_type(flags: Sequence[FoundFlag]) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for flag in flags:
        if flag.scam_type:
            counts[flag.scam_type] = counts.get(flag.scam_type, 0) + 1
    return counts


@dataclass
class Verdict:
    """What the NLU's last component (bot/nlu/verdict.py) decided about the text."""

    verdict: str
    scam_type: str
    scam_probability: float
    type_ranking: List[Tuple[str, float]]

    @classmethod
    def of_parse(cls, parse: Mapping[str, Any]) -> Verdict:
        """The parse's verdict; a parse without one (no text) is not a scam."""
        given = parse.get("verdict") or {}
        return cls(
            verdict=str(given.get("verdict") or NO_SCAM),
            scam_type=str(given.get("scam_type") or NO_SCAM),
            scam_probability=float(given.get("scam_probability") or 0.0),
            type_ranking=[(str(r["scam_type"]), float(r["score"])) for r in given.get("type_ranking") or []],
        )

    def alternatives(self) -> List[Tuple[str, float]]:
        return [
            (t, s) for t, s in self.type_ranking if t != self.scam_type and s >= ALTERNATIVE_MIN_SCORE
        ][:MAX_ALTERNATIVES]

    def related_types(self, flags_by_type: Mapping[str, int]) -> List[str]:
        if self.scam_type == NO_SCAM:
            return []
        return [
            t for t, s in self.type_ranking
            if t != self.scam_type and (s >= RELATED_MIN_SCORE or flags_by_type.get(t, 0) >= RELATED_MIN_FLAGS)
        ]


def loss_signals(text: str, knowledge: Knowledge) -> Dict[str, bool]:
    return {
        name: any(p.search(text) for p in patterns)
        for name, patterns in knowledge.loss_signals.items()
    }


def risk_level(
    scam_type: str,
    money_sent: Optional[bool],
    minutes_since_transfer: Optional[float],
    credentials_shared: Optional[bool],
) -> str:
    """The risk level from what happened; unknown timing of a transfer counts as recent."""
    if money_sent:
        if minutes_since_transfer is None or minutes_since_transfer <= CRITICAL_WINDOW_MINUTES:
            return "critical"
        return "high"
    if credentials_shared:
        return "high"
    return "medium" if scam_type != NO_SCAM else "low"


def _risk_from_text(scam_type: str, signals: Mapping[str, bool]) -> str:
    """A stateless estimate: a transfer only counts as recent when the text says so."""
    if signals.get("money_sent"):
        return "critical" if signals.get("recent") else "high"
    return risk_level(
        scam_type, False, None, signals.get("credential_shared") or signals.get("loan_taken")
    )


def mentioned(parse: Mapping[str, Any], text: str) -> List[Dict[str, Any]]:
    """The identities, platforms, numbers, links and cards the extractor found, once each, in text order.

    The value is the text's own words (the parse's value may be a synonym's canonical name).
    """
    seen = set()
    found = []
    for entity in sorted(parse.get("entities") or [], key=lambda e: int(e.get("start") or 0)):
        kind, start, end = entity.get("entity"), int(entity.get("start") or 0), int(entity.get("end") or 0)
        value = text[start:end]
        if kind in MENTIONED_ENTITIES and value and (kind, value) not in seen:
            seen.add((kind, value))
            found.append({"kind": kind, "value": value, "start": start, "end": end})
    return found


def identifier_flags(checked: Sequence[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """A suspicious link or number as a red flag: its gravest finding, id prefixed `link_` or `number_`."""
    flags = []
    for c in checked:
        if c["status"] in (WARNING, CAUTION):
            finding = next(f for f in c["findings"] if f["level"] == c["status"])
            flags.append({"id": f"{c['kind']}_{finding['id']}", "phrase": c["value"], "start": c["start"],
                          "end": c["end"], "why": finding["why"]})
    return flags


def report_steps(scam: Optional[ScamType], lang: str, knowledge: Knowledge) -> List[str]:
    steps = list(localized(knowledge.reporting["channels"], lang))
    if scam is not None:
        steps += list(localized(scam.report_notes, lang))
    return steps


def analyze(
    parse: Mapping[str, Any],
    text: str,
    lang: str,
    knowledge: Optional[Knowledge] = None,
) -> Analysis:
    """Analyse one text given the NLU parse of it."""
    knowledge = knowledge or load_knowledge()
    all_flags = find_red_flags(text, lang, knowledge)
    verdict = Verdict.of_parse(parse)
    scam = knowledge.types.get(verdict.scam_type)
    related = verdict.related_types(flags_per_type(all_flags))
    alternatives = verdict.alternatives() if scam else []
    # Report the flags of the recognised type, the types it may also be, and the shared ones.
    relevant = {None, verdict.scam_type, *related, *(t for t, _ in alternatives)}
    shown = [f for f in all_flags if f.scam_type in relevant]
    signals = loss_signals(text, knowledge)
    identifiers = check_identifiers(text, lang)
    level = _risk_from_text(verdict.scam_type, signals)
    # Unsure: the general questions first, since they decide whether it is a scam at all.
    source: Mapping[str, Any] = (
        {"next_questions": scam.next_questions, "script": scam.script}
        if scam and verdict.verdict == SCAM else knowledge.general
    )
    return Analysis(
        scam_type=verdict.scam_type,
        scam_name=localized(scam.name, lang) if scam else None,
        confidence=round(dict(verdict.type_ranking).get(verdict.scam_type, 1.0 - verdict.scam_probability), 4),
        alternatives=[
            {"scam_type": t, "scam_name": localized(knowledge.types[t].name, lang), "score": round(s, 4)}
            for t, s in alternatives
        ],
        related_types=related,
        risk_level=level,
        risk_title=localized(knowledge.risk_levels[level]["title"], lang),
        red_flags=longest_non_overlapping(
            [{"id": f.id, "phrase": f.phrase, "start": f.start, "end": f.end, "why": f.why} for f in shown]
            + identifier_flags(identifiers),
            lambda f: (f["start"], f["end"]),
        ),
        next_questions=list(localized(source["next_questions"], lang)),
        script=localized(source["script"], lang),
        do_now=list(localized(scam.do_now, lang)) if scam else list(
            localized(knowledge.risk_levels[level]["steps"], lang)
        ),
        report_steps=report_steps(scam, lang, knowledge),
        lang=lang,
        verdict=verdict.verdict,
        scam_probability=verdict.scam_probability,
        signals=signals,
        mentioned=mentioned(parse, text),
        identifiers=identifiers,
    )


def add_reported(
    result: Analysis, reported: Sequence[Mapping[str, Any]], knowledge: Optional[Knowledge] = None
) -> None:
    """Reported identifiers the text names (bot/reported.py): red flags, and never a plain "not a scam"."""
    if not reported:
        return
    knowledge = knowledge or load_knowledge()
    result.reported = [dict(r) for r in reported]
    flags = [{"id": f"reported_{r['kind']}", "phrase": r["value"], "start": r["start"], "end": r["end"],
              "why": r["why"]} for r in reported]
    result.red_flags = longest_non_overlapping(flags + result.red_flags, lambda f: (f["start"], f["end"]))
    if result.verdict != SCAM:
        result.verdict = UNSURE
    if result.risk_level == "low":
        result.risk_level = "medium"
        result.risk_title = localized(knowledge.risk_levels["medium"]["title"], result.lang)
        if result.scam_type == NO_SCAM:
            result.do_now = list(localized(knowledge.risk_levels["medium"]["steps"], result.lang))

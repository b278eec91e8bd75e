"""One analysis of a text, shared by the chat actions and the hotline API.

Input is what the NLU pipeline said about the text (intent ranking) plus the
raw text; output is the scam type, how sure we are, the red flags found in the
text, a risk level and the knowledge texts for that type in the reader's
language. The chat and the hotline call the same `analyze`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from bot.knowledge import Knowledge, RedFlag, ScamType, load_knowledge, localized
from bot.spans import longest_non_overlapping

SCAM_INTENT_PREFIX = "scam_"
NO_SCAM = "none"
# Each red flag specific to a type adds this much to that type's score (at most
# MAX_FLAGS_COUNTED flags count): the wording of a message backs up the classifier.
FLAG_WEIGHT = 0.12
MAX_FLAGS_COUNTED = 3
# Other types at least this likely are reported as alternatives.
ALTERNATIVE_MIN_SCORE = 0.03
MAX_ALTERNATIVES = 3
# A second type this likely, or with this many of its own red flags, is mentioned
# in the warning too (a romance that turned into an investment "opportunity").
RELATED_MIN_SCORE = 0.2
RELATED_MIN_FLAGS = 2
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
class Classification:
    scam_type: str
    confidence: float
    scores: Dict[str, float]
    flags_by_type: Dict[str, int]

    def alternatives(self) -> List[Tuple[str, float]]:
        ranked = sorted(self.scores.items(), key=lambda kv: -kv[1])
        return [
            (t, s)
            for t, s in ranked
            if t not in (self.scam_type, NO_SCAM) and s >= ALTERNATIVE_MIN_SCORE
        ][:MAX_ALTERNATIVES]

    def related_types(self) -> List[str]:
        return [
            t
            for t, s in sorted(self.scores.items(), key=lambda kv: -kv[1])
            if t not in (self.scam_type, NO_SCAM)
            and (s >= RELATED_MIN_SCORE or self.flags_by_type.get(t, 0) >= RELATED_MIN_FLAGS)
        ]


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


def classify(intent_ranking: Sequence[Mapping[str, Any]], flags: Sequence[FoundFlag]) -> Classification:
    """Combine the classifier's intent ranking with the red flags found in the text."""
    scores: Dict[str, float] = {NO_SCAM: 0.0}
    for intent in intent_ranking:
        name = intent.get("name")
        if name == "nlu_fallback":
            continue
        confidence = float(intent.get("confidence") or 0.0)
        scam_type = scam_type_of_intent(name)
        key = scam_type or NO_SCAM
        scores[key] = scores.get(key, 0.0) + confidence
    flags_by_type: Dict[str, int] = {}
    for flag in flags:
        if flag.scam_type:
            flags_by_type[flag.scam_type] = flags_by_type.get(flag.scam_type, 0) + 1
    for scam_type, count in flags_by_type.items():
        scores[scam_type] = scores.get(scam_type, 0.0) + FLAG_WEIGHT * min(count, MAX_FLAGS_COUNTED)
    total = sum(scores.values()) or 1.0
    scores = {t: s / total for t, s in scores.items()}
    best = max(scores, key=lambda t: scores[t])
    return Classification(best, scores[best], scores, flags_by_type)


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
    ranking = parse.get("intent_ranking") or ([parse["intent"]] if parse.get("intent") else [])
    result = classify(ranking, all_flags)
    scam = knowledge.types.get(result.scam_type)
    # Report the flags of the recognised type, the types it may also be, and the shared ones.
    relevant = {None, result.scam_type, *result.related_types(), *(t for t, _ in result.alternatives())}
    shown = [f for f in all_flags if f.scam_type in relevant]
    signals = loss_signals(text, knowledge)
    level = _risk_from_text(result.scam_type, signals)
    source: Mapping[str, Any] = (
        {"next_questions": scam.next_questions, "script": scam.script} if scam else knowledge.general
    )
    return Analysis(
        scam_type=result.scam_type,
        scam_name=localized(scam.name, lang) if scam else None,
        confidence=round(result.confidence, 4),
        alternatives=[
            {"scam_type": t, "scam_name": localized(knowledge.types[t].name, lang), "score": round(s, 4)}
            for t, s in result.alternatives()
        ],
        related_types=result.related_types(),
        risk_level=level,
        risk_title=localized(knowledge.risk_levels[level]["title"], lang),
        red_flags=[
            {"id": f.id, "phrase": f.phrase, "start": f.start, "end": f.end, "why": f.why}
            for f in longest_non_overlapping(shown, lambda f: (f.start, f.end))
        ],
        next_questions=list(localized(source["next_questions"], lang)),
        script=localized(source["script"], lang),
        do_now=list(localized(scam.do_now, lang)) if scam else list(
            localized(knowledge.risk_levels[level]["steps"], lang)
        ),
        report_steps=report_steps(scam, lang, knowledge),
        lang=lang,
        verdict="none" if result.scam_type == NO_SCAM else "scam",
        scam_probability=round(1.0 - result.scores.get(NO_SCAM, 0.0), 4),
        signals=signals,
    )

"""The case: a recognised story opens it, follow-ups stay in it, a second different story opens another.

`action_open_case` only decides and fills slots; the rules send the warning
(`utter_scam_warning`, `utter_do_now`) or the case's next step
(`utter_case_next_step`), whose words live in domain.yml. The type-specific
parts of those words come from knowledge/scam_types.yml through the `case_*`
slots, in the conversation's language (`case_texts`).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    conversation_language,
    intent_of,
    knowledge,
    message_text,
    numbered,
    parse_of,
    record_case,
    verdict_of,
)
from actions.risk import record_risk
from bot.analysis import NO_SCAM, analyze, scam_type_of_intent
from bot.case_codes import shown
from bot.knowledge import Knowledge, RedFlag, localized

OPEN_CASE = "action_open_case"

# A message that changes the type opens a second case only when it reads as a new story: surely
# a scam (when the pipeline gives a verdict), and either saying it is another matter and this long,
# or, without such words, longer still and not pointing back at the open case (knowledge/messages.yml).
NEW_STORY_MIN_CJK = 25
NEW_STORY_MIN_WORDS = 12
UNANNOUNCED_STORY_MIN_CJK = 60
UNANNOUNCED_STORY_MIN_WORDS = 30
NEW_STORY_MIN_PROBABILITY = 0.8
MAX_QUOTED_FLAGS = 3
# Longer matches (a pattern spanning half a sentence) are explained, not quoted.
MAX_QUOTE = {"zh": 12, "en": 30}
MAX_DO_NOW = 3
# Phone-sized bubbles: the filled-in parts stay within these many characters.
MAX_CHARS = {"zh": 120, "en": 300}
# The reporting notes and the case code share utter_case_report's bubble with its fixed steps.
REPORT_CHARS = {"zh": 110, "en": 260}

# Slots a new case starts from scratch (the facts of the message that opens it are re-read).
TRIAGE_SLOTS = (
    "money_sent",
    "credentials_shared",
    "time_since_transfer",
    "minutes_since_transfer",
    "amount",
    "amount_said",
    "exposures",
    "payment_channel",
    "still_in_contact",
)
CASE_TEXT_SLOTS = (
    "case_name", "case_summary", "case_genuine_way", "case_point", "case_point_next", "case_do_now", "case_quotes",
    "case_reasons", "case_evidence", "case_report",
)


def _flag_index(kb: Knowledge) -> Dict[str, RedFlag]:
    flags = {f.id: f for f in kb.shared_red_flags}
    for scam in kb.types.values():
        flags.update({f.id: f for f in scam.red_flags})
    return flags


def _within(items: Sequence[str], lang: str, limit: Optional[int] = None) -> List[str]:
    """As many items as fit a phone-sized bubble (at least one), or `limit` characters (maybe none)."""
    kept: List[str] = []
    used = 0
    for item in items:
        if (kept or limit is not None) and used + len(item) > (MAX_CHARS[lang] if limit is None else limit):
            break
        kept.append(item)
        used += len(item)
    return kept


def _dedup(items: Sequence[str]) -> List[str]:
    seen = set()
    return [i for i in items if not (i in seen or seen.add(i))]  # type: ignore[func-returns-value]


def case_flags(analysis_flags: Sequence[Mapping[str, Any]], scam_type: str, kb: Knowledge) -> List[str]:
    """The red flags found in the story that belong to its type or to every type, as "id<TAB>phrase"."""
    own = {f.id for f in kb.types[scam_type].red_flags} | {f.id for f in kb.shared_red_flags}
    kept: List[str] = []
    for flag in analysis_flags:
        if flag.get("id") in own and flag.get("phrase") and len(kept) < MAX_QUOTED_FLAGS:
            kept.append(f"{flag['id']}\t{flag['phrase']}")
    return kept


def case_texts(
    scam_type: Optional[str], flags: Sequence[str], lang: str, code: Optional[str] = None
) -> Dict[str, Any]:
    """The `case_*` slots for a case of this type, in this language (all None without a case); the
    reporting notes end with the case's code, when it has one.

    `case_has_flags` says whether the warning can quote the person's words (utter_scam_warning).
    """
    kb = knowledge()
    scam = kb.types.get(scam_type or "")
    if scam is None:
        return {**{slot: None for slot in CASE_TEXT_SLOTS}, "case_has_flags": False}
    index = _flag_index(kb)
    found = [(i, p) for i, p in (f.split("\t", 1) for f in flags if "\t" in f) if i in index]
    short = [(i, p) for i, p in found if len(p.strip()) <= MAX_QUOTE[lang]]
    if lang == "zh":
        quotes = "".join(f"「{p.strip()}」" for _, p in short)
        reasons = [f"「{p.strip()}」：{localized(index[i].why, lang)}" if (i, p) in short
                   else str(localized(index[i].why, lang)) for i, p in found]
    else:
        quotes = ", ".join(f"\"{p.strip()}\"" for _, p in short)
        reasons = [f"\"{p.strip()}\": {localized(index[i].why, lang)}" if (i, p) in short
                   else str(localized(index[i].why, lang)) for i, p in found]
    if not reasons:  # nothing quoted: the type's own first signs, with its own reasons
        reasons = [str(localized(f.why, lang)) for f in scam.red_flags[:2]]
    flag_steps = [str(localized(step, lang)) for step in (index[i].do_now for i, _ in found) if step]
    do_now = list(dict.fromkeys(flag_steps + list(localized(scam.do_now, lang))))
    code_line = str(localized(kb.chat["case_code_line"], lang)).format(code=shown(code)) if code else ""
    return {
        "case_name": localized(scam.name, lang),
        "case_summary": localized(scam.summary, lang),
        "case_genuine_way": localized(scam.genuine_way, lang),
        "case_point": do_now[0],
        # After "hang up, leave the meeting" (utter_still_in_contact), the step that does not repeat it.
        "case_point_next": do_now[1] if len(do_now) > 1 else do_now[0],
        "case_do_now": numbered(_within(do_now[:MAX_DO_NOW], lang)),
        "case_quotes": quotes or None,
        "case_has_flags": bool(quotes),
        "case_reasons": numbered(_within(_dedup(reasons), lang)),
        "case_evidence": numbered(_within(_dedup(list(localized(scam.evidence, lang))), lang)),
        "case_report": "\n".join(
            _within(list(localized(scam.report_notes, lang)), lang, REPORT_CHARS[lang] - len(code_line)) + [code_line]
        ) if code_line else "\n".join(_within(list(localized(scam.report_notes, lang)), lang)),
    }


def _length(text: str) -> tuple[int, int]:
    cjk = sum(1 for c in text if "\u3400" <= c <= "\u9fff")
    return cjk, len([w for w in text.split() if any(ch.isalpha() for ch in w)])


def reads_as_new_story(tracker: Tracker, case_type: Optional[str], new_type: str, kb: Knowledge) -> bool:
    """A second story, clearly different from the open case, or a follow-up that merely sounds like one?"""
    if not case_type:
        return True
    if new_type == case_type:
        return False
    verdict = verdict_of(tracker)
    if verdict:
        if verdict.get("verdict") != "scam":
            return False
        probability = float(verdict.get("scam_probability") or 0.0)
    else:
        probability = float((parse_of(tracker).get("intent") or {}).get("confidence") or 0.0)
    if probability < NEW_STORY_MIN_PROBABILITY:
        return False
    text = message_text(tracker)
    cjk, words = _length(text)
    if any(p.search(text) for p in kb.story_cues["new_story"]):
        return cjk >= NEW_STORY_MIN_CJK or (cjk == 0 and words >= NEW_STORY_MIN_WORDS)
    if any(p.search(text) for p in kb.story_cues["same_case"]):
        return False
    return cjk >= UNANNOUNCED_STORY_MIN_CJK or (cjk == 0 and words >= UNANNOUNCED_STORY_MIN_WORDS)


def opens_a_case(tracker: Tracker, case_type: Optional[str]) -> bool:
    """Whether this message is a story that action_open_case will open a case for (the first, or a
    second one), judged before the analysis, from the verdict and the intent."""
    if scam_type_of_intent(intent_of(tracker)) is None:
        return False
    return reads_as_new_story(tracker, case_type, story_type(tracker, NO_SCAM), knowledge())


def story_type(tracker: Tracker, analysis_type: str) -> str:
    """The type of a story: the verdict's, else the analysis', else the classifier's intent."""
    verdict = verdict_of(tracker)
    if verdict.get("verdict") == "scam" and verdict.get("scam_type") not in (None, NO_SCAM):
        return str(verdict["scam_type"])
    if analysis_type != NO_SCAM:
        return analysis_type
    return scam_type_of_intent(intent_of(tracker)) or "other"


class ActionOpenCase(Action):
    def name(self) -> str:
        return OPEN_CASE

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        from actions.slots import facts_slots, newly_within_window  # one reading of the facts for both actions

        lang = conversation_language(tracker)
        kb = knowledge()
        text = message_text(tracker)
        analysis = analyze(parse_of(tracker), text, lang, kb)
        new_type = story_type(tracker, analysis.scam_type)
        if new_type not in kb.types:
            new_type = "other"
        case_type = tracker.get_slot("scam_type")
        if not reads_as_new_story(tracker, case_type, new_type, kb):
            # The case keeps its type and its record; the rule answers with its next step.
            return [SlotSet("story_turn", "followup")]

        number = float(tracker.get_slot("case_number") or 0) + 1
        flags = case_flags(analysis.red_flags, new_type, kb)
        dispatcher.utter_message(json_message={"analysis": {**analysis.as_dict(), "scam_type": new_type}})
        code = record_case(
            tracker, number, scam_type=new_type, language=lang, channel=tracker.get_latest_input_channel()
        )
        events: List[EventType] = [
            SlotSet("case_code", code),
            SlotSet("case_linked", False),
            SlotSet("scam_type", new_type),
            SlotSet("case_number", number),
            SlotSet("case_second", number > 1),
            SlotSet("case_flags", flags),
        ]
        events += [SlotSet(k, v) for k, v in case_texts(new_type, flags, lang, code).items()]
        risk = tracker.get_slot("risk_level")
        if number > 1:
            # A new story: the earlier case's answers do not carry over, this message's facts do.
            fresh: Dict[str, Any] = {slot: None for slot in TRIAGE_SLOTS}
            fresh.update(facts_slots(text, lang, {}, None))
            if not (fresh.get("money_sent") or fresh.get("credentials_shared")):
                risk = None  # the first case's loss is not this one's
            fresh["risk_level"] = risk
            events += [SlotSet(k, v) for k, v in fresh.items()]
        else:
            # What the story says (already read this turn, unless it came while the form asked).
            slots = dict(tracker.current_slot_values())
            facts = facts_slots(text, lang, slots, None)
            events += [SlotSet(k, v) for k, v in facts.items() if v != slots.get(k)]
            if risk and facts:
                # The record keeps what the story says (amount band, time), not only the earlier answers.
                merged = {**slots, **facts}
                record_risk(tracker, risk, merged.get("money_sent"), merged)
            if risk == "critical" and newly_within_window(slots, facts):
                # The stop-payment steps came on an earlier turn; the story says it is not too late.
                dispatcher.utter_message(text=localized(kb.chat["golden_time_still_open"], lang))
        events.append(SlotSet("case_state", "critical" if risk == "critical" else "open"))
        # The steps for a loss or for exposed details came first this turn: no separate do-now bubble.
        events.append(SlotSet("story_turn", "new_case_loss" if risk in ("critical", "high") else "new_case"))
        return events

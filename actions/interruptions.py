"""What a follow-up gets when the triage form takes the turn.

Rasa runs a rule that answers a question during the form (data/rules/rules.yml: "answer
doubt during triage, then continue") only when the form rejects the message, that is when
the message fills none of its slots. A follow-up that also says something the form asks
("可是他对我真的很好 上个月还给我订了花", "那10万我还充不充") fills one, the form takes the
turn, and the question would go unanswered. The slot action then sends the rule's own
response itself, before the form's next question. The table is read from the rules.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Dict, Iterable, Mapping, Optional

import yaml
from rasa_sdk import Tracker

from actions.common import sent_last_turn
from bot.knowledge import TRIAGE_SLOTS_ASKED

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "data" / "rules" / "rules.yml"
CONFIG = ROOT / "config.yml"
FORM = "triage_form"
RETRIEVAL_INTENTS = ("faq",)
OFFER_AFTER_RESPONSE = "action_offer_report"
# A message that fills a slot and reads as everyday or unclear is an answer to the form.
ANSWERS_TO_THE_FORM = ("ordinary_message", "nlu_fallback")


@functools.lru_cache(maxsize=1)
def responses_during_form(path: Path = RULES) -> Dict[str, str]:
    """intent -> response of the rules "<intent> during triage, then continue"."""
    table: Dict[str, str] = {}
    for rule in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("rules") or []:
        steps = rule.get("steps") or []
        conditions = rule.get("condition") or []
        # intent, its response, the form; or with the offer after the report steps between them (the
        # stop-payment rule's own action is not an answer: that rule runs only when the form rejects)
        if (
            {"active_loop": FORM} in conditions
            and "intent" in steps[0]
            and str(steps[1].get("action", "")).startswith("utter_")
            and [s.get("action") for s in steps[2:-1]] in ([FORM], [OFFER_AFTER_RESPONSE, FORM])
        ):
            table[steps[0]["intent"]] = steps[1]["action"]
    return table


@functools.lru_cache(maxsize=1)
def fallback_threshold(path: Path = CONFIG) -> float:
    """The FallbackClassifier's threshold in config.yml: below it, an intent is not taken."""
    for component in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return float(component["threshold"])
    raise ValueError(f"{path} has no FallbackClassifier")


def intent_behind_fallback(parse: Mapping[str, Any], just_sent: Iterable[str] = ()) -> Optional[str]:
    """For a fallback that came from two close follow-ups ("你怎么确定他是骗子 你又没见过他": denial
    0.48, doubt 0.47), the first of them whose answer was not `just_sent` on the turn before;
    None when no such intent reached the threshold."""
    table, sent = responses_during_form(), set(just_sent)
    for intent in parse.get("intent_ranking") or []:
        name = intent.get("name")
        if name == "nlu_fallback" or table.get(str(name)) in sent:
            continue
        confident = float(intent.get("confidence") or 0) >= fallback_threshold()
        return str(name) if confident and name in table else None
    return None


def slots_filled_this_turn(tracker: Tracker) -> Iterable[str]:
    """Slots Rasa's own mappings set from the latest message (they come after the user event)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return
        if event.get("event") == "slot":
            yield str(event.get("name"))


def answer_inside_form(tracker: Tracker, parse: Mapping[str, Any], fills: Iterable[str]) -> Optional[str]:
    """The response to send now, or None when the form will reject the message (the rule answers)."""
    if tracker.active_loop_name != FORM:
        return None
    if not set(TRIAGE_SLOTS_ASKED) & (set(fills) | set(slots_filled_this_turn(tracker))):
        return None
    intent = parse.get("intent") or {}
    name = str(intent.get("name") or "")
    if name == "nlu_fallback":
        name = intent_behind_fallback(parse, sent_last_turn(tracker)) or name
    if name in ANSWERS_TO_THE_FORM:
        return None
    response = responses_during_form().get(name)
    if response and name in RETRIEVAL_INTENTS:
        full = intent.get("full_retrieval_intent_name")
        return f"utter_{full}" if full else None
    return response

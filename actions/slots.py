"""Slots filled from every message, inside and outside the triage form (action_validate_slot_mappings).

Rasa runs this action after each user message, before anything else is said.
It reads what the person wrote, in whatever words, with bot.facts: money sent,
when, how much, how, an app, a screen share, an ID photo, card details, a code,
a loan, still in contact; so a question already answered is never asked, and
the quick replies stay a shortcut. It also keeps the reply language, the
verdict of the message, the case's state and texts in that language.

Golden time: when money left within 24 hours, or at a time not yet known, the
stop-payment steps (`utter_critical_steps`) are the first thing this turn says,
once per conversation.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from actions.case import case_texts, opens_a_case
from actions.case_codes import add_to_linked_case, linked_case_slots
from actions.common import (
    conversation_language,
    intent_of,
    knowledge,
    message_text,
    numbered,
    parse_of,
    said_before_this_message,
    verdict_of,
)
from actions.interruptions import ANSWERS_TO_THE_FORM, answer_inside_form, slots_filled_this_turn
from actions.reported import reported_slots
from actions.risk import CRITICAL_WINDOW_MINUTES, alert_if_newly_critical, record_risk
from bot.analysis import scam_type_of_intent
from bot.case_codes import without_case_codes
from bot.facts import EXPOSURES, Facts, extract_facts
from bot.knowledge import localized
from bot.language import SUPPORTED, detect_language
from bot.ocr import IMAGE_SOURCE
from bot.storage.handoffs import HANDOFF_SLOT, WITH_STAFF

MAX_ANSWER_CHARS = 200
# A bubble the person reads on a phone: at most this many characters.
MAX_BUBBLE = {"zh": 200, "en": 500}
# risk_levels.high steps (knowledge/scam_types.yml) for an older loss and for exposed details.
HIGH_STEPS_LOSS = (0, 1)
HIGH_STEPS_EXPOSED = (1, 2)
VERDICTS = {"scam": "scam", "none": "clear", "unsure": "unsure"}
# Saying one has been defrauded counts as a loss at an unknown time (golden time); a question does not.
SAID_SCAMMED = re.compile(
    r"(?<!是不是)(?<!会不会)(?<!是否)(?<!怕)(?<!以免)(?<!防止)(?<!没有)(?<!没)(?<!不)(?<!别)被骗了(?![吗吧么？?])"
    r"|\b(i|we|she|he|they|mum|mom|dad)('ve| have| has| had|'s| got| was| were| just got)( been| got)?"
    r" (scammed|conned|defrauded|cheated)\b",
    re.IGNORECASE,
)
# Intents whose answer has a variant for the second time in a conversation, with that answer.
ASKED_AGAIN = {"ordinary_message": "utter_ordinary_message", "doubt": "utter_doubt", "denial": "utter_denial",
               "still_in_contact": "utter_still_in_contact", "show_report": "utter_case_report"}
# The form's questions bot.facts can read a bare answer to ("600", "支付宝", "没有").
ASKABLE = ("money_sent", "time_since_transfer", "amount", "payment_channel")


def _short(value: Any) -> Optional[str]:
    text = str(value).strip() if value is not None else ""
    return text[:MAX_ANSWER_CHARS] or None


def read_facts(text: str, lang: str, requested: Optional[str]) -> Facts:
    """The message's facts, a bare answer read for the question asked (bot.facts reads a text once a turn)."""
    return extract_facts(text, lang, asked=requested if requested in ASKABLE else None)


def facts_slots(text: str, lang: str, slots: Mapping[str, Any], requested: Optional[str]) -> Dict[str, Any]:
    """The triage slots this message fills, given the slots so far and the question asked, if any.

    Only what the message says is set: nothing it is silent about is cleared. An amount
    counts only when money is said to have left, or when it answers the amount question.
    """
    if not text.strip():
        return {}
    facts = read_facts(text, lang, requested)
    found: Dict[str, Any] = {}
    money_sent = facts.money_sent
    if money_sent is None and SAID_SCAMMED.search(text):
        money_sent = True  # "我被骗了", "I've been scammed": a loss at a time not known yet
    if money_sent is None and requested == "money_sent" and (
        facts.payment_channel or facts.amount or facts.minutes_since_transfer is not None
    ):
        money_sent = True  # "by bank transfer from my card" answers "have you sent money?"
    if money_sent is not None and (money_sent or slots.get("money_sent") is None):
        found["money_sent"] = money_sent
    money_left = bool(money_sent) or bool(slots.get("money_sent"))
    if facts.minutes_since_transfer is not None and (money_left or requested == "time_since_transfer"):
        found["minutes_since_transfer"] = float(facts.minutes_since_transfer)
        found["time_since_transfer"] = _short(facts.time_text) or _short(text)
    if facts.amount and (money_sent or requested == "amount" or slots.get("amount") is None and money_left):
        found["amount"] = _short(facts.amount)
    elif facts.amount and slots.get("amount") is None:
        found["amount_said"] = _short(facts.amount)
    if facts.payment_channel and (money_left or requested == "payment_channel"):
        found["payment_channel"] = facts.payment_channel
    # A gift card's codes sent are the payment ("sent him photos of the codes"), not an account's code.
    gift_codes = facts.payment_channel == "gift_card"
    exposed = [None if gift_codes and name == "code_given" else getattr(facts, name) for name in EXPOSURES]
    if any(exposed):
        found["credentials_shared"] = True
        given = set(slots.get("exposures") or [])
        said = {name for name, value in zip(EXPOSURES, exposed) if value}
        if not given >= said:
            found["exposures"] = [name for name in EXPOSURES if name in given or name in said]
    elif slots.get("credentials_shared") is None and sum(value is False for value in exposed) >= 2:
        # "APP没下 验证码没给": two of the question's parts denied and none done answer it
        found["credentials_shared"] = False
    if facts.still_in_contact is not None:
        found["still_in_contact"] = facts.still_in_contact
    return found


def money_left_earlier(slots: Mapping[str, Any]) -> bool:
    minutes = slots.get("minutes_since_transfer")
    return bool(slots.get("money_sent")) and minutes is not None and float(minutes) > CRITICAL_WINDOW_MINUTES


def high_risk_text(lang: str, loss: bool, exposed: bool) -> str:
    """The steps for money lost earlier or details given away, from the knowledge, phone-sized."""
    kb = knowledge()
    level = kb.risk_levels["high"]
    steps = list(localized(level["steps"], lang))
    wanted = (HIGH_STEPS_LOSS if loss else ()) + (HIGH_STEPS_EXPOSED if exposed else ())
    picked = [steps[i] for i in dict.fromkeys(wanted)]
    title = str(localized(level["title"], lang))
    while True:
        text = str(localized(kb.chat["risk"], lang)).format(title=title, items=numbered(picked))
        if len(text) <= MAX_BUBBLE[lang] or len(picked) == 1:
            return text
        picked.pop()


def page_languages(tracker: Tracker) -> Tuple[Optional[str], Optional[str], bool]:
    """The page's switch (bot/channels/webchat.py sends it as metadata.lang) with this message and
    with the one before, and whether there was a message before."""
    found: List[Optional[str]] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            lang = (event.get("metadata") or {}).get("lang")
            found.append(lang if lang in SUPPORTED else None)
            if len(found) == 2:
                break
    current = found[0] if found else None
    previous = found[1] if len(found) > 1 else None
    return current, previous, len(found) > 1


def latest_metadata(tracker: Tracker) -> Mapping[str, Any]:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("metadata") or {}
    return {}


def reply_language_of_message(tracker: Tracker) -> str:
    """The person's own words decide. A message without any (a button, "ok") keeps the conversation's
    language, unless the page's switch was just flipped (or this is the first message). A screenshot's
    words are someone else's: an English text message sent by a Chinese reader is answered in Chinese."""
    entity = next(tracker.get_latest_entity_values("language"), None)
    from_image = latest_metadata(tracker).get("source") == IMAGE_SOURCE
    # A quoted case code is nobody's words: its Latin letters must not make a Chinese message English.
    words = without_case_codes(message_text(tracker))
    spoken = entity if entity in SUPPORTED else None if from_image else detect_language(words)
    if spoken:
        return spoken
    page, before, had_before = page_languages(tracker)
    if page and (not had_before or (before is not None and page != before)):
        return page
    return conversation_language(tracker)


def money_just_left(slots: Mapping[str, Any]) -> bool:
    """Money sent within the stop-payment window, or at a time not known yet."""
    if not slots.get("money_sent"):
        return False
    minutes = slots.get("minutes_since_transfer")
    return minutes is None or float(minutes) <= CRITICAL_WINDOW_MINUTES


def newly_within_window(slots: Mapping[str, Any], found: Mapping[str, Any]) -> bool:
    minutes = found.get("minutes_since_transfer")
    return (
        minutes is not None
        and slots.get("minutes_since_transfer") is None
        and float(minutes) <= CRITICAL_WINDOW_MINUTES
    )


class ValidateSlotMappings(ValidationAction):
    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        stored: Dict[str, Any] = dict(tracker.current_slot_values())
        slots = dict(stored)  # with what a quoted case code brings in
        found: Dict[str, Any] = {}
        if tracker.is_paused():
            # Staff hold the chat (Rasa predicts nothing while it is paused): the bot says nothing either.
            add_to_linked_case(tracker, message_text(tracker), slots)
            return []

        if slots.get(HANDOFF_SLOT) == WITH_STAFF:
            found[HANDOFF_SLOT] = None  # a new session after staff held the chat: Rasa no longer pauses it
        lang = reply_language_of_message(tracker)
        found["language"] = lang
        lines = latest_metadata(tracker).get("image_lines")
        if latest_metadata(tracker).get("source") == IMAGE_SOURCE and isinstance(lines, int):
            dispatcher.utter_message(text=localized(knowledge().chat["read_from_image"], lang).format(lines=lines))

        # A code from an earlier chat: this one adds to that case from here on.
        found.update(linked_case_slots(message_text(tracker), dispatcher, lang, slots))
        add_to_linked_case(tracker, message_text(tracker), {**slots, **found})
        slots.update(found)

        in_case = bool(slots.get("scam_type"))
        requested = slots.get("requested_slot") if tracker.active_loop_name else None
        # A story told while the form asks, before any case (after "我被骗了") or a second story: its
        # facts are left to action_open_case, so the form, filling nothing, lets the story rule open the case.
        if not (tracker.active_loop_name and opens_a_case(tracker, slots.get("scam_type"))):
            # What the words say beats what a mapping guessed from the intent this very turn
            # ("没有转 我直接挂了" taken for already_paid).
            guessed = set(slots_filled_this_turn(tracker)) & {"money_sent"}
            before = {k: (None if k in guessed else v) for k, v in slots.items()}
            found.update(facts_slots(message_text(tracker), lang, before, requested))
        merged = {**slots, **found}

        reported, named_reported = reported_slots(message_text(tracker), tracker, dispatcher, lang, slots)
        found.update(reported)
        verdict = verdict_of(tracker)
        found["verdict"] = "clear" if in_case else VERDICTS.get(str(verdict.get("verdict")), "clear")
        if named_reported and found["verdict"] == "clear" and not in_case:
            # A number or link others reported is never answered with "not a scam": ask what decides it.
            found["verdict"] = "unsure"
        likely = verdict.get("scam_type")
        if found["verdict"] == "clear" and not in_case and (found.get("money_sent") or found.get("credentials_shared")):
            # Money sent, or a code, card, ID, screen or app given, is never answered with "not a scam"
            # (beside the steps for details given away): ask what decides it.
            found["verdict"] = "unsure"
            ranking: List[Mapping[str, Any]] = list(verdict.get("type_ranking") or [])
            likely = ranking[0].get("scam_type") if ranking else None
        if found["verdict"] == "unsure" and likely not in (None, "none"):
            found["likely_type"] = likely
        if not in_case and intent_of(tracker) == "ordinary_message":
            found["checked_clear"] = found["verdict"] == "clear"

        if (
            money_just_left(merged)
            and slots.get("risk_level") != "critical"
            # Outside the form, the already_paid rule sends the steps first itself; inside it, the
            # form takes the turn (the intent fills money_sent), so they are sent here.
            and not (intent_of(tracker) == "already_paid" and not tracker.active_loop_name)
        ):
            dispatcher.utter_message(response="utter_critical_steps")
            found["risk_level"] = "critical"
            merged["risk_level"] = "critical"
            alert_if_newly_critical(tracker, "critical")
            record_risk(tracker, "critical", True, merged)
        elif slots.get("risk_level") == "critical" and newly_within_window(slots, found):
            # The time answered after the steps were sent: say it is not too late, in one line; the
            # record keeps the time (the person may leave before the form is done).
            dispatcher.utter_message(text=localized(knowledge().chat["golden_time_still_open"], lang))
            record_risk(tracker, "critical", True, merged)
        elif slots.get("risk_level") == "critical" and money_left_earlier(merged) and not money_left_earlier(slots):
            # The loss turns out older than the stop-payment window: report it and limit the damage.
            dispatcher.utter_message(text=high_risk_text(lang, True, False), json_message={"risk_level": "high"})
            found["risk_level"] = "high"
            merged["risk_level"] = "high"
            record_risk(tracker, "high", True, merged)
        elif slots.get("risk_level") not in ("critical", "high"):
            # Money that left days ago, or a code, the screen, an app or card details given away:
            # what to do about it now, before the next question.
            loss = money_left_earlier(merged) and not money_left_earlier(slots)
            exposed = bool(found.get("credentials_shared")) and not slots.get("credentials_shared")
            if loss or exposed:
                dispatcher.utter_message(
                    text=high_risk_text(lang, loss, exposed), json_message={"risk_level": "high"}
                )
                found["risk_level"] = "high"
                merged["risk_level"] = "high"
                record_risk(tracker, "high", merged.get("money_sent"), merged)

        # A detail given away that the earlier turns had not said ("还填了银行卡号" after the meeting app),
        # once the risk block has been sent: the step for that detail.
        newly_given = [k for k in found.get("exposures") or [] if k not in (slots.get("exposures") or [])]
        if newly_given and slots.get("risk_level") in ("critical", "high"):
            steps = knowledge().chat["exposure_steps"]
            dispatcher.utter_message(text="\n".join(localized(steps[k], lang) for k in newly_given[:2]))

        # In a case, something they ask the person to do that is not done yet ("他让我下载个App"): its
        # "don't", once per act.
        warned = list(slots.get("asked_for") or [])
        asked = read_facts(message_text(tracker), lang, requested).asked_for if in_case else ()
        asked_now = [act for act in asked if act not in warned]
        if asked_now:
            steps = knowledge().chat["request_steps"]
            dispatcher.utter_message(text=localized(steps[asked_now[0]], lang))
            found["asked_for"] = warned + asked_now[:1]

        # A follow-up that also fills a form slot: the form takes the turn, so it is answered here.
        filled = [name for name, value in found.items() if value != slots.get(name)]
        response = answer_inside_form(tracker, parse_of(tracker), filled)
        if (
            not response and in_case and found.get("still_in_contact") and not slots.get("still_in_contact")
            and (intent_of(tracker) in ANSWERS_TO_THE_FORM or scam_type_of_intent(intent_of(tracker)))
            # said once in this conversation is enough from here (a response sent from an action is
            # rendered before this action's slots apply, so its "again" variant cannot be picked)
            and not said_before_this_message(tracker, "utter_still_in_contact")
        ):
            # "they're still on the call…" read as a story or an ordinary message: what to do about it now.
            response = "utter_still_in_contact"
        if response:
            dispatcher.utter_message(response=response)
            if requested and requested in slots_filled_this_turn(tracker) and requested not in found:
                # The words of a question ("你怎么确定他是骗子") taken whole as the answer: the form asks again.
                found[requested] = None

        # The same kind of message again in a conversation (two the bot could only note, two doubts or denials,
        # "he's calling again"): the second gets other words (domain.yml, `asked_again` variants), not the same
        # bubble again.
        intent = intent_of(tracker)
        found["asked_again"] = intent in ASKED_AGAIN and said_before_this_message(tracker, ASKED_AGAIN[intent])
        if in_case:
            found["case_state"] = "critical" if merged.get("risk_level") == "critical" else "open"
            # In the reply language (only what changed is set below).
            found.update(
                case_texts(slots.get("scam_type"), slots.get("case_flags") or [], lang, slots.get("case_code"))
            )
        else:
            found["case_state"] = "no_case"

        return [SlotSet(name, value) for name, value in found.items() if value != stored.get(name)]

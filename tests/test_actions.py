"""Every custom action, run with a CollectingDispatcher on real rasa-sdk trackers.

The chat's words are responses in domain.yml; these tests check which response
each action sends (by name), the slots it sets, and that the responses, filled
in with every case's texts, stay phone-sized.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sqlite3
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import sqlalchemy as sa
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from structlog.testing import capture_logs

from actions.case import CASE_TEXT_SLOTS, ActionOpenCase, case_texts
from actions.common import case_repository
from actions.interruptions import responses_during_form
from actions.questions import ASK_ACTIONS
from actions.risk import ActionAssessRisk, ActionEmergencySteps
from actions.slots import ValidateSlotMappings
from actions.triage import ValidateTriageForm
from bot.analysis import find_red_flags
from bot.knowledge import SCAM_TYPE_IDS, load_knowledge, localized
from bot.language import detect_language
from tests.conftest import make_tracker

KB = load_knowledge()
ROOT = Path(__file__).resolve().parent.parent
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
CJK = re.compile(r"[\u3400-\u9fff]")


def run(action: Any, tracker: Tracker) -> tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages, events


def slots_of(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def with_parse(tracker: Tracker, verdict: Optional[Dict[str, Any]] = None, lang: Optional[str] = None) -> Tracker:
    """The tracker with what the newer pipeline and the web page add to a message."""
    if verdict is not None:
        tracker.latest_message["verdict"] = verdict
    if lang is not None:
        tracker.events[-1]["metadata"] = {"lang": lang}
    return tracker


ROMANCE_STORY = "在交友软件上认识的男朋友，一直带我在一个投资平台充值，现在提现要交保证金"
POLICE_STORY = ("A man from the police said my account is linked to money laundering "
                "and I must move it to a safe account")
LOAN_STORY = ("I applied for a loan through an app a stranger sent me, no credit check they said, and now they say "
              "my card number was wrong so the funds are frozen and I must pay an unfreezing fee")


# --- opening a case ------------------------------------------------------------------------

def test_a_story_opens_a_case_with_its_texts_in_chinese(case_database: str) -> None:
    tracker = make_tracker(ROMANCE_STORY, sender_id="open-zh", ranking=[
        {"name": "scam_romance", "confidence": 0.7}, {"name": "scam_investment", "confidence": 0.25},
        {"name": "ordinary_message", "confidence": 0.05}])
    messages, events = run(ActionOpenCase(), tracker)
    slots = slots_of(events)
    romance = KB.types["romance"]
    assert slots["scam_type"] == "romance" and slots["story_turn"] == "new_case"
    assert slots["case_number"] == 1 and slots["case_second"] is False and slots["case_state"] == "open"
    assert slots["case_name"] == localized(romance.name, "zh")
    assert slots["case_summary"] == localized(romance.summary, "zh")
    assert slots["case_point"] == localized(romance.do_now, "zh")[0]
    assert slots["case_genuine_way"] == localized(romance.genuine_way, "zh")
    # the analysis goes out as a custom payload only (REST and integration contract); no words in Python
    assert messages[0]["custom"]["analysis"]["scam_type"] == "romance"
    assert not messages[0].get("text") and not messages[0].get("response")
    assert case_row("open-zh") == ("romance", None)


def test_an_english_story_quotes_only_its_own_and_shared_red_flags() -> None:
    tracker = make_tracker(POLICE_STORY, intent="scam_impersonate_official", slots={"language": "en"})
    _, events = run(ActionOpenCase(), tracker)
    slots = slots_of(events)
    own = {f.id for f in KB.types["impersonate_official"].red_flags} | {f.id for f in KB.shared_red_flags}
    assert slots["case_flags"] and all(f.split("\t")[0] in own for f in slots["case_flags"])
    assert slots["case_has_flags"] is True
    assert "safe account" in slots["case_quotes"].lower()
    assert not CJK.search(slots["case_reasons"]) and not CJK.search(slots["case_name"])


def test_brushing_flags_are_explained_with_brushing_reasons_not_another_types() -> None:
    text = "刷单兼职群让我垫付做任务，说任务被冻结了，要交解冻费才能提现"
    tracker = make_tracker(text, intent="scam_order_brushing")
    slots = slots_of(run(ActionOpenCase(), tracker)[1])
    assert slots["scam_type"] == "order_brushing"
    assert "游戏" not in slots["case_reasons"]


def test_a_follow_up_that_sounds_like_another_type_keeps_the_case_and_its_record(case_database: str) -> None:
    sender = "sticky"
    brushing = "有个兼职群让我给商品点赞刷单，前几单返了佣金，后来要我垫付"
    run(ActionOpenCase(), make_tracker(brushing, intent="scam_order_brushing", sender_id=sender))
    tracker = make_tracker("那我还要交那8000吗", intent="scam_fake_shopping", sender_id=sender,
                           slots={"scam_type": "order_brushing", "case_number": 1})
    messages, events = run(ActionOpenCase(), tracker)
    assert events == [SlotSet("story_turn", "followup")]
    assert messages == []
    assert case_row(sender) == ("order_brushing", None)


def test_a_second_different_story_opens_a_second_case(case_database: str) -> None:
    sender = "second"
    run(ActionOpenCase(), make_tracker(POLICE_STORY, intent="scam_impersonate_official", sender_id=sender,
                                       slots={"language": "en"}))
    tracker = with_parse(make_tracker(
        LOAN_STORY, intent="scam_fake_loan", sender_id=sender,
        slots={"language": "en", "scam_type": "impersonate_official", "case_number": 1, "money_sent": False}),
        verdict={"verdict": "scam", "scam_type": "fake_loan", "scam_probability": 0.93})
    _, events = run(ActionOpenCase(), tracker)
    slots = slots_of(events)
    assert slots["scam_type"] == "fake_loan" and slots["case_number"] == 2 and slots["case_second"] is True
    assert slots["story_turn"] == "new_case"
    assert case_row(sender) == ("impersonate_official", None)  # the first case's record is kept
    assert case_row(sender + "#2") == ("fake_loan", None)


def test_a_second_story_without_a_loss_does_not_inherit_the_first_cases_risk() -> None:
    tracker = make_tracker("对了还有个事 刚才有人在家长群里说是我儿子的班主任 让我扫码交800资料费 我还没交",
                           intent="scam_impersonate_acquaintance",
                           slots={"scam_type": "order_brushing", "case_number": 1, "risk_level": "critical",
                                  "money_sent": True})
    with_parse(tracker, verdict={"verdict": "scam", "scam_type": "impersonate_acquaintance", "scam_probability": 0.9})
    slots = slots_of(run(ActionOpenCase(), tracker)[1])
    assert slots["scam_type"] == "impersonate_acquaintance" and slots["case_second"] is True
    assert slots["risk_level"] is None and slots["money_sent"] is False  # "我还没交"
    assert slots["case_state"] == "open" and slots["story_turn"] == "new_case"


def test_a_story_after_i_was_scammed_says_the_stop_payment_window_is_open_and_records_the_amount(
        case_database: str) -> None:
    sender = "scammed-then-story"
    tracker = make_tracker("网上认识的人 说带我做任务赚钱 转了好几次 一共3万多 最后一次是一个小时前",
                           intent="scam_order_brushing", sender_id=sender,
                           slots={"risk_level": "critical", "money_sent": True})
    messages, events = run(ActionOpenCase(), tracker)
    slots = slots_of(events)
    assert slots["minutes_since_transfer"] == 60.0 and slots["amount"] == "3万多"
    assert [m["text"] for m in messages if m.get("text")] == [
        KB.chat["golden_time_still_open"]["zh"]]
    with sqlite3.connect(sa.engine.make_url(case_repository()._engine.url).database) as db:  # type: ignore[attr-defined]
        band = db.execute("SELECT amount_band FROM cases WHERE conversation_id = ?", (sender,)).fetchone()[0]
    assert band not in (None, "unknown")


@pytest.mark.parametrize("text, new_type, lang", [
    # a recovery offer that reads like a story of its own
    ("a guy in a victims group chat says he's a hacker and can reverse the alipay transfer for 10% upfront",
     "impersonate_acquaintance", "en"),
    ("那个人还在一直给她发消息 说还差一笔保险费才能发货 我妈还信他 我该怎么劝", "fake_shopping", "zh"),
    ("they're messaging again saying pay 3,000 more or they send my ID photos to all my contacts",
     "impersonate_acquaintance", "en"),
    ("no i didnt pay, he wants me to download some app called SecureGov to do it", "investment", "en"),
])
def test_a_follow_up_read_as_a_scam_of_another_type_stays_in_the_case(text: str, new_type: str, lang: str) -> None:
    tracker = with_parse(make_tracker(
        text, intent=f"scam_{new_type}", slots={"language": lang, "scam_type": "romance", "case_number": 1}),
        verdict={"verdict": "scam", "scam_type": new_type, "scam_probability": 0.97})
    messages, events = run(ActionOpenCase(), tracker)
    assert events == [SlotSet("story_turn", "followup")] and messages == []


@pytest.mark.parametrize("text, new_type, lang", [
    ("by the way, someone else texted me saying my credit record has an error and they can fix it for a fee",
     "fake_credit", "en"),
    ("另外还有件事 今天又有人打电话说我的征信有问题 要交钱才能修复", "fake_credit", "zh"),
    # long, and not pointing back at the open case
    ("我在一个游戏交易平台上卖装备，买家说他付的钱被平台冻结了，客服让我先交保证金才能解冻，"
     "还发了一个链接让我填银行卡号和验证码，说填完钱就到账", "game_trading", "zh"),
])
def test_another_story_opens_a_second_case(text: str, new_type: str, lang: str) -> None:
    tracker = with_parse(make_tracker(
        text, intent=f"scam_{new_type}", slots={"language": lang, "scam_type": "romance", "case_number": 1}),
        verdict={"verdict": "scam", "scam_type": new_type, "scam_probability": 0.97})
    slots = slots_of(run(ActionOpenCase(), tracker)[1])
    assert slots["scam_type"] == new_type and slots["case_number"] == 2 and slots["case_second"] is True


def test_a_different_type_the_verdict_is_unsure_about_stays_a_follow_up() -> None:
    tracker = with_parse(make_tracker(
        LOAN_STORY, intent="scam_fake_loan", slots={"language": "en", "scam_type": "romance", "case_number": 1}),
        verdict={"verdict": "unsure", "scam_type": "fake_loan", "scam_probability": 0.5})
    assert slots_of(run(ActionOpenCase(), tracker)[1]) == {"story_turn": "followup"}


def test_a_story_after_money_just_left_skips_the_do_now_bubble() -> None:
    tracker = make_tracker(ROMANCE_STORY, intent="scam_romance", slots={"risk_level": "critical", "money_sent": True})
    slots = slots_of(run(ActionOpenCase(), tracker)[1])
    assert slots["story_turn"] == "new_case_loss" and slots["case_state"] == "critical"


def case_row(conversation_id: str) -> Optional[tuple]:
    with sqlite3.connect(sa.engine.make_url(case_repository()._engine.url).database) as db:  # type: ignore[attr-defined]
        row = db.execute("SELECT scam_type, risk_level FROM cases WHERE conversation_id = ?",
                         (conversation_id,)).fetchone()
    return tuple(row) if row else None


# --- slots from every message -------------------------------------------------------------

def extract(tracker: Tracker) -> tuple[List[Dict[str, Any]], Dict[str, Any]]:
    messages, events = run(ValidateSlotMappings(), tracker)
    return messages, slots_of(events)


@pytest.mark.parametrize("text, shared", [
    ("挂了 APP没下 验证码没给 钱也没转", False),  # two parts of the question denied, none done
    ("验证码没给", None),  # one part: the rest still open
    ("APP没下 但是验证码给他了", True),
])
def test_the_exposure_question_is_answered_by_denying_its_parts(text: str, shared: Any) -> None:
    slots = {"scam_type": "customer_service", "case_number": 1}
    _, found = extract(make_tracker(text, intent="inform", slots=slots, active_loop="triage_form"))
    assert found.get("credentials_shared") is shared


@pytest.mark.parametrize("text, intent", [
    ("十分钟前我刚给他转了两万", "scam_romance"),
    ("我充了5000 现在提不出来", "ordinary_message"),
    ("I transferred 3000 dollars to them an hour ago", "scam_investment"),
])
def test_golden_time_the_stop_payment_steps_come_first(text: str, intent: str) -> None:
    messages, slots = extract(make_tracker(text, intent=intent, sender_id="golden"))
    assert messages and messages[0]["response"] == "utter_critical_steps"
    assert slots["money_sent"] is True and slots["risk_level"] == "critical"


def test_golden_time_is_shown_once_and_left_to_the_already_paid_rule() -> None:
    again = make_tracker("我又转了一千", intent="inform", slots={"money_sent": True, "risk_level": "critical"})
    messages, _ = extract(again)
    assert messages == []
    messages, slots = extract(make_tracker("我已经把钱转过去了", intent="already_paid", slots={"money_sent": True}))
    assert messages == [] and "risk_level" not in slots


@pytest.mark.parametrize("text, intent, lang", [
    ("they're still on the call saying the refund failed and I need to try again", "ordinary_message", "en"),
    ("导师一直在群里@我 说今天不交就清空账户", "scam_order_brushing", "zh"),
])
def test_still_in_contact_read_from_a_message_of_another_intent_is_answered(text: str, intent: str, lang: str) -> None:
    slots = {**IN_FORM, "language": lang, "requested_slot": "time_since_transfer"}
    messages, found = extract(make_tracker(text, intent=intent, active_loop="triage_form", slots=slots))
    assert "utter_still_in_contact" in [m.get("response") for m in messages] and found["still_in_contact"] is True
    # Once known, the next such message is left to the rules.
    messages, _ = extract(make_tracker(text, intent=intent, active_loop="triage_form",
                                       slots={**slots, "still_in_contact": True}))
    assert "utter_still_in_contact" not in [m.get("response") for m in messages]


def test_the_words_beat_a_mapping_that_guessed_money_left_from_the_intent() -> None:
    tracker = make_tracker("没有转 我直接挂了", intent="already_paid", active_loop="triage_form",
                           slots={"scam_type": "impersonate_official", "requested_slot": "money_sent",
                                  "money_sent": True})
    tracker.events.append({"event": "slot", "name": "money_sent", "value": True})  # the from_intent mapping
    messages, slots = extract(tracker)
    assert slots["money_sent"] is False
    assert "utter_critical_steps" not in [m.get("response") for m in messages]


def test_a_loss_older_than_the_stop_payment_window_turns_critical_into_report_now() -> None:
    # Money at an unknown time got the stop-payment steps; it turns out to have left two days ago.
    tracker = make_tracker("钱是分三次用微信转的 最后一次是前天", intent="inform", active_loop="triage_form",
                           slots={"scam_type": "order_brushing", "money_sent": True, "risk_level": "critical",
                                  "case_state": "critical", "requested_slot": "time_since_transfer"})
    messages, slots = extract(tracker)
    assert slots["risk_level"] == "high" and slots["case_state"] == "open"
    assert [m.get("custom") for m in messages] == [{"risk_level": "high"}]
    assert "110" in messages[0]["text"]


IN_FORM = {"scam_type": "investment", "case_state": "critical", "money_sent": True, "risk_level": "critical",
           "requested_slot": "payment_channel"}


def test_a_follow_up_the_form_takes_is_answered_by_the_slot_action() -> None:
    # "10万" fills the amount through Rasa's entity mapping: the form will not reject, the rule cannot answer.
    tracker = make_tracker("那现在怎么办 那10万我还充不充", intent="ask_what_now", active_loop="triage_form",
                           slots=IN_FORM)
    tracker.events.append({"event": "slot", "name": "amount", "value": "10万"})
    messages, _ = extract(tracker)
    assert [m.get("response") for m in messages] == ["utter_what_now"]
    # A denial whose words fill a slot of the slot action's own (a time) is answered too.
    denial = make_tracker("可是他对我真的很好 十分钟前还转给他五千 不会骗我的吧", intent="denial",
                          active_loop="triage_form", slots={**IN_FORM, "requested_slot": "time_since_transfer"})
    messages, slots = extract(denial)
    assert "utter_denial" in [m.get("response") for m in messages] and slots["minutes_since_transfer"] == 10.0


@pytest.mark.parametrize("text, intent, active_loop", [
    ("你怎么确定他是骗子", "doubt", "triage_form"),       # fills nothing: the form rejects, the rule answers
    ("十分钟前转的 用手机银行转的", "ordinary_message", "triage_form"),  # an answer to the form
    ("可是他对我真的很好 十分钟前还转给他五千", "denial", None),  # no form: the rules answer
])
def test_the_slot_action_leaves_other_answers_to_the_rules(text: str, intent: str, active_loop: Optional[str]) -> None:
    tracker = make_tracker(text, intent=intent, active_loop=active_loop, slots=IN_FORM)
    responses = [m.get("response") for m in extract(tracker)[0]]
    assert not [r for r in responses if r and r not in ("utter_critical_steps",)], responses


@pytest.mark.parametrize("ranking, response", [
    # Two close follow-ups make a fallback: the first of them is answered, not taken as the time.
    ([("nlu_fallback", 0.35), ("denial", 0.48), ("doubt", 0.47)], "utter_denial"),
    ([("nlu_fallback", 0.35), ("ordinary_message", 0.40), ("doubt", 0.38)], None),  # an answer to the form
    ([("nlu_fallback", 0.35), ("doubt", 0.30), ("denial", 0.28)], None),  # nothing reached the threshold
])
def test_a_fallback_between_two_follow_ups_is_answered_inside_the_form(
    ranking: List[tuple], response: Optional[str]
) -> None:
    intents = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    text = "你怎么确定他是骗子 你又没见过他"  # filled by the form's from_text mapping, as Rasa does
    tracker = make_tracker(text, ranking=intents, active_loop="triage_form",
                           slots={**IN_FORM, "requested_slot": "time_since_transfer", "time_since_transfer": text})
    tracker.events.append({"event": "slot", "name": "time_since_transfer", "value": text})
    messages, found = extract(tracker)
    responses = [m.get("response") for m in messages if m.get("response") != "utter_critical_steps"]
    assert responses == ([response] if response else [])
    # A question answered is not the time: the form asks for it again.
    assert ("time_since_transfer" in found and found["time_since_transfer"] is None) == bool(response)


def test_the_answers_during_the_form_are_the_rules_own() -> None:
    table = responses_during_form()
    assert table["doubt"] == "utter_doubt" and table["ask_bank_number"] == "utter_bank_number"
    assert set(table) >= {"denial", "still_in_contact", "ask_what_now", "show_report", "faq"}


def test_a_story_told_while_the_form_asks_opens_the_case_with_its_facts() -> None:
    # After "我被骗了" the form asks when; the story that follows fills nothing in the slot action
    # (so the form lets the story rule run), and the case it opens keeps the story's facts.
    story = "网上认识的人 说带我做任务赚钱 转了好几次 一共3万多 最后一次是一个小时前"
    asking = {"money_sent": True, "risk_level": "critical", "requested_slot": "time_since_transfer"}
    tracker = make_tracker(story, intent="scam_order_brushing", active_loop="triage_form", slots=asking,
                           sender_id="story-in-form")
    messages, slots = extract(tracker)
    assert messages == [] and not {"time_since_transfer", "minutes_since_transfer", "amount"} & set(slots)
    opened = slots_of(run(ActionOpenCase(), tracker)[1])
    assert opened["scam_type"] == "order_brushing" and opened["story_turn"] == "new_case_loss"
    assert opened["minutes_since_transfer"] == 60.0 and opened["amount"] == "3万多"
    # Inside an open case the same message is read by the slot action as usual.
    in_case = make_tracker(story, intent="scam_order_brushing", active_loop="triage_form",
                           slots={**asking, "scam_type": "order_brushing"})
    assert extract(in_case)[1]["minutes_since_transfer"] == 60.0


@pytest.mark.parametrize("lang, text", [("zh", "十分钟前转的 用手机银行转的"), ("en", "about twenty minutes ago")])
def test_a_recent_time_answered_after_the_steps_says_it_is_not_too_late(lang: str, text: str) -> None:
    asked = {"language": lang, "scam_type": "impersonate_official", "money_sent": True, "risk_level": "critical",
             "requested_slot": "time_since_transfer"}
    tracker = make_tracker(text, intent="inform", active_loop="triage_form", slots=asked, sender_id=f"golden-{lang}")
    messages, slots = extract(tracker)
    assert [m.get("text") for m in messages] == [localized(KB.chat["golden_time_still_open"], lang)]
    assert slots["minutes_since_transfer"] <= 30
    # The case record keeps the time at once: the person may leave before the form is done.
    with sqlite3.connect(sa.engine.make_url(case_repository()._engine.url).database) as db:  # type: ignore[attr-defined]
        minutes = db.execute("SELECT minutes_since_transfer FROM cases WHERE conversation_id = ?",
                             (f"golden-{lang}",)).fetchone()
    assert minutes is not None and minutes[0] == slots["minutes_since_transfer"]
    # A time already known gets no such line; one past the window gets the report-now steps instead.
    known = {**asked, "minutes_since_transfer": 10.0}
    assert extract(make_tracker(text, intent="inform", active_loop="triage_form", slots=known))[0] == []
    old = extract(make_tracker("三天前" if lang == "zh" else "three days ago", intent="inform",
                               active_loop="triage_form", slots=asked))
    assert [m.get("custom") for m in old[0]] == [{"risk_level": "high"}]
    assert old[1]["minutes_since_transfer"] > 24 * 60 and old[1]["risk_level"] == "high"


def test_already_paid_while_the_form_asks_gets_the_stop_payment_steps_here() -> None:
    # Inside the form the intent fills money_sent and the form takes the turn: no rule sends the steps.
    asking = make_tracker("I already sent them the money!", intent="already_paid", active_loop="triage_form",
                          slots={"language": "en", "scam_type": "impersonate_official", "requested_slot": "money_sent"})
    messages, slots = extract(asking)
    assert messages and messages[0]["response"] == "utter_critical_steps"
    assert slots["risk_level"] == "critical"


def test_a_transfer_days_ago_gets_the_report_steps_not_the_stop_payment() -> None:
    messages, slots = extract(make_tracker("上个月转了他两万", intent="inform", slots={"scam_type": "romance"}))
    assert slots.get("minutes_since_transfer", 0) > 24 * 60
    assert [m.get("response") for m in messages] == [None]
    assert messages[0]["custom"] == {"risk_level": "high"} and slots["risk_level"] == "high"
    steps = localized(KB.risk_levels["high"]["steps"], "zh")
    assert steps[0] in messages[0]["text"] and len(messages[0]["text"]) <= 200


@pytest.mark.parametrize("lang, text", [
    ("zh", "身份证正反面拍照上传了"), ("en", "I installed an app and shared my screen"),
])
def test_details_given_away_get_the_bank_and_app_steps_once(lang: str, text: str) -> None:
    tracker = make_tracker(text, intent="ordinary_message", slots={"scam_type": "customer_service", "language": lang})
    messages, slots = extract(tracker)
    steps = localized(KB.risk_levels["high"]["steps"], lang)
    assert steps[1] in messages[0]["text"] and len(messages[0]["text"]) <= {"zh": 200, "en": 500}[lang]
    assert slots["credentials_shared"] is True and slots["risk_level"] == "high"
    again = make_tracker(text, intent="ordinary_message",
                         slots={"scam_type": "customer_service", "language": lang, "credentials_shared": True,
                                "risk_level": "high", "exposures": slots["exposures"]})
    assert extract(again)[0] == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_detail_given_away_after_the_risk_block_gets_its_own_step(lang: str) -> None:
    after_app = {"scam_type": "impersonate_official", "language": lang, "credentials_shared": True,
                 "risk_level": "high", "exposures": ["app_installed"]}
    text = {"zh": "身份证正反面拍照上传了 还填了银行卡号", "en": "I also typed in my card number and CVV"}[lang]
    messages, slots = extract(make_tracker(text, intent="inform", slots=after_app))
    steps = KB.chat["exposure_steps"]
    assert [m.get("text") for m in messages] == ["\n".join(
        localized(steps[k], lang) for k in slots["exposures"] if k != "app_installed")]
    assert "card_details_given" in slots["exposures"] and "app_installed" in slots["exposures"]


@pytest.mark.parametrize("text, slot, value", [
    ("他让我下了个软件 我下了", "credentials_shared", True),
    ("身份证正反面拍照上传了", "credentials_shared", True),
    ("I installed an app and shared my screen", "credentials_shared", True),
    ("he's on the phone now, what do I say", "still_in_contact", True),
])
def test_typed_answers_fill_the_triage_slots(text: str, slot: str, value: Any) -> None:
    _, slots = extract(make_tracker(text, intent="ordinary_message", slots={"scam_type": "customer_service"}))
    assert slots.get(slot) == value


def test_an_amount_demanded_is_not_an_amount_sent() -> None:
    _, slots = extract(make_tracker("那我还要交那8000吗", intent="ask_what_now",
                                    slots={"scam_type": "order_brushing", "money_sent": False}))
    assert "amount" not in slots


def test_a_quick_reply_payload_reads_no_facts() -> None:
    messages, slots = extract(make_tracker("/deny", intent="deny"))
    assert messages == [] and "money_sent" not in slots


@pytest.mark.parametrize("text, page, expected", [
    ("Is this a scam? 【某银行】尊敬的客户，您的账户存在异常，请点击链接验证身份", None, "en"),
    ("我收到一条短信：Your parcel is held at customs, pay the fee now. 是诈骗吗", None, "zh"),
    ("ok", "en", "en"),
    ("好的", "en", "zh"),
])
def test_the_reply_follows_the_persons_own_words_then_the_page_switch(text: str, page: Optional[str],
                                                                      expected: str) -> None:
    _, slots = extract(with_parse(make_tracker(text, intent="affirm"), lang=page))
    assert slots.get("language", "zh") == expected


def test_a_message_without_words_keeps_the_language_unless_the_page_switch_was_flipped() -> None:
    def tracker(page_before: str, page_now: str) -> Tracker:
        t = with_parse(make_tracker("ok", intent="affirm", slots={"language": "en"}), lang=page_now)
        before = {"event": "user", "text": "my boss asked me to buy gift cards", "metadata": {"lang": page_before}}
        t.events.insert(0, before)
        return t

    assert extract(tracker("zh", "zh"))[1].get("language", "en") == "en"  # the page's default, never touched
    assert extract(tracker("en", "zh"))[1]["language"] == "zh"  # the person flipped the switch


@pytest.mark.parametrize("text", ["我被骗了 怎么办啊", "I've been scammed"])
def test_saying_one_was_scammed_is_golden_time(text: str) -> None:
    messages, slots = extract(make_tracker(text, intent="scam_other"))
    assert messages[0]["response"] == "utter_critical_steps" and slots["money_sent"] is True


def test_a_payment_described_in_answer_to_the_money_question_means_yes() -> None:
    tracker = make_tracker("by bank transfer from my ICBC card", intent="inform", active_loop="triage_form",
                           slots={"language": "en", "requested_slot": "money_sent", "scam_type": "romance"})
    _, slots = extract(tracker)
    assert slots["money_sent"] is True and slots["payment_channel"]


def test_a_language_switch_rewrites_the_case_texts() -> None:
    zh = case_texts("romance", [], "zh")
    tracker = make_tracker("please answer in English", intent="switch_language",
                           slots={"scam_type": "romance", "case_flags": [], **zh})
    _, slots = extract(tracker)
    assert slots["language"] == "en"
    assert slots["case_name"] == localized(KB.types["romance"].name, "en")
    assert not CJK.search(slots["case_point"])


def test_case_texts_follow_a_language_the_entity_mapping_already_set() -> None:
    # Rasa fills `language` from the detector's entity before this action runs.
    tracker = make_tracker("please answer in English", intent="switch_language",
                           entities=[{"entity": "language", "value": "en"}],
                           slots={"language": "en", "scam_type": "romance", "case_flags": [],
                                  **case_texts("romance", [], "zh")})
    _, slots = extract(tracker)
    assert slots["case_name"] == localized(KB.types["romance"].name, "en")


@pytest.mark.parametrize("verdict, in_case, expected", [
    ({"verdict": "none", "scam_type": "none", "scam_probability": 0.05}, False, "clear"),
    ({"verdict": "unsure", "scam_type": "fake_loan", "scam_probability": 0.45}, False, "unsure"),
    (None, False, "clear"),  # an older pipeline writes no verdict: behave as "none"
    ({"verdict": "unsure", "scam_type": "fake_loan", "scam_probability": 0.45}, True, "clear"),
])
def test_the_verdict_decides_how_an_ordinary_message_is_answered(verdict: Any, in_case: bool, expected: str) -> None:
    slots = {"scam_type": "romance"} if in_case else {}
    message = make_tracker("昨天有人加我微信说是老同学", intent="ordinary_message", slots=slots)
    tracker = with_parse(message, verdict=verdict)
    _, found = extract(tracker)
    assert found.get("verdict", "clear") == expected
    if expected == "unsure":
        assert found["likely_type"] == "fake_loan"
    # "so I can just use it?" next refers to a message judged clear; never inside a case
    assert found.get("checked_clear") is (None if in_case else expected == "clear")


def test_a_later_unsure_message_no_longer_counts_as_checked_clear() -> None:
    message = make_tracker("有个人说是物业的让我加他微信", intent="ordinary_message", slots={"checked_clear": True})
    unsure = {"verdict": "unsure", "scam_type": "other", "scam_probability": 0.5}
    _, found = extract(with_parse(message, verdict=unsure))
    assert found["checked_clear"] is False
    greeting = make_tracker("你好", intent="greet", slots={"checked_clear": True})
    assert "checked_clear" not in extract(greeting)[1]



def test_money_sent_to_someone_is_never_answered_not_a_scam() -> None:
    message = make_tracker("我在微信上认识了一个小姑娘 聊了半年了 她叫我在她舅舅的平台买外汇 我今天早上刚转了4万过去",
                           intent="ordinary_message")
    tracker = with_parse(message, verdict={
        "verdict": "none", "scam_type": "none", "scam_probability": 0.4,
        "type_ranking": [{"scam_type": "investment", "score": 0.6}, {"scam_type": "romance", "score": 0.3}]})
    messages, found = extract(tracker)
    assert found["verdict"] == "unsure" and found["likely_type"] == "investment"
    assert [m.get("response") for m in messages] == ["utter_critical_steps"]


def test_a_card_and_code_given_are_never_answered_not_a_scam() -> None:
    message = make_tracker("收到ETC认证失效的短信 我点进去填了银行卡号和短信验证码", intent="ordinary_message")
    tracker = with_parse(message, verdict={
        "verdict": "none", "scam_type": "none", "scam_probability": 0.3,
        "type_ranking": [{"scam_type": "other", "score": 0.7}, {"scam_type": "customer_service", "score": 0.2}]})
    _, found = extract(tracker)
    assert found["credentials_shared"] is True
    assert found["verdict"] == "unsure" and found["likely_type"] == "other" and found["checked_clear"] is False


# --- the form and the risk ----------------------------------------------------------------

@pytest.mark.parametrize("money_sent, expected", [
    (True, ["money_sent", "time_since_transfer", "amount", "payment_channel", "credentials_shared"]),
    (False, ["money_sent", "credentials_shared"]),
    (None, ["money_sent", "credentials_shared"]),
])
def test_triage_asks_transfer_details_only_after_money_left(money_sent: Any, expected: List[str]) -> None:
    tracker = make_tracker(slots={"money_sent": money_sent})
    slots = asyncio.run(ValidateTriageForm().required_slots([], CollectingDispatcher(), tracker, {}))
    assert slots == expected


def test_triage_lets_a_question_go_after_asking_it_and_reminding_once() -> None:
    question = KB.triage_questions["credentials_shared"]
    tracker = make_tracker(text="他又打过来了 电话一直在响 我接不接", slots={"money_sent": False})
    form = ValidateTriageForm()
    required = asyncio.run(form.required_slots([], CollectingDispatcher(), tracker, {}))
    assert required == ["money_sent", "credentials_shared"]  # asked once (money_sent answered): still asked
    for key in ("text", "reminder"):
        tracker.events.append({"event": "bot", "text": localized(question[key], "zh")})
    required = asyncio.run(form.required_slots([], CollectingDispatcher(), tracker, {}))
    assert required == ["money_sent"]
    tracker.slots["credentials_shared"] = True  # answered after all: kept, the form sees it filled
    required = asyncio.run(form.required_slots([], CollectingDispatcher(), tracker, {}))
    assert required == ["money_sent", "credentials_shared"]


@pytest.mark.parametrize("answer, minutes", [
    ("半小时前", 30.0), ("within_hour", 30.0), ("before_today", 2880.0), ("2 hours ago", 120.0), ("不记得了", None),
])
def test_triage_turns_the_time_answer_into_minutes(answer: str, minutes: Any) -> None:
    result = ValidateTriageForm().validate_time_since_transfer(answer, CollectingDispatcher(), make_tracker(), {})
    assert result == {"time_since_transfer": answer, "minutes_since_transfer": minutes}


def test_triage_keeps_the_minutes_read_this_turn_from_the_whole_message() -> None:
    """"昨天下午" read whole is 26 hours (past the stop-payment window); the extracted "昨天" alone would be 24."""
    tracker = make_tracker(text="她说昨天下午已经在银行柜台汇过去了", slots={"minutes_since_transfer": 1557.0})
    tracker.events.append({"event": "slot", "name": "minutes_since_transfer", "value": 1557.0})
    result = ValidateTriageForm().validate_time_since_transfer("昨天", CollectingDispatcher(), tracker, {})
    assert result == {"time_since_transfer": "昨天", "minutes_since_transfer": 1557.0}
    earlier = make_tracker(text="before_today", slots={"minutes_since_transfer": 10.0})
    result = ValidateTriageForm().validate_time_since_transfer("before_today", CollectingDispatcher(), earlier, {})
    assert result["minutes_since_transfer"] == 2880.0  # a new answer, not this turn's reading: it counts


def test_triage_keeps_amount_and_channel_short() -> None:
    form = ValidateTriageForm()
    assert form.validate_amount(" 两万 ", CollectingDispatcher(), make_tracker(), {}) == {"amount": "两万"}
    assert form.validate_payment_channel("x" * 500, CollectingDispatcher(), make_tracker(), {}) == {
        "payment_channel": "x" * 200
    }
    assert form.validate_amount("   ", CollectingDispatcher(), make_tracker(), {}) == {"amount": None}


@pytest.mark.parametrize("slot", sorted(ASK_ACTIONS))
def test_triage_questions_come_with_their_buttons(slot: str) -> None:
    action = ASK_ACTIONS[slot]()
    assert action.name() == f"action_ask_{slot}"
    for lang in ("zh", "en"):
        messages, events = run(action, make_tracker(slots={"language": lang}))
        question = KB.triage_questions[slot]
        assert events == []
        assert messages[0]["text"] == localized(question["text"], lang)
        assert [b["title"] for b in messages[0]["buttons"]] == [
            localized(b["title"], lang) for b in question.get("buttons") or []
        ]


@pytest.mark.parametrize("slot", sorted(ASK_ACTIONS))
def test_a_question_asked_before_comes_back_as_a_reminder(slot: str) -> None:
    action = ASK_ACTIONS[slot]()
    for lang in ("zh", "en"):
        tracker = make_tracker("是真的吗", intent="doubt", slots={"language": lang})
        earlier = [{"event": "action", "name": "action_open_case"},
                   {"event": "slot", "name": "case_number", "value": 1},
                   {"event": "action", "name": "triage_form"},
                   {"event": "bot", "text": localized(KB.triage_questions[slot]["text"], lang)},
                   {"event": "action", "name": "action_listen"}]
        tracker.events[:0] = earlier
        messages, events = run(action, tracker)
        question = KB.triage_questions[slot]
        assert events == []
        assert messages[0]["text"] == localized(question["reminder"], lang)
        assert messages[0]["text"] != localized(question["text"], lang)
        assert [b["payload"] for b in messages[0]["buttons"]] == [b["payload"] for b in question.get("buttons") or []]
        # A story read as a follow-up of the same case opens none: still a reminder.
        tracker.events[4:4] = [{"event": "action", "name": "action_open_case"},
                               {"event": "slot", "name": "story_turn", "value": "followup"}]
        assert run(action, tracker)[0][0]["text"] == localized(question["reminder"], lang)
        # A new case asks in full again.
        tracker.events[6:6] = [{"event": "action", "name": "action_open_case"},
                               {"event": "slot", "name": "case_number", "value": 2}]
        assert run(action, tracker)[0][0]["text"] == localized(question["text"], lang)


@pytest.mark.parametrize("slots, level", [
    ({"scam_type": "romance", "money_sent": True, "minutes_since_transfer": 30.0}, "critical"),
    ({"scam_type": "romance", "money_sent": True, "minutes_since_transfer": None}, "critical"),
    ({"scam_type": "romance", "money_sent": True, "minutes_since_transfer": 4320.0}, "high"),
    ({"scam_type": "customer_service", "money_sent": False, "credentials_shared": True}, "high"),
    ({"scam_type": "customer_service", "money_sent": False, "credentials_shared": False}, "medium"),
    ({"money_sent": False, "credentials_shared": False}, "low"),
])
def test_risk_level_is_set_for_utter_triage_done(slots: Dict[str, Any], level: str) -> None:
    messages, events = run(ActionAssessRisk(), make_tracker(slots=slots))
    assert messages == []
    assert SlotSet("risk_level", level) in events
    if slots.get("scam_type"):
        assert SlotSet("case_state", "critical" if level == "critical" else "open") in events


def test_emergency_steps_record_the_escalation_after_its_response() -> None:
    messages, events = run(ActionEmergencySteps(), make_tracker("我刚刚把钱转过去了", intent="already_paid",
                                                                slots={"scam_type": "romance"}))
    assert messages == []  # utter_critical_steps comes from the rule, before this action
    assert events == [SlotSet("money_sent", True), SlotSet("risk_level", "critical"), SlotSet("case_state", "critical")]


def test_the_case_record_keeps_type_risk_and_amount_band(case_database: str) -> None:
    sender = "case-summary"
    run(ActionOpenCase(), make_tracker(ROMANCE_STORY, intent="scam_romance", sender_id=sender))
    slots = {"scam_type": "romance", "money_sent": True, "minutes_since_transfer": 30.0, "amount": "3万5",
             "credentials_shared": False, "case_number": 1}
    run(ActionAssessRisk(), make_tracker("/deny", sender_id=sender, slots=slots))
    with sqlite3.connect(sa.engine.make_url(case_database).database) as db:
        case = db.execute(
            "SELECT language, scam_type, risk_level, money_sent, amount_band, credentials_shared, "
            "minutes_since_transfer FROM cases WHERE conversation_id = ?", (sender,),
        ).fetchall()
    assert case == [("zh", "romance", "critical", 1, "10k-100k", 0, 30.0)]


@pytest.fixture
def broken_case_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """A database the migrations never ran on: every write fails."""
    monkeypatch.setenv("CASE_DB_URL", f"sqlite:///{tmp_path / 'unmigrated.db'}")
    case_repository.cache_clear()
    yield
    case_repository.cache_clear()


def test_a_broken_case_database_never_breaks_the_chat(broken_case_database: None) -> None:
    with capture_logs() as logs:
        messages, events = run(ActionEmergencySteps(), make_tracker("我刚刚把钱转过去了", intent="already_paid"))
    assert SlotSet("risk_level", "critical") in events
    assert [log["event"] for log in logs if log["log_level"] == "error"] == ["cases.write_failed"]


# --- the responses: names, sizes, knowledge ------------------------------------------------

RESPONSES = DOMAIN["responses"]
MAX_LEN = {"zh": 200, "en": 500}


def variations() -> Iterator[tuple[str, str, Dict[str, Any]]]:
    for name, variants in RESPONSES.items():
        for variant in variants:
            conditions = {c["name"]: c["value"] for c in variant.get("condition") or []}
            yield name, conditions.get("language", "zh"), variant


@pytest.mark.parametrize("scam_type", SCAM_TYPE_IDS)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_reply_filled_with_a_cases_texts_is_phone_sized(scam_type: str, lang: str) -> None:
    story = {"zh": ROMANCE_STORY, "en": POLICE_STORY}[lang]
    flags = [f"{f.id}\t{f.phrase}" for f in find_red_flags(story, lang, KB)][:3]
    filled = {**case_texts(scam_type, flags, lang, "K7QM3XPA"), "likely_type": "other", "handoff_position": "12",
              "handoff_wait": "15"}
    for name, variant_lang, variant in variations():
        if variant_lang != lang or name.startswith("utter_faq/"):
            continue
        text = variant["text"].format(**filled)
        assert len(text) <= MAX_LEN[lang], (name, len(text), text)


def test_the_language_variations_are_in_their_language() -> None:
    for name, lang, variant in variations():
        if lang == "en":
            text = re.sub(r"国家反诈中心|「[^」]*」", "", variant["text"])
            assert not CJK.search(text), name
        else:
            assert CJK.search(variant["text"]), name


def test_conditional_variations_never_overlap() -> None:
    states = [{"language": lang, "case_state": state, "risk_level": risk, "case_second": second,
               "case_has_flags": flags}
              for lang in ("zh", "en") for state in ("no_case", "open", "critical")
              for risk in ("critical", "high", "medium", "low") for second in (True, False) for flags in (True, False)]
    for name, variants in RESPONSES.items():
        for state in states:
            matching = [v for v in variants if v.get("condition")
                        and all(state.get(c["name"]) == c["value"] for c in v["condition"])]
            assert len(matching) <= 1, (name, state)


def test_the_knowledge_is_put_right() -> None:
    channels = " ".join(localized(KB.reporting["channels"], "zh"))
    assert "12381" in channels and "12381" in localized(KB.reporting["channels"], "en")[-1]
    faq = RESPONSES["utter_faq/hotline_96110"]
    assert all("12381" in v["text"] for v in faq)
    # one rule on the scam app everywhere: keep it for the police, uninstall afterwards
    texts = yaml.safe_dump(RESPONSES, allow_unicode=True, width=100000)
    texts += (ROOT / "knowledge" / "scam_types.yml").read_text("utf-8")
    for line in texts.splitlines():
        if re.search(r"卸载|uninstall", line, re.I) and not re.search(r"反诈|anti-fraud", line, re.I):
            assert re.search(r"警察|police", line, re.I), line
    # the hotline script starts with the stop-payment
    for scam in KB.types.values():
        assert localized(scam.script, "zh").startswith("如果钱已经转出去了，请您先马上拨打110")


@pytest.mark.parametrize("question", [
    "这是诈骗吗", "是不是刷单诈骗", "这是刷单返利骗局吗", "是不是校园贷诈骗", "是不是安全账户诈骗", "is this a scam",
    "is this a crypto scam", "是不是网恋诈骗",
])
def test_the_persons_own_question_is_never_a_red_flag(question: str) -> None:
    assert find_red_flags(question, "zh", KB) == []


@pytest.mark.parametrize("text, expected", [
    ("Is this a scam? 【某银行】尊敬的客户，您的账户存在异常", "en"),
    ("A man from the police said my account is linked to 洗钱 and I must move it to 安全账户", "en"),
    ("他发给我一个链接，说 \"click here to claim your prize now\"", "zh"),
    ("老板让我买 Apple gift cards", "zh"),
    ("ok", None),
])
def test_the_language_of_the_persons_own_words(text: str, expected: Optional[str]) -> None:
    assert detect_language(text) == expected


def test_every_case_text_slot_is_in_the_domain() -> None:
    assert set(CASE_TEXT_SLOTS) <= set(DOMAIN["slots"])


def test_no_two_conditional_variants_of_a_response_can_match_at_once() -> None:
    """Rasa picks at random among matching variants: each state must have at most one."""
    for name, variants in DOMAIN["responses"].items():
        conditions = [{c["name"]: c["value"] for c in v.get("condition") or []} for v in variants]
        slots = sorted({slot for c in conditions for slot in c})
        values = [sorted({c[s] for c in conditions if s in c}, key=str) + [None] for s in slots]
        for state in itertools.product(*values):
            filled = dict(zip(slots, state))
            matching = [c for c in conditions if c and all(filled[s] == v for s, v in c.items())]
            assert len(matching) <= 1, f"{name}: {len(matching)} variants match {filled}"


def with_earlier_turn(tracker: Tracker, *actions: str) -> Tracker:
    """The tracker with an earlier message the bot answered by running `actions`."""
    earlier = [{"event": "user", "text": "之前那句", "parse_data": {}}]
    earlier += [{"event": "action", "name": name} for name in ("action_extract_slots", *actions, "action_listen")]
    tracker.events = earlier + tracker.events
    return tracker


@pytest.mark.parametrize("before, intent, again", [
    (("utter_ordinary_message",), "ordinary_message", True),
    (("utter_ordinary_message", "triage_form"), "ordinary_message", True),
    (("utter_doubt",), "doubt", True),
    (("utter_denial", "triage_form"), "denial", True),
    (("utter_what_now",), "ordinary_message", False),
    (("utter_ordinary_message",), "ask_what_now", False),
    (("utter_ordinary_message",), "doubt", False),
    ((), "ordinary_message", False),
    (("utter_still_in_contact",), "still_in_contact", True),
    (("utter_doubt",), "still_in_contact", False),
])
def test_the_same_kind_of_message_twice_in_a_row_is_marked(before: tuple, intent: str, again: bool) -> None:
    slots = {"scam_type": "fake_credit", "case_number": 1, "asked_again": not again}
    tracker = make_tracker("那我怎么查自己的征信", intent=intent, slots=slots)
    _, found = extract(with_earlier_turn(tracker, *before) if before else tracker)
    assert found["asked_again"] is again


VARIED_WHEN_ASKED_AGAIN = ["utter_ordinary_message", "utter_doubt", "utter_denial", "utter_still_in_contact",
                           "utter_case_report"]


def test_hang_up_advice_sent_turns_earlier_from_inside_an_action_counts_as_said() -> None:
    slots = {"scam_type": "impersonate_acquaintance", "case_number": 1}
    tracker = make_tracker("他又打过来了 电话一直在响 我接不接", intent="still_in_contact", slots=slots)
    said = {"event": "bot", "text": "现在就挂断电话", "metadata": {"utter_action": "utter_still_in_contact"}}
    tracker.events = [{"event": "user", "text": "钱还没转"}, said, {"event": "user", "text": "可那就是他的声音"},
                      *tracker.events]
    assert extract(tracker)[1]["asked_again"] is True
    tracker.events = tracker.events[2:]  # the advice sent, then this very message: not said before it
    assert extract(tracker)[1].get("asked_again", False) is False


@pytest.mark.parametrize("response", VARIED_WHEN_ASKED_AGAIN)
def test_one_variant_fits_each_state(response: str) -> None:
    # Rasa picks at random among the conditional variants that match: they must exclude each other.
    variants = [v for v in DOMAIN["responses"][response] if v.get("condition")]
    for state, again, clear, lang in itertools.product(
            ("no_case", "open", "critical"), (False, True), (False, True), ("zh", "en")):
        slots = {"case_state": state, "asked_again": again, "checked_clear": clear, "language": lang}
        fitting = [v for v in variants if all(slots.get(c["name"]) == c["value"] for c in v["condition"])]
        assert len(fitting) <= 1, (response, slots)


@pytest.mark.parametrize("response", VARIED_WHEN_ASKED_AGAIN)
def test_the_second_time_gets_other_words(response: str) -> None:
    variants = DOMAIN["responses"][response]

    def matching(case_state: str, again: bool, lang: str) -> List[Dict[str, Any]]:
        slots = {"case_state": case_state, "asked_again": again, "language": lang}
        return [v for v in variants if v.get("condition")
                and all(slots.get(c["name"]) == c["value"] for c in v["condition"])]

    for state in ("open", "critical"):
        for lang in ("zh", "en"):
            first, second = matching(state, False, lang), matching(state, True, lang)
            assert len(first) == 1 and len(second) == 1 and first[0]["text"] != second[0]["text"]


def test_a_second_story_told_while_the_form_asks_opens_a_second_case_with_its_facts() -> None:
    story = "另外还有件事 我前几天在一个网贷App上申请了5万块 现在说我银行卡号填错了 资金被冻结 要先交3000解冻费才能放款"
    asking = {"scam_type": "impersonate_official", "case_number": 1, "risk_level": "medium",
              "requested_slot": "credentials_shared"}
    tracker = with_parse(make_tracker(story, intent="scam_fake_loan", active_loop="triage_form", slots=asking,
                                      sender_id="second-story-in-form"),
                         verdict={"verdict": "scam", "scam_type": "fake_loan", "scam_probability": 0.99})
    messages, slots = extract(tracker)
    # Nothing filled for the form: it rejects the message and the story rule opens the case.
    assert messages == [] and not {"credentials_shared", "money_sent", "amount"} & set(slots)
    opened = slots_of(run(ActionOpenCase(), tracker)[1])
    assert opened["scam_type"] == "fake_loan" and opened["case_number"] == 2 and opened["case_second"] is True
    # The same message in a fake-loan case is a follow-up: its facts are read at once.
    same = with_parse(make_tracker(story, intent="scam_fake_loan", active_loop="triage_form",
                                   slots={**asking, "scam_type": "fake_loan"}),
                      verdict={"verdict": "scam", "scam_type": "fake_loan", "scam_probability": 0.99})
    assert extract(same)[1].get("credentials_shared") is True


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_sum_the_story_named_is_offered_when_the_amount_is_asked(lang: str) -> None:
    # The story named the fee before money left: the sum is kept aside, not taken as the amount paid.
    story = make_tracker("他让我妈先交2万8的清关费", intent="scam_romance",
                         slots={"language": lang, "scam_type": "romance", "case_number": 1})
    found = extract(story)[1]
    assert found.get("amount_said") == "2万8" and "amount" not in found
    ask = ASK_ACTIONS["amount"]()
    tracker = make_tracker("她昨天已经汇过去了", intent="already_paid",
                           slots={"language": lang, "scam_type": "romance", "amount_said": "2万8"})
    messages, _ = run(ask, tracker)
    question = KB.triage_questions["amount"]
    assert messages[0]["text"] == localized(question["confirm"], lang).format(amount="2万8")
    assert messages[0]["buttons"][0]["payload"] == '/inform{"amount": "2万8"}'
    # Asked once: the next time it is the reminder.
    tracker.events[:0] = [{"event": "bot", "text": messages[0]["text"]}]
    assert run(ask, tracker)[0][0]["text"] == localized(question["reminder"], lang)
    # A plain yes takes the sum named.
    yes = make_tracker("对", intent="affirm", active_loop="triage_form",
                       slots={"language": lang, "amount_said": "2万8", "requested_slot": "amount"})
    validated = ValidateTriageForm().validate_amount("对", CollectingDispatcher(), yes, DOMAIN)
    assert validated == {"amount": "2万8"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_case_with_a_link_says_first_not_to_open_it(lang: str) -> None:
    link = KB.shared_red_flags[[f.id for f in KB.shared_red_flags].index("unknown_link")]
    with_link = case_texts("customer_service", ["unknown_link\tparcel-release-help.com"], lang)
    assert with_link["case_point"] == localized(link.do_now, lang)
    assert with_link["case_do_now"].startswith("1. " + localized(link.do_now, lang))
    without = case_texts("customer_service", [], lang)
    assert without["case_point"] == localized(KB.types["customer_service"].do_now, lang)[0]


def test_gift_card_codes_sent_are_the_payment_not_an_account_code() -> None:
    text = "the last lot was about $1,500 of Apple gift cards, she scratched them and sent him photos of the codes"
    slots = {"scam_type": "romance", "language": "en", "money_sent": True, "risk_level": "critical"}
    messages, found = extract(make_tracker(text, intent="inform", slots=slots))
    assert found.get("amount") == "$1,500" and "exposures" not in found and "credentials_shared" not in found
    assert messages == []


def test_a_fallback_between_two_follow_ups_skips_the_answer_just_given() -> None:
    intents = [{"name": "nlu_fallback", "confidence": 0.35}, {"name": "denial", "confidence": 0.48},
               {"name": "doubt", "confidence": 0.47}]
    tracker = make_tracker("你怎么确定他是骗子 你又没见过他", ranking=intents, active_loop="triage_form",
                           slots={**IN_FORM, "requested_slot": "time_since_transfer"})
    tracker.events.append({"event": "slot", "name": "time_since_transfer", "value": "你怎么确定他是骗子 你又没见过他"})
    with_earlier_turn(tracker, "utter_denial", "triage_form")
    responses = [m.get("response") for m in extract(tracker)[0] if m.get("response") != "utter_critical_steps"]
    assert responses == ["utter_doubt"]


def test_still_in_contact_does_not_repeat_the_hang_up_step() -> None:
    # The response already says to hang up and leave the meeting; the police type's first step says it again.
    texts = case_texts("impersonate_official", [], "en")
    steps = localized(KB.types["impersonate_official"].do_now, "en")
    assert texts["case_point"] == steps[0] and texts["case_point_next"] == steps[1]
    first_time = [{"name": "case_state", "type": "slot", "value": "open"},
                  {"name": "asked_again", "type": "slot", "value": False}]
    open_variants = [v["text"] for v in DOMAIN["responses"]["utter_still_in_contact"]
                     if all(c in (v.get("condition") or []) for c in first_time)]
    assert len(open_variants) == 2 and all("{case_point_next}" in t and "{case_point}" not in t for t in open_variants)


@pytest.mark.parametrize("lang, text", [
    ("en", "no i didnt pay, he wants me to download some app called SecureGov to do it"),
    ("zh", "他现在让我下载一个什么安全App 说是配合调查"),
])
def test_an_act_they_ask_for_gets_its_dont_once(lang: str, text: str) -> None:
    in_case = {"scam_type": "impersonate_official", "case_number": 1, "language": lang}
    messages, found = extract(make_tracker(text, intent="inform", slots=in_case))
    assert [m.get("text") for m in messages] == [localized(KB.chat["request_steps"]["app_installed"], lang)]
    assert found["asked_for"] == ["app_installed"]
    again = make_tracker(text, intent="inform", slots={**in_case, "asked_for": ["app_installed"]})
    assert extract(again)[0] == []
    # Before any case, the verdict's own question decides; no line.
    assert extract(make_tracker(text, intent="ordinary_message", slots={"language": lang}))[0] == []

"""Every custom action, run with a CollectingDispatcher on real rasa-sdk trackers."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import sqlalchemy as sa
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from structlog.testing import capture_logs

from actions.common import case_repository
from actions.questions import ASK_ACTIONS
from actions.reporting import ActionReportSteps
from actions.risk import ActionAssessRisk, ActionEmergencySteps
from actions.triage import ValidateTriageForm
from actions.warning import TRIAGE_SLOTS, ActionWarnScam
from bot.knowledge import load_knowledge, localized
from tests.conftest import make_tracker

KB = load_knowledge()


def run(action: Any, tracker: Any) -> tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher.messages, events


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


ROMANCE_STORY = "在交友软件上认识的男朋友，一直带我在一个投资平台充值，现在提现要交保证金"


def test_warning_names_the_type_flags_and_steps_in_chinese() -> None:
    tracker = make_tracker(ROMANCE_STORY, ranking=[
        {"name": "scam_romance", "confidence": 0.7}, {"name": "scam_investment", "confidence": 0.25},
        {"name": "ordinary_message", "confidence": 0.05},
    ])
    messages, events = run(ActionWarnScam(), tracker)
    romance = KB.types["romance"]
    body = texts(messages)
    assert localized(romance.name, "zh") in messages[0]["text"]
    assert localized(romance.summary, "zh") in messages[0]["text"]
    assert messages[0]["custom"]["analysis"]["scam_type"] == "romance"
    assert localized(romance.do_now, "zh")[0] in body
    # the investment side of a pig-butchering story is named too
    assert localized(KB.types["investment"].name, "zh") in body
    assert localized(KB.chat["triage_intro"], "zh") in body
    assert SlotSet("scam_type", "romance") in events
    # a new story starts a new triage: earlier answers are cleared
    assert all(SlotSet(slot, None) in events for slot in TRIAGE_SLOTS)


def test_warning_in_english_quotes_red_flags_from_the_text() -> None:
    text = "A man from the police said my account is linked to money laundering and I must move it to a safe account"
    tracker = make_tracker(text, intent="scam_impersonate_official", slots={"language": "en"})
    messages, _ = run(ActionWarnScam(), tracker)
    body = texts(messages)
    official = KB.types["impersonate_official"]
    assert localized(official.name, "en") in body
    flags = messages[0]["custom"]["analysis"]["red_flags"]
    assert flags, "a safe-account story must show red flags"
    assert any(f["phrase"].lower() in text.lower() for f in flags)
    assert all(f["phrase"] in body for f in flags)
    assert "的" not in body  # English reply, not Chinese


def test_warning_during_triage_keeps_the_answers() -> None:
    tracker = make_tracker("他还说要我保密", intent="scam_impersonate_official",
                           slots={"money_sent": True}, active_loop="triage_form")
    messages, events = run(ActionWarnScam(), tracker)
    assert SlotSet("money_sent", None) not in events
    assert localized(KB.chat["triage_intro"], "zh") not in texts(messages)


@pytest.mark.parametrize("money_sent, expected", [
    (True, ["money_sent", "time_since_transfer", "amount", "payment_channel", "credentials_shared"]),
    (False, ["money_sent", "credentials_shared"]),
    (None, ["money_sent", "credentials_shared"]),
])
def test_triage_asks_transfer_details_only_after_money_left(money_sent: Any, expected: List[str]) -> None:
    tracker = make_tracker(slots={"money_sent": money_sent})
    slots = asyncio.run(ValidateTriageForm().required_slots([], CollectingDispatcher(), tracker, {}))
    assert slots == expected


@pytest.mark.parametrize("answer, minutes", [
    ("半小时前", 30.0), ("within_hour", 30.0), ("before_today", 2880.0), ("2 hours ago", 120.0), ("不记得了", None),
])
def test_triage_turns_the_time_answer_into_minutes(answer: str, minutes: Any) -> None:
    result = ValidateTriageForm().validate_time_since_transfer(answer, CollectingDispatcher(), make_tracker(), {})
    assert result == {"time_since_transfer": answer, "minutes_since_transfer": minutes}


def test_triage_keeps_amount_and_channel_short() -> None:
    form = ValidateTriageForm()
    assert form.validate_amount(" 两万 ", CollectingDispatcher(), make_tracker(), {}) == {"amount": "两万"}
    assert form.validate_payment_channel("x" * 500, CollectingDispatcher(), make_tracker(), {}) == {
        "payment_channel": "x" * 200
    }
    assert form.validate_amount("   ", CollectingDispatcher(), make_tracker(), {}) == {"amount": None}


@pytest.mark.parametrize("slots, level", [
    ({"scam_type": "romance", "money_sent": True, "minutes_since_transfer": 30.0}, "critical"),
    ({"scam_type": "romance", "money_sent": True, "minutes_since_transfer": None}, "critical"),
    ({"scam_type": "romance", "money_sent": True, "minutes_since_transfer": 4320.0}, "high"),
    ({"scam_type": "customer_service", "money_sent": False, "credentials_shared": True}, "high"),
    ({"scam_type": "customer_service", "money_sent": False, "credentials_shared": False}, "medium"),
    ({"money_sent": False, "credentials_shared": False}, "low"),
])
def test_risk_level_and_its_steps(slots: Dict[str, Any], level: str) -> None:
    for lang in ("zh", "en"):
        messages, events = run(ActionAssessRisk(), make_tracker(slots={**slots, "language": lang}))
        assert events == [SlotSet("risk_level", level)]
        assert messages[0]["custom"] == {"risk_level": level}
        steps = KB.risk_levels[level]
        assert localized(steps["title"], lang) in messages[0]["text"]
        assert all(step in messages[0]["text"] for step in localized(steps["steps"], lang))


def test_emergency_steps_come_first_when_money_already_left() -> None:
    messages, events = run(ActionEmergencySteps(), make_tracker("我刚刚把钱转过去了", intent="already_paid"))
    assert SlotSet("money_sent", True) in events and SlotSet("risk_level", "critical") in events
    assert messages[0]["custom"] == {"risk_level": "critical"}
    assert "110" in messages[0]["text"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_steps_name_channels_evidence_and_recovery_scams(lang: str) -> None:
    messages, events = run(ActionReportSteps(), make_tracker(slots={"scam_type": "investment", "language": lang}))
    body = texts(messages)
    assert events == []
    assert all(step in body for step in localized(KB.reporting["channels"], lang))
    assert all(note in body for note in localized(KB.types["investment"].report_notes, lang))
    assert all(item in body for item in localized(KB.types["investment"].evidence, lang))
    assert localized(KB.reporting["recovery_warning"], lang) in body
    assert "96110" in body and "110" in body


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


def test_triage_gives_the_emergency_steps_as_soon_as_money_left() -> None:
    dispatcher = CollectingDispatcher()
    result = ValidateTriageForm().validate_money_sent(True, dispatcher, make_tracker(slots={"language": "en"}), {})
    assert result == {"money_sent": True, "risk_level": "critical"}
    assert dispatcher.messages[0]["custom"] == {"risk_level": "critical"}
    assert localized(KB.risk_levels["critical"]["title"], "en") in dispatcher.messages[0]["text"]
    # shown once: not again when the emergency steps were already given
    again = CollectingDispatcher()
    tracker = make_tracker(slots={"risk_level": "critical"})
    assert ValidateTriageForm().validate_money_sent(True, again, tracker, {}) == {"money_sent": True}
    assert again.messages == []
    assert ValidateTriageForm().validate_money_sent(False, again, make_tracker(), {}) == {"money_sent": False}


def test_the_warning_and_the_risk_write_the_case_summary(case_database: str) -> None:
    sender = "case-summary"
    run(ActionWarnScam(), make_tracker(ROMANCE_STORY, intent="scam_romance", sender_id=sender))
    slots = {"scam_type": "romance", "money_sent": True, "minutes_since_transfer": 30.0, "amount": "3万5",
             "credentials_shared": False}
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
    assert SlotSet("risk_level", "critical") in events and messages[0]["custom"] == {"risk_level": "critical"}
    assert [log["event"] for log in logs if log["log_level"] == "error"] == ["cases.write_failed"]

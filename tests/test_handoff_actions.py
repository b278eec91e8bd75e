"""Asking for hotline staff, saying the verdict was wrong, quoting a case code: the custom actions
(actions/handoff.py, actions/feedback.py, actions/case_codes.py through the slot validation) run with a
CollectingDispatcher on real rasa-sdk trackers, against the test process's case database (SQLite)."""

from __future__ import annotations

import uuid
from typing import Any, Dict, Iterator, List

import pytest
import sqlalchemy as sa
from rasa_sdk import Tracker

from actions.common import case_repository, record_case
from actions.feedback import ActionRecordFeedback, feedback_repository
from actions.handoff import ActionRequestHandoff
from actions.slots import ValidateSlotMappings
from bot.case_codes import codes_in, new_code, shown
from bot.knowledge import load_knowledge, localized
from bot.privacy import redact
from bot.storage.cases import CaseRepository, make_engine
from bot.storage.handoffs import HandoffRepository
from bot.storage.models import utc_now
from tests.conftest import make_tracker
from tests.test_actions import run, slots_of
from tests.test_storage import rows

CHAT = load_knowledge().chat
MOBILE = "13812345678"


def new_sender(prefix: str) -> str:
    """A conversation id no other test used (the case database lives for the whole session)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"




def paused(tracker: Tracker) -> Tracker:
    """The tracker as Rasa sends it while staff hold the chat (ConversationPaused)."""
    return Tracker.from_dict({**tracker.current_state(), "paused": True})


def unused_code() -> str:
    return next(code for code in iter(new_code, None) if case_repository().find(code) is None)


# --- asking for a person -----------------------------------------------------------------------

@pytest.fixture
def queue(case_database: str) -> Iterator[HandoffRepository]:
    """The session's queue emptied, nobody on duty; emptied again afterwards."""
    def empty() -> None:
        engine = make_engine(case_database)
        with engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM handoffs"))
            connection.execute(sa.text("DELETE FROM staff_on_duty"))
        engine.dispose()

    empty()
    yield HandoffRepository.from_environment()
    empty()


def test_with_nobody_on_duty_the_answer_is_nobody_and_nothing_is_queued(queue: HandoffRepository) -> None:
    sender = new_sender("handoff-nobody")
    messages, events = run(ActionRequestHandoff(), make_tracker("我要转人工", intent="request_human",
                                                                sender_id=sender))
    assert messages == []
    assert events == [{"event": "slot", "timestamp": None, "name": "handoff_answer", "value": "nobody"}]
    assert queue.current(sender) is None


@pytest.mark.parametrize("before", ["nobody", "nobody_again"])
def test_asked_again_with_nobody_on_duty_the_answer_is_the_short_one(queue: HandoffRepository, before: str) -> None:
    tracker = make_tracker("还是想找个人", intent="request_human", sender_id=new_sender("handoff-again"),
                           slots={"handoff_answer": before})
    messages, events = run(ActionRequestHandoff(), tracker)
    assert messages == []
    assert events == [{"event": "slot", "timestamp": None, "name": "handoff_answer", "value": "nobody_again"}]


def test_with_a_console_on_duty_the_conversation_is_queued_first(queue: HandoffRepository) -> None:
    queue.heartbeat("console-a")
    sender = new_sender("handoff-first")
    messages, events = run(ActionRequestHandoff(), make_tracker("我要转人工", intent="request_human",
                                                                sender_id=sender))
    slots = slots_of(events)
    assert messages == []
    assert [e["name"] for e in events] == ["handoff", "handoff_answer", "handoff_position", "handoff_wait",
                                           "case_code"]
    assert slots["handoff"] == "waiting"
    assert slots["handoff_answer"] == "queued"  # no takes yet: no estimate
    assert slots["handoff_position"] == "1"
    assert slots["handoff_wait"] is None
    assert codes_in(slots["case_code"]) == [slots["case_code"]]
    found = case_repository().find(slots["case_code"])
    assert found is not None and found["conversation_id"] == sender


def test_the_queue_holds_the_conversation_with_its_type_risk_and_facts(queue: HandoffRepository) -> None:
    queue.heartbeat("console-a")
    sender = new_sender("handoff-facts")
    code = CaseRepository.from_environment().upsert(sender, scam_type="customer_service")
    tracker = make_tracker("能找个真人吗", intent="request_human", sender_id=sender, slots={
        "case_code": code, "scam_type": "customer_service", "risk_level": "critical", "money_sent": True,
        "amount": "5000元", "minutes_since_transfer": 20.0, "credentials_shared": True, "language": "en"})
    _, events = run(ActionRequestHandoff(), tracker)
    assert slots_of(events)["case_code"] == code
    waiting = queue.queue()["waiting"]
    assert len(waiting) == 1
    held = waiting[0]
    assert held == {**held, "status": "waiting", "case_code": code, "language": "en",
                    "scam_type": "customer_service", "risk_level": "critical"}
    assert held["facts"] == {"money_sent": True, "amount_band": "1k-10k", "minutes_since_transfer": 20.0,
                             "credentials_shared": True}
    current = queue.current(sender)
    assert current is not None and current["id"] == held["id"]


def test_a_second_conversation_is_told_position_2(queue: HandoffRepository) -> None:
    queue.heartbeat("console-a")
    first = make_tracker("转人工", intent="request_human", sender_id=new_sender("handoff-a"))
    second = make_tracker("转人工", intent="request_human", sender_id=new_sender("handoff-b"))
    assert slots_of(run(ActionRequestHandoff(), first)[1])["handoff_position"] == "1"
    assert slots_of(run(ActionRequestHandoff(), second)[1])["handoff_position"] == "2"
    # asking again keeps the first conversation's place
    assert slots_of(run(ActionRequestHandoff(), first)[1])["handoff_position"] == "1"
    assert len(queue.queue()["waiting"]) == 2


def test_a_chat_held_by_staff_is_not_queued_again(queue: HandoffRepository) -> None:
    queue.heartbeat("console-a")
    sender = new_sender("handoff-held")
    tracker = paused(make_tracker("你好", sender_id=sender, slots={"handoff": "with_staff"}))
    assert run(ActionRequestHandoff(), tracker) == ([], [])
    assert queue.current(sender) is None


def test_a_with_staff_slot_left_from_an_earlier_session_does_not_stop_a_new_request(
    queue: HandoffRepository,
) -> None:
    # Not paused: a new session after staff held the chat (Rasa no longer pauses it).
    queue.heartbeat("console-a")
    sender = new_sender("handoff-slot")
    tracker = make_tracker("我要转人工", intent="request_human", sender_id=sender, slots={"handoff": "with_staff"})
    slots = slots_of(run(ActionRequestHandoff(), tracker)[1])
    assert (slots["handoff"], slots["handoff_position"]) == ("waiting", "1")
    assert queue.current(sender) is not None


# --- "it isn't a scam" ------------------------------------------------------------------------

STORY = f"淘宝客服打来电话{MOBILE}，说我的订单有问题要退款，让我下载一个会议软件"


def feedback_since(case_database: str, after_id: int) -> List[Dict[str, Any]]:
    columns = ("source", "judged_type", "right_type", "text", "comment", "case_code")
    found = rows(case_database, f"SELECT {', '.join(columns)} FROM verdict_feedback WHERE id > :id ORDER BY id",
                 id=after_id)
    return [dict(zip(columns, row)) for row in found]


def last_feedback_id(case_database: str) -> int:
    return int(rows(case_database, "SELECT coalesce(max(id), 0) FROM verdict_feedback")[0][0])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_saying_the_case_is_not_a_scam_stores_the_story_redacted_and_says_so(case_database: str, lang: str) -> None:
    before = last_feedback_id(case_database)
    code = case_repository().upsert(new_sender("feedback"), scam_type="customer_service")
    denial = "这其实不是诈骗，真的是客服" if lang == "zh" else "This really isn't a scam, it was the real shop"
    tracker = make_tracker(denial, intent="not_a_scam", slots={
        "scam_type": "customer_service", "case_code": code, "verdict": "clear", "language": lang})
    latest = tracker.events[-1]
    tracker.events[:] = [
        {"event": "user", "text": "你好"},
        {"event": "user", "text": STORY},
        {"event": "slot", "name": "scam_type", "value": "customer_service"},
        {"event": "user", "text": "/affirm"},
        {"event": "user", "text": "我还没转钱"},
        latest,
    ]
    messages, events = run(ActionRecordFeedback(), tracker)
    assert events == []
    assert [m["text"] for m in messages] == [localized(CHAT["feedback_noted"], lang)]
    assert feedback_since(case_database, before) == [{
        "source": "person", "judged_type": "customer_service", "right_type": "none", "text": redact(STORY),
        "comment": denial, "case_code": code}]
    assert MOBILE not in feedback_since(case_database, before)[0]["text"]


def test_the_feedback_counts_in_the_stats_as_a_correction_to_none() -> None:
    tracker = make_tracker("不是诈骗", intent="not_a_scam", slots={"scam_type": "romance"})
    tracker.events[:0] = [{"event": "user", "text": "网上认识的男朋友让我投资"},
                          {"event": "slot", "name": "scam_type", "value": "romance"}]
    today = utc_now().date()
    before = feedback_repository().stats(today, today)
    run(ActionRecordFeedback(), tracker)
    after = feedback_repository().stats(today, today)
    assert after["by_correction"].get("romance->none", 0) == before["by_correction"].get("romance->none", 0) + 1


def test_with_a_clear_verdict_and_no_case_nothing_is_stored_or_said(case_database: str) -> None:
    before = last_feedback_id(case_database)
    tracker = make_tracker("你说得对，这不是诈骗", intent="not_a_scam", slots={"verdict": "clear"})
    tracker.events[:0] = [{"event": "user", "text": "小区物业通知明天停水"}]
    assert run(ActionRecordFeedback(), tracker) == ([], [])
    assert feedback_since(case_database, before) == []


# --- a case code from an earlier chat ----------------------------------------------------------

def test_quoting_an_earlier_cases_code_links_this_chat_to_it() -> None:
    earlier = new_sender("earlier-chat")
    code = CaseRepository.from_environment().upsert(earlier, scam_type="investment", risk_level="medium")
    message = f"我上次的案件编号是{code[:4].lower()} {code[4:].lower()}，骗子今天又用{MOBILE}给我打电话"
    tracker = make_tracker(message, intent="still_in_contact", sender_id=new_sender("later-chat"))
    messages, events = run(ValidateSlotMappings(), tracker)
    slots = slots_of(events)
    assert slots["case_code"] == code
    assert slots["case_linked"] is True
    assert slots["scam_type"] == "investment"
    linked = str(localized(CHAT["case_linked"], "zh")).format(code=shown(code))
    assert [m["text"] for m in messages].count(linked) == 1
    assert shown(code) in linked


def with_code(url: str, conversation_id: str, code: str) -> None:
    """Give the case this code (a random one reads, for half the codes, as English words: see below)."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE cases SET case_code = :code WHERE conversation_id = :id"),
                           {"code": code, "id": conversation_id})
    engine.dispose()


@pytest.mark.parametrize("quoted, code", [("编号{code}", "HWK7XN3Q"), ("{code}", "QXN3HWK7")])
def test_a_code_quoted_in_a_chinese_chat_is_answered_in_chinese(case_database: str, quoted: str, code: str) -> None:
    earlier = new_sender("earlier-chat")
    CaseRepository.from_environment().upsert(earlier, scam_type="romance")
    with_code(case_database, earlier, code)
    tracker = make_tracker(quoted.format(code=shown(code)), sender_id=new_sender("zh-chat"), slots={"language": "zh"})
    messages, events = run(ValidateSlotMappings(), tracker)
    slots = slots_of(events)
    assert slots["case_code"] == code
    assert slots.get("language", "zh") == "zh"
    assert str(localized(CHAT["case_linked"], "zh")).format(code=shown(code)) in [m["text"] for m in messages]


def test_the_message_quoting_the_code_is_a_redacted_note_of_that_case() -> None:
    code = CaseRepository.from_environment().upsert(new_sender("earlier-chat"), scam_type="romance")
    message = f"编号{shown(code)}，他又让我往{MOBILE}这个号码的支付宝转钱"
    run(ValidateSlotMappings(), make_tracker(message, sender_id=new_sender("later-chat")))
    found = CaseRepository.from_environment().find(code)
    assert found is not None
    assert [(n["source"], n["text"]) for n in found["notes"]] == [("person", redact(message))]
    assert MOBILE not in found["notes"][0]["text"]


def test_an_unknown_code_is_said_so_and_links_nothing() -> None:
    code = unused_code()
    tracker = make_tracker(f"my case code is {shown(code)}", slots={"language": "en"},
                           sender_id=new_sender("unknown-code"))
    messages, events = run(ValidateSlotMappings(), tracker)
    slots = slots_of(events)
    assert "case_code" not in slots and "case_linked" not in slots and "scam_type" not in slots
    unknown = str(localized(CHAT["case_code_unknown"], "en")).format(code=shown(code))
    assert [m["text"] for m in messages].count(unknown) == 1
    assert case_repository().find(code) is None


def test_while_staff_hold_the_chat_the_validation_says_and_links_nothing() -> None:
    code = CaseRepository.from_environment().upsert(new_sender("earlier-chat"), scam_type="romance")
    tracker = paused(make_tracker(f"编号{shown(code)}", sender_id=new_sender("held-chat"),
                                  slots={"handoff": "with_staff"}))
    assert run(ValidateSlotMappings(), tracker) == ([], [])
    found = CaseRepository.from_environment().find(code)
    assert found is not None and found["notes"] == []


def test_a_with_staff_slot_left_from_an_earlier_session_is_cleared_and_the_code_linked() -> None:
    code = CaseRepository.from_environment().upsert(new_sender("earlier-chat"), scam_type="romance")
    tracker = make_tracker(f"我又来了，上次的案件编号是{shown(code)}", sender_id=new_sender("new-session"),
                           slots={"handoff": "with_staff"})
    messages, events = run(ValidateSlotMappings(), tracker)
    slots = slots_of(events)
    assert slots["handoff"] is None
    assert (slots["case_code"], slots["case_linked"]) == (code, True)
    assert str(localized(CHAT["case_linked"], "zh")).format(code=shown(code)) in [m["text"] for m in messages]


def test_record_case_in_a_linked_chat_updates_the_linked_case(case_database: str) -> None:
    earlier = new_sender("earlier-chat")
    code = CaseRepository.from_environment().upsert(earlier, scam_type="romance", risk_level="medium")
    later = new_sender("later-chat")
    tracker = make_tracker("又转了两万", sender_id=later, slots={"case_code": code, "case_linked": True})
    assert record_case(tracker, risk_level="critical", money_sent=True, amount_band="10k-100k") == code
    found = CaseRepository.from_environment().find(code)
    assert found is not None
    assert (found["conversation_id"], found["risk_level"], found["money_sent"], found["amount_band"]) == (
        earlier, "critical", True, "10k-100k")
    assert rows(case_database, "SELECT count(*) FROM cases WHERE conversation_id LIKE :later",
                later=later + "%") == [(0,)]

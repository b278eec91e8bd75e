"""Case codes, case notes, the hotline handoff queue and verdict feedback, on SQLite and PostgreSQL.

bot/case_codes.py, and the repositories of bot/storage (cases.py, handoffs.py, feedback.py) on a
freshly migrated database of each kind; what the repositories promise is checked in the tables.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import date, datetime, timedelta
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
import sqlalchemy as sa
from alembic import command

from bot.case_codes import ALPHABET, LENGTH, codes_in, new_code, shown
from bot.privacy import luhn_ok
from bot.storage.cases import CaseRepository, make_engine
from bot.storage.feedback import EXPORT_COLUMNS, MAX_TEXT_CHARS, PERSON, STAFF, FeedbackRepository, NewFeedback
from bot.storage.handoffs import (
    MIN_TAKES_FOR_ESTIMATE,
    ON_DUTY_WITHIN,
    RECENT_DAYS,
    HandoffRepository,
)
from bot.storage.migrate import alembic_config, upgrade
from bot.storage.models import utc_now
from tests.test_storage import execute, rows

MOBILE = "13812345678"


def luhn_card(prefix: str) -> str:
    """A bank card number passing Luhn: the prefix and its check digit."""
    return next(prefix + d for d in "0123456789" if luhn_ok(prefix + d))


CARD = luhn_card("622202123456789012")  # 19 digits, a UnionPay debit card






@pytest.fixture
def cases(migrated_url: str) -> Iterator[CaseRepository]:
    engine = make_engine(migrated_url)
    yield CaseRepository(engine)
    engine.dispose()


@pytest.fixture
def handoffs(migrated_url: str) -> Iterator[HandoffRepository]:
    engine = make_engine(migrated_url)
    yield HandoffRepository(engine)
    engine.dispose()


@pytest.fixture
def feedback(migrated_url: str) -> Iterator[FeedbackRepository]:
    engine = make_engine(migrated_url)
    yield FeedbackRepository(engine)
    engine.dispose()


# --- case codes --------------------------------------------------------------------------------

def test_new_codes_use_the_alphabet_with_a_digit_and_a_letter_in_each_half() -> None:
    codes = [new_code() for _ in range(500)]
    for code in codes:
        assert len(code) == LENGTH == 8
        assert set(code) <= set(ALPHABET)
        for half in (code[:4], code[4:]):
            assert any(c.isdigit() for c in half) and any(c.isalpha() for c in half), code
        assert codes_in(f"编号{shown(code)}") == [code]
    assert len(set(codes)) == len(codes)
    assert not set("01OIL") & set(ALPHABET)


def test_shown_puts_a_dash_between_the_halves() -> None:
    assert shown("K7QM3XPA") == "K7QM-3XPA"


@pytest.mark.parametrize("text", [
    "K7QM-3XPA",
    "编号 K7QM 3XPA",
    "K7QM3XPA",
    "k7qm-3xpa",
    "我的案件编号是k7qm3xpa，谢谢",
    "我上次的编号：K7QM－3XPA。",
])
def test_codes_in_finds_a_code_however_it_is_written(text: str) -> None:
    assert codes_in(text) == ["K7QM3XPA"]


def test_codes_in_finds_each_code_once_in_order() -> None:
    assert codes_in("先是 AB3D-2C45，又是 K7QM3XPA，还是ab3d 2c45") == ["AB3D2C45", "K7QM3XPA"]


@pytest.mark.parametrize("text", [
    f"他的电话是{MOBILE}",
    "139-2345-6789",
    "+86 139 2345 6789",
    "2025-12-31",
    "2026年3月5日 23:45",
    "The standard procedure",
    "ABCD-2345",
    "K7QM3XPAB",
    "编号K7QM-3XPAB不对",
    "",
])
def test_codes_in_finds_nothing_in_numbers_dates_words_or_longer_runs(text: str) -> None:
    assert codes_in(text) == []


@pytest.mark.parametrize("text", ["I sent 8888 yuan to them", "they told me to send 6888 RMB"])
def test_codes_in_does_not_read_an_english_word_and_an_amount_as_a_code(text: str) -> None:
    # The module promises that "no English word, number or date in a message reads as one".
    assert codes_in(text) == []


# --- cases: codes and notes --------------------------------------------------------------------

def test_upsert_returns_the_cases_code_and_the_same_code_later(cases: CaseRepository, migrated_url: str) -> None:
    code = cases.upsert("c1", scam_type="romance")
    assert codes_in(code) == [code]
    assert cases.upsert("c1", risk_level="high") == code
    assert cases.upsert("c1") == code
    assert rows(migrated_url, "SELECT conversation_id, case_code FROM cases") == [("c1", code)]


def test_two_cases_have_different_codes(cases: CaseRepository) -> None:
    assert cases.upsert("c1") != cases.upsert("c2")


def test_update_by_code_updates_that_case_only(cases: CaseRepository, migrated_url: str) -> None:
    first = cases.upsert("c1", scam_type="romance")
    cases.upsert("c2", scam_type="investment")
    assert cases.update_by_code(first, risk_level="critical", money_sent=True) is True
    assert rows(migrated_url, "SELECT conversation_id, scam_type, risk_level, money_sent FROM cases "
                              "ORDER BY conversation_id") == [
        ("c1", "romance", "critical", True), ("c2", "investment", None, None)]


def test_update_by_code_is_false_for_an_unknown_code(cases: CaseRepository, migrated_url: str) -> None:
    cases.upsert("c1")
    unknown = next(c for c in iter(new_code, None) if cases.find(c) is None)
    assert cases.update_by_code(unknown, risk_level="critical") is False
    assert rows(migrated_url, "SELECT risk_level FROM cases") == [(None,)]


def test_update_by_code_rejects_unknown_fields(cases: CaseRepository) -> None:
    code = cases.upsert("c1")
    with pytest.raises(ValueError, match="text"):
        cases.update_by_code(code, text="我的电话" + MOBILE)


def test_notes_come_back_in_order_with_source_and_text(cases: CaseRepository) -> None:
    code = cases.upsert("c1", scam_type="romance", risk_level="high")
    assert cases.add_note(code, "person", "又转了[AMOUNT]") is True
    assert cases.add_note(code, "staff", "已联系银行止付") is True
    found = cases.find(code)
    assert found is not None
    assert found["case_code"] == code and found["conversation_id"] == "c1"
    assert found["scam_type"] == "romance" and found["risk_level"] == "high"
    assert [(n["source"], n["text"]) for n in found["notes"]] == [
        ("person", "又转了[AMOUNT]"), ("staff", "已联系银行止付")]
    assert all(n["added_at"].endswith("Z") for n in found["notes"])


def test_a_note_for_an_unknown_code_is_not_stored(cases: CaseRepository, migrated_url: str) -> None:
    cases.upsert("c1")
    unknown = next(c for c in iter(new_code, None) if cases.find(c) is None)
    assert cases.add_note(unknown, "person", "hello") is False
    assert rows(migrated_url, "SELECT count(*) FROM case_notes") == [(0,)]


def test_find_of_an_unknown_code_is_none(cases: CaseRepository) -> None:
    cases.upsert("c1")
    unknown = next(c for c in iter(new_code, None) if cases.find(c) is None)
    assert cases.find(unknown) is None


def test_delete_older_than_removes_a_stale_cases_notes_too(cases: CaseRepository, migrated_url: str) -> None:
    stale, fresh = cases.upsert("stale"), cases.upsert("fresh")
    cases.add_note(stale, "person", "old note")
    cases.add_note(fresh, "person", "new note")
    execute(migrated_url, "UPDATE cases SET created_at = :when, updated_at = :when WHERE conversation_id = 'stale'",
            when=utc_now() - timedelta(days=100))
    assert cases.delete_older_than(90) == 1
    assert rows(migrated_url, "SELECT conversation_id FROM cases") == [("fresh",)]
    # SQLite does not enforce the foreign key's ON DELETE CASCADE: the notes must be deleted explicitly.
    assert rows(migrated_url, "SELECT text FROM case_notes") == [("new note",)]


# --- staff on duty -----------------------------------------------------------------------------

def test_heartbeat_puts_consoles_on_duty_and_off_duty_takes_them_off(handoffs: HandoffRepository) -> None:
    assert handoffs.on_duty() == 0
    assert handoffs.heartbeat("console-a") == 1
    assert handoffs.heartbeat("console-a") == 1  # the same console again
    assert handoffs.heartbeat("console-b") == 2
    handoffs.off_duty("console-a")
    assert handoffs.on_duty() == 1
    handoffs.off_duty("console-b")
    handoffs.off_duty("never-there")
    assert handoffs.on_duty() == 0


def test_a_heartbeat_older_than_on_duty_within_does_not_count(
    handoffs: HandoffRepository, migrated_url: str
) -> None:
    handoffs.heartbeat("stale")
    handoffs.heartbeat("fresh")
    execute(migrated_url, "UPDATE staff_on_duty SET seen_at = :when WHERE console_id = 'stale'",
            when=utc_now() - ON_DUTY_WITHIN - timedelta(seconds=5))
    assert handoffs.on_duty() == 1
    assert handoffs.heartbeat("stale") == 2  # a new heartbeat brings it back


# --- the queue: the person's side --------------------------------------------------------------

def case(**fields: Any) -> Dict[str, Any]:
    return {"case_code": None, "channel": "webchat", "language": "zh", **fields}


def test_request_gives_successive_conversations_positions_1_2_3(handoffs: HandoffRepository) -> None:
    places = [handoffs.request(f"conv-{n}", case()) for n in range(3)]
    assert [p.position for p in places] == [1, 2, 3]
    assert len({p.handoff_id for p in places}) == 3
    assert all(p.typical_wait_minutes is None for p in places)


def test_asking_again_keeps_the_place_and_updates_the_facts(handoffs: HandoffRepository) -> None:
    first = handoffs.request("conv-a", case(scam_type="romance", risk_level="medium", money_sent=False))
    handoffs.request("conv-b", case())
    again = handoffs.request("conv-a", case(scam_type="romance", risk_level="critical", money_sent=True,
                                            amount_band="10k-100k", minutes_since_transfer=20.0))
    assert (again.handoff_id, again.position) == (first.handoff_id, 1)
    held = handoffs.get(first.handoff_id)
    assert held is not None
    assert held["risk_level"] == "critical"
    assert held["facts"] == {"money_sent": True, "amount_band": "10k-100k", "minutes_since_transfer": 20.0}
    assert len(handoffs.queue()["waiting"]) == 2


def take_after(handoffs: HandoffRepository, url: str, conversation: str, waited: timedelta, ago: timedelta) -> None:
    """A handoff asked for, then taken `ago` before now after waiting `waited`."""
    place = handoffs.request(conversation, case())
    assert handoffs.take(place.handoff_id, "console")
    taken = utc_now() - ago
    execute(url, "UPDATE handoffs SET requested_at = :asked, taken_at = :taken WHERE id = :id",
            asked=taken - waited, taken=taken, id=place.handoff_id)


def test_no_typical_wait_with_too_few_recent_takes(handoffs: HandoffRepository, migrated_url: str) -> None:
    for n in range(MIN_TAKES_FOR_ESTIMATE - 1):
        take_after(handoffs, migrated_url, f"taken-{n}", timedelta(minutes=5), timedelta(hours=1))
    # a take older than RECENT_DAYS does not count towards the estimate
    take_after(handoffs, migrated_url, "long-ago", timedelta(minutes=5), timedelta(days=RECENT_DAYS + 1))
    assert handoffs.request("asking", case()).typical_wait_minutes is None


def test_the_typical_wait_is_the_median_of_recent_takes_in_minutes(
    handoffs: HandoffRepository, migrated_url: str
) -> None:
    for n, minutes in enumerate([2, 4, 30]):
        take_after(handoffs, migrated_url, f"taken-{n}", timedelta(minutes=minutes, seconds=10), timedelta(hours=1))
    assert MIN_TAKES_FOR_ESTIMATE == 3
    assert handoffs.request("asking", case()).typical_wait_minutes == 4


def test_the_typical_wait_is_at_least_one_minute(handoffs: HandoffRepository, migrated_url: str) -> None:
    for n, seconds in enumerate([5, 10, 20]):
        take_after(handoffs, migrated_url, f"taken-{n}", timedelta(seconds=seconds), timedelta(hours=1))
    assert handoffs.request("asking", case()).typical_wait_minutes == 1


def test_a_critical_request_is_told_the_place_the_queue_gives_it(handoffs: HandoffRepository) -> None:
    handoffs.request("calm-1", case(risk_level="medium"))
    handoffs.request("calm-2", case(risk_level="low"))
    urgent = handoffs.request("urgent", case(risk_level="critical"))
    waiting = handoffs.queue()["waiting"]
    assert waiting[0]["id"] == urgent.handoff_id  # the console lists it first
    # QueuePlace.position: "1: next to be taken"
    assert urgent.position == 1


# --- the queue: the staff's side ---------------------------------------------------------------

def test_the_queue_lists_critical_first_then_oldest_first_and_taken_apart(handoffs: HandoffRepository) -> None:
    ids = {name: handoffs.request(name, case(risk_level=risk)).handoff_id for name, risk in [
        ("old-medium", "medium"), ("old-critical", "critical"), ("new-low", "low"),
        ("new-critical", "critical"), ("held", "high"), ("done", "high")]}
    assert handoffs.take(ids["held"], "console-a")
    assert handoffs.take(ids["done"], "console-a") and handoffs.close(ids["done"], "console-a")
    queue = handoffs.queue()
    assert [h["id"] for h in queue["waiting"]] == [
        ids["old-critical"], ids["new-critical"], ids["old-medium"], ids["new-low"]]
    assert [h["id"] for h in queue["taken"]] == [ids["held"]]
    assert queue["taken"][0]["console_id"] == "console-a" and queue["taken"][0]["status"] == "taken"


def test_the_queue_never_holds_message_text(handoffs: HandoffRepository) -> None:
    story = "他让我下载会议软件共享屏幕"
    handoffs.request("conv", case(
        case_code="K7QM3XPA", scam_type="customer_service", risk_level="critical", money_sent=True,
        amount_band="1k-10k", credentials_shared=True, minutes_since_transfer=15.0,
        text=f"{story}，我的卡号{CARD}", comment=f"电话{MOBILE}", story=story,
    ))
    listed = handoffs.queue()["waiting"]
    assert len(listed) == 1
    assert set(listed[0]) == {
        "id", "status", "case_code", "channel", "language", "scam_type", "risk_level", "facts", "requested_at",
        "taken_at", "closed_at", "waited_seconds", "console_id"}
    assert listed[0]["facts"] == {"money_sent": True, "amount_band": "1k-10k", "minutes_since_transfer": 15.0,
                                  "credentials_shared": True}
    dumped = json.dumps(handoffs.queue(), ensure_ascii=False)
    for secret in (story, CARD, MOBILE):
        assert secret not in dumped


def test_take_succeeds_once_and_a_second_console_is_refused(handoffs: HandoffRepository) -> None:
    handoff = handoffs.request("conv", case()).handoff_id
    assert handoffs.take(handoff, "console-a") is True
    assert handoffs.take(handoff, "console-b") is False
    assert handoffs.take(handoff, "console-a") is False
    assert handoffs.take(handoff + 1000, "console-a") is False
    held = handoffs.get(handoff)
    assert held is not None and held["status"] == "taken" and held["console_id"] == "console-a"
    assert held["taken_at"] is not None


def race_to_take(repositories: List[HandoffRepository], handoff: int) -> Dict[str, Any]:
    """Each repository's console takes the handoff at the same moment, from its own thread."""
    start = threading.Barrier(len(repositories))
    results: Dict[str, Any] = {}

    def take(console: str, repository: HandoffRepository) -> None:
        start.wait()
        try:
            results[console] = repository.take(handoff, console)
        except Exception as error:  # noqa: BLE001 - shown by the caller's assertion
            results[console] = error

    threads = [threading.Thread(target=take, args=(f"console-{n}", repository))
               for n, repository in enumerate(repositories)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_consoles_racing_for_a_handoff_exactly_one_wins(migrated_url: str) -> None:
    engines = [make_engine(migrated_url) for _ in range(2)]  # two replicas, each with its own engine
    try:
        repositories = [HandoffRepository(engine) for engine in engines]
        for round_ in range(5):
            handoff = repositories[0].request(f"conv-{round_}", case()).handoff_id
            results = race_to_take(repositories, handoff)
            assert sorted(results.values(), key=str) == [False, True], results
            winner = next(console for console, won in results.items() if won is True)
            held = repositories[1].get(handoff)
            assert held is not None and held["console_id"] == winner
    finally:
        for engine in engines:
            engine.dispose()


def test_only_the_console_that_took_it_can_close_it(handoffs: HandoffRepository) -> None:
    handoff = handoffs.request("conv", case()).handoff_id
    assert handoffs.close(handoff, "console-a") is False  # still waiting
    assert handoffs.take(handoff, "console-a")
    assert handoffs.close(handoff, "console-b") is False
    assert handoffs.close(handoff, "console-a") is True
    assert handoffs.close(handoff, "console-a") is False
    closed = handoffs.get(handoff)
    assert closed is not None and closed["status"] == "closed" and closed["closed_at"] is not None
    assert handoffs.queue() == {"waiting": [], "taken": []}


def test_reopen_puts_a_taken_handoff_back_to_waiting(handoffs: HandoffRepository) -> None:
    handoff = handoffs.request("conv", case()).handoff_id
    assert handoffs.take(handoff, "console-a")
    handoffs.reopen(handoff)
    reopened = handoffs.get(handoff)
    assert reopened is not None
    assert (reopened["status"], reopened["taken_at"], reopened["console_id"]) == ("waiting", None, None)
    assert [h["id"] for h in handoffs.queue()["waiting"]] == [handoff]
    assert handoffs.take(handoff, "console-b") is True


def test_reopen_leaves_a_closed_handoff_closed(handoffs: HandoffRepository) -> None:
    handoff = handoffs.request("conv", case()).handoff_id
    assert handoffs.take(handoff, "console-a") and handoffs.close(handoff, "console-a")
    handoffs.reopen(handoff)
    closed = handoffs.get(handoff)
    assert closed is not None and closed["status"] == "closed"


def test_current_is_the_conversations_open_handoff(handoffs: HandoffRepository) -> None:
    assert handoffs.current("conv") is None
    handoff = handoffs.request("conv", case(scam_type="romance")).handoff_id
    handoffs.request("other", case())
    waiting = handoffs.current("conv")
    assert waiting is not None and (waiting["id"], waiting["status"], waiting["scam_type"]) == (
        handoff, "waiting", "romance")
    assert handoffs.take(handoff, "console-a")
    taken = handoffs.current("conv")
    assert taken is not None and (taken["id"], taken["status"]) == (handoff, "taken")
    assert handoffs.close(handoff, "console-a")
    assert handoffs.current("conv") is None


def test_get_gives_one_handoff_or_none(handoffs: HandoffRepository) -> None:
    handoff = handoffs.request("conv", case(case_code="K7QM3XPA", language="en")).handoff_id
    found = handoffs.get(handoff)
    assert found is not None
    assert (found["id"], found["case_code"], found["language"], found["channel"]) == (
        handoff, "K7QM3XPA", "en", "webchat")
    assert found["requested_at"].endswith("Z") and found["waited_seconds"] >= 0
    assert handoffs.get(handoff + 1000) is None


# --- verdict feedback --------------------------------------------------------------------------

def today() -> date:
    return utc_now().date()


def test_feedback_is_stored_redacted(feedback: FeedbackRepository, migrated_url: str) -> None:
    feedback.add(NewFeedback(
        source=PERSON, judged_type="customer_service", right_type="none",
        text=f"客服说退款，让我打{MOBILE}，把卡号{CARD}发给他", comment=f"这是真的客服{MOBILE}",
        channel="webchat", case_code="K7QM3XPA",
    ))
    stored = rows(migrated_url, "SELECT source, judged_type, right_type, text, comment, channel, case_code "
                                "FROM verdict_feedback")
    assert len(stored) == 1
    source, judged, right, text, comment, channel, code = stored[0]
    assert (source, judged, right, channel, code) == (PERSON, "customer_service", "none", "webchat", "K7QM3XPA")
    for value in (text, comment):
        assert MOBILE not in value and CARD not in value
    assert "[PHONE]" in text and "[BANK_CARD]" in text and "[PHONE]" in comment


def test_feedback_text_is_cut_at_max_text_chars(feedback: FeedbackRepository, migrated_url: str) -> None:
    feedback.add(NewFeedback(source=STAFF, judged_type="romance", text="聊" * (MAX_TEXT_CHARS + 500)))
    assert rows(migrated_url, "SELECT text FROM verdict_feedback") == [("聊" * MAX_TEXT_CHARS,)]


def test_a_card_number_at_the_cut_is_not_stored_in_part(feedback: FeedbackRepository, migrated_url: str) -> None:
    # A pasted chat log whose card number straddles MAX_TEXT_CHARS: 15 of its 19 digits fall inside.
    text = "聊" * (MAX_TEXT_CHARS - 15) + CARD
    feedback.add(NewFeedback(source=PERSON, judged_type="romance", text=text))
    (stored,), = rows(migrated_url, "SELECT text FROM verdict_feedback")
    assert CARD[:15] not in stored


def add_feedback(feedback: FeedbackRepository, source: str, judged: str, right: Optional[str], text: str) -> int:
    return feedback.add(NewFeedback(source=source, judged_type=judged, right_type=right, text=text))


def backdate_feedback(url: str, feedback_id: int, days: int) -> None:
    execute(url, "UPDATE verdict_feedback SET created_at = :when WHERE id = :id",
            when=datetime.combine(today() - timedelta(days=days), datetime.min.time()) + timedelta(hours=12),
            id=feedback_id)


def test_stats_count_by_source_and_by_correction(feedback: FeedbackRepository, migrated_url: str) -> None:
    add_feedback(feedback, PERSON, "romance", "none", "a")
    add_feedback(feedback, STAFF, "romance", "none", "b")
    add_feedback(feedback, PERSON, "investment", None, "c")
    add_feedback(feedback, STAFF, "romance", "investment", "d")
    old = add_feedback(feedback, STAFF, "fake_loan", "none", "e")
    backdate_feedback(migrated_url, old, 40)
    stats = feedback.stats(today() - timedelta(days=30), today())
    assert stats["total"] == 4
    assert stats["by_source"] == {"person": 2, "staff": 2}
    assert list(stats["by_correction"].items()) == [
        ("romance->none", 2), ("investment->unknown", 1), ("romance->investment", 1)]
    assert feedback.stats(today() - timedelta(days=60), today())["total"] == 5


def test_export_csv_has_the_header_and_one_redacted_row_per_feedback(
    feedback: FeedbackRepository, migrated_url: str
) -> None:
    feedback.add(NewFeedback(source=PERSON, judged_type="romance", right_type="none",
                             text=f"男朋友让我转账到{CARD}", comment=f"他真是我男朋友, 电话{MOBILE}",
                             channel="webchat", case_code="K7QM3XPA"))
    feedback.add(NewFeedback(source=STAFF, judged_type="investment", text="line one\nline, two"))
    exported = feedback.export_csv(today(), today())
    table = list(csv.reader(io.StringIO(exported)))
    assert tuple(table[0]) == EXPORT_COLUMNS
    assert len(table) == 3
    first, second = (dict(zip(EXPORT_COLUMNS, row)) for row in table[1:])
    assert (first["source"], first["channel"], first["case_code"], first["judged_type"], first["right_type"]) == (
        "person", "webchat", "K7QM3XPA", "romance", "none")
    assert first["created_at"].startswith(today().isoformat()) and first["created_at"].endswith("Z")
    assert "[BANK_CARD]" in first["text"] and "[PHONE]" in first["comment"]
    assert (second["source"], second["right_type"], second["text"], second["comment"]) == (
        "staff", "", "line one\nline, two", "")
    assert CARD not in exported and MOBILE not in exported


def test_export_csv_respects_the_date_window(feedback: FeedbackRepository, migrated_url: str) -> None:
    add_feedback(feedback, PERSON, "romance", "none", "recent")
    old = add_feedback(feedback, PERSON, "romance", "none", "old")
    backdate_feedback(migrated_url, old, 10)
    def texts(since: date, until: date) -> List[str]:
        return [row[6] for row in list(csv.reader(io.StringIO(feedback.export_csv(since, until))))[1:]]

    assert texts(today() - timedelta(days=3), today()) == ["recent"]
    assert texts(today() - timedelta(days=10), today() - timedelta(days=10)) == ["old"]
    assert texts(today() - timedelta(days=30), today()) == ["recent", "old"]
    assert feedback.export_csv(today() - timedelta(days=5), today() - timedelta(days=4)) == (
        ",".join(EXPORT_COLUMNS) + "\n")


def test_the_export_never_starts_a_text_cell_with_a_formula(migrated_url: str) -> None:
    feedback = FeedbackRepository(make_engine(migrated_url))
    feedback.add(NewFeedback(source="staff", judged_type="none", text='=HYPERLINK("http://x.example","点我")',
                             comment="+1 这是诈骗"))
    row = list(csv.DictReader(io.StringIO(feedback.export_csv(date(2000, 1, 1), date(2999, 12, 31)))))[-1]
    assert row["text"].startswith("'=HYPERLINK") and row["comment"] == "'+1 这是诈骗"


def test_the_migration_0004_downgrades_and_upgrades_again(new_database: Callable[[], str]) -> None:
    url = new_database()
    upgrade(url)
    engine = make_engine(url)
    try:
        added = {"case_notes", "handoffs", "staff_on_duty", "verdict_feedback"}
        assert added <= set(sa.inspect(engine).get_table_names())
        command.downgrade(alembic_config(url), "0003")
        inspector = sa.inspect(engine)
        assert not added & set(inspector.get_table_names())
        assert "case_code" not in {c["name"] for c in inspector.get_columns("cases")}
        upgrade(url)
        inspector = sa.inspect(engine)
        assert added <= set(inspector.get_table_names())
        assert "case_code" in {c["name"] for c in inspector.get_columns("cases")}
    finally:
        engine.dispose()

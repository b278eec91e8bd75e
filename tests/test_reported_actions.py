"""Reported identifiers in the chat (actions/reported.py, the slot validation): real rasa-sdk trackers,
the test process's case database, and the store the hotline API writes to."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import actions.reported
from actions.reported import (
    REPORT_PAYLOAD,
    REPORTABLE_SLOT,
    ActionOfferReport,
    ActionReportIdentifiers,
    report_repository,
    slot_entry,
)
from actions.slots import ValidateSlotMappings
from bot.identifiers import identifier_knowledge
from bot.knowledge import localized
from bot.reported import fingerprint, normalize
from bot.storage.cases import make_engine
from bot.storage.reports import STAFF, NewReport, ReportRepository
from tests.conftest import make_tracker
from tests.test_actions import run, slots_of

TEXTS = identifier_knowledge().reported


def new_mobile() -> str:
    """A mobile number no other test reported (the case database lives for the whole session)."""
    return "170" + "".join(random.choice("0123456789") for _ in range(8))


def staff_report(kind: str, value: str, times: int = 1) -> None:
    kind, normalized = normalize(kind, value)
    report_repository().add([NewReport(kind, fingerprint(kind, normalized), STAFF) for _ in range(times)])


def entry_for(kind: str, value: str) -> str:
    """The slot's entry for a value, as the slot validation keeps it."""
    kind, normalized = normalize(kind, value)
    return slot_entry(kind, fingerprint(kind, normalized))


def reports_of(kind: str, value: str) -> int:
    kind, normalized = normalize(kind, value)
    found = report_repository().counts([(kind, fingerprint(kind, normalized))])
    return sum(c.reports for c in found.values())


def test_a_reported_number_in_an_everyday_message_is_said_and_never_answered_as_clear() -> None:
    number = new_mobile()
    staff_report("phone", number, times=3)
    tracker = make_tracker(f"你好，我是小区物业的，有事打我电话{number}", intent="ordinary_message",
                           sender_id="reported-zh")
    tracker.latest_message["verdict"] = {"verdict": "none", "scam_type": "none", "scam_probability": 0.02}
    messages, events = run(ValidateSlotMappings(), tracker)
    slots = slots_of(events)
    assert slots["verdict"] == "unsure"
    notes = [m for m in messages if (m.get("custom") or {}).get("reported")]
    assert len(notes) == 1
    assert "3次" in notes[0]["text"] and TEXTS["kinds"]["phone"]["zh"] in notes[0]["text"]
    # the stored conversation must not hold the number: the note never repeats it
    assert number not in notes[0]["text"]
    assert len(slots[REPORTABLE_SLOT]) == 1 and slots[REPORTABLE_SLOT][0].startswith("phone:")
    assert number not in slots[REPORTABLE_SLOT][0]


def test_an_unreported_number_is_kept_for_consent_without_a_note_or_an_alarm() -> None:
    number = new_mobile()
    tracker = make_tracker(f"My neighbour's new number is {number}", intent="ordinary_message",
                           slots={"language": "en"}, sender_id="unreported-en")
    tracker.latest_message["verdict"] = {"verdict": "none", "scam_type": "none", "scam_probability": 0.01}
    messages, events = run(ValidateSlotMappings(), tracker)
    slots = slots_of(events)
    assert slots["verdict"] == "clear"
    assert not [m for m in messages if (m.get("custom") or {}).get("reported")]
    assert slots[REPORTABLE_SLOT] == [entry_for("phone", number)]


def test_a_match_already_said_in_the_conversation_is_not_said_again() -> None:
    number = new_mobile()
    staff_report("phone", number)
    entry = entry_for("phone", number)
    tracker = make_tracker(f"他又用{number}打来了", intent="still_in_contact",
                           slots={REPORTABLE_SLOT: [entry]}, sender_id="reported-again")
    messages, events = run(ValidateSlotMappings(), tracker)
    assert not [m for m in messages if (m.get("custom") or {}).get("reported")]
    assert REPORTABLE_SLOT not in slots_of(events)  # unchanged


def test_the_offer_comes_only_when_the_conversation_named_something_and_carries_the_button() -> None:
    messages, events = run(ActionOfferReport(), make_tracker("/show_report", intent="show_report"))
    assert messages == [] and events == []
    entry = entry_for("domain", "refund-jd-help.cn")
    messages, events = run(ActionOfferReport(), make_tracker(
        "/show_report", intent="show_report", slots={"language": "en", REPORTABLE_SLOT: [entry]}))
    assert events == [{"event": "slot", "timestamp": None, "name": "report_offered", "value": [entry]}]
    assert len(messages) == 1
    assert TEXTS["kinds"]["domain"]["en"] in messages[0]["text"]
    assert messages[0]["buttons"] == [{"title": localized(TEXTS["offer_yes"], "en"), "payload": REPORT_PAYLOAD}]
    # asked again for the report steps: offered once, unless something new was named since
    again = make_tracker("/show_report", intent="show_report",
                         slots={REPORTABLE_SLOT: [entry], "report_offered": [entry]})
    assert run(ActionOfferReport(), again) == ([], [])
    newer = entry_for("phone", new_mobile())
    more = make_tracker("/show_report", intent="show_report",
                        slots={REPORTABLE_SLOT: [entry, newer], "report_offered": [entry]})
    messages, _ = run(ActionOfferReport(), more)
    offer = messages[0]["text"]
    assert TEXTS["kinds"]["phone"]["zh"] in offer and TEXTS["kinds"]["domain"]["zh"] not in offer


def test_consent_reports_each_identifier_once_per_conversation() -> None:
    number, site = new_mobile(), f"pay-{random.randint(10**5, 10**6)}-refund.cn"
    entries = [entry_for("phone", number),
               entry_for("domain", site)]
    tracker = make_tracker(REPORT_PAYLOAD, intent="report_identifiers", slots={REPORTABLE_SLOT: entries},
                           sender_id="consent-zh")
    messages, events = run(ActionReportIdentifiers(), tracker)
    assert slots_of(events) == {"report_offered": entries}
    assert [m["text"] for m in messages] == [localized(TEXTS["added"], "zh")]
    assert reports_of("phone", number) == 1 and reports_of("domain", "https://www." + site + "/pay") == 1
    # agreeing again in the same conversation does not count twice
    messages, _ = run(ActionReportIdentifiers(), tracker)
    assert [m["text"] for m in messages] == [localized(TEXTS["already"], "zh")]
    assert reports_of("phone", number) == 1
    # another person's report of the same number does count
    run(ActionReportIdentifiers(), make_tracker(REPORT_PAYLOAD, intent="report_identifiers",
                                                slots={REPORTABLE_SLOT: entries[:1]}, sender_id="consent-other"))
    assert reports_of("phone", number) == 2


def test_consent_with_nothing_named_asks_for_the_number_and_reports_nothing() -> None:
    messages, events = run(ActionReportIdentifiers(), make_tracker(
        "add their number to the list", intent="report_identifiers", slots={"language": "en"}))
    assert events == []
    assert [m["text"] for m in messages] == [localized(TEXTS["nothing"], "en")]


def test_a_store_that_cannot_be_written_loses_the_report_but_says_so(monkeypatch: Any, tmp_path: Path) -> None:
    entry = entry_for("phone", new_mobile())
    # A real database the migrations never ran on: every write fails as on a broken deployment.
    unmigrated = ReportRepository(make_engine(f"sqlite:///{tmp_path / 'unmigrated.db'}"))
    monkeypatch.setattr(actions.reported, "report_repository", lambda: unmigrated)
    messages, _ = run(ActionReportIdentifiers(), make_tracker(
        REPORT_PAYLOAD, intent="report_identifiers", slots={REPORTABLE_SLOT: [entry]}))
    assert [m["text"] for m in messages] == [localized(TEXTS["unavailable"], "zh")]

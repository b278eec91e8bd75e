"""Conversations and cases kept safely, against the live assistant: what lands on disk, and the
statistics staff see behind the hotline token."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import uuid
from datetime import datetime, timezone
from typing import Any, Dict

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from bot.knowledge import load_knowledge, localized
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, LiveAssistant
from tests.test_browser import ARTIFACTS

KB = load_knowledge()
PHONE = "13812345678"
ID_NUMBER = "11010519491231002X"
CARD = "6222021234567894"  # Luhn-valid, made up
EMAIL = "zhangsan@example.com"
SECRET = "abc123secret"
PERSONAL = (PHONE, ID_NUMBER, CARD, CARD[:4] + " " + CARD[4:8], EMAIL, SECRET)
STORY = (
    f"自称公安局的民警打电话说我的身份证{ID_NUMBER}涉嫌洗钱，要我把存款转到安全账户配合调查，"
    f"还让我登录 https://safe-account.example.com/verify?token={SECRET} 填银行卡号{CARD}，"
    f"有事打他电话{PHONE}，材料发到{EMAIL}"
)


@pytest.fixture(scope="module")
def conversation(assistant: LiveAssistant) -> str:
    """A web chat full of personal data, through the triage to a critical case: its sender id."""
    sender = uuid.uuid4().hex
    replies = assistant.chat(sender, STORY)
    assert replies[0]["custom"]["analysis"]["scam_type"] == "impersonate_official", replies
    # Money sent, time not yet known: the stop-payment steps (critical) come at once, before the questions.
    replies = assistant.chat(sender, "/affirm")
    assert replies[0]["custom"]["risk_level"] == "critical", replies
    assistant.chat(sender, "半小时前")
    assistant.chat(sender, "两万块")
    assistant.chat(sender, '/inform{"payment_channel": "bank_transfer"}')
    replies = assistant.chat(sender, "/deny")
    assert replies and "110" in replies[-1]["text"], replies
    return sender


def test_the_tracker_store_keeps_the_conversation_without_personal_data(
    assistant: LiveAssistant, conversation: str
) -> None:
    with sqlite3.connect(assistant.database) as db:
        rows = [data for (data,) in db.execute("SELECT data FROM events WHERE sender_id = ?",
                                               (assistant.conversation_id(conversation),))]
    decoded = json.dumps([json.loads(row) for row in rows], ensure_ascii=False)
    for value in PERSONAL:
        assert value not in "".join(rows) and value not in decoded, value
    assert "[ID_NUMBER]" in decoded and "[BANK_CARD]" in decoded and "[PHONE]" in decoded
    assert "[EMAIL]" in decoded and "[URL_WITH_SECRET]" in decoded
    assert '"scam_type", "value": "impersonate_official"' in decoded
    assert '"risk_level", "value": "critical"' in decoded
    # the history page reads the same store
    history = requests.get(assistant.url + "/webhooks/webchat/history", params={"sender": conversation},
                           timeout=30).json()
    assert history["messages"][0]["text"].startswith("自称公安局的民警")
    assert ID_NUMBER not in json.dumps(history)


def test_the_case_record_has_the_summary_and_nothing_personal(assistant: LiveAssistant, conversation: str) -> None:
    with sqlite3.connect(assistant.case_database) as db:
        db.row_factory = sqlite3.Row
        case = dict(db.execute("SELECT * FROM cases WHERE conversation_id = ?",
                               (assistant.conversation_id(conversation),)).fetchone())
        dump = "\n".join(db.iterdump())
    assert {k: case[k] for k in ("channel", "language", "scam_type", "risk_level", "money_sent", "amount_band",
                                 "credentials_shared", "minutes_since_transfer")} == {
        "channel": "webchat", "language": "zh", "scam_type": "impersonate_official", "risk_level": "critical",
        "money_sent": 1, "amount_band": "10k-100k", "credentials_shared": 0, "minutes_since_transfer": 30.0,
    }
    for value in PERSONAL:
        assert value not in dump


def staff(assistant: LiveAssistant) -> Dict[str, str]:
    return {"Authorization": f"Bearer {assistant.hotline_token}"}


def test_the_statistics_show_the_case(assistant: LiveAssistant, conversation: str) -> None:
    today = datetime.now(timezone.utc).date().isoformat()
    response = requests.get(assistant.url + "/webhooks/hotline/stats", headers=staff(assistant), timeout=30)
    assert response.status_code == 200, response.text
    stats: Dict[str, Any] = response.json()
    assert stats["to"] == today and stats["total"] >= 1
    assert stats["by_scam_type"]["impersonate_official"] >= 1
    assert stats["by_risk_level"]["critical"] >= 1
    assert stats["by_day"][today] == stats["total"]
    assert stats["scam_names"]["impersonate_official"]["zh"] == localized(KB.types["impersonate_official"].name, "zh")

    export = requests.get(assistant.url + "/webhooks/hotline/stats.csv", params={"from": today, "to": today},
                          headers=staff(assistant), timeout=30)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert f"cases_{today}_{today}.csv" in export.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(export.text)))
    assert table[0] == ["dimension", "value", "count"]
    counts = {(row[0], row[1]): int(row[2]) for row in table[1:]}
    assert counts[("scam_type", "impersonate_official")] >= 1 and counts[("risk_level", "critical")] >= 1
    assert counts[("day", today)] == stats["total"]

    before = requests.get(assistant.url + "/webhooks/hotline/stats", params={"from": "2000-01-01", "to": "2000-01-31"},
                          headers=staff(assistant), timeout=30).json()
    assert before["total"] == 0 and before["by_scam_type"] == {}


@pytest.mark.parametrize("path", ["/webhooks/hotline/stats", "/webhooks/hotline/stats.csv"])
def test_the_statistics_need_the_staff_token(assistant: LiveAssistant, path: str) -> None:
    assert requests.get(assistant.url + path, timeout=30).status_code == 401
    wrong = requests.get(assistant.url + path, headers={"Authorization": "Bearer nope"}, timeout=30)
    assert wrong.status_code == 401 and wrong.json()["error"] == "unauthorized"


@pytest.mark.parametrize("params, code", [
    ({"from": "2025-13-01"}, "invalid_date"),
    ({"to": "yesterday"}, "invalid_date"),
    ({"from": "2025-02-01", "to": "2025-01-01"}, "invalid_range"),
])
def test_the_statistics_refuse_bad_periods(assistant: LiveAssistant, params: Dict[str, str], code: str) -> None:
    response = requests.get(assistant.url + "/webhooks/hotline/stats", params=params, headers=staff(assistant),
                            timeout=30)
    assert response.status_code == 422 and response.json()["error"] == code


def test_the_statistics_page_is_served(assistant: LiveAssistant) -> None:
    for path, kind in (("/webhooks/hotline/stats/", "text/html"),
                       ("/webhooks/hotline/stats/static/stats.js", "application/javascript"),
                       ("/webhooks/hotline/stats/static/stats-strings.json", "application/json")):
        response = requests.get(assistant.url + path, timeout=30)
        assert response.status_code == 200 and response.headers["content-type"].startswith(kind), path
    strings = requests.get(assistant.url + "/webhooks/hotline/stats/static/stats-strings.json", timeout=30).json()
    assert set(strings["zh"]) == set(strings["en"])


def test_the_statistics_page_draws_the_charts_and_exports(assistant: LiveAssistant, conversation: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        # the token typed in the console is the one the statistics page uses
        page.goto(assistant.url + "/webhooks/hotline/")
        page.fill("#token", assistant.hotline_token)
        page.goto(assistant.url + "/webhooks/hotline/stats/")
        name = localized(KB.types["impersonate_official"].name, "zh")
        expect(page.locator("#chart-type svg text", has_text=name)).to_be_visible(timeout=30_000)
        assert page.locator("#chart-day svg rect.bar").count() >= 1
        assert page.locator("#chart-risk svg rect.bar-critical").count() == 1
        page.screenshot(path=str(ARTIFACTS / "hotline-stats.png"), full_page=True)

        with page.expect_download() as download:
            page.click("#csv-button")
        assert download.value.suggested_filename.startswith("cases_")
        page.click("#lang-toggle")
        expect(page.locator("#chart-type svg text", has_text=localized(KB.types["impersonate_official"].name, "en")))\
            .to_be_visible()
        browser.close()


@pytest.mark.parametrize("path", ["/webhooks/hotline/stats", "/webhooks/hotline/stats.csv"])
@pytest.mark.parametrize("params", [
    {"to": "0001-01-05"},  # the default 30 days before it do not exist: was a 500
    {"to": "9999-12-31"},  # the day after it does not exist: was a 500
    {"from": "0001-01-01", "to": "2025-01-01"},
    {"from": "1999-12-31"},
    {"to": "3000-01-01"},
])
def test_the_statistics_refuse_dates_out_of_range(
    assistant: LiveAssistant, path: str, params: Dict[str, str]
) -> None:
    response = requests.get(assistant.url + path, params=params, headers=staff(assistant), timeout=30)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "date_out_of_range"


@pytest.mark.parametrize("channel", [{"name": "x"}, ["webchat"], "hotline", 7])
def test_a_rest_client_cannot_choose_the_input_channel(assistant: LiveAssistant, channel: Any) -> None:
    """Rasa's REST input took `input_channel` from the body: a dict made the case write fail, so the
    case went missing from the statistics; a string put a REST case under another door."""
    sender = uuid.uuid4().hex
    response = assistant.post("/webhooks/rest/webhook", json={"sender": sender, "message": STORY,
                                                              "input_channel": channel})
    assert response.status_code == 200, response.text
    with sqlite3.connect(assistant.case_database) as db:
        row = db.execute("SELECT channel, scam_type FROM cases WHERE conversation_id = ?",
                         (assistant.conversation_id(sender, "rest"),)).fetchone()
    assert row == ("rest", "impersonate_official")


def test_the_store_keeps_no_variant_of_personal_data(assistant: LiveAssistant) -> None:
    """Rows of tests/redaction/corpus.yml sent through the web chat: nothing of them on disk
    (text, parse data, entities, slots, metadata.display), as the report counts a leak."""
    from bot.evaluation.redaction import CORPUS, leaks, load

    rows = [r for r in load(CORPUS, "personal") if r["variant"] in (
        "letter glued vx", "Chinese digits", "space per digit", "+86 without 0", "full-width", "vx space",
        "扣扣", "no scheme token", "old 15-digit spaced",
    )]
    assert len(rows) >= 20
    sender = uuid.uuid4().hex
    text = "；".join(r["text"] for r in rows)[:4900]
    response = assistant.post("/webhooks/webchat/webhook",
                              json={"sender": sender, "message": text, "metadata": {"lang": "zh", "display": text}})
    assert response.status_code == 200, response.text
    with sqlite3.connect(assistant.database) as db:
        stored = "\n".join(json.dumps(json.loads(data), ensure_ascii=False) for (data,) in db.execute(
            "SELECT data FROM events WHERE sender_id = ?", (assistant.conversation_id(sender),)))
    assert stored
    leaked = [r["text"] for r in rows if r["text"] in text and leaks(stored, str(r["value"]))]
    assert leaked == []

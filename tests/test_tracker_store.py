"""The redacting tracker store, built from endpoints.yml as the server builds it, on SQLite and
PostgreSQL; and the retention job that deletes old conversations and cases."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import stat
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import TrackerStore, create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot import retention
from bot.local_servers import ROOT
from bot.privacy import redact
from bot.storage.cases import CaseRepository, make_engine
from bot.storage.feedback import FeedbackRepository, NewFeedback
from bot.storage.handoffs import HandoffRepository
from bot.storage.migrate import upgrade
from bot.storage.models import utc_now
from bot.tracker_store import RedactingSQLTrackerStore

DOMAIN = Domain.load(str(ROOT / "domain.yml"))
ID_NUMBER = "11010519491231002X"
CARD = "6222021234567894"
PERSONAL = ("13812345678", ID_NUMBER, CARD, "zhangsan@example.com", "abc123secret")
STORY = (
    f"我叫张三，电话13812345678，身份证{ID_NUMBER}，卡号{CARD}，邮箱zhangsan@example.com。"
    "自称警察的人发来 https://safe.example.com/verify?token=abc123secret 让我把5万元转到安全账户"
)


@pytest.fixture
def tracker_url(new_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> str:
    """A new tracker database, set in the environment endpoints.yml reads, as scripts/run.sh would."""
    url = new_database()
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:9/webhook")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "unused-in-this-test")
    if url.startswith("sqlite"):
        # The default: a dialect and a file, no URL.
        monkeypatch.setenv("TRACKER_DB_DIALECT", "sqlite")
        monkeypatch.setenv("TRACKER_DB_HOST", "")
        monkeypatch.setenv("TRACKER_DB", sa.engine.make_url(url).database)
    else:
        # Production: the full URL in TRACKER_DB_HOST wins over the other two.
        monkeypatch.setenv("TRACKER_DB_DIALECT", "postgresql")
        monkeypatch.setenv("TRACKER_DB_HOST", url)
        monkeypatch.setenv("TRACKER_DB", "unused")
    return url


@pytest.fixture
def store(tracker_url: str) -> Iterator[TrackerStore]:
    created = create_tracker_store(read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store"), DOMAIN)
    assert isinstance(created, RedactingSQLTrackerStore)
    yield created
    created.engine.dispose()


def stored(url: str) -> List[Tuple[str, Dict[str, Any]]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            result = connection.execute(sa.text("SELECT type_name, data FROM events ORDER BY id"))
            return [(type_name, json.loads(data)) for type_name, data in result]
    finally:
        engine.dispose()


def conversation(sender: str, timestamp: float) -> DialogueStateTracker:
    events: List[Event] = [
        ActionExecuted("action_session_start", timestamp=timestamp),
        SessionStarted(timestamp=timestamp),
        ActionExecuted("action_listen", timestamp=timestamp),
        UserUttered(
            STORY,
            intent={"name": "scam_impersonate_official", "confidence": 0.9},
            entities=[
                {"entity": "phone_number", "value": "13812345678", "start": 7, "end": 18},
                {"entity": "bank_card", "value": CARD[:4] + " " + CARD[4:], "start": 40, "end": 56},
                {"entity": "amount", "value": "5万元", "start": 120, "end": 124},
            ],
            metadata={"display": STORY},
            timestamp=timestamp,
        ),
        SlotSet("scam_type", "impersonate_official", timestamp=timestamp),
        SlotSet("payment_channel", f"卡号{CARD}", timestamp=timestamp),
        BotUttered(
            "请不要给 13812345678 回电",
            data={"custom": {"analysis": {"scam_type": "impersonate_official",
                                          "red_flags": [{"phrase": "zhangsan@example.com"}]}}},
            timestamp=timestamp,
        ),
    ]
    return DialogueStateTracker.from_events(sender, events, slots=DOMAIN.slots)


def test_what_is_written_is_redacted_while_the_turn_keeps_the_original(
    store: RedactingSQLTrackerStore, tracker_url: str
) -> None:
    tracker = conversation("redact-me", time.time())
    asyncio.run(store.save(tracker))

    rows = stored(tracker_url)
    everything = json.dumps([data for _, data in rows], ensure_ascii=False)
    for value in PERSONAL:
        assert value not in everything
    user = next(data for type_name, data in rows if type_name == "user")
    assert user["text"] == user["parse_data"]["text"] == user["metadata"]["display"] == redact(STORY)
    assert "[PHONE]" in user["text"] and "[ID_NUMBER]" in user["text"] and "[URL_WITH_SECRET]" in user["text"]
    assert "5万元" in user["text"] and "安全账户" in user["text"]
    assert {e["entity"]: e["value"] for e in user["parse_data"]["entities"]} == {
        "phone_number": "[PHONE]", "bank_card": "[BANK_CARD]", "amount": "5万元",
    }
    assert user["parse_data"]["intent"]["name"] == "scam_impersonate_official"
    # the running conversation is untouched
    assert tracker.latest_message.text == STORY
    assert tracker.latest_message.entities[0]["value"] == "13812345678"

    again = asyncio.run(store.retrieve("redact-me"))
    assert again is not None
    assert again.latest_message.text == redact(STORY)
    assert again.get_slot("scam_type") == "impersonate_official"
    assert again.get_slot("payment_channel") == "卡号[BANK_CARD]"

    # later saves add only the new events, redacted too
    tracker.update(UserUttered("我的QQ 12345678，微信号zhang_san88", intent={"name": "inform", "confidence": 1.0}))
    asyncio.run(store.save(tracker))
    rows_after = stored(tracker_url)
    assert len(rows_after) == len(rows) + 1
    assert rows_after[-1][1]["text"] == "我的QQ [QQ_ID]，微信号[WECHAT_ID]"


def test_retention_deletes_old_conversations_and_cases(
    store: RedactingSQLTrackerStore, tracker_url: str, new_database: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    now = time.time()
    asyncio.run(store.save(conversation("old", now - 100 * 86400)))
    asyncio.run(store.save(conversation("recent", now - 10 * 86400)))
    case_url = new_database()
    upgrade(case_url)
    engine = make_engine(case_url)
    repository = CaseRepository(engine)
    for conversation_id in ("old", "recent"):
        repository.upsert(conversation_id, scam_type="impersonate_official")
    handoffs, feedback = HandoffRepository(engine), FeedbackRepository(engine)
    for conversation_id in ("old", "recent"):
        handoffs.request(conversation_id, {})
        feedback.add(NewFeedback(source="person", judged_type="romance", text=f"{conversation_id} story"))
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE cases SET updated_at = :when WHERE conversation_id = 'old'"),
                           {"when": utc_now() - timedelta(days=100)})
        # An old handoff still waiting stays: only closed ones go.
        connection.execute(sa.text("UPDATE handoffs SET requested_at = :when, status = 'closed' "
                                   "WHERE conversation_id = 'old'"), {"when": utc_now() - timedelta(days=100)})
        connection.execute(sa.text("UPDATE verdict_feedback SET created_at = :when WHERE text = 'old story'"),
                           {"when": utc_now() - timedelta(days=100)})
    monkeypatch.setenv("CASE_DB_URL", case_url)

    retention.main(["--days", "90"])

    assert ("deleted 1 conversations (7 events), 1 cases, 1 closed handoffs and 1 feedback notes older than 90 days"
            in capsys.readouterr().out)
    with engine.connect() as connection:
        assert [c for (c,) in connection.execute(sa.text("SELECT conversation_id FROM handoffs"))] == ["recent"]
        assert [t for (t,) in connection.execute(sa.text("SELECT text FROM verdict_feedback"))] == ["recent story"]
    tracker_engine = make_engine(tracker_url)
    with tracker_engine.connect() as connection:
        senders = {s for (s,) in connection.execute(sa.text("SELECT DISTINCT sender_id FROM events"))}
    tracker_engine.dispose()
    assert senders == {"recent"}
    with engine.connect() as connection:
        assert [c for (c,) in connection.execute(sa.text("SELECT conversation_id FROM cases"))] == ["recent"]
    engine.dispose()


def test_personal_entity_spans_go_from_the_stored_text(
    store: RedactingSQLTrackerStore, tracker_url: str
) -> None:
    """The NLU found "13812345678" inside "vx13812345678"; the store used to replace only the
    entity's value and keep the text. A 400 service number found as a phone number stays."""
    import re

    import yaml

    phone = yaml.safe_load((ROOT / "data" / "nlu" / "entities.yml").read_text(encoding="utf-8"))
    patterns = next(i for i in phone["nlu"] if i.get("regex") == "phone_number")["examples"]
    text = "加我vx13812345678，或者打客服400-820-8820"
    entities = [
        {"entity": "phone_number", "start": m.start(), "end": m.end(), "value": m.group(0)}
        for line in patterns.splitlines() if line.strip().startswith("- ")
        for m in re.finditer(line.strip()[2:], text)
    ]
    assert {e["value"] for e in entities} == {"13812345678", "400-820-8820"}
    tracker = DialogueStateTracker.from_events("entity-spans", [
        ActionExecuted("action_listen"),
        UserUttered(text, intent={"name": "inform", "confidence": 1.0}, entities=entities,
                    metadata={"display": text}, message_id="13812345678e4b0c9d2f6a7b8c9d0e1f2"),
    ], slots=DOMAIN.slots)
    asyncio.run(store.save(tracker))
    user = next(data for type_name, data in stored(tracker_url) if type_name == "user")
    assert user["text"] == user["metadata"]["display"] == "加我vx[PHONE]，或者打客服400-820-8820"
    assert user["message_id"] == "13812345678e4b0c9d2f6a7b8c9d0e1f2"  # Rasa's own id, not a phone
    assert "13812345678" not in json.dumps(user).replace(user["message_id"], "")


def test_sqlite_files_are_created_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """var/tracker.db and var/cases.db hold conversations and cases: 0600 whatever the umask."""
    monkeypatch.chdir(tmp_path)
    old = os.umask(0o022)
    try:
        monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:9/webhook")
        monkeypatch.setenv("ACTION_SERVER_TOKEN", "unused-in-this-test")
        monkeypatch.setenv("TRACKER_DB_DIALECT", "sqlite")
        monkeypatch.setenv("TRACKER_DB_HOST", "")
        monkeypatch.setenv("TRACKER_DB", "var/tracker.db")
        created = create_tracker_store(read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store"), DOMAIN)
        created.engine.dispose()
        upgrade(f"sqlite:///{tmp_path / 'var' / 'cases.db'}")
        existing = tmp_path / "var" / "old.db"
        existing.write_bytes(b"")
        existing.chmod(0o644)
        make_engine(f"sqlite:///{existing}").dispose()
        # the retention job, run before the server ever did
        monkeypatch.setenv("TRACKER_DB", "var/retention-tracker.db")
        monkeypatch.setenv("CASE_DB_URL", f"sqlite:///{tmp_path / 'var' / 'retention-cases.db'}")
        with contextlib.suppress(sa.exc.OperationalError):  # no events table yet
            retention.main(["--days", "90"])
    finally:
        os.umask(old)
    for name in ("tracker.db", "cases.db", "old.db", "retention-tracker.db"):
        assert stat.S_IMODE((tmp_path / "var" / name).stat().st_mode) == 0o600, name

"""Case records on SQLite and PostgreSQL: the migrations, the repository, the amount bands."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Callable, Dict, Iterator, List

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.amounts import amount_band, parse_amount
from bot.storage.cases import CaseRepository, make_engine
from bot.storage.migrate import alembic_config, upgrade
from bot.storage.models import Base, utc_now


def schema(url: str) -> Dict[str, Any]:
    """What the migrations made of the cases table, comparable across two databases."""
    engine = make_engine(url)
    try:
        inspector = sa.inspect(engine)
        return {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns("cases")],
            "primary_key": inspector.get_pk_constraint("cases")["constrained_columns"],
            "unique": sorted((u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints("cases")),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes("cases")
            ),
        }
    finally:
        engine.dispose()


def rows(url: str, sql: str, **params: Any) -> List[tuple]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def execute(url: str, sql: str, **params: Any) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(sql), params)
    finally:
        engine.dispose()


def test_upgrading_from_empty_and_from_the_first_revision_end_at_the_same_schema(
    new_database: Callable[[], str],
) -> None:
    fresh, old = new_database(), new_database()
    upgrade(fresh)

    upgrade(old, "0001")
    assert "credentials_shared" not in [c[0] for c in schema(old)["columns"]]
    engine = make_engine(old)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO cases (conversation_id, created_at, updated_at, scam_type, risk_level) "
            "VALUES ('kept', '2025-01-02 03:04:05', '2025-01-02 03:04:05', 'romance', 'high')"
        ))
    engine.dispose()
    upgrade(old)

    assert schema(old) == schema(fresh)
    assert "credentials_shared" in [c[0] for c in schema(fresh)["columns"]]
    assert rows(old, "SELECT conversation_id, scam_type, credentials_shared FROM cases") == [
        ("kept", "romance", None)
    ]
    # the models describe exactly what the migrations build
    engine = make_engine(fresh)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    engine.dispose()


def test_the_cases_migration_downgrades_and_upgrades_again(new_database: Callable[[], str]) -> None:
    url = new_database()
    upgrade(url)
    command.downgrade(alembic_config(url), "0001")
    assert "credentials_shared" not in [c[0] for c in schema(url)["columns"]]
    upgrade(url)
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert rows(url, "SELECT version_num FROM alembic_version") == [(head,)]


@pytest.fixture
def repository(migrated_url: str) -> Iterator[CaseRepository]:
    engine = make_engine(migrated_url)
    yield CaseRepository(engine)
    engine.dispose()


def backdate(url: str, conversation_id: str, days: int) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE cases SET created_at = :when, updated_at = :when WHERE conversation_id = :id"),
            {"when": utc_now() - timedelta(days=days), "id": conversation_id},
        )
    engine.dispose()


def test_upsert_creates_then_updates_one_case_per_conversation(repository: CaseRepository, migrated_url: str) -> None:
    repository.upsert("c1", scam_type="romance", language="zh", channel="webchat")
    repository.upsert("c1", risk_level="critical", money_sent=True, amount_band="10k-100k",
                      credentials_shared=False, minutes_since_transfer=30.0)
    found = rows(migrated_url,
                 "SELECT conversation_id, scam_type, language, channel, risk_level, money_sent, amount_band, "
                 "credentials_shared, minutes_since_transfer FROM cases")
    assert found == [("c1", "romance", "zh", "webchat", "critical", True, "10k-100k", False, 30.0)]
    with pytest.raises(ValueError, match="text"):
        repository.upsert("c1", text="我的电话13812345678")


def test_stats_count_by_type_risk_and_day_within_the_period(repository: CaseRepository, migrated_url: str) -> None:
    repository.upsert("a", scam_type="romance", risk_level="critical")
    repository.upsert("b", scam_type="romance", risk_level="medium")
    repository.upsert("c", scam_type="investment")
    repository.upsert("old", scam_type="fake_loan", risk_level="low")
    backdate(migrated_url, "old", 40)
    today = utc_now().date()

    stats = repository.stats(today - timedelta(days=29), today)
    assert stats.total == 3
    assert stats.by_scam_type == {"investment": 1, "romance": 2}
    assert stats.by_risk_level == {"critical": 1, "medium": 1, "unknown": 1}
    assert stats.by_day == {today.isoformat(): 3}
    assert stats.as_dict()["from"] == (today - timedelta(days=29)).isoformat()
    assert ("scam_type", "romance", 2) in stats.rows() and ("day", today.isoformat(), 3) in stats.rows()

    everything = repository.stats(today - timedelta(days=60), today)
    assert everything.total == 4 and everything.by_scam_type["fake_loan"] == 1
    assert repository.stats(date(2000, 1, 1), date(2000, 12, 31)).total == 0


def test_delete_older_than_keeps_recent_cases(repository: CaseRepository, migrated_url: str) -> None:
    repository.upsert("recent", scam_type="romance")
    repository.upsert("stale", scam_type="romance")
    backdate(migrated_url, "stale", 100)
    assert repository.delete_older_than(90) == 1
    today = utc_now().date()
    assert repository.stats(today - timedelta(days=365), today).total == 1


@pytest.mark.parametrize("text, amount, band", [
    ("两万", 20_000, "10k-100k"),
    ("两万块", 20_000, "10k-100k"),
    ("3万5", 35_000, "10k-100k"),
    ("一万二", 12_000, "10k-100k"),
    ("5000元", 5_000, "1k-10k"),
    ("¥12,800", 12_800, "10k-100k"),
    ("￥800", 800, "<1k"),
    ("$2,000", 2_000, "1k-10k"),
    ("about 5k", 5_000, "1k-10k"),
    ("1.2 million yuan", 1_200_000, ">=100k"),
    ("十几万", 130_000, ">=100k"),
    ("一百二十万", 1_200_000, ">=100k"),
    ("转了3次，一共5万", 50_000, "10k-100k"),
    ("三千五百块", 3_500, "1k-10k"),
    ("不记得了", None, "unknown"),
    ("千万别转", None, "unknown"),
    (None, None, "unknown"),
])
def test_amounts_become_bands(text: Any, amount: Any, band: str) -> None:
    assert parse_amount(text) == amount
    assert amount_band(text) == band

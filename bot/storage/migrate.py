"""Bring the case database to the latest schema: `python -m bot.storage.migrate` (before the servers start)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional

from alembic import command
from alembic.config import Config

from bot.storage.cases import database_url

MIGRATIONS = Path(__file__).resolve().parent.parent.parent / "migrations"


def alembic_config(url: Optional[str] = None) -> Config:
    """Alembic's configuration for the database at `url` (default CASE_DB_URL)."""
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.attributes["url"] = url or database_url()
    return config


def upgrade(url: Optional[str] = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--revision", default="head", help="target revision (default: head)")
    upgrade(revision=parser.parse_args().revision)


if __name__ == "__main__":
    main()

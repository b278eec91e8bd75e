"""Runs the migrations on the case database, online only (no SQL scripts are generated)."""

from __future__ import annotations

from alembic import context

from bot.storage.cases import database_url, make_engine
from bot.storage.models import Base

config = context.config
# bot.storage.migrate passes the URL as an attribute: a '%' in a password would break the ini syntax.
url = config.attributes.get("url") or database_url()

engine = make_engine(url)
try:
    with engine.connect() as connection:
        # Batch mode: SQLite can only drop or alter columns by copying the table.
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
finally:
    engine.dispose()

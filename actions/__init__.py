"""Custom actions of the anti-fraud assistant, one module per feature."""

from bot.storage.cases import database_url

# Fail at start, not at the first case: in production the cases must go to the shared PostgreSQL.
database_url()

"""Case records: the SQLAlchemy models, their repository and the Alembic migrations that create them."""

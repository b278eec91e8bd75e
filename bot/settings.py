"""Settings from the environment, and the rule that secrets are never defaults outside development."""

from __future__ import annotations

import os
import secrets
from typing import Optional

import structlog

logger = structlog.get_logger()

DEVELOPMENT = "development"
PRODUCTION = "production"


class ConfigurationError(RuntimeError):
    """The assistant must not start with this configuration."""


def environment() -> str:
    return os.environ.get("ANTIFRAUD_ENV", DEVELOPMENT).strip().lower()


def is_development() -> bool:
    return environment() == DEVELOPMENT


def is_production() -> bool:
    return environment() == PRODUCTION


def require_postgresql(variable: str, url: str) -> None:
    """In production every replica must share one database: a local SQLite file would split the data."""
    if is_production() and not url.startswith(("postgresql://", "postgresql+")):
        raise ConfigurationError(
            f"{variable} must be a postgresql:// URL when ANTIFRAUD_ENV={PRODUCTION}."
        )


def required_secret(variable: str, purpose: str) -> str:
    """A secret from `variable`; in development a random one is made up (and logged as such)."""
    value = (os.environ.get(variable) or "").strip()
    if value:
        return value
    if not is_development():
        raise ConfigurationError(
            f"{variable} is not set: {purpose} cannot start without it "
            f"when ANTIFRAUD_ENV={environment()}."
        )
    logger.warning("settings.secret.generated", variable=variable, purpose=purpose)
    return secrets.token_urlsafe(24)


def optional_secret(variable: str) -> Optional[str]:
    return (os.environ.get(variable) or "").strip() or None

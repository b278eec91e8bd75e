"""Reported identifiers: phone numbers, domains and account ids, known only by a keyed hash.

A value is first normalised (a phone number to E.164, a link to its host in punycode without
"www.", a bank card to its digits, an id to lower case), then hashed with HMAC-SHA256 under
REPORT_HASH_KEY, so the store never holds a number or an address in clear and a leaked table
cannot be reversed by hashing every mobile number. The Rasa server and the action server must
share the key: in local development it is made once in var/report_hash.key (owner-only).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

import phonenumbers
import structlog
from sqlalchemy.exc import SQLAlchemyError

from bot.identifiers import IdentifierKnowledge, find_links, find_number_runs, host_and_parents, identifier_knowledge
from bot.knowledge import localized
from bot.privacy import CN_DIGITS, personal_spans
from bot.settings import ConfigurationError, environment, is_development
from bot.storage.reports import ReportCount, ReportRepository, count_for

logger = structlog.get_logger()

PHONE, DOMAIN, BANK_CARD, WECHAT, QQ, ALIPAY = "phone", "domain", "bank_card", "wechat", "qq", "alipay"
KINDS = (PHONE, DOMAIN, BANK_CARD, WECHAT, QQ, ALIPAY)
MAX_VALUE_CHARS = 256
KEY_VARIABLE = "REPORT_HASH_KEY"
DEV_KEY_FILE = Path(__file__).resolve().parent.parent / "var" / "report_hash.key"
# What the privacy reader calls these ids (bot/privacy.py placeholders); an e-mail is read as an Alipay account.
_PLACEHOLDER_KINDS = {"[PHONE]": PHONE, "[BANK_CARD]": BANK_CARD, "[WECHAT_ID]": WECHAT, "[QQ_ID]": QQ,
                      "[ALIPAY_ID]": ALIPAY, "[EMAIL]": ALIPAY}
_HOST = re.compile(r"[a-z0-9\-_.]{1,253}")
_ACCOUNT_ID = re.compile(r"[a-z0-9_\-.@+]{2,64}")


class InvalidIdentifier(ValueError):
    """The value cannot be this kind of identifier."""


@dataclass(frozen=True)
class Found:
    """An identifier in a text: its kind, its words in the text, and its normalised form."""

    kind: str
    value: str
    start: int
    end: int
    normalized: str


def _plain(value: str) -> str:
    return unicodedata.normalize("NFKC", value).translate(CN_DIGITS).strip()


def normalize_phone(value: str) -> str:
    """E.164 for a valid number; else "+<digits>" dialled from abroad, a Chinese service line without
    its +86 (95588, as on the card), or the digits as written."""
    written = value.lstrip()
    digits = re.sub(r"\D", "", written)
    if len(digits) < 5 or len(digits) > 17:
        raise InvalidIdentifier("a phone number has 5 to 17 digits")
    international = written.startswith("+") or written.startswith("00")
    if written.startswith("00"):
        digits = digits[2:]
    try:
        number = phonenumbers.parse("+" + digits if international else digits, None if international else "CN")
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    if international and digits.startswith("86") and len(digits) <= 8:
        return digits[2:]  # +86 95588: the bank's own short line, dialled from abroad
    return "+" + digits if international else digits


def normalize_domain(value: str) -> str:
    text = value.strip()
    try:
        host = (urlsplit(text if re.match(r"[a-z][a-z0-9+.\-]*://", text, re.I) else "http://" + text).hostname
                or "")
    except ValueError:
        raise InvalidIdentifier("not a web address")
    host = host.rstrip(".").lower()
    try:
        host = host.encode("idna").decode("ascii") if host else host
    except UnicodeError:
        raise InvalidIdentifier("not a web address")
    if host.startswith("www."):
        host = host[4:]
    if "." not in host or not _HOST.fullmatch(host):
        raise InvalidIdentifier("a domain looks like example.com")
    return host


def normalize(kind: str, value: str) -> Tuple[str, str]:
    """The kind and the one form of `value` that are hashed, or InvalidIdentifier.

    An Alipay account that is a phone number is that phone number: a text names it as one.
    """
    if kind not in KINDS:
        raise InvalidIdentifier(f"kind must be one of {', '.join(KINDS)}")
    plain = _plain(value)
    if not plain or len(plain) > MAX_VALUE_CHARS:
        raise InvalidIdentifier(f"a value has 1 to {MAX_VALUE_CHARS} characters")
    if kind == PHONE:
        return PHONE, normalize_phone(plain)
    if kind == DOMAIN:
        return DOMAIN, normalize_domain(plain)
    if kind == BANK_CARD:
        digits = re.sub(r"[\s\-]", "", plain)
        if not re.fullmatch(r"\d{12,19}", digits):
            raise InvalidIdentifier("a bank card number has 12 to 19 digits")
        return BANK_CARD, digits
    account = re.sub(r"\s", "", plain).lower()
    if kind == QQ and not re.fullmatch(r"\d{5,12}", account):
        raise InvalidIdentifier("a QQ number has 5 to 12 digits")
    if kind == ALIPAY and re.fullmatch(r"[\d+\-]{5,20}", account):
        return PHONE, normalize_phone(account)
    if not _ACCOUNT_ID.fullmatch(account):
        raise InvalidIdentifier("an account id is 2 to 64 letters, digits or _-.@+")
    return kind, account


def is_official(kind: str, normalized: str, kb: Optional[IdentifierKnowledge] = None) -> bool:
    """A bank's own line or site (knowledge/identifiers.yml): never reportable, never matched."""
    kb = kb or identifier_knowledge()
    if kind == PHONE:
        national = normalized[3:] if normalized.startswith("+86") else normalized
        return national in kb.by_number
    if kind == DOMAIN:
        return any(host in kb.by_domain for host in host_and_parents(normalized))
    return False


def _key_from_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "wb") as out:
        out.write(secrets.token_hex(32).encode("ascii"))
    return path.read_bytes().strip()


@lru_cache(maxsize=1)
def hash_key() -> bytes:
    """REPORT_HASH_KEY; in development, a key kept in var/ so that hashes survive a restart."""
    value = (os.environ.get(KEY_VARIABLE) or "").strip()
    if value:
        if len(value) < 16:
            raise ConfigurationError(f"{KEY_VARIABLE} must be at least 16 characters.")
        return value.encode("utf-8")
    if not is_development():
        raise ConfigurationError(
            f"{KEY_VARIABLE} is not set: reported identifiers cannot be hashed when ANTIFRAUD_ENV={environment()}."
        )
    return _key_from_file(DEV_KEY_FILE)


def keyed_hash(*parts: str, key: Optional[bytes] = None) -> str:
    return hmac.new(key or hash_key(), "\x1f".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()


def fingerprint(kind: str, normalized: str, key: Optional[bytes] = None) -> str:
    return keyed_hash(kind, normalized, key=key)


def _add(found: Dict[Tuple[str, str], Found], kind: str, value: str, start: int, kb: IdentifierKnowledge) -> None:
    try:
        kind, normalized = normalize(kind, value)
    except InvalidIdentifier:
        return
    if not is_official(kind, normalized, kb) and (kind, normalized) not in found:
        found[(kind, normalized)] = Found(kind, value, start, start + len(value), normalized)


def identifiers_in(text: str, kb: Optional[IdentifierKnowledge] = None) -> List[Found]:
    """Every phone number, link host, bank card and account id in the text, once each, in text order."""
    kb = kb or identifier_knowledge()
    found: Dict[Tuple[str, str], Found] = {}
    for start, end, placeholder in personal_spans(text):
        kind = _PLACEHOLDER_KINDS.get(placeholder)
        if kind is not None:
            _add(found, kind, text[start:end], start, kb)
    for value, start in find_links(text):
        _add(found, DOMAIN, value, start, kb)
    for value, start in find_number_runs(text):
        # Service lines and 400 numbers the privacy reader leaves in the text (they are evidence).
        if not any(f.start <= start < f.end for f in found.values()):
            _add(found, PHONE, value, start, kb)
    return sorted(found.values(), key=lambda f: f.start)


def lookup_hashes(item: Found, key: Optional[bytes] = None) -> List[str]:
    """The hashes under which `item` may have been reported: a host also under each parent domain."""
    names: Iterable[str] = host_and_parents(item.normalized) if item.kind == DOMAIN else (item.normalized,)
    return [fingerprint(item.kind, name, key) for name in names]


@dataclass(frozen=True)
class Match:
    """A reported identifier named in a text, and its reports."""

    found: Found
    count: ReportCount

    def as_dict(self, lang: str, kb: Optional[IdentifierKnowledge] = None) -> Dict[str, Any]:
        texts = (kb or identifier_knowledge()).reported
        kind = str(localized(texts["kinds"][self.found.kind], lang))
        why = str(localized(texts["why"], lang)).format(
            kind=kind, reports=self.count.reports, last=self.count.last.date().isoformat()
        )
        return {"kind": self.found.kind, "value": self.found.value, "start": self.found.start, "end": self.found.end,
                **self.count.as_dict(), "why": why}


def reported_in(found: Sequence[Found], repository: ReportRepository,
                key: Optional[bytes] = None) -> List[Match]:
    """The identifiers among `found` that were reported (one query for them all)."""
    keys = {item: [(item.kind, h) for h in lookup_hashes(item, key)] for item in found}
    counts = repository.counts(k for ks in keys.values() for k in ks)
    matches = []
    for item, item_keys in keys.items():
        count = count_for(counts, item_keys)
        if count is not None:
            matches.append(Match(item, count))
    return matches


def check_reported(found: Sequence[Found], repository: ReportRepository, channel: Optional[str]) -> List[Match]:
    """The reported ones among the identifiers found in a text; each match is counted for the statistics.

    The reply matters more than the store: a storage failure is logged and reads as no match.
    """
    if not found:
        return []
    try:
        matches = reported_in(found, repository)
        if matches:
            repository.record_matches([m.found.kind for m in matches], channel)
        return matches
    except SQLAlchemyError:
        logger.exception("reported.lookup_failed")
        return []


def chat_note(matches: Sequence[Match], lang: str, kb: Optional[IdentifierKnowledge] = None) -> str:
    """One line for the chat: which kinds of identifier were reported, how often, when last; never the value."""
    texts = (kb or identifier_knowledge()).reported
    kinds = list(dict.fromkeys(str(localized(texts["kinds"][m.found.kind], lang)) for m in matches))
    return str(localized(texts["chat_note"], lang)).format(
        kinds=("、" if lang == "zh" else " and ").join(kinds),
        reports=max(m.count.reports for m in matches),
        last=max(m.count.last for m in matches).date().isoformat(),
    )

"""Links and phone numbers in a text, judged offline against knowledge/identifiers.yml.

A link's host is split by a bundled public-suffix snapshot (tldextract, never fetched at run time); a
number is read by phonenumbers' offline metadata, short service lines (95588, 110) by a pattern. Each gets
a status, "official", "warning", "caution" or "unknown", and the findings that explain it, in the
person's language.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

import phonenumbers
import tldextract
import yaml

from bot.knowledge import DEFAULT_DIR, localized

OFFICIAL, WARNING, CAUTION, UNKNOWN = "official", "warning", "caution", "unknown"
# A public suffix that starts with one of these is a government's own (gov.za, gouv.fr, go.jp, mil.cn).
GOVERNMENT_LABELS = ("gov", "gouv", "govt", "go", "mil")
# A link: with a scheme, or www., or a host with a known-looking suffix followed by a path.
_NOT_IN_LINK = "\\s<>\"'\\[\\]，。；！？、（）【】《》“”‘’\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_LINK = re.compile(
    rf"(?:https?://|www\.)[^{_NOT_IN_LINK}]+"
    r"|(?<![@A-Za-z0-9_.-])(?:[a-z0-9-]+\.)+(?:com|cn|net|org|top|xyz|cc|vip|icu|info|shop|live|club|co|uk|us|me|io|app|"
    rf"help|site|online|link|xin|ltd|gov)(?:\.[a-z]{{2}})?(?:/[^{_NOT_IN_LINK}]*)?",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}'\""
# Short service lines: 95xxx(x), 96110, 1xxxx public lines, 110/119/120/122; not inside a longer number.
_SHORT_LINE = re.compile(r"(?<![\d+])(95\d{3,4}|96110|1\d{4}|11[09]|12[02])(?![\d])")
# A longer digit run that contains a known short line after a prefix or before extra digits.
# Digits, or an area code in brackets, with at most one space or dash between; not after a colon (9:00-18:00).
_DIGIT_RUN = re.compile(r"(?<![A-Za-z0-9_:])\+?(?:\(\d{1,4}\)|\d)(?:[\- ]?(?:\(\d{1,4}\)|\d)){4,20}(?!\d)")
# A plus in front of a short public line (+110, +96110): no such number exists.
_PLUS_SHORT_LINE = re.compile(r"\+(11[09]|12[02]|96110|95\d{3,4})(?![\d])")
# A claim of a bank, police or court (not a shop or courier): these never call from a 400 line or a mobile.
_BANK_OR_POLICE = re.compile(
    r"银行|公安|警察|警官|民警|派出所|刑警|法院|检察|法官|bank|police|officer|court|prosecutor", re.IGNORECASE
)
# The service lines scam callers dress their numbers up as (bank and payment 95xxx, the anti-fraud 96110).
_POSED_LINES = ("95", "96")
_CONFUSABLE = str.maketrans({"0": "o", "1": "l", "3": "e", "5": "s", "|": "l"})


@dataclass(frozen=True)
class IdentifierKnowledge:
    by_domain: Mapping[str, Mapping[str, Any]]
    by_number: Mapping[str, Mapping[str, Any]]
    by_word: Mapping[str, Mapping[str, Any]]
    government_suffixes: Tuple[str, ...]
    government_strong: frozenset
    government_weak: frozenset
    shorteners: frozenset
    meeting_hosts: frozenset
    installer_extensions: frozenset
    payment_words: Tuple[str, ...]
    virtual_prefixes: Tuple[str, ...]
    claims: Mapping[str, Tuple[str, ...]]
    english_home_regions: frozenset
    findings: Mapping[str, Mapping[str, str]]
    reported: Mapping[str, Any]


@lru_cache(maxsize=4)
def identifier_knowledge(folder: Path = DEFAULT_DIR) -> IdentifierKnowledge:
    data = yaml.safe_load((folder / "identifiers.yml").read_text(encoding="utf-8"))
    owners = tuple(data["official"])
    by_domain = {d.lower(): o for o in owners for d in o.get("domains") or []}
    by_number = {str(n): o for o in owners for n in o.get("numbers") or []}
    by_word = {str(w).lower(): o for o in owners for w in o.get("words") or []}
    # An official domain's own name borrowed by another host (yangkeduo.com.refund-pay.cc) is a look-alike too.
    for owner in owners:
        for domain in owner.get("domains") or []:
            name = _splitter()(domain).domain.lower()
            if len(name) >= 4 and not name.isdigit():
                by_word.setdefault(name, owner)
    for name in ("official_site", "brand_lookalike", "poses_as_service_line", "foreign_as_local"):
        if name not in data["findings"]:
            raise ValueError(f"knowledge/identifiers.yml: finding '{name}' has no text")
    return IdentifierKnowledge(
        by_domain=by_domain, by_number=by_number, by_word=by_word,
        government_suffixes=tuple(s.lower() for s in data["government_suffixes"]),
        government_strong=frozenset(str(w).lower() for w in data["government_words"]["strong"]),
        government_weak=frozenset(str(w).lower() for w in data["government_words"]["weak"]),
        shorteners=frozenset(s.lower() for s in data["shorteners"]),
        meeting_hosts=frozenset(s.lower() for s in data["meeting_hosts"]),
        installer_extensions=frozenset(e.lower() for e in data["installer_extensions"]),
        payment_words=tuple(w.lower() for w in data["payment_words"]),
        virtual_prefixes=tuple(str(p) for p in data["virtual_carrier_prefixes"]),
        claims={lang: tuple(w.lower() for w in words) for lang, words in data["institution_claims"].items()},
        english_home_regions=frozenset(data["english_home_regions"]),
        findings=data["findings"],
        reported=data["reported"],
    )


@lru_cache(maxsize=1)
def _splitter() -> tldextract.TLDExtract:
    # The public-suffix snapshot bundled in the wheel; no fetch, no cache directory.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@dataclass
class Checked:
    kind: str  # "link" or "number"
    value: str
    start: int
    end: int
    status: str = UNKNOWN
    owner: Optional[str] = None
    findings: List[Dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "start": self.start, "end": self.end,
                "status": self.status, "owner": self.owner, "findings": self.findings}


_RANK = {UNKNOWN: 0, OFFICIAL: 1, CAUTION: 2, WARNING: 3}


def _add(item: Checked, kb: IdentifierKnowledge, finding: str, status: str, lang: str, **values: str) -> None:
    why = str(localized(kb.findings[finding], lang)).format(**values)
    item.findings.append({"id": finding, "level": status, "why": why})
    if _RANK[status] > _RANK[item.status]:
        item.status = status


def _host_tokens(host: str) -> List[str]:
    return [t for t in re.split(r"[.\-_]+", host.lower()) if t]


def _lookalike_owner(label: str, kb: IdentifierKnowledge) -> Optional[Mapping[str, Any]]:
    """The owner whose official domain name this label imitates by a character or two (paypa1, arnazon)."""
    folded = label.translate(_CONFUSABLE).replace("rn", "m").replace("vv", "w")
    for domain, owner in kb.by_domain.items():
        name = domain.split(".")[0]
        if len(name) < 5 or name == label:
            continue
        if folded == name or (len(label) >= 6 and _one_edit_apart(label, name)):
            return owner
    return None


def _one_edit_apart(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        return len(diffs) == 1 or (len(diffs) == 2 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
                                   and diffs[1] == diffs[0] + 1)
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def check_link(value: str, start: int, lang: str, kb: IdentifierKnowledge) -> Checked:
    item = Checked("link", value, start, start + len(value))
    scheme_given = re.match(r"https?://", value, re.IGNORECASE) is not None
    url = value if scheme_given else "http://" + value
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:  # a broken address ("http://[abc"): nothing to judge
        return item
    path = (parts.path or "").lower()
    try:
        ipaddress.ip_address(host)
        _add(item, kb, "ip_host", WARNING, lang)
        return item
    except ValueError:
        pass
    split = _splitter()(host)
    registered = f"{split.domain}.{split.suffix}" if split.suffix else host
    suffix = split.suffix.lower()
    owner = kb.by_domain.get(host) or kb.by_domain.get(registered)
    if suffix in kb.government_suffixes or suffix.split(".")[0] in GOVERNMENT_LABELS:
        _add(item, kb, "government_site", OFFICIAL, lang)
    elif owner is not None:
        item.owner = str(localized(owner["name"], lang))
        _add(item, kb, "official_site", OFFICIAL, lang, name=item.owner)
    if any(label.startswith("xn--") for label in host.split(".")):
        _add(item, kb, "punycode", WARNING, lang)
    if item.status != OFFICIAL:
        tokens = _host_tokens(host[: len(host) - len(suffix)] if suffix else host)
        borrowed = next((kb.by_word[t] for t in (*tokens, *(t.translate(_CONFUSABLE) for t in tokens))
                         if t in kb.by_word), None)
        if borrowed is not None:
            _add(item, kb, "brand_lookalike", WARNING, lang, name=str(localized(borrowed["name"], lang)))
        else:
            imitated = _lookalike_owner(split.domain.lower(), kb)
            if imitated is not None:
                _add(item, kb, "typo_lookalike", WARNING, lang, name=str(localized(imitated["name"], lang)))
        strong = sum(t in kb.government_strong for t in tokens)
        weak = sum(t in kb.government_weak for t in tokens)
        if strong or weak >= 2:
            _add(item, kb, "government_lookalike", WARNING, lang)
    if registered in kb.shorteners or host in kb.shorteners:
        _add(item, kb, "shortener", CAUTION, lang)
    if registered in kb.meeting_hosts or host in kb.meeting_hosts:
        _add(item, kb, "meeting_invite", CAUTION, lang)
    extension = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
    in_store = kb.by_domain.get(host, {}).get("id") == "app_stores"
    if extension in kb.installer_extensions and not in_store:
        _add(item, kb, "installer_download", WARNING, lang)
    if (scheme_given and parts.scheme.lower() == "http" and item.status != OFFICIAL
            and any(w in path or w in host for w in kb.payment_words)):
        _add(item, kb, "plain_http_payment", WARNING, lang)
    return item


def _claims_institution(text: str, kb: IdentifierKnowledge) -> bool:
    lowered = text.lower()
    return any(word in lowered for words in kb.claims.values() for word in words)


def _region_name(number: phonenumbers.PhoneNumber, lang: str) -> str:
    from phonenumbers import geocoder

    region = phonenumbers.region_code_for_number(number) or f"+{number.country_code}"
    name = geocoder.country_name_for_number(number, "zh" if lang == "zh" else "en")
    return f"{name} +{number.country_code}" if name else region


def check_numbers(text: str, lang: str, kb: IdentifierKnowledge) -> List[Checked]:
    claims = _claims_institution(text, kb)
    bank_or_police = bool(_BANK_OR_POLICE.search(text))
    found: List[Checked] = []
    taken: List[Tuple[int, int]] = []
    # Longer runs first: a bank's short line with a prefix or extra digits.
    for match in _DIGIT_RUN.finditer(text):
        raw = match.group(0).strip()
        digits = re.sub(r"\D", "", raw)
        item = Checked("number", raw, match.start(), match.start() + len(raw))
        line, dialled_from_abroad = _service_line_inside(raw, digits, kb)
        if line is not None and not dialled_from_abroad:
            owner = kb.by_number[line]
            _add(item, kb, "poses_as_service_line", WARNING, lang, name=str(localized(owner["name"], lang)),
                 number=line)
        elif line is not None or digits in kb.by_number:
            continue  # the line itself (+86 95588, or 95588 written with spaces) is read below
        else:
            _judge_full_number(item, raw, digits, claims, bank_or_police, lang, kb)
        if item.findings:
            found.append(item)
            taken.append((item.start, item.end))
    for match in _PLUS_SHORT_LINE.finditer(text):
        posed = kb.by_number.get(match.group(1))
        if posed is not None and not any(s <= match.start() < e for s, e in taken):
            item = Checked("number", match.group(0), match.start(), match.end())
            _add(item, kb, "poses_as_service_line", WARNING, lang, name=str(localized(posed["name"], lang)),
                 number=match.group(1))
            found.append(item)
            taken.append((item.start, item.end))
    for match in _SHORT_LINE.finditer(text):
        line_owner = kb.by_number.get(match.group(1))
        if line_owner is None or any(s <= match.start() < e for s, e in taken):
            continue
        name = str(localized(line_owner["name"], lang))
        item = Checked("number", match.group(1), match.start(), match.end(), owner=name)
        _add(item, kb, "official_number", OFFICIAL, lang, name=name)
        found.append(item)
    return sorted(found, key=lambda c: c.start)


def _service_line_inside(raw: str, digits: str, kb: IdentifierKnowledge) -> Tuple[Optional[str], bool]:
    """A known service line (5 digits or more) this number starts with, after any international prefix,
    and whether it is just that line dialled from abroad (+86 95588): only then is it the real one."""
    international = raw.startswith(("+", "00"))
    rest = digits.lstrip("0") if international else digits
    for candidate, from_china in ((rest[2:], True), (rest, False)) if rest.startswith("86") else ((rest, False),):
        line = next((n for n in kb.by_number if n.startswith(_POSED_LINES) and candidate.startswith(n)), None)
        if line is not None and (international or len(candidate) > len(line)):
            return line, from_china and candidate == line
    return None, False


def _judge_full_number(item: Checked, raw: str, digits: str, claims: bool, bank_or_police: bool, lang: str,
                       kb: IdentifierKnowledge) -> None:
    international = raw.startswith("+") or (raw.startswith("00") and len(digits) >= 9)
    chinese_business_line = digits.startswith(("400", "800")) and len(digits) == 10
    phone_like = digits.startswith(("1", "0")) if lang == "zh" else chinese_business_line
    if not international and not (phone_like or chinese_business_line):
        return  # a date, an amount or a reference number; in an English message, a local number of unknown country
    if raw.startswith("+00"):
        _add(item, kb, "unusual_prefix", WARNING, lang)  # "+" and "00" both mean "international": never both
        return
    if raw.startswith("00") and international:
        try:
            parsed = phonenumbers.parse("+" + digits.lstrip("0"), None)
            valid = phonenumbers.is_valid_number(parsed)
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            _add(item, kb, "unusual_prefix", WARNING, lang)
            return
    try:
        parsed = phonenumbers.parse(raw if raw.startswith("+") else digits, None if raw.startswith("+") else "CN")
    except phonenumbers.NumberParseException:
        return
    if not phonenumbers.is_valid_number(parsed):
        # One digit off a Chinese mobile (13x-19x), given as the caller's number.
        near_mobile = lang == "zh" and re.match(r"1[3-9]", digits) is not None and len(digits) in (10, 12)
        if raw.startswith("+") or (near_mobile and claims):
            _add(item, kb, "invalid_number", WARNING if claims else CAUTION, lang)
        return
    if parsed.country_code != 86:
        region = phonenumbers.region_code_for_number(parsed)
        if claims and (lang == "zh" or region not in kb.english_home_regions):
            _add(item, kb, "foreign_as_local", WARNING, lang, region=_region_name(parsed, lang))
        elif lang == "zh":
            # An English message's reader may live anywhere: a number from abroad is only noted in Chinese ones.
            _add(item, kb, "foreign_number", CAUTION, lang, region=_region_name(parsed, lang))
        return
    national = str(parsed.national_number)
    number_type = phonenumbers.number_type(parsed)
    if national.startswith(kb.virtual_prefixes) and len(national) == 11:
        if claims:
            _add(item, kb, "virtual_carrier_as_institution", WARNING, lang)
        else:
            _add(item, kb, "virtual_carrier", CAUTION, lang)
    elif national.startswith("400") and bank_or_police:
        _add(item, kb, "business_line_as_bank", WARNING, lang)
    elif number_type == phonenumbers.PhoneNumberType.MOBILE and bank_or_police:
        _add(item, kb, "mobile_as_police", WARNING, lang)


def find_number_runs(text: str) -> Iterable[Tuple[str, int]]:
    """Runs of five digits or more that may be a phone number, with where they start."""
    for match in _DIGIT_RUN.finditer(text):
        yield match.group(0).strip(), match.start()


def host_and_parents(host: str) -> List[str]:
    """pay.evil.example.com, evil.example.com, example.com: down to the registered domain, never a bare suffix."""
    split = _splitter()(host)
    if not split.suffix or not split.domain:
        return [host]
    registered = f"{split.domain}.{split.suffix}"
    labels = host.split(".")
    names = [".".join(labels[i:]) for i in range(len(labels))]
    return names[: names.index(registered) + 1] if registered in names else [host]


def find_links(text: str) -> Iterable[Tuple[str, int]]:
    for match in _LINK.finditer(text):
        value = match.group(0).rstrip(_TRAILING)
        if "." in value:
            yield value, match.start()


def check_identifiers(text: str, lang: str, knowledge: Optional[IdentifierKnowledge] = None) -> List[Dict[str, Any]]:
    """Every link and phone number in the text that has a finding, with its status, in text order."""
    kb = knowledge or identifier_knowledge()
    links = [c for c in (check_link(value, start, lang, kb) for value, start in find_links(text)) if c.findings]
    spans = [(c.start, c.end) for c in links]
    numbers = [c for c in check_numbers(text, lang, kb) if not any(s <= c.start < e for s, e in spans)]
    return [c.as_dict() for c in sorted(links + numbers, key=lambda c: c.start)]

"""Reported identifiers: normalising and hashing, finding them in texts, the store on SQLite and PostgreSQL,
CSV import and export, and the hotline API of the live assistant."""

from __future__ import annotations

import hashlib
import random
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple

import pytest
import requests
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot import reported
from bot.identifiers import host_and_parents
from bot.local_servers import free_port, sqlite_url
from bot.reported import (
    InvalidIdentifier,
    Match,
    check_reported,
    fingerprint,
    identifiers_in,
    is_official,
    normalize,
    reported_in,
)
from bot.reported_csv import EXPORT_HEADER, MAX_ERRORS, MAX_ROWS, ImportRejected, export_csv, plan_import
from bot.settings import ConfigurationError
from bot.storage.cases import make_engine
from bot.storage.migrate import alembic_config, upgrade
from bot.storage.models import Base, utc_now
from bot.storage.reports import CASE, IMPORT, STAFF, NewReport, ReportRepository
from tests.conftest import LiveAssistant
from tests.test_storage import execute, rows

TEST_KEY = "test-report-hash-key-0123456789"
# Luhn-valid card numbers: the privacy reader only takes a digit run for a card when its check digit is right.
CARD_19 = "6222021234567890128"
CARD_16 = "6228480012345671"
HOTLINE = "/webhooks/hotline"
REPORTED_TABLES = {"identifier_reports", "identifier_matches"}


@pytest.fixture(autouse=True)
def report_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fixed key for this process, so no test reads or makes var/report_hash.key."""
    monkeypatch.setenv(reported.KEY_VARIABLE, TEST_KEY)
    reported.hash_key.cache_clear()
    yield TEST_KEY
    reported.hash_key.cache_clear()


@pytest.fixture
def store(migrated_url: str) -> Iterator[ReportRepository]:
    """An empty, migrated reported-identifier store (SQLite, then PostgreSQL)."""
    engine = make_engine(migrated_url)
    yield ReportRepository(engine)
    engine.dispose()


def table_names(url: str) -> Set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()




def staff(kind: str, value: str, when: Optional[datetime] = None) -> NewReport:
    """A staff report of `value` (normalised and hashed under the test key), without a reference."""
    kind, normalized = normalize(kind, value)
    return NewReport(kind, fingerprint(kind, normalized), STAFF, None, when)


def key_of(kind: str, value: str) -> Tuple[str, str]:
    """(kind, key_hash) under which the store counts `value`."""
    kind, normalized = normalize(kind, value)
    return kind, fingerprint(kind, normalized)


def random_digits(count: int) -> str:
    return "".join(random.choice("0123456789") for _ in range(count))


def new_mobile(prefix: str = "139") -> str:
    """A Chinese mobile number no other test uses: the live assistant's store is shared by the session."""
    return prefix + random_digits(11 - len(prefix))


def new_domain() -> str:
    return f"evil-{random_digits(10)}.cn"


# --- normalisation -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("writing", [
    "+86 139 1234 5678",
    "13912345678",
    "139-1234-5678",
    "139 1234 5678",
    "１３９１２３４５６７８",  # full-width digits, as a Chinese input method types them
    "0086 13912345678",
    "+86-139-1234-5678",
    "  13912345678  ",
])
def test_a_mobile_number_has_one_form_however_it_is_written(writing: str) -> None:
    assert normalize("phone", writing) == ("phone", "+8613912345678")


@pytest.mark.parametrize("writing", ["400-123-4567", "4001234567", "400 123 4567", "+86 400 123 4567"])
def test_a_400_line_has_one_form(writing: str) -> None:
    assert normalize("phone", writing) == ("phone", "+864001234567")


@pytest.mark.parametrize("writing", ["+44 20 7946 0958", "0044 20 7946 0958", "+44 (20) 7946-0958"])
def test_a_uk_number_written_internationally_becomes_e164(writing: str) -> None:
    assert normalize("phone", writing) == ("phone", "+442079460958")


def test_a_service_line_keeps_its_digits() -> None:
    assert normalize("phone", "95105") == ("phone", "95105")
    assert normalize("phone", "9 5 1 0 5") == ("phone", "95105")


@pytest.mark.parametrize("writing", [
    "evil-pay.cn",
    "https://evil-pay.cn",
    "http://www.evil-pay.cn/",
    "https://WWW.Evil-Pay.CN:8443/login?next=/pay#top",
    "evil-pay.cn.",
    "EVIL-PAY.CN/path/to/page",
    "ftp://evil-pay.cn",
    "  www.evil-pay.cn  ",
])
def test_a_domain_has_one_form_however_it_is_written(writing: str) -> None:
    assert normalize("domain", writing) == ("domain", "evil-pay.cn")


def test_an_idn_host_becomes_punycode() -> None:
    punycode = ("domain", "xn--bcher-pay-q9a.example")
    assert normalize("domain", "bücher-pay.example") == punycode
    assert normalize("domain", "https://www.Bücher-Pay.example/kasse") == punycode
    # The punycode form written directly is the same identifier.
    assert normalize("domain", "xn--bcher-pay-q9a.example") == punycode


def test_a_host_and_its_bare_domain_are_different_forms() -> None:
    assert normalize("domain", "https://secure.evil-pay.cn/login") == ("domain", "secure.evil-pay.cn")
    assert normalize("domain", "secure.evil-pay.cn")[1] != normalize("domain", "evil-pay.cn")[1]
    # Only "www." is dropped: it is the same site.
    assert normalize("domain", "www.secure.evil-pay.cn") == ("domain", "secure.evil-pay.cn")


@pytest.mark.parametrize("writing", ["6222 0212 3456 7890 128", "6222-0212-3456-7890-128", "6222021234567890128",
                                     "６２２２０２１２３４５６７８９０１２８"])
def test_a_bank_card_is_its_digits(writing: str) -> None:
    assert normalize("bank_card", writing) == ("bank_card", CARD_19)


def test_account_ids() -> None:
    assert normalize("qq", "123 456 789") == ("qq", "123456789")
    assert normalize("wechat", "Wx_Scam-001") == ("wechat", "wx_scam-001")
    assert normalize("wechat", "WX_SCAM-001") == normalize("wechat", "wx_scam-001")
    assert normalize("alipay", "Some.User@Example.COM") == ("alipay", "some.user@example.com")


@pytest.mark.parametrize("writing", ["13912345678", "+86 139 1234 5678", "139-1234-5678"])
def test_an_alipay_account_that_is_a_phone_number_is_that_phone_number(writing: str) -> None:
    """A text names the number as a number: reported as an Alipay account, it must still be matched."""
    assert normalize("alipay", writing) == ("phone", "+8613912345678")


@pytest.mark.parametrize("kind, value, message", [
    ("phone", "", "1 to 256"),
    ("phone", "   \t ", "1 to 256"),
    ("domain", "a" * 250 + ".example", "1 to 256"),
    ("wechat", "x" * 257, "1 to 256"),
    ("phone", "abc", "5 to 17 digits"),
    ("phone", "1234", "5 to 17 digits"),
    ("phone", "1" * 18, "5 to 17 digits"),
    ("domain", "not a domain", "example.com"),
    ("domain", "localhost", "example.com"),
    ("domain", "http://[abc", "web address"),
    ("bank_card", "6222 0212", "12 to 19 digits"),
    ("bank_card", "6222O21234567890128", "12 to 19 digits"),  # a letter O among the digits
    ("qq", "qq123456", "QQ number"),
    ("qq", "1234", "QQ number"),
    ("wechat", "a", "account id"),
    ("wechat", "中文微信号", "account id"),
    ("fax", "13912345678", "kind must be one of"),
    ("Phone", "13912345678", "kind must be one of"),
])
def test_invalid_values_are_refused(kind: str, value: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier, match=re.escape(message)):
        normalize(kind, value)


def test_official_lines_and_sites_are_recognised() -> None:
    assert is_official(*normalize("phone", "95588"))
    assert is_official(*normalize("domain", "https://www.icbc.com.cn/"))
    assert is_official(*normalize("domain", "mybank.icbc.com.cn"))  # under an official domain
    assert not is_official(*normalize("domain", "icbc-com-cn.example"))
    assert not is_official(*normalize("phone", "13912345678"))


# --- keyed hashes ------------------------------------------------------------------------------------------------


def test_a_fingerprint_depends_on_the_key_the_kind_and_the_value() -> None:
    one, other = b"first-key-0123456789", b"second-key-0123456789"
    phone = fingerprint("phone", "+8613912345678", one)
    assert phone == fingerprint("phone", "+8613912345678", one)
    assert phone != fingerprint("phone", "+8613912345678", other)
    assert phone != fingerprint("phone", "+8613912345679", one)
    # The same digits as a QQ number and as a WeChat id are different identifiers.
    assert fingerprint("qq", "123456789", one) != fingerprint("wechat", "123456789", one)
    # Without a key argument, REPORT_HASH_KEY is used.
    assert fingerprint("phone", "+8613912345678") == fingerprint("phone", "+8613912345678", TEST_KEY.encode())


def test_a_fingerprint_never_shows_the_value() -> None:
    for kind, value in [("phone", "+8613912345678"), ("domain", "evil-pay.cn"), ("bank_card", CARD_19),
                        ("wechat", "wx_scam_001"), ("qq", "123456789")]:
        digest = fingerprint(kind, value)
        assert re.fullmatch(r"[0-9a-f]{64}", digest)
        assert value not in digest and value.lstrip("+") not in digest
        # Keyed: hashing every mobile number without the key does not find it.
        assert digest not in {hashlib.sha256(value.encode()).hexdigest(),
                              hashlib.sha256(f"{kind}\x1f{value}".encode()).hexdigest()}


def test_the_key_must_be_long_enough_and_set_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(reported.KEY_VARIABLE, "too-short")
    reported.hash_key.cache_clear()
    with pytest.raises(ConfigurationError, match="at least 16"):
        reported.hash_key()
    monkeypatch.delenv(reported.KEY_VARIABLE)
    monkeypatch.setenv("ANTIFRAUD_ENV", "production")
    reported.hash_key.cache_clear()
    with pytest.raises(ConfigurationError, match="not set"):
        reported.hash_key()


# --- identifiers in a text ---------------------------------------------------------------------------------------


def found_in(text: str) -> List[tuple]:
    """(kind, normalised, words) of each identifier in the text, checking that the span is the words."""
    found = identifiers_in(text)
    for item in found:
        assert text[item.start:item.end] == item.value
    return [(f.kind, f.normalized, f.value) for f in found]


def test_identifiers_in_a_chinese_text_in_text_order() -> None:
    text = (f"骗子的手机号是13912345678，让我转账到银行卡{CARD_19}，加他微信 wx_scam_001，QQ号 123456789，"
            "还发了链接 https://secure.evil-pay.cn/login 说客服电话 400-123-4567。")
    assert found_in(text) == [
        ("phone", "+8613912345678", "13912345678"),
        ("bank_card", CARD_19, CARD_19),
        ("wechat", "wx_scam_001", "wx_scam_001"),
        ("qq", "123456789", "123456789"),
        ("domain", "secure.evil-pay.cn", "https://secure.evil-pay.cn/login"),
        ("phone", "+864001234567", "400-123-4567"),
    ]


def test_identifiers_in_an_english_text_in_text_order() -> None:
    card = f"{CARD_16[:4]} {CARD_16[4:8]} {CARD_16[8:12]} {CARD_16[12:]}"
    text = (f"He called from +44 20 7946 0958 and texted the link www.refund-pay.co.uk/claim; his WeChat ID is "
            f"Scam_WX88 and he asked me to pay to card {card}. Or call 400 123 4567.")
    assert found_in(text) == [
        ("phone", "+442079460958", "+44 20 7946 0958"),
        ("domain", "refund-pay.co.uk", "www.refund-pay.co.uk/claim"),
        ("wechat", "scam_wx88", "Scam_WX88"),
        ("bank_card", CARD_16, card),
        ("phone", "+864001234567", "400 123 4567"),
    ]


def test_an_identifier_named_twice_is_found_once_where_it_first_appears() -> None:
    text = "打 13912345678 或 139-1234-5678 都行，链接 www.evil-pay.cn 和 https://evil-pay.cn/a 是一个"
    assert found_in(text) == [
        ("phone", "+8613912345678", "13912345678"),
        ("domain", "evil-pay.cn", "www.evil-pay.cn"),
    ]


def test_an_email_is_read_as_an_alipay_account_not_as_a_link() -> None:
    assert found_in("他的支付宝是 Scam.Pay@evil-pay.cn 赶紧转") == [
        ("alipay", "scam.pay@evil-pay.cn", "Scam.Pay@evil-pay.cn")
    ]


@pytest.mark.parametrize("text", [
    "我打了95588和110核实，工行官网 www.icbc.com.cn 和 https://mybank.icbc.com.cn/login 都说没有这个活动，"
    "96110也提醒了我。",
    "I called 95588 and checked https://www.icbc.com.cn/ as the police (110) told me.",
    "今天天气不错，我们下午三点见。",
])
def test_official_lines_and_sites_are_not_returned(text: str) -> None:
    assert identifiers_in(text) == []


def test_official_lines_are_left_out_but_the_others_kept() -> None:
    assert found_in("他说是95588的客服，让我回拨 13912345678，网址 icbc.com.cn.evil-pay.cn") == [
        ("phone", "+8613912345678", "13912345678"),
        ("domain", "icbc.com.cn.evil-pay.cn", "icbc.com.cn.evil-pay.cn"),
    ]


@pytest.mark.parametrize("writing", ["+86 95588", "0086 95588"])
def test_an_official_line_with_the_country_code_is_still_official(writing: str) -> None:
    assert is_official(*normalize("phone", writing))
    assert identifiers_in(f"客服电话 {writing}") == []


@pytest.mark.parametrize("plus, zeros", [("+44 7700 900123", "0044 7700 900123"), ("+86 95105", "0086 95105")])
def test_plus_and_00_give_one_form_for_an_unvalidated_number(plus: str, zeros: str) -> None:
    assert normalize("phone", plus) == normalize("phone", zeros)


@pytest.mark.parametrize("host, expected", [
    ("pay.evil.example.com", ["pay.evil.example.com", "evil.example.com", "example.com"]),
    ("secure.evil-pay.cn", ["secure.evil-pay.cn", "evil-pay.cn"]),
    ("a.b.evil.co.uk", ["a.b.evil.co.uk", "b.evil.co.uk", "evil.co.uk"]),  # never the bare suffix co.uk
    ("example.com", ["example.com"]),
    ("localhost", ["localhost"]),
])
def test_host_and_parents_go_down_to_the_registered_domain(host: str, expected: List[str]) -> None:
    assert host_and_parents(host) == expected


# --- the store ---------------------------------------------------------------------------------------------------


def head_revision(url: str) -> str:
    return str(ScriptDirectory.from_config(alembic_config(url)).get_current_head())


def test_the_migration_adds_the_two_tables_and_downgrades_cleanly(new_database: Callable[[], str]) -> None:
    url = new_database()
    upgrade(url, "0002")
    assert not REPORTED_TABLES & table_names(url)
    assert "cases" in table_names(url)

    upgrade(url)
    assert table_names(url) >= REPORTED_TABLES
    assert rows(url, "SELECT version_num FROM alembic_version") == [(head_revision(url),)]
    engine = make_engine(url)
    try:
        indexes = {i["name"] for t in REPORTED_TABLES for i in sa.inspect(engine).get_indexes(t)}
        assert {"ix_identifier_reports_key_hash", "ix_identifier_matches_matched_at"} <= indexes
        # The models describe exactly what the migrations build.
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        engine.dispose()

    command.downgrade(alembic_config(url), "0002")
    assert not REPORTED_TABLES & table_names(url)
    assert "cases" in table_names(url)  # the cases are not touched
    assert rows(url, "SELECT version_num FROM alembic_version") == [("0002",)]

    upgrade(url)
    assert table_names(url) >= REPORTED_TABLES
    assert rows(url, "SELECT version_num FROM alembic_version") == [(head_revision(url),)]


def test_add_and_count_reports(store: ReportRepository) -> None:
    may, june, july = datetime(2024, 5, 6, 9, 30), datetime(2024, 6, 1, 12), datetime(2024, 7, 8, 23, 59)
    assert store.add([staff("phone", "13912345678", june), staff("phone", "139 1234 5678", may),
                      staff("phone", "+86 139-1234-5678", july), staff("domain", "evil-pay.cn", june)]) == 4
    phone, domain, unreported = key_of("phone", "13912345678"), key_of("domain", "evil-pay.cn"), \
        key_of("phone", "13912345679")

    counts = store.counts([phone, domain, unreported, phone])
    assert set(counts) == {phone, domain}
    assert (counts[phone].reports, counts[phone].first, counts[phone].last) == (3, may, july)
    assert (counts[domain].reports, counts[domain].first, counts[domain].last) == (1, june, june)
    assert counts[phone].as_dict() == {"reports": 3, "first_reported_on": "2024-05-06",
                                       "last_reported_on": "2024-07-08"}
    # A hash is counted under its own kind only.
    assert store.counts([("wechat", phone[1])]) == {}
    assert store.counts([]) == {}
    assert store.add([]) == 0


def test_a_report_without_a_date_is_dated_now(store: ReportRepository) -> None:
    before = utc_now()
    store.add([staff("qq", "123456789")])
    count = store.counts([key_of("qq", "123456789")])[key_of("qq", "123456789")]
    assert before - timedelta(seconds=1) <= count.first == count.last <= utc_now() + timedelta(seconds=1)


def test_a_reference_is_counted_once_but_staff_reports_each_count(store: ReportRepository) -> None:
    kind, key_hash = key_of("phone", "13912345678")
    from_case = NewReport(kind, key_hash, CASE, "a" * 64)
    assert store.add([from_case, from_case]) == 1  # twice in one call
    assert store.add([from_case]) == 0  # and again later
    assert store.add([NewReport(kind, key_hash, CASE, "b" * 64)]) == 1  # another case
    assert store.counts([(kind, key_hash)])[(kind, key_hash)].reports == 2

    assert store.add([staff("phone", "13912345678"), staff("phone", "13912345678")]) == 2
    assert store.add([staff("phone", "13912345678")]) == 1
    assert store.counts([(kind, key_hash)])[(kind, key_hash)].reports == 5
    # The same reference on another identifier is another report.
    assert store.add([NewReport("domain", key_of("domain", "evil-pay.cn")[1], CASE, "a" * 64)]) == 1


def test_withdraw_removes_every_report_of_one_identifier_and_nothing_else(store: ReportRepository) -> None:
    store.add([staff("phone", "13912345678"), staff("phone", "13912345678"),
               NewReport(*key_of("phone", "13912345678"), IMPORT, "c" * 64),
               staff("phone", "13912345679"), staff("domain", "evil-pay.cn")])
    phone = key_of("phone", "13912345678")
    # The same hash under another kind is another identifier: nothing to withdraw.
    assert store.withdraw("qq", phone[1]) == 0
    assert store.withdraw(*phone) == 3
    assert store.withdraw(*phone) == 0
    remaining = store.counts([phone, key_of("phone", "13912345679"), key_of("domain", "evil-pay.cn")])
    assert {k: c.reports for k, c in remaining.items()} == {
        key_of("phone", "13912345679"): 1, key_of("domain", "evil-pay.cn"): 1,
    }


def backdate_matches(url: str, kind: str, days: int) -> None:
    execute(url, "UPDATE identifier_matches SET matched_at = :when WHERE kind = :kind",
            when=utc_now() - timedelta(days=days), kind=kind)


def test_stats_count_matches_by_kind_and_day_within_the_window(store: ReportRepository, migrated_url: str) -> None:
    store.add([staff("phone", "13912345678"), staff("phone", "13912345678"), staff("phone", "13912345679"),
               staff("domain", "evil-pay.cn")])
    store.record_matches(["bank_card"], "webchat")
    backdate_matches(migrated_url, "bank_card", 40)
    store.record_matches(["phone", "phone", "domain"], "hotline")
    store.record_matches(["qq"], None)
    today = utc_now().date()

    stats = store.stats(today - timedelta(days=29), today)
    assert stats == {
        "reported_by_kind": {"domain": 1, "phone": 2},  # distinct identifiers, all time
        "matches": 4,
        "matches_by_kind": {"domain": 1, "phone": 2, "qq": 1},
        "matches_by_day": {today.isoformat(): 4},
    }
    old_day = (utc_now() - timedelta(days=40)).date()
    everything = store.stats(today - timedelta(days=60), today)
    assert everything["matches"] == 5 and everything["matches_by_kind"]["bank_card"] == 1
    assert everything["matches_by_day"] == {old_day.isoformat(): 1, today.isoformat(): 4}
    only_old = store.stats(old_day, old_day)
    assert (only_old["matches"], only_old["matches_by_kind"]) == (1, {"bank_card": 1})
    nothing = store.stats(date(2000, 1, 1), date(2000, 12, 31))
    assert (nothing["matches"], nothing["matches_by_kind"], nothing["matches_by_day"]) == (0, {}, {})
    assert nothing["reported_by_kind"] == {"domain": 1, "phone": 2}


def test_export_rows_give_each_identifier_its_count_and_days(store: ReportRepository) -> None:
    store.add([staff("phone", "13912345678", datetime(2024, 3, 1, 8)),
               staff("phone", "13912345678", datetime(2024, 5, 6, 20)),
               staff("domain", "evil-pay.cn", datetime(2024, 4, 2, 12)),
               staff("bank_card", CARD_19, datetime(2023, 12, 31, 23, 59))])
    rows = store.export_rows()
    assert rows == sorted([
        ("phone", key_of("phone", "13912345678")[1], 2, "2024-03-01", "2024-05-06"),
        ("domain", key_of("domain", "evil-pay.cn")[1], 1, "2024-04-02", "2024-04-02"),
        ("bank_card", key_of("bank_card", CARD_19)[1], 1, "2023-12-31", "2023-12-31"),
    ])
    text = export_csv(rows)
    assert text.splitlines()[0] == ",".join(EXPORT_HEADER)
    assert len(text.splitlines()) == 4
    for clear in ("13912345678", "evil-pay", CARD_19):
        assert clear not in text


# --- reported identifiers in a text ------------------------------------------------------------------------------


def test_a_link_under_a_reported_domain_matches(store: ReportRepository) -> None:
    store.add([staff("domain", "evil-pay.cn", datetime(2024, 5, 6, 12))])
    text = "您的账户异常，请登录 https://secure.evil-pay.cn/login 验证身份"
    [match] = check_reported(identifiers_in(text), store, "hotline")
    assert (match.found.kind, match.found.value, match.found.normalized) == (
        "domain", "https://secure.evil-pay.cn/login", "secure.evil-pay.cn")
    assert match.count.reports == 1


def test_a_reported_host_does_not_match_its_sibling_or_its_parent(store: ReportRepository) -> None:
    store.add([staff("domain", "https://secure.evil-pay.cn/")])
    assert check_reported(identifiers_in("请登录 https://other.evil-pay.cn/login"), store, "hotline") == []
    assert check_reported(identifiers_in("请登录 evil-pay.cn"), store, "hotline") == []
    assert len(check_reported(identifiers_in("请登录 https://a.secure.evil-pay.cn/x"), store, "hotline")) == 1


def test_reports_of_a_host_and_of_its_domains_are_summed(store: ReportRepository) -> None:
    store.add([staff("domain", "evil-pay.cn", datetime(2024, 3, 1, 12)),
               staff("domain", "evil-pay.cn", datetime(2024, 4, 1, 12)),
               staff("domain", "secure.evil-pay.cn", datetime(2024, 5, 6, 12)),
               staff("domain", "other.evil-pay.cn", datetime(2024, 7, 1, 12))])  # a sibling: not counted
    [match] = reported_in(identifiers_in("点 https://secure.evil-pay.cn/login 领取"), store)
    assert (match.count.reports, match.count.first, match.count.last) == (
        3, datetime(2024, 3, 1, 12), datetime(2024, 5, 6, 12))


def test_only_the_reported_identifiers_of_a_text_match_and_each_match_is_counted(
    store: ReportRepository,
) -> None:
    store.add([staff("phone", "13912345678"), staff("wechat", "wx_scam_001"), staff("bank_card", CARD_19),
               staff("alipay", "13800001111")])  # an Alipay account that is a phone number
    text = (f"加微信 WX_SCAM_001，转到银行卡 {CARD_19}，有事打 139-1234-5678 或者 13912345670，"
            "支付宝转账到 138 0000 1111")
    matches = check_reported(identifiers_in(text), store, "webchat")
    assert [(m.found.kind, m.found.normalized) for m in matches] == [
        ("wechat", "wx_scam_001"), ("bank_card", CARD_19), ("phone", "+8613912345678"), ("phone", "+8613800001111"),
    ]
    today = utc_now().date()
    assert store.stats(today, today)["matches_by_kind"] == {"bank_card": 1, "phone": 2, "wechat": 1}
    # A text without a reported identifier records nothing.
    assert check_reported(identifiers_in("有事打 13912345670"), store, "webchat") == []
    assert store.stats(today, today)["matches"] == 4


def test_a_match_explains_itself_in_both_languages(store: ReportRepository) -> None:
    store.add([staff("phone", "13912345678", datetime(2024, 1, 2, 12)),
               staff("phone", "13912345678", datetime(2024, 5, 6, 12)),
               staff("phone", "13912345678", datetime(2024, 3, 3, 12))])
    text = "快递员说打 13912345678"
    [match] = reported_in(identifiers_in(text), store)
    assert isinstance(match, Match)
    zh, en = match.as_dict("zh"), match.as_dict("en")
    for shown in (zh, en):
        assert {k: v for k, v in shown.items() if k != "why"} == {
            "kind": "phone", "value": "13912345678", "start": 6, "end": 17, "reports": 3,
            "first_reported_on": "2024-01-02", "last_reported_on": "2024-05-06",
        }
        assert "2024-05-06" in shown["why"] and "3" in shown["why"]
        assert "13912345678" not in shown["why"]
    assert "号码" in zh["why"] and "举报3次" in zh["why"]
    assert "number" in en["why"] and "reported 3 times" in en["why"]


def test_a_match_is_found_with_the_key_it_was_reported_under(store: ReportRepository) -> None:
    """The servers must share REPORT_HASH_KEY: under another key nothing matches."""
    store.add([staff("phone", "13912345678")])
    found = identifiers_in("打 13912345678")
    assert len(reported_in(found, store)) == 1
    assert reported_in(found, store, key=b"another-key-0123456789") == []


def broken_engine(kind: str, tmp_path: Path) -> sa.engine.Engine:
    if kind == "missing_directory":
        # create_engine, not make_engine: make_engine would make the directory.
        return sa.create_engine(sqlite_url(tmp_path / "no" / "such" / "dir" / "r.db"), future=True)
    if kind == "never_migrated":
        return make_engine(sqlite_url(tmp_path / "never_migrated.db"))
    return make_engine(f"postgresql://nobody:nothing@127.0.0.1:{free_port()}/none")  # no server there


@pytest.mark.parametrize("kind", ["missing_directory", "never_migrated", "no_postgresql_server"])
def test_a_store_that_cannot_be_read_is_no_match_not_an_error(kind: str, tmp_path: Path) -> None:
    text = "加微信 wx_scam_001，打 13912345678，上 https://evil-pay.cn/login"
    engine = broken_engine(kind, tmp_path)
    try:
        broken = ReportRepository(engine)
        with pytest.raises(sa.exc.SQLAlchemyError):  # the store does fail underneath
            reported_in(identifiers_in(text), broken)
        assert check_reported(identifiers_in(text), broken, "hotline") == []
    finally:
        engine.dispose()
    assert not (tmp_path / "no").exists()


# --- CSV import and export ---------------------------------------------------------------------------------------


def test_a_utf8_file_with_a_bom_is_read() -> None:
    body = "\ufeffkind,value\nphone,139 1234 5678\ndomain,https://www.evil-pay.cn/x\n\n".encode()
    plan = plan_import(body)
    assert plan.rows == 2
    assert [(r.kind, r.key_hash, r.source, r.reported_at) for r in plan.reports] == [
        (*key_of("phone", "13912345678"), IMPORT, None),
        (*key_of("domain", "evil-pay.cn"), IMPORT, None),
    ]
    assert all(r.reference and re.fullmatch(r"[0-9a-f]{64}", r.reference) for r in plan.reports)


def test_a_gb18030_file_with_chinese_kind_names_and_optional_columns() -> None:
    text = ("kind,value,reported_on,reference\n"
            "号码,13912345678,2024-05-06,派出所-2024-001\n"
            "网址,evil-pay.cn,,\n"
            "银行卡号,6222 0212 3456 7890 128,2024-01-02,派出所-2024-002\n"
            "微信号,WX_Scam_001,2023-12-31,\n"
            "QQ号,123456789,,\n")
    body = text.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")  # the file really is GB18030, not UTF-8
    plan = plan_import(body)
    assert plan.rows == 5
    assert [(r.kind, r.key_hash, r.reported_at) for r in plan.reports] == [
        (*key_of("phone", "13912345678"), datetime(2024, 5, 6, 12)),
        (*key_of("domain", "evil-pay.cn"), None),
        (*key_of("bank_card", CARD_19), datetime(2024, 1, 2, 12)),
        (*key_of("wechat", "wx_scam_001"), datetime(2023, 12, 31, 12)),
        (*key_of("qq", "123456789"), None),
    ]


def test_english_kind_names_any_case_and_columns_in_any_order() -> None:
    body = (b"Kind,Value,Reference,Reported_On\n"
            b"Web Address,evil-pay.cn,case 7,2024-02-03\n"
            b"BANK CARD NUMBER,6222021234567890128,,\n"
            b"Phone,13912345678,,\n"
            b"alipay,13800001111,,\n")
    plan = plan_import(body)
    assert [(r.kind, r.key_hash, r.reported_at) for r in plan.reports] == [
        (*key_of("domain", "evil-pay.cn"), datetime(2024, 2, 3, 12)),
        (*key_of("bank_card", CARD_19), None),
        (*key_of("phone", "13912345678"), None),
        (*key_of("phone", "13800001111"), None),  # an Alipay account that is a phone number
    ]


def test_the_same_file_imported_twice_adds_nothing_the_second_time(store: ReportRepository) -> None:
    body = (b"kind,value,reported_on,reference\n"
            b"phone,13912345678,2024-05-06,A-1\n"
            b"phone,13912345678,2024-05-06,A-2\n"  # another police report of the same number that day
            b"phone,13912345678,2024-05-07,A-1\n"  # and another day
            b"domain,evil-pay.cn,,\n")
    first, second = plan_import(body), plan_import(body)
    assert [r.reference for r in first.reports] == [r.reference for r in second.reports]
    assert len({r.reference for r in first.reports}) == 4
    assert store.add(first.reports) == 4
    assert store.add(second.reports) == 0
    # The same rows written differently are the same rows.
    rewritten = ("kind,value,reported_on,reference\n"
                 "号码,+86 139-1234-5678,2024-05-06,A-1\n"
                 "网址,https://www.evil-pay.cn/,,\n").encode("gb18030")
    assert store.add(plan_import(rewritten).reports) == 0
    counts = store.counts([key_of("phone", "13912345678"), key_of("domain", "evil-pay.cn")])
    assert counts[key_of("phone", "13912345678")].reports == 3
    assert counts[key_of("domain", "evil-pay.cn")].reports == 1


def rejected(body: bytes) -> List[tuple]:
    with pytest.raises(ImportRejected) as raised:
        plan_import(body)
    assert raised.value.errors
    return raised.value.errors


def tomorrow() -> str:
    return (utc_now().date() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize("body, line, message", [
    (b"", 0, "empty"),
    (b"\n \n,,\n", 0, "empty"),
    (b"\xef\xbb\xbf", 0, "empty"),
    (b"type,number\nphone,13912345678\n", 1, "header"),
    (b"value,kind\n13912345678,phone\n", 1, "header"),
    (b"kind,value\nphone,13912345678\nfax,13912345679\n", 3, "unknown kind 'fax'"),
    (b"kind,value\nphone,abc\n", 2, "5 to 17 digits"),
    (b"kind,value\ndomain,not a domain\n", 2, "example.com"),
    (b"kind,value\nqq,\n", 2, "1 to 256"),
    (b"kind,value\nphone,95588\n", 2, "official"),
    (b"kind,value\ndomain,https://www.icbc.com.cn/login\n", 2, "official"),
    (b"kind,value,reported_on\nphone,13912345678,2024-13-01\n", 2, "not a date"),
    (b"kind,value,reported_on\nphone,13912345678,06/05/2024\n", 2, "not a date"),
    (b"kind,value,reported_on\nphone,13912345678,1999-12-31\n", 2, "before 2000 or in the future"),
    (b"\x00\x01\xff" * 100, 0, "not text"),
    (b"kind,value\x00\nphone,13912345678\n", 0, "not text"),
])
def test_a_wrong_file_is_rejected_with_the_line(body: bytes, line: int, message: str) -> None:
    errors = rejected(body)
    assert errors[0][0] == line
    assert message in errors[0][1]


def test_a_date_in_the_future_is_rejected() -> None:
    assert rejected(f"kind,value,reported_on\nphone,13912345678,{tomorrow()}\n".encode()) == [
        (2, f"'{tomorrow()}' is before 2000 or in the future")
    ]


def test_a_file_of_more_than_max_rows_is_rejected() -> None:
    rows = "".join(f"phone,139{index:08d}\n" for index in range(MAX_ROWS + 1))
    assert rejected(("kind,value\n" + rows).encode()) == [(0, f"more than {MAX_ROWS} rows; split the file")]
    # MAX_ROWS rows are fine.
    assert plan_import(("kind,value\n" + rows[: rows.rindex("phone")]).encode()).rows == MAX_ROWS


def test_every_bad_row_is_listed_and_a_bad_row_among_good_ones_imports_nothing(store: ReportRepository) -> None:
    body = (b"kind,value,reported_on\n"
            b"phone,13912345678,2024-05-06\n"
            b"phone,123,2024-05-06\n"
            b"domain,evil-pay.cn,\n"
            b"fax,123456,\n"
            b"wechat,wx_scam_001,2024-02-30\n")
    errors = rejected(body)
    assert [line for line, _ in errors] == [3, 5, 6]
    assert store.export_rows() == []  # the caller has nothing to add: no partial import


def test_at_most_max_errors_are_listed() -> None:
    errors = rejected(("kind,value\n" + "phone,abc\n" * (MAX_ERRORS + 10)).encode())
    assert len(errors) == MAX_ERRORS
    assert [line for line, _ in errors] == list(range(2, MAX_ERRORS + 2))


@pytest.mark.parametrize("row, message", [
    ("fax," + "a" * 64 + ",1,2024-01-01,2024-01-01", "64-character hex"),
    ("phone,xyz,1,2024-01-01,2024-01-01", "64-character hex"),
    ("phone," + "a" * 64 + ",0,2024-01-01,2024-01-01", "whole number"),
    ("phone," + "a" * 64 + ",-2,2024-01-01,2024-01-01", "whole number"),
    ("phone," + "a" * 64 + ",10001,2024-01-01,2024-01-01", "whole number"),
    ("phone," + "a" * 64 + ",2,2024-01-01,yesterday", "not a date"),
])
def test_a_wrong_export_row_is_rejected(row: str, message: str) -> None:
    errors = rejected((",".join(EXPORT_HEADER) + "\n" + row + "\n").encode())
    assert errors[0][0] == 2 and message in errors[0][1]


def test_an_export_imported_into_an_empty_store_gives_the_same_export(new_database: Callable[[], str]) -> None:
    source_url, copy_url = new_database(), new_database()
    upgrade(source_url)
    upgrade(copy_url)
    source_engine, copy_engine = make_engine(source_url), make_engine(copy_url)
    try:
        source, copy = ReportRepository(source_engine), ReportRepository(copy_engine)
        source.add([staff("phone", "13912345678", datetime(2024, 1, 2, 3)),
                    staff("phone", "13912345678", datetime(2024, 3, 4, 5)),
                    staff("phone", "13912345678", datetime(2024, 2, 2, 23, 59)),
                    staff("domain", "evil-pay.cn", datetime(2023, 12, 31, 23, 59)),
                    staff("bank_card", CARD_19),
                    NewReport(*key_of("qq", "123456789"), CASE, "d" * 64, datetime(2024, 6, 1, 0, 1))])
        exported = export_csv(source.export_rows())

        plan = plan_import(exported.encode())
        assert plan.rows == 4 and len(plan.reports) == 6
        assert copy.add(plan.reports) == 6
        assert copy.export_rows() == source.export_rows()
        assert export_csv(copy.export_rows()) == exported
        # Importing the same export again adds nothing.
        assert copy.add(plan_import(exported.encode()).reports) == 0
        assert copy.export_rows() == source.export_rows()
    finally:
        source_engine.dispose()
        copy_engine.dispose()


# --- the hotline API (live assistant) ----------------------------------------------------------------------------

JSON_ROUTES = ["/reported", "/reported/lookup", "/reported/withdraw"]


def staff_headers(assistant: LiveAssistant, content_type: Optional[str] = "application/json") -> Dict[str, str]:
    headers = {"Authorization": f"Bearer {assistant.hotline_token}"}
    if content_type:
        headers["Content-Type"] = content_type
    return headers


def post_json(assistant: LiveAssistant, route: str, body: Dict[str, Any]) -> requests.Response:
    return assistant.post(HOTLINE + route, json=body, headers=staff_headers(assistant, None))


def lookup(assistant: LiveAssistant, kind: str, value: str) -> Dict[str, Any]:
    response = post_json(assistant, "/reported/lookup", {"kind": kind, "value": value})
    assert response.status_code == 200, response.text
    return response.json()


def post_csv(assistant: LiveAssistant, body: bytes, token: Optional[str] = None) -> requests.Response:
    headers = staff_headers(assistant, "text/csv; charset=utf-8")
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return assistant.post(HOTLINE + "/reported.csv", data=body, headers=headers)


def reported_stats(assistant: LiveAssistant) -> Dict[str, Any]:
    response = requests.get(assistant.url + HOTLINE + "/stats", headers=staff_headers(assistant, None), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["reported"]


@pytest.mark.server
@pytest.mark.parametrize("method, route", [
    ("POST", "/reported"), ("POST", "/reported/lookup"), ("POST", "/reported/withdraw"),
    ("POST", "/reported.csv"), ("GET", "/reported.csv"),
])
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic abc", "Bearer "])
def test_every_reported_route_needs_the_staff_token(
    assistant: LiveAssistant, method: str, route: str, authorization: Optional[str]
) -> None:
    phone = new_mobile()
    body = ("kind,value\nphone," + phone + "\n").encode() if route.endswith(".csv") else \
        f'{{"kind": "phone", "value": "{phone}"}}'.encode()
    headers = {"Content-Type": "text/csv" if route.endswith(".csv") else "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = requests.request(method, assistant.url + HOTLINE + route, data=body if method == "POST" else None,
                                headers=headers, timeout=30)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "unauthorized"
    assert phone not in response.text
    # Nothing was added by the refused request.
    assert lookup(assistant, "phone", phone)["reported"] is False


@pytest.mark.server
def test_staff_report_look_up_and_withdraw_a_number(assistant: LiveAssistant) -> None:
    phone = new_mobile()
    today = utc_now().date().isoformat()
    assert lookup(assistant, "phone", phone) == {"kind": "phone", "normalized": "+86" + phone, "reported": False,
                                                 "reports": 0}

    first = post_json(assistant, "/reported", {"kind": "phone", "value": phone})
    assert first.status_code == 201, first.text
    assert first.json() == {"kind": "phone", "normalized": "+86" + phone, "reported": True, "reports": 1,
                            "first_reported_on": today, "last_reported_on": today}
    # Written another way, it is the same number.
    second = post_json(assistant, "/reported", {"kind": "phone", "value": f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"})
    assert second.status_code == 201, second.text
    assert second.json()["reports"] == 2

    # A lookup counts without adding.
    for _ in range(2):
        assert lookup(assistant, "phone", phone) == {**first.json(), "reports": 2}

    withdrawn = post_json(assistant, "/reported/withdraw", {"kind": "phone", "value": phone})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json() == {"kind": "phone", "withdrawn": 2}
    assert lookup(assistant, "phone", phone)["reported"] is False
    assert post_json(assistant, "/reported/withdraw", {"kind": "phone", "value": phone}).json()["withdrawn"] == 0


@pytest.mark.server
def test_a_reported_domain_is_found_under_its_hosts_only(assistant: LiveAssistant) -> None:
    domain = new_domain()
    response = post_json(assistant, "/reported", {"kind": "domain", "value": f"https://www.{domain}/pay"})
    assert response.status_code == 201, response.text
    assert response.json()["normalized"] == domain
    assert lookup(assistant, "domain", f"https://login.secure.{domain}/x")["reports"] == 1

    host = new_domain()
    assert post_json(assistant, "/reported", {"kind": "domain", "value": "pay." + host}).status_code == 201
    assert lookup(assistant, "domain", "other." + host)["reported"] is False
    assert lookup(assistant, "domain", host)["reported"] is False


@pytest.mark.server
def test_an_alipay_account_that_is_a_number_is_reported_as_the_number(assistant: LiveAssistant) -> None:
    phone = new_mobile("138")
    response = post_json(assistant, "/reported", {"kind": "alipay", "value": phone})
    assert response.status_code == 201, response.text
    assert (response.json()["kind"], response.json()["normalized"]) == ("phone", "+86" + phone)
    assert lookup(assistant, "phone", phone)["reports"] == 1
    assert lookup(assistant, "alipay", phone)["reports"] == 1


@pytest.mark.server
@pytest.mark.parametrize("route", JSON_ROUTES)
@pytest.mark.parametrize("body, code", [
    ({"kind": "fax", "value": "13912345678"}, "invalid_identifier"),
    ({"kind": "phone", "value": "abc"}, "invalid_identifier"),
    ({"kind": "domain", "value": "not a domain"}, "invalid_identifier"),
    ({"kind": "qq", "value": "qq12345"}, "invalid_identifier"),
    ({"kind": "wechat", "value": "x" * 300}, "invalid_identifier"),
    ({"kind": "phone"}, "invalid_identifier"),
    ({"value": "13912345678"}, "invalid_identifier"),
    ({"kind": "phone", "value": 13912345678}, "invalid_identifier"),
    ({"kind": ["phone"], "value": "13912345678"}, "invalid_identifier"),
    ({"kind": "phone", "value": "95588"}, "official_identifier"),
    ({"kind": "phone", "value": "9 5 5 8 8"}, "official_identifier"),
    ({"kind": "domain", "value": "https://www.icbc.com.cn/login"}, "official_identifier"),
    ({"kind": "domain", "value": "mybank.icbc.com.cn"}, "official_identifier"),
])
def test_invalid_and_official_identifiers_are_refused(
    assistant: LiveAssistant, route: str, body: Dict[str, Any], code: str
) -> None:
    response = post_json(assistant, route, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == code and response.json()["message"]


@pytest.mark.server
@pytest.mark.parametrize("route", JSON_ROUTES)
@pytest.mark.parametrize("body, content_type, status, code", [
    (b'{"kind": "phone", "value": ', "application/json", 400, "invalid_json"),
    (b"", "application/json", 400, "empty_body"),
    (b"   ", "application/json", 400, "empty_body"),
    (b'{"kind": "phone", "value": "\xff\xfe"}', "application/json", 400, "invalid_encoding"),
    (b'["phone", "13912345678"]', "application/json", 422, "invalid_body"),
    (b"kind=phone&value=13912345678", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    (b'{"kind": "phone", "value": "13912345678"}', "text/plain", 415, "unsupported_media_type"),
])
def test_bad_bodies_get_json_errors(
    assistant: LiveAssistant, route: str, body: bytes, content_type: str, status: int, code: str
) -> None:
    response = assistant.post(HOTLINE + route, data=body, headers=staff_headers(assistant, content_type))
    assert response.status_code == status, response.text
    assert response.json()["error"] == code


@pytest.mark.server
@pytest.mark.parametrize("route", JSON_ROUTES)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_on_the_json_routes_get_a_json_405(assistant: LiveAssistant, route: str, method: str) -> None:
    response = requests.request(method, assistant.url + HOTLINE + route, headers=staff_headers(assistant, None),
                                timeout=30)
    assert response.status_code == 405, response.text
    assert response.json()["error"] == "method_not_allowed"
    assert response.headers["Allow"] == "POST"


@pytest.mark.server
def test_a_csv_list_is_imported_once(assistant: LiveAssistant) -> None:
    phone, domain = new_mobile(), new_domain()
    body = ("kind,value,reported_on,reference\n"
            f"号码,{phone},2024-05-06,派出所-001\n"
            f"网址,https://www.{domain}/login,,\n").encode("gb18030")
    first = post_csv(assistant, body)
    assert first.status_code == 200, first.text
    assert first.json() == {"rows": 2, "added": 2, "already_there": 0}
    again = post_csv(assistant, body)
    assert again.status_code == 200, again.text
    assert again.json() == {"rows": 2, "added": 0, "already_there": 2}

    number = lookup(assistant, "phone", phone)
    assert (number["reports"], number["first_reported_on"], number["last_reported_on"]) == (
        1, "2024-05-06", "2024-05-06")
    assert lookup(assistant, "domain", domain)["reports"] == 1


@pytest.mark.server
def test_a_csv_with_a_bad_row_imports_nothing_and_names_the_row(assistant: LiveAssistant) -> None:
    good, also_good = new_mobile(), new_mobile()
    body = f"kind,value\nphone,{good}\nphone,not-a-number\nphone,{also_good}\nphone,95588\n".encode()
    response = post_csv(assistant, body)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["error"] == "invalid_csv" and answer["message"]
    assert [row["line"] for row in answer["rows"]] == [3, 5]
    assert all(row["message"] for row in answer["rows"])
    assert good not in response.text and also_good not in response.text
    assert lookup(assistant, "phone", good)["reported"] is False
    assert lookup(assistant, "phone", also_good)["reported"] is False


@pytest.mark.server
@pytest.mark.parametrize("body, message", [
    (b"\x00\x01\xff" * 100, "not text"),
    (b"", "empty"),
    (b"type,number\nphone,13912345678\n", "header"),
])
def test_a_file_that_is_no_list_is_refused(assistant: LiveAssistant, body: bytes, message: str) -> None:
    response = post_csv(assistant, body)
    assert response.status_code == 422, response.text
    [row] = response.json()["rows"]
    assert row["line"] in (0, 1) and message in row["message"]


@pytest.mark.server
def test_the_export_holds_hashes_and_never_a_reported_value(assistant: LiveAssistant) -> None:
    phone, domain = new_mobile(), new_domain()
    for kind, value in (("phone", phone), ("domain", domain), ("phone", phone)):
        assert post_json(assistant, "/reported", {"kind": kind, "value": value}).status_code == 201

    response = requests.get(assistant.url + HOTLINE + "/reported.csv", headers=staff_headers(assistant, None),
                            timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    lines = response.text.splitlines()
    assert lines[0] == ",".join(EXPORT_HEADER)
    assert len(lines) >= 3
    for line in lines[1:]:
        assert re.fullmatch(r"(phone|domain|bank_card|wechat|qq|alipay),[0-9a-f]{64},[1-9]\d*,"
                            r"\d{4}-\d{2}-\d{2},\d{4}-\d{2}-\d{2}", line), line
    assert phone not in response.text and phone[3:] not in response.text
    assert domain not in response.text and domain.split(".")[0] not in response.text
    # The number reported twice is one row counting 2.
    today = utc_now().date().isoformat()
    assert any(line.startswith("phone,") and line.endswith(f",2,{today},{today}") for line in lines[1:])


@pytest.mark.server
def test_analyze_warns_about_a_reported_number_in_an_everyday_text(assistant: LiveAssistant) -> None:
    number, other = new_mobile("170"), new_mobile("170")
    assert post_json(assistant, "/reported", {"kind": "phone", "value": number}).status_code == 201
    before = reported_stats(assistant)

    text = f"你好，我是小区物业，有事打我电话 {number}"
    result = assistant.analyze(text)
    [match] = result["reported"]
    assert (match["kind"], match["value"]) == ("phone", number)
    assert text[match["start"]:match["end"]] == number
    assert match["reports"] >= 1 and match["last_reported_on"] == utc_now().date().isoformat()
    assert number not in match["why"] and str(match["reports"]) in match["why"]
    flags = [f for f in result["red_flags"] if f["id"].startswith("reported_")]
    assert flags and flags[0]["id"] == "reported_phone" and flags[0]["phrase"] == number
    assert result["verdict"] != "none"
    assert result["risk_level"] != "low"

    after = reported_stats(assistant)
    assert after["matches"] == before["matches"] + 1
    assert after["matches_by_kind"].get("phone", 0) == before["matches_by_kind"].get("phone", 0) + 1
    assert after["reported_by_kind"]["phone"] >= 1

    # The same words with a number nobody reported: no match, and nothing counted.
    unreported = assistant.analyze(f"你好，我是小区物业，有事打我电话 {other}")
    assert unreported["reported"] == []
    assert not any(f["id"].startswith("reported_") for f in unreported["red_flags"])
    assert reported_stats(assistant)["matches"] == after["matches"]


@pytest.mark.server
def test_analyze_explains_a_reported_link_in_english(assistant: LiveAssistant) -> None:
    domain = new_domain()
    assert post_json(assistant, "/reported", {"kind": "domain", "value": domain}).status_code == 201
    result = assistant.analyze(f"Hi, the photos from Saturday are at https://photos.{domain}/album/7 - enjoy!",
                               lang="en")
    [match] = result["reported"]
    assert (match["kind"], match["value"]) == ("domain", f"https://photos.{domain}/album/7")
    assert "reported 1 times" in match["why"]
    assert any(f["id"] == "reported_domain" for f in result["red_flags"])
    assert result["verdict"] != "none"

"""Hostile input against the live server, generated with hypothesis.

Every door must answer 2xx in its documented shape or a 4xx with a JSON error
(bot/channels/http.py), never a 5xx, a hang or a reset connection; the server
stays up and its memory bounded. test_contract.py holds the fixed examples.

Every request also has a time budget of server time (the CPU time the Rasa server and the action
server spend on it, so a busy machine does not count) for any input within the documented limits,
and for the refusals above them: REQUEST_BUDGET_S, or BUDGET_TIMES_ORDINARY times what an ordinary
message of the longest allowed length, all short words, costs the same door on this machine when that
is more. A slow machine raises both alike; a pattern that backtracks raises only the worst case.
A request over budget is tried again (send): only the fastest try counts, since a one-off is not
what a backtracking pattern costs.
Besides the generated input, each door gets the worst cases tests/worst_case.py generates for every
pattern family (long runs of digits, spaces, separators, repeated keywords) at the text limit, and
metadata up to the body limit. The slowest request per door and family lands in
results/hostile/summary.md.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
import requests
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from bot.channels import ratelimit
from bot.channels.http import MAX_BODY_BYTES, MAX_TEXT_CHARS
from bot.channels.ratelimit import DEFAULT_MESSAGES, DEFAULT_WINDOW_S
from bot.knowledge import load_knowledge, localized
from bot.local_servers import TEST_CLIENT_RATE_MESSAGES
from bot.settings import ConfigurationError
from tests.conftest import LiveAssistant
from tests.test_contract import SPEC, check, response_schema
from tests.worst_case import KNOWN_SLOW, families, family_texts

pytestmark = pytest.mark.server

# Reproducible in CI (derandomize), bounded in time, no example database written to the repository.
# The only fixture is session-scoped, so no function-scoped-fixture health check applies.
HOSTILE = settings(
    max_examples=40, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example, HealthCheck.data_too_large],
)
FEW = settings(HOSTILE, max_examples=20)
TIMEOUT_S = 60
MAX_RSS_GROWTH_MB = 300
REQUEST_BUDGET_S = 1.0
BUDGET_TIMES_ORDINARY = 3.0
RETRIES_OVER_BUDGET = 2
# An everyday message at the text limit, the yardstick a worst case is measured against: short words
# between punctuation, as many tokens as a message of that length has (each pipeline step is linear in them).
ORDINARY_PIECE = "嗯，好的，行。对！是吗？哈哈，明天见。ok, yes, 1, 2, sure! 到了，收到。"
ORDINARY_LONG = (ORDINARY_PIECE * (MAX_TEXT_CHARS // len(ORDINARY_PIECE) + 1))[:MAX_TEXT_CHARS]
_ordinary_s: Dict[str, float] = {}  # door -> median server time of an ordinary long message
SUMMARY = Path(__file__).resolve().parent.parent / "results" / "hostile" / "summary.md"
# (door, family) -> (slowest seconds, requests, what it was)
_timings: Dict[Tuple[str, str], Tuple[float, int, str]] = {}
ERROR_CODES = set(SPEC["components"]["schemas"]["Error"]["properties"]["error"]["enum"])

# Characters that break naive text handling: controls, bidi overrides, zero-width joiners, BOM, emoji.
NASTY = (
    [chr(c) for c in range(1, 32)] + ["\x7f", "\x85", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f",
                                      "\u202a", "\u202e", "\u2066", "\u2069", "\ufeff", "\ufffd", "\u0301",
                                      "😀", "👨‍👩‍👧", "🇨🇳", "骗", "钱", "验证码"]
)
texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(NASTY) | st.characters(), min_size=1, max_size=200).map("".join),
    st.lists(st.sampled_from(NASTY), min_size=1, max_size=200).map("".join),
)
long_texts = st.builds(
    lambda piece, n: piece * n,
    st.sampled_from(["a", "骗", "😀", "\u200b", " x"]),
    st.sampled_from([MAX_TEXT_CHARS - 1, MAX_TEXT_CHARS, MAX_TEXT_CHARS + 1, 2 * MAX_TEXT_CHARS, 20 * MAX_TEXT_CHARS]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
not_strings = json_values.filter(lambda v: not isinstance(v, str))
INVALID_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"]


@dataclass(frozen=True)
class Door:
    name: str
    path: str
    text_field: str
    token: Optional[str]  # attribute of LiveAssistant
    schema: Dict[str, Any]

    def headers(self, assistant: LiveAssistant, content_type: Optional[str] = "application/json") -> Dict[str, str]:
        headers = {"Authorization": f"Bearer {getattr(assistant, self.token)}"} if self.token else {}
        if content_type is not None:
            headers["Content-Type"] = content_type
        return headers

    def body(self, text: Any) -> Dict[str, Any]:
        if self.text_field == "text":
            return {"text": text}
        return {"sender": uuid.uuid4().hex, "message": text}


REPLIES = response_schema("/webhooks/webchat/webhook", "post", "200")
DOORS = [
    Door("analyze", "/webhooks/hotline/analyze", "text", "hotline_token",
         response_schema("/webhooks/hotline/analyze", "post", "200")),
    Door("webchat", "/webhooks/webchat/webhook", "message", None, REPLIES),
    Door("integration", "/webhooks/integration/webhook", "message", "integration_token", REPLIES),
    Door("rest", "/webhooks/rest/webhook", "message", None, REPLIES),
]
BY_NAME = {door.name: door for door in DOORS}
doors = pytest.mark.parametrize("door", DOORS, ids=[d.name for d in DOORS])


def send(assistant: LiveAssistant, door: Door, data: bytes, content_type: Optional[str] = "application/json",
         headers: Optional[Dict[str, Any]] = None, family: Optional[str] = None,
         label: Optional[str] = None) -> requests.Response:
    """POST raw bytes; a hang or a reset connection fails the test through requests' exception, a
    request slower than budget_s through the budget. `family`: what the time is recorded
    under (default: the test's name).

    A request over budget is measured again (up to RETRIES_OVER_BUDGET times, as a new sender, and
    only for the default client, whose requests no rate limit counts): a backtracking pattern is slow
    every time, a one-off (a garbage collection, another process on the machine) is not. The
    fastest try counts."""
    budget = budget_s(assistant, door)
    response, seconds = timed_post(assistant, door, data, content_type, headers)
    for _ in range(RETRIES_OVER_BUDGET if headers is None else 0):
        if seconds < budget:
            break
        again, again_seconds = timed_post(assistant, door, as_new_sender(data), content_type, None)
        assert again.status_code == response.status_code, (response.status_code, again.status_code)
        seconds = min(seconds, again_seconds)
    family = family or os.environ.get("PYTEST_CURRENT_TEST", "?").split("::")[-1].split("[")[0].split(" ")[0]
    record(door.name, family, seconds, f"{label + ', ' if label else ''}{len(data)} bytes, {response.status_code}, "
           f"{response.elapsed.total_seconds():.2f} s to the headers")
    assert seconds < budget, (
        f"{door.name} took {seconds:.2f} s of server time (budget {budget:.2f} s) for {len(data)} bytes: "
        f"{data[:80]!r}"
    )
    return response


def timed_post(assistant: LiveAssistant, door: Door, data: bytes, content_type: Optional[str],
               headers: Optional[Dict[str, Any]]) -> Tuple[requests.Response, float]:
    cpu_before = server_cpu_seconds()
    response = requests.post(
        assistant.url + door.path, data=data, timeout=TIMEOUT_S,
        headers={**door.headers(assistant, content_type), **(headers or {})},
    )
    return response, server_cpu_seconds() - cpu_before


def as_new_sender(data: bytes) -> bytes:
    """The same body from a new sender id, so a retry starts a conversation like the first try did."""
    try:
        sender = json.loads(data).get("sender")
    except (ValueError, AttributeError):
        return data
    if not isinstance(sender, str) or not sender:
        return data
    return data.replace(json.dumps(sender).encode(), json.dumps(uuid.uuid4().hex).encode(), 1)


def budget_s(assistant: LiveAssistant, door: Door) -> float:
    """The server time a request to `door` may take on this machine (see the module's docstring)."""
    return max(REQUEST_BUDGET_S, BUDGET_TIMES_ORDINARY * _ordinary_s[door.name])


@pytest.fixture(scope="module", autouse=True)
def ordinary_costs(assistant: LiveAssistant, rss_before: int) -> None:
    """What an ordinary message at the text limit costs each door, once rss_before has warmed the
    server up: the first requests after a start pay for one-time work (graph tracing, connections)."""
    for door in DOORS:
        costs = []
        for _ in range(3):
            before = server_cpu_seconds()
            response = post_text(assistant, door, ORDINARY_LONG)
            costs.append(server_cpu_seconds() - before)
            assert_answered(response, door)
        _ordinary_s[door.name] = sorted(costs)[1]


def post_text(assistant: LiveAssistant, door: Door, text: str) -> requests.Response:
    return requests.post(assistant.url + door.path, data=dumps(door.body(text), ascii_only=False),
                         timeout=TIMEOUT_S, headers=door.headers(assistant))


def server_cpu_seconds() -> float:
    """The CPU time the servers this test session started (Rasa, the action server) have used so far.
    CPU time, not wall time: what a request costs the server does not depend on what else the machine runs."""
    me, total = os.getpid(), 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def record(door: str, family: str, seconds: float, what: str) -> None:
    slowest, count, slowest_what = _timings.get((door, family), (-1.0, 0, ""))
    _timings[(door, family)] = (seconds, count + 1, what) if seconds > slowest else (slowest, count + 1, slowest_what)


@pytest.fixture(scope="module", autouse=True)
def timing_summary(rss_before: int) -> Any:
    """Writes the slowest request per door and family once the module has run."""
    yield None
    if not _timings:
        return
    lines = ["# Slowest request per door and input family (tests/test_hostile.py)", "",
             "Server time: CPU seconds of the Rasa and action servers per request. Budget per door: "
             + ", ".join(f"{door} {max(REQUEST_BUDGET_S, BUDGET_TIMES_ORDINARY * ordinary):.2f} s "
                         f"(an ordinary message at the text limit: {ordinary:.3f} s)"
                         for door, ordinary in sorted(_ordinary_s.items())) + ".",
             "The wall time to the response headers (on loopback) is given beside the slowest request.", "",
             "| door | family | slowest s | requests | slowest request |", "|---|---|---|---|---|"]
    for (door, family), (seconds, count, what) in sorted(_timings.items()):
        lines.append(f"| {door} | {family} | {seconds:.3f} | {count} | {what} |")
    per_door: Dict[str, float] = {}
    for (door, _), (seconds, _, _) in _timings.items():
        per_door[door] = max(per_door.get(door, 0.0), seconds)
    lines += ["", "| door | slowest s over all families |", "|---|---|"]
    lines += [f"| {door} | {seconds:.3f} |" for door, seconds in sorted(per_door.items())]
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n" + "\n".join(lines))


def dumps(value: Any, ascii_only: bool = True) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8")


def assert_refused(response: requests.Response, status: int, *codes: str) -> None:
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()
    check(body, {"$ref": "#/components/schemas/Error"})
    assert body["error"] in ERROR_CODES and body["message"]
    if codes:
        assert body["error"] in codes, body


def assert_answered(response: requests.Response, door: Door) -> None:
    assert response.status_code == 200, (response.status_code, response.text[:300])
    check(response.json(), door.schema)


def expected_refusal(text: str) -> Optional[tuple]:
    """What text_field (bot/channels/http.py) says about `text`, None when it is accepted."""
    if not text.strip():
        return 422, "empty_text"
    if len(text) > MAX_TEXT_CHARS:
        return 413, "text_too_long"
    if "\x00" in text:
        return 422, "invalid_text"
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return 422, "invalid_text"
    return None


def assert_text_handled(assistant: LiveAssistant, door: Door, text: str, ascii_only: bool = True) -> None:
    data = dumps(door.body(text), ascii_only)
    response = send(assistant, door, data)
    if len(data) > MAX_BODY_BYTES:
        assert_refused(response, 413, "body_too_large")
    elif (refusal := expected_refusal(text)) is not None:
        assert_refused(response, *refusal)
    else:
        assert_answered(response, door)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


@pytest.fixture(scope="module")
def rss_before(assistant: LiveAssistant) -> int:
    """The server's RSS before this module's barrage, warmed up by a short and a long message to each door."""
    for door in DOORS:
        for text in ("先热身一下", "my parcel arrived, thanks", ORDINARY_LONG):
            assert_answered(post_text(assistant, door, text), door)
    return rss_kb(assistant.server_pid)


def test_barrage_starts(assistant: LiveAssistant, rss_before: int) -> None:
    assert rss_before > 0


@doors
@HOSTILE
@given(text=texts, ascii_only=st.booleans())
def test_any_unicode_text_is_answered_or_refused_clearly(
    assistant: LiveAssistant, door: Door, text: str, ascii_only: bool
) -> None:
    assert_text_handled(assistant, door, text, ascii_only)


@doors
@FEW
@given(text=texts, at=st.integers(min_value=0), surrogate=st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"]))
def test_lone_surrogates_are_refused(assistant: LiveAssistant, door: Door, text: str, at: int, surrogate: str) -> None:
    cut = at % (len(text) + 1)
    assert_text_handled(assistant, door, text[:cut] + surrogate + text[cut:])


@doors
@settings(HOSTILE, max_examples=10)
@given(text=long_texts, ascii_only=st.booleans())
def test_long_texts_are_answered_up_to_the_limit_and_refused_above(
    assistant: LiveAssistant, door: Door, text: str, ascii_only: bool
) -> None:
    assert_text_handled(assistant, door, text, ascii_only)


@doors
@FEW
@given(value=not_strings)
def test_a_text_of_any_other_json_type_is_refused(assistant: LiveAssistant, door: Door, value: Any) -> None:
    assert_refused(send(assistant, door, dumps(door.body(value))), 422, "invalid_text")


@pytest.mark.parametrize("door", [d for d in DOORS if d.text_field == "message"], ids=lambda d: d.name)
@FEW
@given(sender=json_values)
@example(sender="abc\n")  # was accepted: re's "$" matches before a final newline
def test_a_bad_sender_is_refused(assistant: LiveAssistant, door: Door, sender: Any) -> None:
    strict = door.name != "rest"  # the REST door keeps Rasa's free-form sender ids
    valid = isinstance(sender, str) and (
        bool(sender) and len(sender) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_") for c in sender)
        if strict else 0 < len(sender) <= 255
    )
    assume(not (valid and door.name == "webchat"))  # a repeated valid sender would meet the rate limit
    response = send(assistant, door, dumps({"sender": sender, "message": "你好"}))
    if valid:
        assert_answered(response, door)
    else:
        assert_refused(response, 422, "invalid_sender")


@pytest.mark.parametrize("door", [d for d in DOORS if d.text_field == "message"], ids=lambda d: d.name)
@FEW
@given(metadata=json_values)
def test_metadata_of_any_type_is_answered_or_refused(assistant: LiveAssistant, door: Door, metadata: Any) -> None:
    body = {**door.body("你好"), "metadata": metadata}
    response = send(assistant, door, dumps(body))
    if metadata and not isinstance(metadata, dict):
        assert_refused(response, 422, "invalid_metadata")
    else:
        assert_answered(response, door)


@FEW
@given(lang=json_values)
def test_analyze_lang_of_any_type_is_answered_or_refused(assistant: LiveAssistant, lang: Any) -> None:
    door = BY_NAME["analyze"]
    response = send(assistant, door, dumps({"text": "他让我先交保证金", "lang": lang}))
    if lang in (None, "", "zh", "en"):
        assert_answered(response, door)
        assert response.json()["lang"] in ("zh", "en")
    else:
        assert_refused(response, 422, "invalid_lang")


@doors
@FEW
@given(extra=st.dictionaries(st.text(max_size=20), json_values, max_size=8))
def test_extra_fields_are_ignored(assistant: LiveAssistant, door: Door, extra: Dict[str, Any]) -> None:
    body = door.body("有人让我下载App共享屏幕")
    # Rasa's REST contract reads these two (input_channel, metadata); the metadata test covers them.
    extra = {k: v for k, v in extra.items() if k not in body and k not in ("lang", "metadata", "input_channel")}
    assert_answered(send(assistant, door, dumps({**extra, **body})), door)


@doors
@FEW
@given(body=json_values.filter(lambda v: not isinstance(v, dict)))
def test_a_body_that_is_not_an_object_is_refused(assistant: LiveAssistant, door: Door, body: Any) -> None:
    assert_refused(send(assistant, door, dumps(body)), 422, "invalid_body")


@doors
@pytest.mark.parametrize("size", [1000, 15000, 40000])
def test_huge_arrays_are_answered_or_refused_by_size(assistant: LiveAssistant, door: Door, size: int) -> None:
    data = dumps({**door.body("我中奖了要先交税"), "padding": [0] * size})
    response = send(assistant, door, data)
    if len(data) > MAX_BODY_BYTES:
        assert_refused(response, 413, "body_too_large")
    else:
        assert_answered(response, door)
    array = dumps([door.body("x")] * size)
    if len(array) > MAX_BODY_BYTES:
        assert_refused(send(assistant, door, array), 413, "body_too_large")
    else:
        assert_refused(send(assistant, door, array), 422, "invalid_body")


@doors
@pytest.mark.parametrize("depth", [100, 5000, 30000])
def test_deep_nesting_is_answered_or_refused(assistant: LiveAssistant, door: Door, depth: int) -> None:
    body = dumps(door.body("hi"))[:-1] + b', "x": ' + b"[" * depth + b"]" * depth + b"}"
    response = send(assistant, door, body)
    if len(body) > MAX_BODY_BYTES:
        assert_refused(response, 413, "body_too_large")
    elif depth > 900:  # deeper than Python's json recursion allows
        assert_refused(response, 400, "invalid_json")
    else:
        assert_answered(response, door)


@doors
@FEW
@given(prefix=st.binary(max_size=50), bad=st.sampled_from(INVALID_UTF8), suffix=st.binary(max_size=50))
def test_invalid_utf8_is_refused(
    assistant: LiveAssistant, door: Door, prefix: bytes, bad: bytes, suffix: bytes
) -> None:
    inside = (prefix + bad + suffix).replace(b'"', b"").replace(b"\\", b"")
    data = b'{"sender": "s", "message": "' + inside + b'", "text": "' + inside + b'"}'
    assert_refused(send(assistant, door, data), 400, "invalid_encoding")


@doors
@FEW
@given(content_type=st.one_of(
    st.none(),
    st.sampled_from(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                     "application/jsonx", "application/json-patch+json", "text/json", "*/*", "",
                     "APPLICATION/JSON; charset=utf-8", "application/json;charset=latin-1", "application/json "]),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40).map(str.lstrip),
))
def test_content_types_other_than_json_are_refused(
    assistant: LiveAssistant, door: Door, content_type: Optional[str]
) -> None:
    response = send(assistant, door, dumps(door.body("快递丢了要理赔")), content_type)
    if (content_type or "").split(";")[0].strip().lower() == "application/json":
        assert_answered(response, door)
    else:
        assert_refused(response, 415, "unsupported_media_type")


@doors
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_other_methods_get_a_json_405(assistant: LiveAssistant, door: Door, method: str) -> None:
    response = requests.request(
        method, assistant.url + door.path, data=dumps(door.body("hi")), headers=door.headers(assistant),
        timeout=TIMEOUT_S,
    )
    assert_refused(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "POST"


TOKEN_DOORS = pytest.mark.parametrize(
    "door", [d for d in DOORS if d.token], ids=lambda d: d.name
)


@TOKEN_DOORS
@FEW
@given(scheme=st.sampled_from(["Bearer", "bearer", "Basic", "Token", ""]),
       junk=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E) | st.sampled_from(" \t令é\u200b"),
                    max_size=60),
       where=st.sampled_from(["instead", "before", "after", "inside"]))
def test_wrong_tokens_are_refused(assistant: LiveAssistant, door: Door, scheme: str, junk: str, where: str) -> None:
    token = getattr(assistant, door.token or "")
    forged = {"instead": junk, "before": junk + token, "after": token + junk,
              "inside": token[:8] + junk + token[8:]}[where]
    header = f"{scheme} {forged}".lstrip().encode()  # requests refuses leading whitespace
    response = send(assistant, door, dumps(door.body("hi")), headers={"Authorization": header})
    if scheme.lower() == "bearer" and forged.strip() == token:
        assert_answered(response, door)
    else:
        assert_refused(response, 401, "unauthorized")


@TOKEN_DOORS
@pytest.mark.parametrize("size", [4000, 7000, 100_000])
def test_huge_authorization_headers_are_refused(assistant: LiveAssistant, door: Door, size: int) -> None:
    response = send(assistant, door, dumps(door.body("hi")), headers={"Authorization": "Bearer " + "x" * size})
    if size > 8000:
        # Sanic's own header-size limit answers before any route: a 413 in plain text.
        assert response.status_code == 413
    else:
        assert_refused(response, 401, "unauthorized")


@FEW
@given(text=texts.filter(lambda t: t.strip() and "\x00" not in t))
def test_rasa_api_parses_any_unicode_text(assistant: LiveAssistant, text: str) -> None:
    response = requests.post(
        assistant.url + "/model/parse", params={"token": assistant.api_token}, json={"text": text}, timeout=TIMEOUT_S,
    )
    assert response.status_code == 200, response.text[:300]
    parsed = response.json()
    assert parsed["text"] in (text, text.strip()) and {"intent", "intent_ranking", "entities"} <= set(parsed)


def test_rasa_api_refuses_a_missing_token(assistant: LiveAssistant) -> None:
    response = requests.post(assistant.url + "/model/parse", json={"text": "hi"}, timeout=TIMEOUT_S)
    assert response.status_code == 401 and response.json()["status"] == "failure"


def test_one_sender_flood_is_rate_limited_and_its_tracker_stays_consistent(assistant: LiveAssistant) -> None:
    sender = "flood-" + uuid.uuid4().hex[:12]
    total = 300

    def one(i: int) -> requests.Response:
        return requests.post(
            assistant.url + "/webhooks/webchat/webhook",
            json={"sender": sender, "message": f"第{i}条：对方让我转账到安全账户", "metadata": {"lang": "zh"}},
            timeout=TIMEOUT_S,
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(one, range(total)))
    accepted = [r for r in responses if r.status_code == 200]
    limited = [r for r in responses if r.status_code == 429]
    assert len(accepted) + len(limited) == total, sorted({r.status_code for r in responses})
    assert 0 < len(accepted) <= DEFAULT_MESSAGES * 2  # the window may slide once during a slow run
    for reply in accepted:
        check(reply.json(), REPLIES)
    wait = localized(load_knowledge().chat["rate_limited"], "zh")
    for refusal in limited:
        assert_refused(refusal, 429, "rate_limited")
        seconds = int(refusal.headers["Retry-After"])
        assert 1 <= seconds <= math.ceil(DEFAULT_WINDOW_S)
        assert refusal.json()["message"] == wait.format(seconds=seconds)

    tracker = requests.get(
        f"{assistant.url}/conversations/{assistant.conversation_id(sender)}/tracker",
        params={"token": assistant.api_token}, timeout=TIMEOUT_S,
    ).json()
    users = [e for e in tracker["events"] if e["event"] == "user"]
    assert len(users) == len(accepted)
    history = requests.get(assistant.url + "/webhooks/webchat/history", params={"sender": sender}, timeout=30).json()
    assert sum(m["role"] == "user" for m in history["messages"]) == len(accepted)


def test_another_sender_is_not_limited_by_a_flood(assistant: LiveAssistant) -> None:
    assert assistant.chat(uuid.uuid4().hex, "你好")


def test_the_rate_limit_answers_in_the_page_language(assistant: LiveAssistant) -> None:
    sender = uuid.uuid4().hex
    for _ in range(DEFAULT_MESSAGES):
        assistant.chat(sender, "hello", lang="en")
    response = assistant.post(
        "/webhooks/webchat/webhook", json={"sender": sender, "message": "hello", "metadata": {"lang": "en"}}
    )
    assert_refused(response, 429, "rate_limited")
    seconds = int(response.headers["Retry-After"])
    assert response.json()["message"] == localized(load_knowledge().chat["rate_limited"], "en").format(seconds=seconds)


def limits_of(conversation: int, client: int, hops: int = 0, exempt: frozenset = frozenset()) -> Any:
    return ratelimit.RateLimits(ratelimit.Limit(conversation, 2), ratelimit.Limit(client, 2), proxy_hops=hops,
                                exempt=exempt)


@dataclass
class Peer:
    """The two things client_address reads from a Sanic request: the peer's address and the headers."""

    ip: str
    forwarded: List[str]

    @property
    def headers(self) -> Peer:
        return self

    def getall(self, name: str, default: Any) -> Any:
        return self.forwarded if name == "x-forwarded-for" and self.forwarded else default


def peer(ip: str, *forwarded: str) -> Any:
    return Peer(ip, list(forwarded))


def test_rate_limits_count_per_conversation_and_per_client_and_can_be_off() -> None:
    limits = limits_of(3, 5)
    client = peer("10.0.0.1")
    assert [limits.retry_after(client, "webchat", "a") for _ in range(3)] == [None, None, None]
    assert limits.retry_after(client, "webchat", "a") in (1, 2)  # the conversation's window
    # New sender ids: the client's count goes on (4 taken so far, one more allowed).
    assert limits.retry_after(client, "webchat", "b") is None
    assert limits.retry_after(client, "webchat", "c") in (1, 2) and limits.retry_after(client, "rest") in (1, 2)
    assert limits.retry_after(peer("10.0.0.2"), "rest") is None  # another client
    assert all(limits.retry_after(client, "integration", f"s{i}") is None for i in range(10))  # not per client
    time.sleep(2.1)
    assert limits.retry_after(client, "webchat", "a") is None  # both windows are over
    off = limits_of(0, 0)
    assert all(off.retry_after(client, "webchat", "a") is None for _ in range(50))


def test_x_forwarded_for_is_believed_only_behind_the_trusted_proxies() -> None:
    assert ratelimit.client_address(peer("10.0.0.9", "203.0.113.5"), 0) == "10.0.0.9"  # no proxy: the header is ignored
    assert ratelimit.client_address(peer("10.0.0.9", "203.0.113.5"), 1) == "203.0.113.5"
    # The client's own header comes first; our proxy appended the address it saw.
    assert ratelimit.client_address(peer("10.0.0.9", "1.1.1.1, 203.0.113.5"), 1) == "203.0.113.5"
    assert ratelimit.client_address(peer("10.0.0.9", "1.1.1.1", "203.0.113.5, 10.0.0.8"), 2) == "203.0.113.5"
    assert ratelimit.client_address(peer("10.0.0.9", "203.0.113.5"), 2) == "10.0.0.9"  # fewer hops than proxies
    assert ratelimit.client_address(peer("10.0.0.9", "not an address"), 1) == "10.0.0.9"
    limits = limits_of(100, 2, hops=1, exempt=frozenset({"10.0.0.9"}))
    assert all(limits.retry_after(peer("10.0.0.9"), "rest") is None for _ in range(5))  # exempt
    assert [limits.retry_after(peer("10.0.0.9", "203.0.113.5"), "rest") is None for _ in range(3)] == [
        True, True, False]


def test_rate_limit_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBCHAT_RATE_MESSAGES", "2")
    monkeypatch.setenv("WEBCHAT_RATE_WINDOW_S", "0.5")  # counted in whole seconds
    monkeypatch.setenv("CLIENT_RATE_MESSAGES", "0")
    monkeypatch.delenv("REDIS_HOST", raising=False)
    limits = ratelimit.RateLimits.from_environment()
    assert [limits.retry_after(peer("10.0.0.3"), "webchat", "a") for _ in range(3)] == [None, None, 1]
    assert not limits.shared
    for variable, value in (("WEBCHAT_RATE_MESSAGES", "many"), ("CLIENT_RATE_MESSAGES", "2.5"),
                            ("CLIENT_RATE_WINDOW_S", "0"), ("TRUSTED_PROXY_HOPS", "-1"),
                            ("RATE_LIMIT_EXEMPT", "localhost")):
        with monkeypatch.context() as patch:
            patch.setenv(variable, value)
            with pytest.raises(ConfigurationError, match=variable):
                ratelimit.RateLimits.from_environment()
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_PASSWORD", "p@ss/word")
    assert ratelimit.RateLimits.from_environment().shared


def forwarded_for() -> Dict[str, str]:
    """A client of its own (random, in the benchmarking range 198.18.0.0/15), after what the client itself
    wrote there, the way the one trusted proxy appends it."""
    number = uuid.uuid4().int
    return {"X-Forwarded-For": f"203.0.113.7, 198.{18 + number % 2}.{number // 2 % 256}.{1 + number // 512 % 254}"}


@pytest.mark.parametrize("door", [BY_NAME["webchat"], BY_NAME["rest"]], ids=lambda d: d.name)
def test_a_new_sender_id_does_not_reset_the_client_limit(assistant: LiveAssistant, door: Door) -> None:
    client = forwarded_for()
    answers = [send(assistant, door, dumps({**door.body("你好"), "metadata": {"lang": "en"}}), headers=client)
               for _ in range(TEST_CLIENT_RATE_MESSAGES + 3)]  # a new sender id each time
    assert [r.status_code for r in answers] == [200] * TEST_CLIENT_RATE_MESSAGES + [429] * 3
    for refusal in answers[TEST_CLIENT_RATE_MESSAGES:]:
        assert_refused(refusal, 429, "rate_limited")
        seconds = int(refusal.headers["Retry-After"])
        assert 1 <= seconds <= 60
        assert refusal.json()["message"] == localized(load_knowledge().chat["rate_limited"], "en").format(
            seconds=seconds)
    assert_answered(send(assistant, door, dumps(door.body("你好")), headers=forwarded_for()), door)
    # The other door counts the same client: the limit is per address, not per door.
    other = BY_NAME["rest" if door.name == "webchat" else "webchat"]
    assert_refused(send(assistant, other, dumps(other.body("你好")), headers=client), 429, "rate_limited")


def test_the_integration_door_is_not_limited_per_client(assistant: LiveAssistant) -> None:
    door, client = BY_NAME["integration"], forwarded_for()
    for _ in range(TEST_CLIENT_RATE_MESSAGES + 2):
        assert_answered(send(assistant, door, dumps(door.body("你好")), headers=client), door)


def raw_request(assistant: LiveAssistant, head: bytes, body: bytes = b"", wait_s: float = 10.0) -> bytes:
    """Sends `head` and `body` on a plain socket and reads what comes back within `wait_s`."""
    host, port = assistant.url.rsplit("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=wait_s) as connection:
        connection.sendall(head + body)
        received = b""
        try:
            while b"\r\n\r\n" not in received or len(received) < received.find(b"\r\n\r\n") + 60:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                received += chunk
        except TimeoutError:
            pass
    return received


@pytest.mark.parametrize("door", DOORS, ids=lambda d: d.name)
def test_a_body_over_the_limit_is_refused_before_it_is_buffered(assistant: LiveAssistant, door: Door) -> None:
    """A Content-Length of 50 MB with 1 KB sent: answered 413 at once, not after waiting for (or storing) 50 MB."""
    headers = "".join(f"{k}: {v}\r\n" for k, v in door.headers(assistant).items())
    head = (f"POST {door.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
            f"Content-Length: {50_000_000}\r\n\r\n").encode()
    started = time.monotonic()
    answer = raw_request(assistant, head, b"{" + b" " * 1024)
    seconds = time.monotonic() - started
    record(door.name, "body_over_limit", seconds, "Content-Length 50 MB, 1 KB sent")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"body_too_large"' in answer and seconds < budget_s(assistant, door), (seconds, answer[:300])


@pytest.mark.parametrize("door", DOORS, ids=lambda d: d.name)
def test_a_chunked_body_over_the_limit_is_refused(assistant: LiveAssistant, door: Door) -> None:
    headers = "".join(f"{k}: {v}\r\n" for k, v in door.headers(assistant).items())
    head = f"POST {door.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Transfer-Encoding: chunked\r\n\r\n".encode()
    chunk = b"x" * 16384
    body = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(6))  # 96 KB, never ended
    answer = raw_request(assistant, head, body)
    assert answer.startswith(b"HTTP/1.1 413") and b'"body_too_large"' in answer, answer[:300]


@pytest.mark.parametrize("door", DOORS, ids=lambda d: d.name)
def test_a_body_at_the_limit_is_still_read(assistant: LiveAssistant, door: Door) -> None:
    start, end = dumps(door.body("我中奖了要先交税"))[:-1] + b', "padding": "', b'"}'
    data = start + b"p" * (MAX_BODY_BYTES - len(start) - len(end)) + end
    assert len(data) == MAX_BODY_BYTES
    assert_answered(send(assistant, door, data), door)
    assert_refused(send(assistant, door, data[:-2] + b'p"}'), 413, "body_too_large")


def worst_texts(family: str) -> List[Tuple[str, str]]:
    if family == "known":
        return [(label, shape(MAX_TEXT_CHARS)[:MAX_TEXT_CHARS]) for label, shape in KNOWN_SLOW]
    return family_texts(family, MAX_TEXT_CHARS, most=2)


WORST_FAMILIES = ["known", *sorted(families())]


@doors
@pytest.mark.parametrize("family", WORST_FAMILIES)
def test_worst_cases_of_every_pattern_family_answer_within_budget(
    assistant: LiveAssistant, door: Door, family: str
) -> None:
    for label, text in worst_texts(family):
        response = send(assistant, door, dumps(door.body(text), ascii_only=False), family=family, label=label)
        if (refusal := expected_refusal(text)) is not None:
            assert_refused(response, *refusal)
        else:
            assert_answered(response, door)


@pytest.mark.parametrize("door", [d for d in DOORS if d.text_field == "message"], ids=lambda d: d.name)
@pytest.mark.parametrize("metadata", [
    {"display": "微信" + " " * 20000},
    {"display": "微信" + " " * (MAX_TEXT_CHARS - 2)},
    {"lang": "zh", "x" * 100: "0" * 60000},
    {"lang": "0" * 30000, "display": ["微信"] * 2000},
], ids=["display-20k", "display-at-limit", "unknown-key-60k", "wrong-types"])
def test_metadata_is_kept_only_for_known_keys_within_caps(
    assistant: LiveAssistant, door: Door, metadata: Dict[str, Any]
) -> None:
    sender = uuid.uuid4().hex
    response = send(assistant, door, dumps({"sender": sender, "message": "你好", "metadata": metadata},
                                           ascii_only=False), family="metadata")
    assert_answered(response, door)
    tracker = requests.get(
        f"{assistant.url}/conversations/{assistant.conversation_id(sender, door.name)}/tracker",
        params={"token": assistant.api_token}, timeout=TIMEOUT_S,
    ).json()
    kept = [e.get("metadata") or {} for e in tracker["events"] if e["event"] == "user"][-1]
    for rasa_own in ("assistant_id", "model_id"):  # Rasa adds these to every user event
        kept.pop(rasa_own, None)
    assert set(kept) <= {"lang", "display"}, kept
    assert all(isinstance(v, str) and len(v) <= MAX_TEXT_CHARS for v in kept.values()), kept


def test_server_is_still_up_and_memory_bounded(assistant: LiveAssistant, rss_before: int) -> None:
    for path in ("/webhooks/hotline/", "/webhooks/webchat/", "/webhooks/rest/"):
        assert requests.get(assistant.url + path, timeout=30).status_code == 200
    status = requests.get(assistant.url + "/status", params={"token": assistant.api_token}, timeout=30)
    assert status.status_code == 200 and status.json()["model_file"]
    assert assistant.analyze("冒充公检法说我涉嫌洗钱，要把钱转到安全账户")["scam_type"] == "impersonate_official"
    growth_mb = (rss_kb(assistant.server_pid) - rss_before) / 1024
    print(f"\nRasa server RSS growth over the hostile barrage: {growth_mb:.1f} MB")
    assert growth_mb < MAX_RSS_GROWTH_MB

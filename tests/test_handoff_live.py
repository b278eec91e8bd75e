"""Hotline staff in a person's chat, on two replicas behind one PostgreSQL and one Redis.

The person chats with one replica and the staff console talks to the other, as behind a load
balancer: the queue, taking a chat, messages both ways, the bot quiet meanwhile, handing back;
case codes quoted in a later chat; verdicts marked wrong, stored redacted, counted and exported.
Runs before test_replicas (file order), which crashes parts of the same deployment.
"""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from typing import Any, Dict, Iterator, List, Set

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from bot.case_codes import codes_in, shown
from bot.knowledge import load_knowledge, localized
from bot.local_servers import ROOT, Deployment, Server
from tests.test_browser import ARTIFACTS
from tests.test_contract import check, response_schema

KB = load_knowledge()
CRITICAL_STORY = "有人自称公安说我的银行卡涉嫌洗钱，让我把钱转到安全账户配合调查，我十分钟前刚转了三万"
TIMING = ROOT / "results" / "handoff" / "timing.json"
POLL_S = 0.1


def chat(server: Server, sender: str, text: str, lang: str = "zh") -> requests.Response:
    return requests.post(f"{server.url}/webhooks/webchat/webhook", timeout=90,
                         json={"sender": sender, "message": text, "metadata": {"lang": lang}})


def history(server: Server, sender: str, after: float = 0) -> Dict[str, Any]:
    response = requests.get(f"{server.url}/webhooks/webchat/history", params={"sender": sender, "after": str(after)},
                            timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def staff(deployment: Deployment, server: Server, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {deployment.tokens['hotline']}"}
    return requests.request(method, f"{server.url}/webhooks/hotline{path}", headers=headers, timeout=60, **kwargs)


def texts(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def chat_text(key: str, lang: str = "zh") -> str:
    return str(localized(KB.chat[key], lang))


def new_waiting_item(deployment: Deployment, server: Server, before: Set[int], timeout_s: float = 30) -> Dict[str, Any]:
    """The first waiting handoff not among `before`, as soon as the queue shows it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for item in staff(deployment, server, "GET", "/handoffs").json()["waiting"]:
            if item["id"] not in before:
                return item
        time.sleep(POLL_S)
    raise AssertionError("the chat never reached the queue")


@pytest.fixture
def console(deployment: Deployment) -> Iterator[str]:
    """A console on duty on the second replica, off duty afterwards."""
    name = f"console-{uuid.uuid4().hex[:12]}"
    server = deployment.replicas[1]
    assert staff(deployment, server, "POST", "/handoffs/duty", json={"console": name, "on": True}).status_code == 200
    yield name
    staff(deployment, server, "POST", "/handoffs/duty", json={"console": name, "on": False})


def record_timing(name: str, seconds: float) -> None:
    TIMING.parent.mkdir(parents=True, exist_ok=True)
    timings = json.loads(TIMING.read_text()) if TIMING.exists() else {}
    timings[name] = round(seconds, 3)
    TIMING.write_text(json.dumps(timings, indent=2) + "\n")


def test_nobody_on_duty_means_110_and_96110_and_no_queue(deployment: Deployment) -> None:
    a, b = deployment.replicas
    assert staff(deployment, b, "GET", "/handoffs").json()["on_duty"] == 0
    sender = uuid.uuid4().hex
    replies = chat(a, sender, "我要转人工").json()
    assert "110" in texts(replies) and "96110" in texts(replies), replies
    assert not any((r.get("custom") or {}).get("handoff") for r in replies), replies
    assert staff(deployment, b, "GET", "/handoffs").json()["waiting"] == []
    assert history(a, sender)["handoff"] is None


def test_the_staff_routes_refuse_anyone_without_the_staff_token(deployment: Deployment) -> None:
    server = deployment.replicas[0]
    routes = [("GET", "/handoffs"), ("POST", "/handoffs/duty"), ("POST", "/handoffs/1/take"),
              ("GET", "/handoffs/1/messages"), ("POST", "/handoffs/1/messages"), ("POST", "/handoffs/1/release"),
              ("GET", "/cases/K7QM3XPA"), ("POST", "/feedback"), ("GET", "/feedback.csv")]
    for token in (None, deployment.tokens["integration"], "not-the-token"):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for method, path in routes:
            response = requests.request(method, f"{server.url}/webhooks/hotline{path}", headers=headers,
                                        json={"console": "console-anybody"}, timeout=30)
            assert response.status_code == 401, (method, path, token, response.text)
            assert response.json()["error"] == "unauthorized"


def test_a_critical_chat_goes_to_staff_on_the_other_replica_and_back(deployment: Deployment, console: str) -> None:
    a, b = deployment.replicas
    sender = uuid.uuid4().hex
    replies = chat(a, sender, CRITICAL_STORY).json()
    critical = [r for r in replies if (r.get("custom") or {}).get("risk_level") == "critical"]
    assert critical and {"title": "找热线工作人员", "payload": "/request_human"} in critical[0]["buttons"], replies

    before = {item["id"] for item in staff(deployment, b, "GET", "/handoffs").json()["waiting"]}
    started = time.monotonic()
    asked = chat(a, sender, "/request_human").json()
    item = new_waiting_item(deployment, b, before)
    check(staff(deployment, b, "GET", "/handoffs").json(), response_schema("/webhooks/hotline/handoffs", "get", "200"))
    record_timing("api_request_to_queue_s", time.monotonic() - started)
    assert item["scam_type"] == "impersonate_official" and item["risk_level"] == "critical", item
    assert item["facts"]["money_sent"] is True, item
    assert not {"text", "messages", "conversation_id"} & set(item), item  # no message text in the queue
    # The place in the queue, then (in the middle of the questions) the next question while they wait.
    assert (asked[0].get("custom") or {}).get("handoff") == "waiting" and len(asked) == 2, asked

    took = staff(deployment, b, "POST", f"/handoffs/{item['id']}/take", json={"console": console})
    assert took.status_code == 200 and took.json()["status"] == "taken", took.text
    check(took.json(), response_schema("/webhooks/hotline/handoffs/{handoff_id}/take", "post", "200"))
    second = staff(deployment, a, "POST", f"/handoffs/{item['id']}/take", json={"console": "console-second-one"})
    assert second.status_code == 409 and second.json()["error"] == "already_taken"
    assert history(a, sender)["handoff"] == "with_staff"

    # The person writes: Rasa keeps the message, the bot says nothing, no fallback either.
    quiet = chat(a, sender, "你好，是真人吗？我现在很慌")
    assert quiet.status_code == 200 and quiet.json() == [] and quiet.headers["X-Handoff"] == "with_staff"
    since = time.time() - 1
    for line in ("您好，我是反诈中心的工作人员，请先别再转账。", "请告诉我您是通过什么方式转的这三万？"):
        sent = staff(deployment, b, "POST", f"/handoffs/{item['id']}/messages", json={"console": console, "text": line})
        assert sent.status_code == 201, sent.text
    # Any replica shows the person the staff's messages, marked as the staff's.
    seen = history(a, sender, since)["messages"]
    assert [m["text"] for m in seen if m["role"] == "staff"][-2:] == [
        "您好，我是反诈中心的工作人员，请先别再转账。", "请告诉我您是通过什么方式转的这三万？"]
    assert chat(a, sender, "是用手机银行转的").json() == []
    assert chat(b, sender, "对方还让我下载一个会议软件").json() == []
    read = staff(deployment, a, "GET", f"/handoffs/{item['id']}/messages", params={"console": console})
    check(read.json(), response_schema("/webhooks/hotline/handoffs/{handoff_id}/messages", "get", "200"))
    said = [m["text"] for m in read.json()["messages"] if m["role"] == "user"]
    assert said[-2:] == ["是用手机银行转的", "对方还让我下载一个会议软件"], said
    other = staff(deployment, a, "GET", f"/handoffs/{item['id']}/messages", params={"console": "console-second-one"})
    assert other.status_code == 409 and other.json()["error"] == "not_yours"

    back = staff(deployment, a, "POST", f"/handoffs/{item['id']}/release", json={"console": console})
    assert back.status_code == 200 and back.json()["status"] == "closed", back.text
    after = history(b, sender)
    check(after, response_schema("/webhooks/webchat/history", "get", "200"))
    assert after["handoff"] is None
    assert after["messages"][-1]["text"] == chat_text("handoff_returned")
    # The bot answers again.
    again = chat(b, sender, "那我现在应该怎么办")
    assert again.status_code == 200 and texts(again.json()).strip(), again.text
    late = staff(deployment, b, "POST", f"/handoffs/{item['id']}/messages", json={"console": console, "text": "还在吗"})
    assert late.status_code == 409


def test_time_from_asking_for_a_person_to_the_queue(deployment: Deployment, console: str) -> None:
    """"转人工" typed on one replica until the other replica's queue lists the chat: five new chats."""
    a, b = deployment.replicas
    seconds = []
    for _ in range(5):
        before = {item["id"] for item in staff(deployment, b, "GET", "/handoffs").json()["waiting"]}
        started = time.monotonic()
        replies = chat(a, uuid.uuid4().hex, "转人工").json()
        new_waiting_item(deployment, b, before)
        seconds.append(time.monotonic() - started)
        assert [(r.get("custom") or {}).get("handoff") for r in replies] == ["waiting"], replies
    seconds.sort()
    record_timing("typed_request_to_queue_median_s", seconds[2])
    record_timing("typed_request_to_queue_max_s", seconds[-1])


def test_the_case_code_comes_with_the_reporting_steps_and_a_later_chat_adds_to_the_case(
    deployment: Deployment,
) -> None:
    a, b = deployment.replicas
    first = uuid.uuid4().hex
    chat(a, first, "网上认识的男朋友一直让我在他推荐的平台投资，我已经充了八万，现在说要交税才能提现")
    steps = texts(chat(a, first, "/show_report").json())
    codes = codes_in(steps)
    assert len(codes) == 1 and shown(codes[0]) in steps, steps
    code = codes[0]
    case = staff(deployment, b, "GET", f"/cases/{shown(code).lower()}").json()
    check(case, response_schema("/webhooks/hotline/cases/{code}", "get", "200"))
    assert case["case_code"] == code and case["scam_type"] == "romance" and case["notes"] == []
    assert "conversation_id" not in case

    later = uuid.uuid4().hex  # another day, another phone: a new chat on the other replica
    replies = chat(b, later, f"我上次登记过，编号 {shown(code)}，他又让我转了5000到 6222021234567890128").json()
    assert chat_text("case_linked").format(code=shown(code)) in texts(replies), replies
    case = staff(deployment, a, "GET", f"/cases/{code}").json()
    assert len(case["notes"]) == 1 and "5000" in case["notes"][0]["text"], case
    assert "6222021234567890128" not in json.dumps(case, ensure_ascii=False)
    assert case["money_sent"] is True

    unknown = texts(chat(b, uuid.uuid4().hex, "我的编号是 ZZ22-ZZ22").json())
    assert chat_text("case_code_unknown").format(code="ZZ22-ZZ22") in unknown
    assert staff(deployment, a, "GET", "/cases/ZZ22ZZ22").status_code == 404


def test_verdicts_marked_wrong_are_stored_redacted_counted_and_exported(deployment: Deployment) -> None:
    a, b = deployment.replicas
    sender = uuid.uuid4().hex
    chat(a, sender, "微信上一个自称是我领导的人说他在开会，让我先帮他给合作方转两万，他的电话是13912345678")
    noted = texts(chat(a, sender, "/not_a_scam").json())
    assert chat_text("feedback_noted") in noted, noted
    added = staff(deployment, b, "POST", "/feedback", json={
        "text": "您的快递丢了，请联系客服理赔，退款到卡 6222021234567890128", "judged_type": "none",
        "right_type": "customer_service", "comment": "这是冒充客服"})
    assert added.status_code == 201, added.text
    bad = staff(deployment, b, "POST", "/feedback", json={"text": "x", "judged_type": "no_such_type"})
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_scam_type"

    stats = staff(deployment, a, "GET", "/stats").json()["feedback"]
    assert stats["by_source"]["person"] >= 1 and stats["by_source"]["staff"] >= 1, stats
    assert stats["by_correction"]["none->customer_service"] >= 1, stats
    exported = staff(deployment, b, "GET", "/feedback.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {"person", "staff"} <= {r["source"] for r in rows}
    assert "13912345678" not in exported.text and "6222021234567890128" not in exported.text
    person = [r for r in rows if r["source"] == "person"][-1]
    assert person["judged_type"] == "impersonate_acquaintance" and person["right_type"] == "none", person
    assert "领导" in person["text"]


def test_in_the_browser_a_citizen_asks_for_a_person_and_staff_answer_from_the_console(
    deployment: Deployment, browser: Browser,
) -> None:
    """Two browser contexts: a citizen's phone on one replica, a staff console on the other."""
    a, b = deployment.replicas
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    citizen_context = browser.new_context(viewport={"width": 400, "height": 860}, locale="zh-CN")
    staff_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        desk: Page = staff_context.new_page()
        desk.goto(b.url + "/webhooks/hotline/")
        desk.fill("#token", deployment.tokens["hotline"])
        desk.click("#duty-toggle")
        expect(desk.locator("#duty-count")).to_contain_text("1", timeout=10_000)

        phone: Page = citizen_context.new_page()
        phone.goto(a.url + "/webhooks/webchat/")
        phone.fill("#chat-input", CRITICAL_STORY)
        phone.click("#send-button")
        ask = phone.locator(".quick-reply", has_text="找热线工作人员").last
        expect(ask).to_be_visible(timeout=60_000)
        before = {item["id"] for item in staff(deployment, b, "GET", "/handoffs").json()["waiting"]}
        started = time.monotonic()
        ask.click()
        queued = desk.locator(f'.handoff-item[data-handoff-id="{new_waiting_item(deployment, b, before)["id"]}"]')
        expect(queued).to_be_visible(timeout=30_000)
        # The console polls its queue every 3 s: this is what staff wait for, polling included.
        record_timing("browser_click_to_console_queue_s", time.monotonic() - started)
        expect(queued).to_contain_text(str(localized(KB.types["impersonate_official"].name, "zh")))
        desk.screenshot(path=str(ARTIFACTS / "handoff_queue.png"), full_page=True)

        queued.locator(".handoff-take").click()
        chat_view = desk.locator("#handoff-chat")
        expect(chat_view).to_contain_text("十分钟前刚转了三万", timeout=15_000)
        for line in ("您好，我是热线工作人员，请先停止一切转账。", "您现在方便接电话吗？我们可以马上帮您申请止付。"):
            desk.fill("#handoff-message", line)
            desk.click("#handoff-send")
            expect(desk.locator("#handoff-messages .chat-msg-staff", has_text=line)).to_be_visible(timeout=15_000)
        staff_bubbles = phone.locator(".msg-staff")
        expect(staff_bubbles).to_have_count(2, timeout=15_000)
        expect(staff_bubbles.last).to_contain_text("申请止付")
        phone.screenshot(path=str(ARTIFACTS / "handoff_staff_message.png"), full_page=True)

        for line in ("方便的，我的电话可以接", "谢谢你们"):
            phone.fill("#chat-input", line)
            phone.click("#send-button")
            expect(chat_view).to_contain_text(line, timeout=15_000)
        expect(phone.locator(".msg-bot", has_text=chat_text("handoff_taken"))).to_have_count(1)

        desk.click("#handoff-release")
        expect(phone.locator(".msg-bot", has_text=chat_text("handoff_returned"))).to_be_visible(timeout=15_000)
        bot_bubbles = phone.locator(".msg-bot").count()
        phone.fill("#chat-input", "我还要准备哪些证据")
        phone.click("#send-button")
        expect(phone.locator(".msg-bot")).not_to_have_count(bot_bubbles, timeout=60_000)
        desk.click("#duty-toggle")
    finally:
        citizen_context.close()
        staff_context.close()

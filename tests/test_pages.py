"""The web chat, console and statistics pages: a strict Content-Security-Policy, never framed, no
Referer to anyone; links the chat makes from pasted URLs carry rel="noreferrer" (a scam site must
not learn that its victim used the assistant). Against the live server and in Debian's chromium."""

from __future__ import annotations

import uuid
from typing import Iterator, List

import pytest
import requests
from playwright.sync_api import Browser, expect, sync_playwright

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, LiveAssistant

PAGES = [
    "/webhooks/webchat/", "/webhooks/webchat/static/app.js", "/webhooks/hotline/",
    "/webhooks/hotline/static/app.js", "/webhooks/hotline/stats/", "/webhooks/hotline/stats/static/stats.js",
]


def directives(header: str) -> dict:
    parts = [p.strip().split() for p in header.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_a_strict_policy(assistant: LiveAssistant, path: str) -> None:
    response = requests.get(assistant.url + path, timeout=30)
    assert response.status_code == 200
    policy = directives(response.headers.get("Content-Security-Policy", ""))
    assert policy.get("default-src") == ["'none'"]
    assert policy.get("frame-ancestors") == ["'none'"]
    assert policy.get("script-src") == ["'self'"] and policy.get("style-src") == ["'self'"]
    assert policy.get("connect-src") == ["'self'"] and policy.get("base-uri") == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)
    assert response.headers.get("Referrer-Policy") == "no-referrer"
    assert response.headers.get("X-Frame-Options") == "DENY"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.mark.parametrize("path", ["/webhooks/webchat/", "/webhooks/hotline/", "/webhooks/hotline/stats/"])
def test_pages_work_under_the_policy(assistant: LiveAssistant, browser: Browser, path: str) -> None:
    """Nothing a page needs is blocked: no CSP report in the console, the page's script ran."""
    page = browser.new_page()
    page.add_init_script(
        "window.__violations = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    messages: List[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.goto(assistant.url + path)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__violations") == []
    assert not [m for m in messages if "Content Security Policy" in m or "Refused to" in m], messages
    # the page's own script ran and fetched its strings (connect-src 'self')
    assert page.evaluate(
        "performance.getEntriesByType('resource').some(e => e.name.split('?')[0].endsWith('.json'))"
    )
    page.close()


def test_pasted_links_carry_no_referrer(assistant: LiveAssistant, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(assistant.url + "/webhooks/webchat/")
    page.fill("#chat-input", f"他发来 https://pay-refund.example.top/kefu?u={uuid.uuid4().hex[:6]} 让我填卡号")
    page.click("#send-button")
    link = page.locator(".msg-user a[href^='https://pay-refund.example.top/kefu']").first
    expect(link).to_be_visible(timeout=60_000)
    rel = (link.get_attribute("rel") or "").split()
    assert "noreferrer" in rel and "noopener" in rel
    assert page.evaluate("document.referrer") == ""
    page.close()

"""The web chat and the hotline console in a real browser (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from bench.screenshots import SAMPLES, render
from bot.identifiers import identifier_knowledge
from bot.knowledge import load_knowledge, localized
from bot.local_servers import ROOT
from tests.conftest import LiveAssistant

KB = load_knowledge()
ARTIFACTS = ROOT / "results" / "screenshots"


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 400, "height": 860}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def test_webchat_romance_story_quick_reply_and_reload(assistant: LiveAssistant, phone: Page) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    phone.goto(assistant.url + "/webhooks/webchat/")
    phone.fill("#chat-input", "我在交友软件上认识一个男的，他说爱我，现在一直让我在他推荐的平台充钱投资")
    phone.click("#send-button")

    romance = localized(KB.types["romance"].name, "zh")
    expect(phone.locator(".msg-bot", has_text=romance).first).to_be_visible(timeout=60_000)
    question = localized(KB.triage_questions["money_sent"]["text"], "zh")
    expect(phone.locator(".msg-bot", has_text=question)).to_be_visible()
    expect(phone.locator("#typing")).to_be_hidden()

    yes = localized(KB.triage_questions["money_sent"]["buttons"][0]["title"], "zh")
    phone.locator(".quick-reply", has_text=yes).last.click()
    expect(phone.locator(".msg-user", has_text=yes)).to_be_visible()
    next_question = localized(KB.triage_questions["time_since_transfer"]["text"], "zh")
    expect(phone.locator(".msg-bot", has_text=next_question)).to_be_visible(timeout=60_000)
    phone.screenshot(path=str(ARTIFACTS / "webchat-romance.png"), full_page=True)

    phone.reload()
    expect(phone.locator(".msg-user").first).to_contain_text("交友软件")
    expect(phone.locator(".msg-bot", has_text=romance).first).to_be_visible()
    expect(phone.locator(".msg-bot", has_text=next_question)).to_be_visible()
    # tel: links that dial on a phone
    assert phone.locator("a[href='tel:110']").count() > 0
    phone.screenshot(path=str(ARTIFACTS / "webchat-after-reload.png"), full_page=True)


def test_webchat_says_a_number_was_reported_and_adds_it_when_the_person_agrees(
    assistant: LiveAssistant, phone: Page
) -> None:
    staff = {"Authorization": f"Bearer {assistant.hotline_token}"}
    number = f"170{uuid.uuid4().int % 10**8:08d}"
    body = {"kind": "phone", "value": number}
    assert requests.post(assistant.url + "/webhooks/hotline/reported", json=body, headers=staff,
                         timeout=30).status_code == 201
    texts = identifier_knowledge().reported
    phone.goto(assistant.url + "/webhooks/webchat/")
    phone.fill("#chat-input", f"有个自称京东客服的说我开通了会员要扣费，让我加他微信处理，电话是{number}")
    phone.click("#send-button")
    note = phone.locator(".msg-reported")
    expect(note).to_be_visible(timeout=60_000)
    expect(note).to_contain_text("1次")
    expect(note).not_to_contain_text(number)  # never repeated: the stored conversation must not hold it
    phone.locator(".quick-reply", has_text="怎么报案").last.click()
    add = phone.locator(".quick-reply", has_text=localized(texts["offer_yes"], "zh"))
    expect(add).to_be_visible(timeout=60_000)
    add.last.click()
    expect(phone.locator(".msg-bot", has_text=localized(texts["added"], "zh"))).to_be_visible(timeout=60_000)
    phone.screenshot(path=str(ARTIFACTS / "webchat-reported.png"), full_page=True)
    looked_up = requests.post(assistant.url + "/webhooks/hotline/reported/lookup", json=body, headers=staff,
                              timeout=30).json()
    assert looked_up["reports"] == 2


def test_webchat_reads_a_screenshot_and_answers_it(assistant: LiveAssistant, phone: Page, tmp_path: Path) -> None:
    sample = next(s for s in SAMPLES if s.name == "zh_wechat_customer_service")
    path = tmp_path / "screenshot.png"
    render(sample).save(path)
    phone.goto(assistant.url + "/webhooks/webchat/")
    phone.set_input_files("#image-input", str(path))
    mine = phone.locator(".msg-user.msg-image")
    expect(mine).to_have_count(1, timeout=10_000)
    # the person's bubble shows what was read, then the bot says it read it and answers the story
    expect(mine).to_contain_text(sample.text.splitlines()[0][:8], timeout=90_000)
    name = localized(KB.types["customer_service"].name, "zh")
    expect(phone.locator(".msg-bot", has_text=name).first).to_be_visible(timeout=60_000)
    phone.screenshot(path=str(ARTIFACTS / "webchat-screenshot.png"), full_page=True)
    phone.reload()
    expect(phone.locator(".msg-user.msg-image")).to_have_count(1, timeout=30_000)


def test_webchat_keeps_the_draft_when_the_server_is_down(assistant: LiveAssistant, phone: Page) -> None:
    phone.goto(assistant.url + "/webhooks/webchat/")
    phone.route("**/webhooks/webchat/webhook", lambda route: route.abort())
    phone.fill("#chat-input", "有人让我共享屏幕")
    phone.click("#send-button")
    expect(phone.locator(".send-error")).to_be_visible(timeout=40_000)
    phone.unroute("**/webhooks/webchat/webhook")
    phone.locator(".retry-button").last.click()
    expect(phone.locator(".msg-bot").last).to_be_visible(timeout=60_000)
    expect(phone.locator(".send-error")).to_have_count(0)


def test_console_highlights_red_flags(assistant: LiveAssistant, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(assistant.url + "/webhooks/hotline/")
    page.fill("#token", assistant.hotline_token)
    page.fill("#caller-text", "自称公安局的警官说我涉嫌洗钱，让我把钱转到安全账户配合调查，还要我保密")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#scam-type")).to_have_attribute("data-scam-type", "impersonate_official", timeout=30_000)
    assert page.locator("#risk-level").get_attribute("data-risk") in {"critical", "high", "medium", "low"}
    expect(page.locator("#highlighted-text mark").first).to_be_visible()
    expect(page.locator("#next-questions li").first).to_be_visible()
    expect(page.locator("#script")).to_contain_text(localized(KB.types["impersonate_official"].script, "zh")[:10])
    page.screenshot(path=str(ARTIFACTS / "hotline-console.png"), full_page=True)

    page.fill("#token", "wrong")
    page.click("#analyze-button")
    expect(page.locator("#console-error")).to_be_visible(timeout=30_000)
    context.close()


def test_console_shows_each_link_and_number_checked(assistant: LiveAssistant, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(assistant.url + "/webhooks/hotline/")
    page.fill("#token", assistant.hotline_token)
    page.fill("#caller-text",
              "自称工行客服，让我回拨 +95588，再登录 http://icbc-verify.top/login 解冻，官网是 www.icbc.com.cn")
    page.keyboard.press("Control+Enter")
    items = page.locator("#identifiers li.identifier")
    expect(items).to_have_count(3, timeout=30_000)
    expect(page.locator("#identifiers li[data-status='warning']")).to_have_count(2)
    official = page.locator("#identifiers li[data-status='official']")
    expect(official).to_contain_text("www.icbc.com.cn")
    expect(official).to_contain_text("中国工商银行")
    # The suspicious ones are highlighted in the caller's words too, with their reason as the title.
    expect(page.locator("#highlighted-text mark[data-flag-id='number_poses_as_service_line']")).to_have_text("+95588")
    expect(page.locator("#highlighted-text mark[data-flag-id='link_brand_lookalike']")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "hotline-console-identifiers.png"), full_page=True)
    context.close()


def test_console_reports_a_number_imports_a_list_and_shows_the_match(
    assistant: LiveAssistant, browser: Browser, tmp_path: Path
) -> None:
    strings = json.loads((ROOT / "bot/static/console/strings.json").read_text(encoding="utf-8"))["zh"]
    number, site = f"165{uuid.uuid4().int % 10**8:08d}", f"refund-{uuid.uuid4().hex[:8]}.cn"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(assistant.url + "/webhooks/hotline/")
    page.fill("#token", assistant.hotline_token)
    page.fill("#reported-value", number)
    page.click("#reported-add")
    expect(page.locator("#reported-status")).to_contain_text("1 次", timeout=30_000)
    # A police station's list, as a spreadsheet in China saves it: GB18030, Chinese kind names, one bad row.
    bad = tmp_path / "list-bad.csv"
    bad.write_bytes(f"kind,value\n网址,{site}\n号码,12\n".encode("gb18030"))
    page.set_input_files("#reported-file", str(bad))
    expect(page.locator("#reported-errors li")).to_have_count(1, timeout=30_000)
    expect(page.locator("#reported-errors li")).to_contain_text("3")
    good = tmp_path / "list.csv"
    good.write_bytes(f"kind,value\n网址,{site}\n".encode("gb18030"))
    page.set_input_files("#reported-file", str(good))
    expect(page.locator("#reported-status")).to_have_text(
        strings["reportedImported"].format(rows=1, added=1, already=0), timeout=30_000)
    page.fill("#caller-text", f"您好，我是物业，维修费请到 https://pay.{site}/fee 缴纳，有问题打 {number}")
    page.keyboard.press("Control+Enter")
    matches = page.locator("#reported-matches li.reported-match")
    expect(matches).to_have_count(2, timeout=30_000)
    expect(matches.first).to_contain_text(f"pay.{site}")
    expect(page.locator("#highlighted-text mark[data-flag-id='reported_phone']")).to_have_text(number)
    page.screenshot(path=str(ARTIFACTS / "hotline-console-reported.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#reported-export")
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert exported.startswith("kind,key_hash,") and number not in exported and site not in exported
    context.close()


@pytest.mark.parametrize("path, strings_file, placeholder_key", [
    ("/webhooks/hotline/", "bot/static/console/strings.json", "callerPlaceholder"),
    ("/webhooks/hotline/stats/", "bot/static/stats/stats-strings.json", None),
])
def test_staff_pages_switch_language(
    assistant: LiveAssistant, browser: Browser, path: str, strings_file: str, placeholder_key: str
) -> None:
    """Both staff pages apply their strings through PageKit.applyPageStrings, both ways."""
    strings = json.loads((ROOT / strings_file).read_text(encoding="utf-8"))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(assistant.url + path)
    for lang, html_lang in (("en", "en"), ("zh", "zh-CN")):
        page.click("#lang-toggle")
        expect(page).to_have_title(strings[lang]["pageTitle"])
        assert page.evaluate("document.documentElement.lang") == html_lang
        assert page.get_attribute("#lang-toggle", "lang") == ("zh-CN" if lang == "en" else "en")
        if placeholder_key:
            assert page.get_attribute("#caller-text", "placeholder") == strings[lang][placeholder_key]
    context.close()

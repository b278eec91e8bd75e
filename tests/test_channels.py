"""The three doors, against the live assistant: web chat, hotline API, integration webhooks."""

from __future__ import annotations

import uuid

import pytest
import requests

from bot.channels.http import MAX_BODY_BYTES, MAX_TEXT_CHARS, RequestRejected, after_param
from bot.knowledge import load_knowledge, localized
from tests.conftest import LiveAssistant

KB = load_knowledge()
ANALYZE = "/webhooks/hotline/analyze"


def new_sender() -> str:
    return uuid.uuid4().hex


@pytest.mark.parametrize("text, lang, expected", [
    ("我在探探上认识了一个男的，聊了两个月说爱我，最近天天让我在他推荐的平台上充钱投资，说稳赚不赔", "zh", "romance"),
    ("自称公安局的民警打电话说我的身份证涉嫌洗钱，要我把存款转到安全账户配合调查，还不让告诉家里人", "zh",
     "impersonate_official"),
    ("淘宝客服打电话说我买的衣服有质量问题要给我退款，让我下载一个会议软件共享屏幕", "zh", "customer_service"),
    ("Someone I met on a dating app has been talking to me every day and now wants me to put money into "
     "a crypto trading platform he uses", "en", "romance"),
    ("A man said he was a police officer, that my bank account is involved in money laundering, and that I "
     "must move my savings to a safe account", "en", "impersonate_official"),
])
def test_analyze_recognises_the_scam(assistant: LiveAssistant, text: str, lang: str, expected: str) -> None:
    result = assistant.analyze(text)
    assert result["scam_type"] == expected, result
    assert result["lang"] == lang
    assert result["scam_name"] == localized(KB.types[expected].name, lang)
    assert 0 < result["confidence"] <= 1
    assert result["risk_level"] in {"critical", "high", "medium", "low"}
    assert result["red_flags"], "a textbook story must show red flags"
    for flag in result["red_flags"]:
        assert text[flag["start"]:flag["end"]] == flag["phrase"]
        assert flag["why"]
    assert result["next_questions"] == localized(KB.types[expected].next_questions, lang)
    assert result["script"] == localized(KB.types[expected].script, lang)
    assert result["report_steps"][: len(localized(KB.reporting["channels"], lang))] == list(
        localized(KB.reporting["channels"], lang)
    )
    assert all(alt["scam_type"] != expected for alt in result["alternatives"])


@pytest.mark.parametrize("text", [
    "【顺丰速运】您的快件已到达小区丰巢柜，取件码 6683，请及时取件。",
    "Your table for two is booked for 7pm on Friday. Reply C to cancel.",
])
def test_analyze_does_not_alarm_on_ordinary_messages(assistant: LiveAssistant, text: str) -> None:
    result = assistant.analyze(text)
    assert result["scam_type"] == "none", result
    assert result["risk_level"] == "low"


def test_analyze_reads_a_recent_loss_as_critical(assistant: LiveAssistant) -> None:
    result = assistant.analyze("冒充公安的骗子让我转到安全账户，我半小时前已经转过去8万了")
    assert result["risk_level"] == "critical"


def test_analyze_answers_in_the_language_asked_for(assistant: LiveAssistant) -> None:
    result = assistant.analyze("自称警察让我转钱到安全账户", lang="en")
    assert result["lang"] == "en"
    assert result["script"] == localized(KB.types[result["scam_type"]].script, "en")


def _post_raw(assistant: LiveAssistant, body: bytes, content_type: str = "application/json",
              token: str | None = "valid") -> requests.Response:
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {assistant.hotline_token if token == 'valid' else token}"
    return requests.post(assistant.url + ANALYZE, data=body, headers=headers, timeout=30)


@pytest.mark.parametrize("body, content_type, token, status, code", [
    (b'{"text": "hi"}', "application/json", None, 401, "unauthorized"),
    (b'{"text": "hi"}', "application/json", "wrong-token", 401, "unauthorized"),
    (b'{"text": ""}', "application/json", "valid", 422, "empty_text"),
    (b'{"text": "   "}', "application/json", "valid", 422, "empty_text"),
    (b'{"text": 42}', "application/json", "valid", 422, "invalid_text"),
    (b'{}', "application/json", "valid", 422, "invalid_text"),
    (b'["text"]', "application/json", "valid", 422, "invalid_body"),
    (b'{"text": "hi", "lang": "fr"}', "application/json", "valid", 422, "invalid_lang"),
    (b'{"text": ', "application/json", "valid", 400, "invalid_json"),
    (b'', "application/json", "valid", 400, "empty_body"),
    (b'{"text": "\xff\xfe bad"}', "application/json", "valid", 400, "invalid_encoding"),
    (b'text=hi', "application/x-www-form-urlencoded", "valid", 415, "unsupported_media_type"),
    (('{"text": "' + "骗" * (MAX_TEXT_CHARS + 1) + '"}').encode(), "application/json", "valid", 413, "text_too_long"),
    (b'{"text": "' + b"a" * (MAX_BODY_BYTES + 10) + b'"}', "application/json", "valid", 413, "body_too_large"),
    (b'[' * 5000 + b']' * 5000, "application/json", "valid", 400, "invalid_json"),
])
def test_analyze_refuses_bad_requests_clearly(
    assistant: LiveAssistant, body: bytes, content_type: str, token: str | None, status: int, code: str
) -> None:
    response = _post_raw(assistant, body, content_type, token)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    assert response.json()["message"]


def test_webchat_conversation_warns_triages_and_reports(assistant: LiveAssistant) -> None:
    sender = new_sender()
    replies = assistant.chat(sender, "网上认识的男朋友让我在他说的平台投资，已经充了三次钱，现在提现要交保证金")
    # Money has left at an unknown time: the stop-payment steps come first, then the warning.
    assert replies[0]["custom"]["risk_level"] == "critical" and "110" in replies[0]["text"]
    romance = localized(KB.types["romance"].name, "zh")
    assert any(romance in r.get("text", "") for r in replies[1:]), replies
    analyses = [r["custom"]["analysis"] for r in replies if "analysis" in (r.get("custom") or {})]
    assert analyses and analyses[0]["scam_type"] == "romance" and analyses[0]["verdict"] == "scam"
    # "已经充了" answered whether money was sent: the next question is when.
    question = KB.triage_questions["time_since_transfer"]
    assert replies[-1]["text"] == localized(question["text"], "zh")
    assert all(len(r.get("text", "")) <= 200 for r in replies) and len([r for r in replies if "text" in r]) <= 3

    replies = assistant.chat(sender, "半小时前")
    assert replies[-1]["text"] == localized(KB.triage_questions["amount"]["text"], "zh")
    replies = assistant.chat(sender, "两万块")
    assert replies[-1]["text"] == localized(KB.triage_questions["payment_channel"]["text"], "zh")
    replies = assistant.chat(sender, '/inform{"payment_channel": "alipay"}')
    assert replies[-1]["text"] == localized(KB.triage_questions["credentials_shared"]["text"], "zh")
    replies = assistant.chat(sender, "/deny")
    body = "\n".join(r.get("text", "") for r in replies)
    assert "110" in body  # the closing turn repeats that the stop-payment comes first
    assert {"/show_evidence", "/show_report"} <= {b["payload"] for r in replies for b in r.get("buttons", [])}
    # The critical block was shown once, on the first turn, not again at the end.
    assert not any((r.get("custom") or {}).get("risk_level") == "critical" for r in replies)

    history = requests.get(assistant.url + "/webhooks/webchat/history", params={"sender": sender}, timeout=30).json()
    roles = [m["role"] for m in history["messages"]]
    assert roles.count("user") == 5 and "bot" in roles
    assert history["messages"][0]["text"].startswith("网上认识的男朋友")


def test_webchat_english_police_story_and_interruptions(assistant: LiveAssistant) -> None:
    sender = new_sender()
    replies = assistant.chat(sender, "A caller claiming to be from the police says my ID was used for money "
                                     "laundering and I must transfer my savings to a safe account", "en")
    name = localized(KB.types["impersonate_official"].name, "en")
    assert any(name in r.get("text", "") for r in replies), replies
    assert replies[-1]["text"] == localized(KB.triage_questions["money_sent"]["text"], "en")
    # a question in the middle is answered, then the triage goes on with a one-line reminder
    replies = assistant.chat(sender, "what is 96110?", "en")
    assert "96110" in replies[0]["text"]
    assert replies[-1]["text"] == localized(KB.triage_questions["money_sent"]["reminder"], "en")
    # "I already paid" while the question is open: the stop-payment steps first, then when
    replies = assistant.chat(sender, "I already sent them the money!", "en")
    assert replies[0]["custom"]["risk_level"] == "critical" and "110" in replies[0]["text"]
    assert replies[-1]["text"] == localized(KB.triage_questions["time_since_transfer"]["text"], "en")


def test_webchat_refuses_bad_input(assistant: LiveAssistant) -> None:
    url = assistant.url + "/webhooks/webchat/webhook"
    assert requests.post(url, json={"sender": "../x", "message": "hi"}, timeout=30).status_code == 422
    assert requests.post(url, json={"sender": "abc", "message": ""}, timeout=30).json()["error"] == "empty_text"
    assert requests.post(url, data=b"{oops", headers={"Content-Type": "application/json"},
                         timeout=30).json()["error"] == "invalid_json"
    history = requests.get(assistant.url + "/webhooks/webchat/history", params={"sender": "no such/id"}, timeout=30)
    assert history.status_code == 422


def test_pages_are_served_and_paths_cannot_escape(assistant: LiveAssistant) -> None:
    for path in ("/webhooks/webchat/", "/webhooks/webchat/static/app.js", "/webhooks/hotline/",
                 "/webhooks/hotline/static/app.js"):
        response = requests.get(assistant.url + path, timeout=30)
        assert response.status_code == 200, path
    escape = requests.get(assistant.url + "/webhooks/webchat/static/..%2F..%2Fsettings.py", timeout=30)
    assert escape.status_code == 404


def test_rest_webhook_carries_the_analysis_as_custom_payload(assistant: LiveAssistant) -> None:
    replies = requests.post(
        assistant.url + "/webhooks/rest/webhook",
        json={"sender": new_sender(), "message": "淘宝客服说我的快递丢了要理赔，让我扫码填银行卡和验证码"},
        timeout=60,
    ).json()
    analyses = [r["custom"]["analysis"] for r in replies if "analysis" in (r.get("custom") or {})]
    assert analyses and analyses[0]["scam_type"] == "customer_service"
    assert {"confidence", "risk_level", "red_flags"} <= set(analyses[0])


def test_integration_webhook_needs_its_token(assistant: LiveAssistant) -> None:
    url = assistant.url + "/webhooks/integration/webhook"
    body = {"sender": new_sender(), "message": "有人冒充我领导让我转账"}
    assert requests.post(url, json=body, timeout=30).status_code == 401
    assert requests.post(url, json=body, headers={"Authorization": "Bearer nope"}, timeout=30).status_code == 401
    ok = requests.post(url, json=body, headers={"Authorization": f"Bearer {assistant.integration_token}"}, timeout=60)
    assert ok.status_code == 200 and ok.json()
    bad = requests.post(url, data=b"\xff", headers={"Authorization": f"Bearer {assistant.integration_token}",
                                                    "Content-Type": "application/json"}, timeout=30)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_encoding"


def _parse(assistant: LiveAssistant, text: str) -> dict:
    response = requests.post(
        assistant.url + "/model/parse", params={"token": assistant.api_token}, json={"text": text}, timeout=60
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_faq_answer_is_selected_only_for_faq_questions(assistant: LiveAssistant) -> None:
    """RetrievalOnlyResponseSelector: an FAQ question gets its answer key; a scam report skips the selection."""
    faq = _parse(assistant, "96110打过来的电话是真的吗，要不要接")
    assert faq["intent"]["name"] == "faq", faq["intent"]
    assert faq["response_selector"]["faq"]["response"]["intent_response_key"] == "faq/hotline_96110"
    report = _parse(assistant, "自称公安局的民警说我涉嫌洗钱，要我把存款转到安全账户")
    assert report["intent"]["name"].startswith("scam_"), report["intent"]
    assert "faq" not in (report.get("response_selector") or {})


@pytest.mark.parametrize("args, expected", [
    ({}, 0.0), ({"after": ""}, 0.0), ({"after": "1764912000.25"}, 1764912000.25),
])
def test_after_reads_a_timestamp(args: dict, expected: float) -> None:
    assert after_param(args) == expected


@pytest.mark.parametrize("value", ["yesterday", "nan", "inf", "-inf", "1e400"])
def test_after_refuses_what_is_no_timestamp(value: str) -> None:
    with pytest.raises(RequestRejected) as refused:
        after_param({"after": value})
    assert (refused.value.status, refused.value.code) == (422, "invalid_after")

"""Live responses checked against docs/openapi.yaml (the schemas are JSON Schema)."""

from __future__ import annotations

import uuid
from typing import Any, Dict

import jsonschema
import pytest
import requests
import yaml

from bot.local_servers import ROOT
from bot.nlu.fraud_entities import MAX_MATCHES_PER_PATTERN
from tests.conftest import LiveAssistant

SPEC = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))


def check(instance: Any, schema: Dict[str, Any]) -> None:
    resolver_root = {"components": SPEC["components"], **schema}
    jsonschema.validate(instance, resolver_root)


def response_schema(path: str, method: str, status: str) -> Dict[str, Any]:
    return SPEC["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]


@pytest.mark.parametrize("text", [
    "有人冒充快递客服说我的包裹丢了要理赔，让我下载一个App共享屏幕",
    "Is this a scam? A lottery says I won a car but need to pay tax first",
    "明天下午三点开会，记得带上季度报告", "🙂",
])
def test_analyze_matches_its_schema(assistant: LiveAssistant, text: str) -> None:
    check(assistant.analyze(text), response_schema("/webhooks/hotline/analyze", "post", "200"))


def test_analyze_lists_who_they_claimed_to_be_and_how_to_reach_them(assistant: LiveAssistant) -> None:
    text = "自称公安局的人打电话，让我加QQ，然后打开 http://safe-check.example/verify 转账到6222021234567890123"
    result = assistant.analyze(text)
    check(result, response_schema("/webhooks/hotline/analyze", "post", "200"))
    kinds = {m["kind"]: m["value"] for m in result["mentioned"]}
    assert kinds["claimed_identity"] == "公安局", result["mentioned"]
    assert kinds["bank_card"] == "6222021234567890123", result["mentioned"]
    assert "safe-check.example" in kinds["url"], result["mentioned"]
    for item in result["mentioned"]:
        assert text[item["start"]:item["end"]] == item["value"]
    assert assistant.analyze("明天下午三点开会，记得带上季度报告")["mentioned"] == []


def test_a_flood_of_numbers_is_read_up_to_the_cap(assistant: LiveAssistant) -> None:
    numbers = [f"139{n:08d}" for n in range(MAX_MATCHES_PER_PATTERN + 50)]
    phones = [m for m in assistant.analyze("，".join(numbers))["mentioned"] if m["kind"] == "phone_number"]
    assert [m["value"] for m in phones] == numbers[:MAX_MATCHES_PER_PATTERN]


def test_errors_match_their_schema(assistant: LiveAssistant) -> None:
    error = {"$ref": "#/components/schemas/Error"}
    for body, headers in [
        (b'{"text": ""}', {"Authorization": f"Bearer {assistant.hotline_token}", "Content-Type": "application/json"}),
        (b'{"text": "x"}', {"Content-Type": "application/json"}),
    ]:
        response = requests.post(assistant.url + "/webhooks/hotline/analyze", data=body, headers=headers, timeout=30)
        assert response.status_code in (401, 422)
        check(response.json(), error)


def test_chat_and_history_match_their_schemas(assistant: LiveAssistant) -> None:
    sender = uuid.uuid4().hex
    replies = assistant.chat(sender, "我在网上认识的投资导师让我往一个平台里充钱，现在提现不了")
    check(replies, response_schema("/webhooks/webchat/webhook", "post", "200"))
    history = requests.get(assistant.url + "/webhooks/webchat/history", params={"sender": sender}, timeout=30).json()
    check(history, response_schema("/webhooks/webchat/history", "get", "200"))


def test_the_reported_list_and_an_analysis_naming_it_match_their_schemas(assistant: LiveAssistant) -> None:
    staff = {"Authorization": f"Bearer {assistant.hotline_token}"}
    number = f"171{uuid.uuid4().int % 10**8:08d}"
    body = {"kind": "phone", "value": number}
    added = requests.post(assistant.url + "/webhooks/hotline/reported", json=body, headers=staff, timeout=30)
    assert added.status_code == 201, added.text
    check(added.json(), response_schema("/webhooks/hotline/reported", "post", "201"))
    looked_up = requests.post(assistant.url + "/webhooks/hotline/reported/lookup", json=body, headers=staff, timeout=30)
    check(looked_up.json(), response_schema("/webhooks/hotline/reported/lookup", "post", "200"))
    result = assistant.analyze(f"快递员说包裹破了，让我加他微信再打{number}处理理赔")
    check(result, response_schema("/webhooks/hotline/analyze", "post", "200"))
    assert [r["value"] for r in result["reported"]] == [number]
    rejected = requests.post(assistant.url + "/webhooks/hotline/reported.csv", data=b"kind,value\nphone,12\n",
                             headers={**staff, "Content-Type": "text/csv"}, timeout=30)
    assert rejected.status_code == 422
    check(rejected.json(), response_schema("/webhooks/hotline/reported.csv", "post", "422"))
    official = requests.post(assistant.url + "/webhooks/hotline/reported", json={"kind": "phone", "value": "95588"},
                             headers=staff, timeout=30)
    assert official.status_code == 422 and official.json()["error"] == "official_identifier"
    check(official.json(), {"$ref": "#/components/schemas/Error"})
    withdrawn = requests.post(assistant.url + "/webhooks/hotline/reported/withdraw", json=body, headers=staff,
                              timeout=30)
    check(withdrawn.json(), response_schema("/webhooks/hotline/reported/withdraw", "post", "200"))
    assert withdrawn.json()["withdrawn"] == 1

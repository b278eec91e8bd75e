"""Screenshots read offline (bot/ocr.py): bad images refused before any reading, the reading order,
generated screenshots read and analysed through the hotline and the web chat."""

from __future__ import annotations

import io
import json
import sqlite3
import struct
import uuid
import zlib
from typing import Dict, List

import numpy as np
import pytest
import requests
from PIL import Image

from bench.ocr import error_rate
from bench.screenshots import SAMPLES, ScreenshotSample, render_with_text
from bot.channels.http import RequestRejected
from bot.knowledge import load_knowledge, localized
from bot.ocr import MAX_IMAGE_BYTES, MAX_PIXELS, ReadText, decode_image, in_reading_order, read_array
from tests.conftest import LiveAssistant

BY_NAME: Dict[str, ScreenshotSample] = {s.name: s for s in SAMPLES}


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def screenshot(name: str) -> bytes:
    return png_bytes(render_with_text(BY_NAME[name])[0])


def declared_png(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height with almost no pixel data: a decompression bomb's shape."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + \
        chunk(b"IEND", b"")


def refused(data: bytes) -> RequestRejected:
    with pytest.raises(RequestRejected) as caught:
        decode_image(data)
    return caught.value


def test_bad_images_are_refused_before_any_reading() -> None:
    assert refused(b"").code == "empty_body"
    assert refused(b"\x00" * (MAX_IMAGE_BYTES + 1)).code == "image_too_large"
    assert refused("这不是图片，是一段文字".encode()).code == "not_an_image"
    assert refused(b"%PDF-1.7\n" + b"0" * 200).code == "not_an_image"
    assert refused(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>").code == "not_an_image"
    whole = screenshot("zh_sms_none_parcel")
    assert refused(whole[: len(whole) // 2]).code == "broken_image"


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    side = int(MAX_PIXELS ** 0.5) + 100
    rejected = refused(declared_png(side, side))
    assert (rejected.status, rejected.code) == (413, "image_too_large")
    # far beyond Pillow's own limit, where Pillow itself raises
    assert refused(declared_png(60000, 60000)).code in ("image_too_large", "not_an_image")


def test_a_phone_photo_taken_sideways_is_turned_upright() -> None:
    image = Image.new("RGB", (40, 20), "white")
    exif = image.getexif()
    exif[0x0112] = 6  # Orientation: rotated 90 degrees
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    assert decode_image(out.getvalue()).shape[:2] == (40, 20)


def test_pieces_come_in_reading_order_and_noise_is_dropped() -> None:
    def box(left: float, top: float, width: float = 100, height: float = 30) -> List[List[float]]:
        return [[left, top], [left + width, top], [left + width, top + height], [left, top + height]]

    boxes = [
        (box(300, 102), "右边", 0.95),
        (box(20, 300), "第三行", 0.99),
        (box(20, 100), "左边", 0.97),
        (box(20, 200), "第二行", 0.9),
        (box(500, 400), "三", 0.3),  # a signal-strength icon read as a character
    ]
    assert in_reading_order(boxes) == ["左边 右边", "第二行", "第三行"]


def test_wrapped_lines_flow_together_and_sentences_stay_apart() -> None:
    lines = ["哥哥，认识你这么久，你是第", "一个让我这么信任的人。", "Your account has been", "charged $499.99."]
    read = ReadText(lines, 0.1)
    assert read.flowing == "哥哥，认识你这么久，你是第一个让我这么信任的人。\nYour account has been charged $499.99."
    assert read.text.count("\n") == 3


@pytest.mark.parametrize("name", ["zh_wechat_romance", "en_sms_customer_service", "zh_noisy_small_investment"])
def test_generated_screenshots_are_read_almost_exactly(name: str) -> None:
    image, drawn = render_with_text(BY_NAME[name])
    read = read_array(np.asarray(image))
    assert error_rate(read.text, drawn) < 0.03, read.text


def test_an_image_without_text_reads_as_nothing() -> None:
    blank = np.full((600, 400, 3), 255, dtype=np.uint8)
    assert read_array(blank).lines == []


# --- through the servers -------------------------------------------------------------------------------------------


def staff(assistant: LiveAssistant) -> Dict[str, str]:
    return {"Authorization": f"Bearer {assistant.hotline_token}"}


@pytest.mark.parametrize("name, expected", [
    ("zh_wechat_impersonate_official", "impersonate_official"),
    ("en_sms_customer_service", "customer_service"),
])
def test_a_screenshot_is_analysed_like_the_typed_text(assistant: LiveAssistant, name: str, expected: str) -> None:
    answer = requests.post(assistant.url + "/webhooks/hotline/analyze", data=screenshot(name), timeout=120,
                           headers={**staff(assistant), "Content-Type": "image/png"})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["scam_type"] == expected and result["verdict"] != "none"
    assert result["ocr"]["lines"] >= 3 and result["ocr"]["seconds"] > 0
    # the red flags point into the text that was read
    for flag in result["red_flags"]:
        assert result["ocr"]["text"][flag["start"]:flag["end"]] == flag["phrase"]


def test_an_everyday_screenshot_raises_no_alarm(assistant: LiveAssistant) -> None:
    answer = requests.post(assistant.url + "/webhooks/hotline/analyze?lang=en", data=screenshot("zh_sms_none_parcel"),
                           headers={**staff(assistant), "Content-Type": "image/png"}, timeout=120)
    assert answer.status_code == 200, answer.text
    assert answer.json()["verdict"] == "none" and answer.json()["lang"] == "en"


@pytest.mark.parametrize("body, content_type, status, code", [
    (b"", "image/png", 400, "empty_body"),
    ("不是图片".encode(), "image/png", 415, "not_an_image"),
    (b"GIF89a-cut", "image/gif", 415, "not_an_image"),
    (None, "image/png", 422, "no_text"),  # a blank picture
])
def test_the_hotline_refuses_bad_images_clearly(
    assistant: LiveAssistant, body: bytes, content_type: str, status: int, code: str
) -> None:
    data = body if body is not None else png_bytes(Image.new("RGB", (400, 300), "white"))
    answer = requests.post(assistant.url + "/webhooks/hotline/analyze", data=data, timeout=120,
                           headers={**staff(assistant), "Content-Type": content_type})
    assert (answer.status_code, answer.json()["error"]) == (status, code)


def test_an_image_over_the_limit_is_refused_from_its_length(assistant: LiveAssistant) -> None:
    answer = requests.post(assistant.url + "/webhooks/hotline/analyze", data=b"\x89PNG" + b"\x00" * MAX_IMAGE_BYTES,
                           headers={**staff(assistant), "Content-Type": "image/png"}, timeout=120)
    assert (answer.status_code, answer.json()["error"]) == (413, "body_too_large")
    # without the staff token nothing is read at all
    anonymous = requests.post(assistant.url + "/webhooks/hotline/analyze", data=screenshot("zh_sms_none_parcel"),
                              headers={"Content-Type": "image/png"}, timeout=120)
    assert anonymous.status_code == 401


def test_a_screenshot_in_the_web_chat_is_one_turn_and_never_stored(assistant: LiveAssistant) -> None:
    sender = uuid.uuid4().hex
    answer = requests.post(assistant.url + f"/webhooks/webchat/image?sender={sender}&lang=zh",
                           data=screenshot("zh_wechat_impersonate_official"),
                           headers={"Content-Type": "image/png"}, timeout=120)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["read"]["lines"] >= 3
    texts = [m.get("text") or "" for m in body["messages"]]
    read_note = localized(load_knowledge().chat["read_from_image"], "zh").format(lines=body["read"]["lines"])
    assert texts[0] == read_note
    official = localized(load_knowledge().types["impersonate_official"].name, "zh")
    assert any(official in t for t in texts), texts
    history = requests.get(assistant.url + "/webhooks/webchat/history", params={"sender": sender}, timeout=30).json()
    mine = [m for m in history["messages"] if m["role"] == "user"]
    assert len(mine) == 1 and mine[0]["source"] == "image"
    # the conversation keeps the text (redacted), never the picture
    with sqlite3.connect(assistant.database) as db:
        stored = [json.loads(data) for (data,) in db.execute(
            "SELECT data FROM events WHERE sender_id = ?", (assistant.conversation_id(sender),))]
    assert stored and not any("PNG" in json.dumps(e) for e in stored)


def test_the_web_chat_refuses_what_is_not_an_image(assistant: LiveAssistant) -> None:
    sender = uuid.uuid4().hex
    as_text = requests.post(assistant.url + f"/webhooks/webchat/image?sender={sender}", data="你好".encode(),
                            headers={"Content-Type": "text/plain"}, timeout=30)
    assert (as_text.status_code, as_text.json()["error"]) == (415, "unsupported_media_type")
    no_sender = requests.post(assistant.url + "/webhooks/webchat/image", data=screenshot("zh_sms_none_parcel"),
                              headers={"Content-Type": "image/png"}, timeout=30)
    assert (no_sender.status_code, no_sender.json()["error"]) == (422, "invalid_sender")


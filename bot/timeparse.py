"""How long ago something happened, from what a person wrote ("半小时前", "2 hours ago")."""

from __future__ import annotations

import re
from typing import Optional

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_EN_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
               "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twenty": 20,
               "thirty": 30, "forty": 40, "fifty": 50, "a few": 3, "few": 3, "several": 3}
_UNIT_MINUTES = {
    "分钟": 1, "分": 1, "小时": 60, "钟头": 60, "天": 1440, "日": 1440, "周": 10080,
    "星期": 10080, "礼拜": 10080, "月": 43200,
    "min": 1, "minute": 1, "hour": 60, "hr": 60, "day": 1440, "week": 10080, "month": 43200,
}
_ZH_SPAN = re.compile(
    r"(\d+(?:\.\d+)?|[零一二两三四五六七八九十百半几]+)\s*个?\s*(半)?\s*多?\s*(分钟|小时|钟头|天|日|周|星期|礼拜|月)\s*(半)?\s*(?:前|之前|以前|了)"
)
_EN_SPAN = re.compile(
    r"(\d+(?:\.\d+)?|half an?|a few|an|a|one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|few|several)\s*"
    r"(min|minute|hour|hr|day|week|month)s?\s*(?:ago|back|earlier)",
    re.IGNORECASE,
)
# Phrases with a fixed meaning, checked after the spans above.
_FIXED = [
    (re.compile(r"上个?月|last month", re.I), 43200.0),
    (re.compile(r"上周|上个?星期|上礼拜|last week", re.I), 10080.0),
    (re.compile(r"前天|day before yesterday", re.I), 2880.0),
    (re.compile(r"昨天|昨晚|昨日|yesterday|last night", re.I), 1440.0),
    (re.compile(r"刚刚|刚才|方才|就在刚|just now|a moment ago|right now|minutes? ago", re.I), 5.0),
    (re.compile(r"今天|今早|今晚|早上|上午|中午|下午|this (morning|afternoon|evening)|earlier today|today", re.I), 240.0),
]


def _chinese_number(text: str) -> Optional[float]:
    if text == "半":
        return 0.5
    if text == "几":
        return 3.0
    if text.startswith("几"):
        text = text[1:] or "三"
    total, current = 0, 0
    for char in text:
        if char in _CN_DIGITS:
            current = _CN_DIGITS[char]
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "半":
            return float(total + current) + 0.5
        else:
            return None
    return float(total + current)


def minutes_ago(text: str) -> Optional[float]:
    """Minutes since the event the text describes, or None when it does not say."""
    match = _ZH_SPAN.search(text)
    if match:
        number = _chinese_number(match.group(1)) if not match.group(1)[0].isdigit() else float(match.group(1))
        if number is not None:
            if match.group(2) or match.group(4):
                number += 0.5
            return number * _UNIT_MINUTES[match.group(3)]
    match = _EN_SPAN.search(text)
    if match:
        word = match.group(1).lower()
        number = 0.5 if word.startswith("half") else _EN_NUMBERS.get(word)
        if number is None:
            number = float(word)
        return number * _UNIT_MINUTES[match.group(2).lower()]
    for pattern, minutes in _FIXED:
        if pattern.search(text):
            return minutes
    return None

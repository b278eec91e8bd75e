"""How much money, from what a person wrote ("两万", "3万5", "¥12,800", "$2,000"), as a band.

Only the band is kept with a case, never the words. The amount is taken as written:
no currency is converted, so "$2,000" is in the 1k-10k band like "2000元".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

BANDS = ((1_000, "<1k"), (10_000, "1k-10k"), (100_000, "10k-100k"))
TOP_BAND = ">=100k"
UNKNOWN = "unknown"

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9, "几": 3}
# Units inside a number; 万 and 亿 close a section, the others add to it.
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1_000, "k": 1_000, "thousand": 1_000, "grand": 1_000}
_LARGE_UNITS = {"万": 10_000, "w": 10_000, "million": 1_000_000, "m": 1_000_000, "亿": 100_000_000}

_CN_DIGIT = "零〇一二两三四五六七八九几"
_CN_ALL = _CN_DIGIT + "十百千万亿"
# Every run below is bounded or starts only where such a run starts (look-behind): linear time.
_NUMBER = r"(?:\d{1,3}(?:,\d{3}){1,4}|\d{1,12})(?:\.\d{1,4})?(?![\d,]\d)"
_CN_NUMBER = rf"(?:[{_CN_DIGIT}]|十)[{_CN_ALL}]{{0,11}}"
_UNIT = r"(?:[十百千万亿]|(?:[kwm]|thousand|million|grand)(?![a-z]))"
_AMOUNT = re.compile(
    rf"(?:(?P<prefix>[¥$€£]|rmb|cny|usd|hk\$|us\$)\s{{0,2}})?"
    rf"(?P<body>(?:(?<![\d.,]){_NUMBER}|(?<![{_CN_ALL}]){_CN_NUMBER})"
    rf"(?:\s{{0,2}}{_UNIT}{{1,3}}(?:\d{{1,4}}(?![\d.]|,\d)|[{_CN_DIGIT}](?![{_CN_ALL}]))?)?)(?:多|余)?"
    rf"(?:\s{{0,2}}(?P<suffix>块钱|块|元|圆|刀|美元|美金|港币|人民币|rmb|yuan|dollars?|bucks|usdt|usd|quid|pounds?|euros?|u(?![a-z])))?",
    re.IGNORECASE,
)
_TOKEN = re.compile(rf"\d+(?:\.\d+)?|[{_CN_DIGIT}]|{_UNIT}", re.IGNORECASE)
# One character of NFKC that keeps its place (full-width digits and signs): offsets stay those of the text.
_WIDTH = {chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
_WIDTH.update({"￥": "¥", "\u3000": " "})
_NARROW = str.maketrans(_WIDTH)


@dataclass(frozen=True)
class AmountMention:
    """An amount as written, where it is, its value and whether a currency or unit marks it as money."""

    start: int
    end: int
    text: str
    value: float
    marked: bool
    currency: bool


def _value(tokens: List[str]) -> Optional[float]:
    """Place value as in Chinese numerals: digits times units, sections closed by 万 and 亿."""
    total, section, number = 0.0, 0.0, 0.0
    last_unit = 0
    for token in tokens:
        word = token.lower()
        if word in _DIGITS or word[0].isdigit():
            number = float(_DIGITS[word]) if word in _DIGITS else float(word)
            continue
        if word in _SMALL_UNITS:
            last_unit = _SMALL_UNITS[word]
            section += (number or 1) * last_unit
        else:
            last_unit = _LARGE_UNITS[word]
            total += (section + number or 1) * last_unit
            section = 0.0
        number = 0.0
    if number and last_unit and number < 10 and tokens[-2].lower() not in _DIGITS:
        # A single digit after a unit counts in the next lower one: 3万5 is 35000, 三千五 is 3500.
        number *= last_unit / 10
    value = total + section + number
    return value or None


def find_amounts(text: Optional[str]) -> List[AmountMention]:
    """Every number that could be an amount, in text order, with its offsets in `text`.

    `marked` when a currency, a unit (万, k) or several parts (3万5) say it is an amount; a lone
    Chinese digit ("一次", "一点") is never one. Whether a bare number is money is the caller's call.
    """
    if not text:
        return []
    narrow = text.translate(_NARROW)
    found: List[AmountMention] = []
    for match in _AMOUNT.finditer(narrow):
        body = match.group("body")
        tokens = _TOKEN.findall(body.replace(",", ""))
        if not tokens:
            continue
        currency = bool(match.group("prefix") or match.group("suffix"))
        marked = currency or len(tokens) > 1
        if not marked and not tokens[0][0].isdigit():
            continue
        value = _value(tokens)
        if value is not None:
            start, end = match.start(), match.end()
            while end > start and narrow[end - 1].isspace():
                end -= 1
            found.append(AmountMention(start, end, text[start:end], value, marked, currency))
    return found


def parse_amount(text: Optional[str]) -> Optional[float]:
    """The amount of money the text names, or None. A number with a currency or unit wins over a bare one."""
    candidates: List[Tuple[bool, float]] = [(m.marked, m.value) for m in find_amounts(text)]
    return max(candidates)[1] if candidates else None


def amount_band(text: Optional[str]) -> str:
    amount = parse_amount(text)
    if amount is None:
        return UNKNOWN
    for limit, band in BANDS:
        if amount < limit:
            return band
    return TOP_BAND

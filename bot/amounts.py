"""How much money, from what a person wrote ("两万", "3万5", "¥12,800", "$2,000"), as a band.

Only the band is kept with a case, never the words. The amount is taken as written:
no currency is converted, so "$2,000" is in the 1k-10k band like "2000元".
"""

from __future__ import annotations

import re
import unicodedata
from typing import List, Optional, Tuple

BANDS = ((1_000, "<1k"), (10_000, "1k-10k"), (100_000, "10k-100k"))
TOP_BAND = ">=100k"
UNKNOWN = "unknown"

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9, "几": 3}
# Units inside a number; 万 and 亿 close a section, the others add to it.
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1_000, "k": 1_000, "thousand": 1_000, "grand": 1_000}
_LARGE_UNITS = {"万": 10_000, "w": 10_000, "million": 1_000_000, "m": 1_000_000, "亿": 100_000_000}

_NUMBER = r"\d+(?:\.\d+)?"
_UNIT = r"(?:[十百千万亿]|[kwm](?![a-z])|thousand|million|grand)"
_AMOUNT = re.compile(
    rf"(?P<prefix>[¥$]|rmb|cny|usd)?\s*"
    rf"(?P<body>(?:(?:{_NUMBER}|[零〇一二两三四五六七八九几])(?:\s*{_UNIT}+)?)+|十[一二三四五六七八九几]?\s*{_UNIT}*)"
    rf"\s*(?P<suffix>元|块|圆|rmb|yuan|dollars?|bucks)?",
    re.IGNORECASE,
)
_TOKEN = re.compile(rf"{_NUMBER}|[零〇一二两三四五六七八九几]|{_UNIT}", re.IGNORECASE)


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


def parse_amount(text: Optional[str]) -> Optional[float]:
    """The amount of money the text names, or None. A number with a currency or unit wins over a bare one."""
    if not text:
        return None
    normal = re.sub(r"(?<=\d),(?=\d{3})", "", unicodedata.normalize("NFKC", text))
    candidates: List[Tuple[bool, float]] = []
    for match in _AMOUNT.finditer(normal):
        tokens = _TOKEN.findall(match.group("body"))
        marked = bool(match.group("prefix") or match.group("suffix")) or len(tokens) > 1
        # A lone Chinese digit is a word ("一次", "一点"), not an amount.
        if not marked and not tokens[0][0].isdigit():
            continue
        value = _value(tokens)
        if value is not None:
            candidates.append((marked, value))
    return max(candidates)[1] if candidates else None


def amount_band(text: Optional[str]) -> str:
    amount = parse_amount(text)
    if amount is None:
        return UNKNOWN
    for limit, band in BANDS:
        if amount < limit:
            return band
    return TOP_BAND

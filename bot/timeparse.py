"""How long ago something happened, from what a person wrote ("半小时前", "2 hours ago", "昨晚8点").

`minutes_ago` gives fixed estimates without a clock ("昨天" is one day). `find_times`
finds every time phrase with its place in the text and, given `now`, estimates the
minutes since it ("今天上午" at 15:00 is about five hours, "昨晚" about a night ago).

Every pattern here runs in linear time: repeats are bounded, and an unbounded run
(of digits) may only start where such a run starts (a look-behind), so a long
adversarial input cannot make the engine backtrack over it again and again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional, Tuple

from bot.spans import longest_non_overlapping

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_EN_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
               "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
               "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50,
               "a few": 3, "few": 3, "several": 3, "a couple of": 2, "couple of": 2, "a couple": 2}
_UNIT_MINUTES = {
    "分钟": 1, "分": 1, "小时": 60, "钟头": 60, "个钟": 60, "钟": 60, "天": 1440, "日": 1440, "周": 10080,
    "星期": 10080, "礼拜": 10080, "月": 43200,
    "min": 1, "minute": 1, "hour": 60, "hr": 60, "day": 1440, "week": 10080, "month": 43200,
}
_ZH_SPAN = re.compile(
    r"((?<![\d.])\d+(?:\.\d{1,3})?|(?<![零一二两三四五六七八九十百半几])[零一二两三四五六七八九十百半几]+)\s{0,2}个?\s{0,2}(半)?\s{0,2}多?\s{0,2}(分钟|小时|钟头|天|日|周|星期|礼拜|月)\s{0,2}(半)?\s{0,2}(?:前|之前|以前|了)"
)
_EN_SPAN = re.compile(
    r"((?<![\d.])\d+(?:\.\d{1,3})?|\bhalf an?|\ba few|\ban|\ba|\bone|\btwo|\bthree|\bfour|\bfive|\bsix|\bseven|\beight|\bnine|\bten|\btwenty|\bthirty|\bforty|\bfifty|\bfew|\bseveral)\s{0,3}"
    r"(min|minute|hour|hr|day|week|month)s?\s{0,3}(?:ago|back|earlier)",
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
        elif char == "几":
            current = 3
        else:
            return None
    return float(total + current)


def _number(word: str) -> Optional[float]:
    if word[0].isdigit():
        return float(word)
    return _chinese_number(word)


def minutes_ago(text: str) -> Optional[float]:
    """Minutes since the event the text describes, or None when it does not say (no clock: fixed estimates)."""
    match = _ZH_SPAN.search(text)
    if match:
        number = _number(match.group(1))
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


# ---------------------------------------------------------------------------
# Time phrases with their place in the text, estimated against a clock.

@dataclass(frozen=True)
class TimeMention:
    start: int
    end: int
    text: str
    minutes: float


_CN_NUM = "零〇一二两三四五六七八九十百半几"
# A span of time before now: "十分钟前", "两个多小时前", "半个钟头前", "3天了"; `bare` when nothing says "ago".
_ZH_AGO = re.compile(
    rf"(?P<n>(?<![\d.])\d{{1,4}}(?:\.\d{{1,2}})?|(?<![{_CN_NUM}])[{_CN_NUM}]{{1,5}})\s{{0,2}}(?:来|多|几)?\s{{0,1}}"
    r"(?P<ge>个)?\s{0,2}(?P<half1>半)?\s{0,2}(?P<more1>多)?\s{0,2}"
    r"(?P<unit>分钟|分(?=[前之以])|小时|钟头|个钟|钟(?=[前之以])|天|日(?=[前之以])|周|星期|礼拜|月)"
    r"\s{0,2}(?P<half2>半)?\s{0,2}(?P<more2>多)?\s{0,2}(?:左右|的样子)?\s{0,2}"
    r"(?P<ago>前|之前|以前|了)?"
)
_EN_AGO = re.compile(
    r"(?P<n>(?<![\w.])\d{1,4}(?:\.\d{1,2})?|\b(?:half an?|an|a|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"eleven|twelve|fifteen|twenty|thirty|forty-five|forty|fifty|a few|few|several|a couple of|couple of|a couple))"
    r" {0,2}(?P<unit>min|minute|hour|hr|day|week|month)s?\b"
    r"(?P<half> and a half)? {0,2}(?P<ago>ago|back|earlier|before now)?",
    re.IGNORECASE,
)
_ZH_RECENT = re.compile(r"就在刚才|刚刚|刚才|方才|才刚|刚(?=[转汇打付交充给下装发扫把挂])")
_EN_RECENT = re.compile(
    r"\b(?:just now|a moment ago|moments ago|a minute ago|a sec(?:ond)? ago|just(?= (?:sent|paid|transferred|wired|"
    r"gave|bought|deposited|installed|downloaded|did|made|now)))", re.IGNORECASE)

_ZH_DAYS = {"今天": 0, "今日": 0, "今儿": 0, "今儿个": 0, "昨天": 1, "昨日": 1, "昨儿": 1, "昨儿个": 1,
            "前天": 2, "前日": 2, "前儿": 2, "大前天": 3}
# Parts of the day: (start hour, end hour, typical hour).
_PARTS = {
    "凌晨": (0.0, 6.0, 3.0), "半夜": (0.0, 4.0, 1.5), "深夜": (0.0, 4.0, 1.0),
    "清晨": (5.0, 9.0, 7.5), "早上": (5.0, 9.5, 7.5), "早晨": (5.0, 9.5, 7.5), "一早": (5.0, 9.0, 7.5),
    "大早上": (5.0, 9.0, 7.0), "今早": (5.0, 9.5, 7.5), "今晨": (5.0, 9.0, 7.5),
    "上午": (8.0, 12.0, 10.0), "中午": (11.0, 13.5, 12.5), "下午": (12.5, 18.0, 15.0),
    "傍晚": (17.0, 19.5, 18.0), "晚上": (18.0, 24.0, 21.0), "夜里": (19.0, 24.0, 22.0), "今晚": (18.0, 24.0, 20.0),
    "昨晚": (18.0, 24.0, 21.0), "昨夜": (19.0, 24.0, 22.0), "前晚": (18.0, 24.0, 21.0),
    "morning": (6.0, 12.0, 9.0), "afternoon": (12.0, 18.0, 15.0), "evening": (17.0, 21.5, 19.0),
    "night": (19.0, 24.0, 21.0), "tonight": (18.0, 24.0, 20.0), "lunchtime": (11.5, 14.0, 12.5),
    "noon": (11.5, 13.0, 12.0),
}
_PART_DAYS = {"昨晚": 1, "昨夜": 1, "前晚": 2}
_AFTERNOON_PARTS = {"下午", "傍晚", "晚上", "夜里", "今晚", "昨晚", "昨夜", "前晚", "afternoon", "evening", "night",
                    "tonight"}
_ZH_DAY = "大前天|前天|前日|前儿|昨天|昨日|昨儿个|昨儿|今天|今日|今儿个|今儿"
_ZH_PART = "凌晨|半夜|深夜|清晨|大早上|早上|早晨|一早|今早|今晨|上午|中午|下午|傍晚|晚上|夜里|今晚|昨晚|昨夜|前晚"
_ZH_HOUR = r"(?<![\d.])\d{1,2}|[零一二两三四五六七八九十]{1,3}"
_ZH_CLOCK = (
    rf"(?P<hour>{_ZH_HOUR})\s{{0,1}}(?:点|點|时)(?:钟)?"
    r"(?P<min>半|一刻|三刻|\d{1,2}分?|[零一二三四五六七八九十]{1,3}分)?(?P<approx>多|左右)?"
)
_ZH_ANCHOR = re.compile(
    rf"(?P<day>{_ZH_DAY})\s{{0,1}}(?P<part>{_ZH_PART})?\s{{0,1}}(?:{_ZH_CLOCK})?"
    rf"|(?P<part2>{_ZH_PART})\s{{0,1}}(?:(?P<hour2>{_ZH_HOUR})\s{{0,1}}(?:点|點|时)(?:钟)?"
    r"(?P<min2>半|一刻|三刻|\d{1,2}分?|[零一二三四五六七八九十]{1,3}分)?(?:多|左右)?)?"
    r"|(?P<hour3>(?<![\d.:])\d{1,2}|(?<![零一二两三四五六七八九十])[零一二两三四五六七八九十]{1,3})\s{0,1}点"
    r"(?:(?P<min3>半|一刻|三刻|\d{1,2}分?|[零一二三四五六七八九十]{1,3}分)|钟|多|左右)"
    r"|(?P<hour4>(?<![\d.:])\d{1,2})\s{0,1}点"
)
_ZH_WEEK = re.compile(
    r"(?P<last>上个?)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天])"
    r"|(?P<lastweek>上个?(?:周|星期|礼拜))(?![一二三四五六日天])"
    r"|(?P<lastmonth>上个?月)"
    r"|(?P<fewdays>前几天|前两天|这几天|前些天|前些日子)"
    r"|(?P<longago>去年|前年|年初|(?<![\d零一二三四五六七八九十])(?:\d{1,2}|[一二三四五六七八九十]{1,2})月份)"
)
_EN_DAY = r"the day before yesterday|yesterday|today|tonight|last night"
_EN_ANCHOR = re.compile(
    r"\b(?:(?P<day>the day before yesterday|yesterday)(?: (?P<part>morning|afternoon|evening|night|lunchtime))?"
    r"|(?P<this>this|earlier this) (?P<part2>morning|afternoon|evening)|(?P<tonight>tonight)"
    r"|(?P<lastnight>last night)|(?P<today>earlier today|today))\b"
    r"(?: (?:at |around |about ){1,2}(?P<hour>\d{1,2})(?::(?P<min>\d{2}))? ?(?P<ampm>am|pm|a\.m\.|p\.m\.|o'clock)?)?"
    r"|\b(?:at|around|about) (?P<hour2>\d{1,2})(?::(?P<min2>\d{2}))? ?(?P<ampm2>am|pm|a\.m\.|p\.m\.|o'clock)"
    r"(?: (?P<day2>yesterday|today|last night|this morning|this afternoon|this evening))?"
    r"|(?<![\d:.])(?P<hour3>\d{1,2}):(?P<min3>\d{2})(?![\d:]) ?(?P<ampm3>am|pm|a\.m\.|p\.m\.)?",
    re.IGNORECASE,
)
_EN_WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
_EN_WEEK = re.compile(
    r"\b(?P<last>last |on |this past )?(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
    r"|\b(?P<lastweek>last week|a week ago)\b|\b(?P<lastmonth>last month|a month ago)\b"
    r"|\b(?P<fewdays>the other day|a few days ago|a couple of days ago)\b"
    r"|\b(?P<longago>last year|(?:back )?in (?:january|february|march|april|may|june|july|august|september|october"
    r"|november|december)|months ago)\b",
    re.IGNORECASE,
)
_ZH_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
# "去年", "back in March": no date is needed, only that it is far past the stop-payment window.
LONG_AGO_DAYS = 60
DAY_TIME = 14.0  # a day named without a time of day ("昨天"): early afternoon
DAY_START = 7.0  # "今天" without a time of day: halfway between this and now


def _minutes_between(now: datetime, then: datetime) -> float:
    return max(1.0, (now - then).total_seconds() / 60.0)


def _at(now: datetime, days_back: int, hour: float) -> datetime:
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_back)
    return midnight + timedelta(hours=hour)


def _earlier_today(now: datetime) -> datetime:
    """"Today" without a time of day: halfway between the start of the day (7:00, or midnight) and now."""
    start = _at(now, 0, DAY_START)
    if start >= now:
        start = _at(now, 0, 0.0)
    return start + (now - start) / 2


def _part_time(now: datetime, part: str, days_back: Optional[int]) -> Optional[datetime]:
    """The typical time of a part of the day; today's when it has begun, else yesterday's unless a day was named."""
    start, end, typical = _PARTS[part]
    days = _PART_DAYS.get(part, days_back)
    if days is None or days == 0:
        begun = _at(now, 0, start)
        if begun > now:
            if days == 0:
                return None
            return _at(now, 1, typical)
        if _at(now, 0, end) > now:  # still going on: halfway from its start to now
            return begun + (now - begun) / 2
        return _at(now, 0, typical)
    return _at(now, days, typical)


def _clock_time(now: datetime, hour: float, minute: float, part: Optional[str], days_back: Optional[int],
                ampm: Optional[str]) -> Optional[datetime]:
    """The latest past moment at that clock reading (today, else yesterday), or on the named day."""
    if hour > 24 or minute >= 60:
        return None
    if part in ("中午", "noon", "lunchtime") and hour < 6:
        hour += 12
    candidates: List[float] = []
    if ampm and ampm.lower().startswith("p") or part in _AFTERNOON_PARTS:
        candidates = [hour + 12 if hour < 12 else hour]
    elif ampm and ampm.lower().startswith("a") or part is not None:
        candidates = [hour if hour != 12 or part in ("中午", "noon", "lunchtime") else 0.0]
    else:
        candidates = [hour, hour + 12] if hour < 12 else [hour]
    days_list = [days_back] if days_back is not None else [0, 1]
    best: Optional[datetime] = None
    for days in days_list:
        for value in candidates:
            then = _at(now, days, value + minute / 60.0)
            if then <= now and (best is None or then > best):
                best = then
    return best


def _minute_word(word: Optional[str]) -> float:
    if not word:
        return 0.0
    if word == "半":
        return 30.0
    if word == "一刻":
        return 15.0
    if word == "三刻":
        return 45.0
    word = word.rstrip("分")
    value = _number(word) if word else None
    return value or 0.0


def _zh_anchor(match: re.Match[str], now: datetime) -> Optional[datetime]:
    day = match.group("day")
    days_back = _ZH_DAYS[day] if day else None
    part = match.group("part") or match.group("part2")
    hour_word = match.group("hour") or match.group("hour2") or match.group("hour3") or match.group("hour4")
    minute_word = match.group("min") or match.group("min2") or match.group("min3")
    if hour_word:
        hour = _number(hour_word)
        if hour is None:
            return None
        days = _PART_DAYS.get(part or "", days_back)
        return _clock_time(now, hour, _minute_word(minute_word), part, days, None)
    if part:
        return _part_time(now, part, days_back)
    if days_back == 0:
        return _earlier_today(now)
    return _at(now, days_back or 0, DAY_TIME)


def _en_anchor(match: re.Match[str], now: datetime) -> Optional[datetime]:
    groups = {k: (v.lower() if isinstance(v, str) else v) for k, v in match.groupdict().items()}
    days_back: Optional[int] = None
    part: Optional[str] = None
    if groups["day"]:
        days_back = 2 if groups["day"].startswith("the day") else 1
        part = groups["part"]
    elif groups["this"]:
        days_back, part = 0, groups["part2"]
    elif groups["tonight"]:
        days_back, part = 0, "tonight"
    elif groups["lastnight"]:
        days_back, part = 1, "night"
    elif groups["today"]:
        days_back = 0
    elif groups["day2"]:
        day2 = groups["day2"]
        if day2 == "yesterday":
            days_back = 1
        elif day2 == "last night":
            days_back, part = 1, "night"
        else:
            days_back = 0
            part = day2.split()[-1] if day2.startswith("this") else None
    hour_word = groups["hour"] or groups["hour2"] or groups["hour3"]
    if hour_word:
        minute = float(groups["min"] or groups["min2"] or groups["min3"] or 0)
        ampm = groups["ampm"] or groups["ampm2"] or groups["ampm3"]
        if ampm == "o'clock":
            ampm = None
        return _clock_time(now, float(hour_word), minute, part, days_back, ampm)
    if part:
        return _part_time(now, part, days_back)
    if days_back == 0:
        return _earlier_today(now)
    return _at(now, days_back or 0, DAY_TIME)


def _week_anchor(match: re.Match[str], now: datetime, zh: bool) -> Optional[Tuple[int, float]]:
    """Days back and hour for a weekday, last week, last month, a few days ago or long ago."""
    if match.group("lastweek"):
        return 7, now.hour + now.minute / 60.0
    if match.group("lastmonth"):
        return 30, now.hour + now.minute / 60.0
    if match.group("fewdays"):
        return 3, DAY_TIME
    if match.group("longago"):
        return LONG_AGO_DAYS, DAY_TIME
    word = match.group("wd")
    weekday = _ZH_WEEKDAYS[word] if zh else _EN_WEEKDAYS[word.lower()]
    days = (now.weekday() - weekday) % 7
    last = (match.group("last") or "").strip().lower()
    if zh and last or last == "last" and days == 0:
        days += 7
    return days, DAY_TIME


def _span_minutes(match: re.Match[str], zh: bool) -> Optional[float]:
    word = match.group("n").lower()
    if zh:
        number = _number(word)
        unit = _UNIT_MINUTES[match.group("unit")]
        if number is None:
            return None
        if match.group("half1") or match.group("half2"):
            number += 0.5
    else:
        if word.startswith("half"):
            number = 0.5
        elif word[0].isdigit():
            number = float(word)
        else:
            number = float(_EN_NUMBERS[word])
        unit = _UNIT_MINUTES[match.group("unit").lower()]
        if match.group("half"):
            number += 0.5
    return number * unit


def find_times(text: str, now: Optional[datetime] = None, bare_spans: bool = False) -> List[TimeMention]:
    """Every time phrase of the text with the minutes since it, in text order, overlaps resolved longest first.

    A span without "ago" ("十分钟", "10 minutes") counts only with `bare_spans` (the answer to "how long ago?").
    """
    now = now or datetime.now()
    found: List[TimeMention] = []

    def add(match: re.Match[str], minutes: Optional[float]) -> None:
        if minutes is not None:
            found.append(TimeMention(match.start(), match.end(), match.group(0).strip(), float(minutes)))

    for zh, pattern in ((True, _ZH_AGO), (False, _EN_AGO)):
        for match in pattern.finditer(text):
            if not match.group("ago") and not bare_spans:
                continue
            if zh and not match.group("ge") and match.group("unit") == "月":
                continue  # "三月" is March
            add(match, _span_minutes(match, zh))
    for pattern in (_ZH_RECENT, _EN_RECENT):
        for match in pattern.finditer(text):
            add(match, 5.0)
    for match in _ZH_ANCHOR.finditer(text):
        then = _zh_anchor(match, now)
        add(match, _minutes_between(now, then) if then else None)
    for match in _EN_ANCHOR.finditer(text):
        then = _en_anchor(match, now)
        add(match, _minutes_between(now, then) if then else None)
    for zh, pattern in ((True, _ZH_WEEK), (False, _EN_WEEK)):
        for match in pattern.finditer(text):
            anchor = _week_anchor(match, now, zh)
            if anchor:
                add(match, _minutes_between(now, _at(now, anchor[0], anchor[1])))
    return longest_non_overlapping(found, lambda m: (m.start, m.end))

"""Which language a person writes in, and whether they ask to switch.

A message often mixes both: a Chinese SMS pasted under an English question, an
English story with a Chinese term in it. The reply follows the person's *own*
words: text in quotes is set aside, and when the message opens or closes with
a sentence of their own in the other language (a question, "I got this:"),
that sentence decides.
"""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

SUPPORTED = ("zh", "en")
DEFAULT = "zh"

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# An explicit request wins over the script the request is written in ("请用英文回答").
_ASK_ENGLISH = re.compile(
    r"(用|说|讲|换成?|切换(到|成)?|改成?)\s*(英文|英语)"
    r"|\b(in|speak|use|switch to)\s+english\b"
    r"|^\s*english(\s+please)?\s*[.!]?\s*$",
    re.IGNORECASE,
)
_ASK_CHINESE = re.compile(
    r"(用|说|讲|换成?|切换(到|成)?|改成?)\s*(中文|汉语|普通话|华语)"
    r"|\b(in|speak|use|switch to)\s+(chinese|mandarin)\b"
    r"|^\s*(中文|chinese)(\s+please)?\s*[.!]?\s*$",
    re.IGNORECASE,
)
# Quoted text is someone else's words. A quote ends at its first closing mark, and stops at another
# opening one, so an unclosed run of openers is not rescanned from each (linear time).
_QUOTED = re.compile(r"“[^“”]*”|「[^「」]*」|『[^『』]*』|\"[^\"]*\"")
# A link names no language: a Chinese SMS with a link in it is still Chinese.
_ADDRESS = re.compile(r"(?:https?://|www\.)[^\s\u3000-\u303f\u3400-\u9fff\uff00-\uffef]*", re.IGNORECASE)
_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[A-Za-z]+(?:'[A-Za-z]+)?")
# Markers of a person's own question or report, in a short run of text.
_OWN_ZH = re.compile(r"[我吗呢吧么嘛啊]|怎么|是不是|真的假的|骗")
_OWN_EN = re.compile(r"\b(i|me|my|is|are|this|what|how|should|can|scam|help|got|real)\b", re.IGNORECASE)


def requested_language(text: str) -> Optional[str]:
    """The language the user explicitly asks for, if any."""
    if _ASK_ENGLISH.search(text):
        return "en"
    if _ASK_CHINESE.search(text):
        return "zh"
    return None


def _runs(text: str) -> List[Tuple[str, str]]:
    """The text as alternating runs of Chinese and English: (language, run text)."""
    runs: List[Tuple[str, str]] = []
    for token in _TOKEN.findall(text):
        lang = "zh" if _CJK.match(token) else "en"
        if lang == "en" and len(token) < 2:
            continue
        if runs and runs[-1][0] == lang:
            runs[-1] = (lang, runs[-1][1] + " " + token)
        else:
            runs.append((lang, token))
    return runs


def _weight(lang: str, run: str) -> float:
    """About how many words a run holds (two Chinese characters count as one word)."""
    if lang == "zh":
        return len(_CJK.findall(run)) / 2
    return float(len(run.split()))


def _is_own_words(lang: str, run: str) -> bool:
    if lang == "zh":
        chars = len(_CJK.findall(run))
        return chars >= 6 or (chars >= 3 and bool(_OWN_ZH.search(run)))
    words = len(run.split())
    return words >= 4 or (words >= 2 and bool(_OWN_EN.search(run)))


def detect_language(text: str) -> Optional[str]:
    """'zh' or 'en' when the text says enough to tell; None for "ok", "1", emoji.

    Short replies carry no signal, so the conversation keeps its language.
    """
    asked = requested_language(text)
    if asked:
        return asked
    unaddressed = _ADDRESS.sub(" ", text)
    unquoted = _QUOTED.sub(" ", unaddressed)
    runs = _runs(unquoted) or _runs(unaddressed) or _runs(text)
    totals = {"zh": 0.0, "en": 0.0}
    for lang, run in runs:
        totals[lang] += _weight(lang, run)
    if totals["zh"] == 0 and totals["en"] < 2:
        return None
    bulk = "zh" if totals["zh"] >= totals["en"] else "en"
    # A sentence of the person's own at the start or the end, in the other language.
    for lang, run in (runs[0], runs[-1]):
        if lang != bulk and _is_own_words(lang, run):
            return lang
    return bulk


def resolve_language(text: str, preferred: Optional[str] = None) -> str:
    """The reply language: an explicit choice, else what the text shows, else the default."""
    if preferred in SUPPORTED:
        return preferred
    return detect_language(text) or DEFAULT

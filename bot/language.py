"""Which language a user writes in, and whether they ask to switch."""

from __future__ import annotations

import re
from typing import Optional

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


def requested_language(text: str) -> Optional[str]:
    """The language the user explicitly asks for, if any."""
    if _ASK_ENGLISH.search(text):
        return "en"
    if _ASK_CHINESE.search(text):
        return "zh"
    return None


def detect_language(text: str) -> Optional[str]:
    """'zh' or 'en' when the text says enough to tell; None for "ok", "1", emoji.

    Short replies carry no signal, so the conversation keeps its language.
    """
    asked = requested_language(text)
    if asked:
        return asked
    if _CJK.search(text):
        return "zh"
    if len(_LATIN_WORD.findall(text)) >= 2:
        return "en"
    return None


def resolve_language(text: str, preferred: Optional[str] = None) -> str:
    """The reply language: an explicit choice, else what the text shows, else the default."""
    if preferred in SUPPORTED:
        return preferred
    return detect_language(text) or DEFAULT

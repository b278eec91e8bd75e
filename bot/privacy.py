"""Personal data out of stored text: typed placeholders for numbers, addresses and account ids.

Patterns are checked in order: URLs and e-mails first (they contain digits), then
ID cards before bank cards (an ID number may also pass Luhn), then phones, then
the account ids that follow a label ("微信号", "QQ", "支付宝账号"). Numbers are
bounded by non-alphanumerics, not by word boundaries, so they are found inside
Chinese text without spaces. Plain URLs stay: they are the evidence of a scam.
"""

from __future__ import annotations

import re
from typing import Callable, List, Match, Pattern, Tuple

_START = r"(?<![0-9A-Za-z])"
_END = r"(?![0-9A-Za-z])"

# Up to whitespace, CJK text or full-width punctuation; a sentence's final "." or ")" is not part of it.
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+(?<![.,;:!?)\]])", re.IGNORECASE
)
_URL_USERINFO = re.compile(r"^(?:https?://)?[^/?#@\s]+:[^/?#@\s]*@", re.IGNORECASE)
_SECRET_PARAM = re.compile(
    r"[?&#;](?:[a-z0-9]+[_-])*(?:token|key|sig|signature|password|passwd|pwd|secret|code|otp|auth|ticket|"
    r"session|sessionid|session_id|sid)=",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ID_CARD = re.compile(
    _START + r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]" + _END
)
_CARD = re.compile(_START + r"(?:\d{16,19}|\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?)" + _END)
_MOBILE = re.compile(
    r"(?<![0-9A-Za-z+])(?:(?:\+|00)?86[ -]?|\(\+?86\)[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}" + _END
)
_LANDLINE = re.compile(_START + r"(?:\(0\d{2,3}\)|0\d{2,3})[ -]?[2-9]\d{6,7}" + _END)

# A label, then the id; only the id is replaced. A Latin label needs a marker
# ("ID", "号" or a colon) so that "add me on WeChat please" stays as it is.
_SEP = r"\s*(?:[:：]|是|为)?\s*"
_MARK = r"\s*(?:[:：]|是|为)\s*"
_ID_WORD = r"(?:id(?![A-Za-z0-9_])|号|账号)"
_WECHAT = re.compile(
    r"((?:微信|威信|薇信|v信)(?:号|账号|id)?" + _SEP
    + r"|(?<![A-Za-z])(?:wechat|weixin|vx|wx)\s*(?:" + _ID_WORD + _SEP + "|" + _MARK + "))"
    + r"([A-Za-z][-_A-Za-z0-9]{5,19})" + _END,
    re.IGNORECASE,
)
# Not a number followed by a currency word: "QQ 20000元" is an amount.
_QQ = re.compile(
    r"((?<![A-Za-z])qq(?:号码|号|群|\s*id)?" + _SEP + r")([1-9]\d{4,10})(?!\d|\s*(?:元|块|万|千|rmb|yuan))",
    re.IGNORECASE,
)
# Alipay accounts are phones or e-mails (replaced before this) or names with a letter,
# so a bare number after "支付宝" is an amount, not an account.
_ALIPAY = re.compile(
    r"((?:支付宝(?:账号|账户|号|id)" + _SEP + r"|支付宝" + _MARK
    + r"|(?<![A-Za-z])alipay\s*(?:(?:account|id)(?![A-Za-z0-9_]))?" + _MARK + "))"
    + r"((?=[-_.0-9]*[A-Za-z])[A-Za-z0-9][-_.A-Za-z0-9]{3,29})" + _END,
    re.IGNORECASE,
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"


def id_checksum_ok(number: str) -> bool:
    """ISO 7064 MOD 11-2, the check character of a mainland resident ID number."""
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK_CHARS[total % 11] == number[17].upper()


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _url(match: Match[str]) -> str:
    url = match.group(0)
    return "[URL_WITH_SECRET]" if _URL_USERINFO.match(url) or _SECRET_PARAM.search(url) else url


def _id_card(match: Match[str]) -> str:
    return "[ID_NUMBER]" if id_checksum_ok(match.group(0)) else match.group(0)


def _card(match: Match[str]) -> str:
    return "[BANK_CARD]" if luhn_ok(re.sub(r"[ -]", "", match.group(0))) else match.group(0)


def _labelled(placeholder: str) -> Callable[[Match[str]], str]:
    return lambda match: match.group(1) + placeholder


_RULES: List[Tuple[Pattern[str], Callable[[Match[str]], str]]] = [
    (_URL, _url),
    (_EMAIL, lambda match: "[EMAIL]"),
    (_ID_CARD, _id_card),
    (_CARD, _card),
    (_MOBILE, lambda match: "[PHONE]"),
    (_LANDLINE, lambda match: "[PHONE]"),
    (_WECHAT, _labelled("[WECHAT_ID]")),
    (_QQ, _labelled("[QQ_ID]")),
    (_ALIPAY, _labelled("[ALIPAY_ID]")),
]


def redact(text: str) -> str:
    """The text with personal data replaced by [PHONE], [ID_NUMBER], [BANK_CARD] and the like."""
    for pattern, replace in _RULES:
        text = pattern.sub(replace, text)
    return text

"""Personal data out of stored text: typed placeholders for numbers, addresses and account ids.

How a text is read:
1. A normalised view is made, character by character, with a map back to the original:
   NFKC (full-width digits and letters, NBSP and the ideographic space become ASCII),
   zero-width characters become spaces, and in a second view of the same length the
   Chinese digits (零〇一二…九, 幺) become 0-9. Matches are found in a view and the
   ORIGINAL span is replaced, so "１３８ 一二三四 5678" becomes "[PHONE]".
2. Numbers: a run of digits joined by at most three separators (spaces, dots, dashes,
   brackets…) is split into its groups, and consecutive groups are tried as one number,
   longest first: an ID number with a valid checksum (or the old 15-digit form with a
   valid date), a bank card passing Luhn, a mobile, a landline (with 0 or +86). So
   "1 3 8 1 2 3 4 5 6 7 8", "138.1234.5678" and "+86 10 6234 5678" are phones, while
   amounts, dates, codes and order numbers that are none of these stay. A letter glued
   on ("vx13812345678") does not hide a number.
3. URLs carrying credentials (user:password@, or a parameter named like a token, key,
   signature, password, session, jwt…), with or without a scheme, and e-mails.
4. Ids after their label: WeChat (微信, 微 信 号, 薇, 加v, vx, wx, WeChat…), QQ (扣扣,
   企鹅号…), Alipay; passports, Chinese car plates; a person's own name after 我叫 / 我是 /
   my name is, and their home address after 我住在 / 家住 / my address is, plus flat
   numbers (3号楼2单元502室). A street address without a label ("18 Orchard Lane") stays: in
   pasted letters it is the sender's, part of the evidence. Names and addresses said of someone else ("户名李四",
   "自称王警官", a shop's address) are the scam's evidence and stay.

Every pattern is linear-time in the length of the text: no two adjacent quantifiers can
share a character, and repetition counts are bounded (tests/test_privacy.py times the
worst cases). Amounts, dates, times, verification codes, order numbers, 400/955xx
service numbers and plain URLs stay: they are the evidence.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Callable, Iterator, List, Optional, Pattern, Sequence, Tuple

# --- the normalised views -------------------------------------------------------------

_ZERO_WIDTH = {ord(c): " " for c in "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"}
# Chinese digits as 0-9 (also read by bot/reported.py, which normalises the same writings).
CN_DIGITS = str.maketrans("零〇○一二三四五六七八九幺", "0001234567891")


class _View:
    """`text`: NFKC with zero-width marks as spaces; `digits`: the same with Chinese digits as 0-9.

    Both have one map back to the original (`source[i]`: the original index of character i).
    """

    def __init__(self, original: str) -> None:
        spaced = original.translate(_ZERO_WIDTH)
        self.source: Optional[List[int]] = None
        if unicodedata.is_normalized("NFKC", spaced):
            self.text = spaced
        else:
            parts: List[str] = []
            source: List[int] = []
            for index, char in enumerate(spaced):
                normal = unicodedata.normalize("NFKC", char) if ord(char) > 0x7F else char
                parts.append(normal)
                source.extend([index] * len(normal))
            self.text = "".join(parts)
            self.source = source
        self.digits = self.text.translate(CN_DIGITS)

    def original_span(self, start: int, end: int) -> Tuple[int, int]:
        if self.source is None:
            return start, end
        return self.source[start], self.source[end - 1] + 1


# A replacement: start and end in the view, and the placeholder (None: keep this span as it is).
_Found = Tuple[int, int, Optional[str]]

# --- numbers ----------------------------------------------------------------------------

# Between two digits of one number: spaces, dots, dashes, brackets, at most three of them.
_SEPARATORS = r"[ \t\r\n.\-_·‐‑‒–—―−()]"
_NUMBER_RUN = re.compile(
    r"(?<![0-9])[0-9](?:" + _SEPARATORS + r"{0,3}[0-9])*(?:" + _SEPARATORS + r"{0,2}[Xx](?![A-Za-z]))?"
)
_GROUP = re.compile(r"[0-9]+|[Xx]")
_MOBILE = re.compile(r"(?:0{0,2}86)?1[3-9][0-9]{9}")
# 0 + area code (10, 2x or three digits) + a local number of 7-8 digits, or +86 without the 0.
_LANDLINE = re.compile(r"(?:0|0{0,2}86)(?:10|2[0-9]|[3-9][0-9]{2})[2-9][0-9]{6,7}")
_ID_18 = re.compile(r"[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]")
_ID_15 = re.compile(r"[1-9][0-9]{5}[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}")
_PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44",
     "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82"}
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_MAX_NUMBER = 21  # 0086 + a 17-digit card is not a thing; 19 digits + a country prefix is the longest


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


def number_kind(number: str) -> Optional[str]:
    """The placeholder for a number written without separators, or None when it is not personal."""
    if "X" in number:
        return "[ID_NUMBER]" if _ID_18.fullmatch(number) and id_checksum_ok(number) else None
    if len(number) == 18 and _ID_18.fullmatch(number) and id_checksum_ok(number):
        return "[ID_NUMBER]"
    if 16 <= len(number) <= 19 and number[0] != "0" and luhn_ok(number):
        return "[BANK_CARD]"
    if _MOBILE.fullmatch(number) or _LANDLINE.fullmatch(number):
        return "[PHONE]"
    if len(number) == 15 and _ID_15.fullmatch(number) and number[:2] in _PROVINCES:
        return "[ID_NUMBER]"
    return None


# An IBAN, grouped by fours or not, with its mod-97 check: one account, not digit groups to read as phones.
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])")


_IBAN_COUNTRIES = frozenset(re.findall(
    "[A-Z]{2}",
    "AD AE AL AT AZ BA BE BG BH BR BY CH CR CY CZ DE DK DO EE EG ES FI FO FR GB GE GI GL GR GT HR HU IE IL IQ IS "
    "IT JO KW KZ LB LC LI LT LU LV LY MC MD ME MK MR MT MU NL NO PK PL PS PT QA RO RS SA SC SD SE SI SK SM ST SV "
    "TL TN TR UA VA VG XK",
))


def iban_shaped(candidate: str) -> bool:
    """A real IBAN country and length: "VX13812345678" is a WeChat label and a phone, not an account."""
    return candidate[:2] in _IBAN_COUNTRIES and 15 <= len(candidate.replace(" ", "")) <= 34


def iban_ok(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    if not iban_shaped(candidate):
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _ibans(view: _View) -> Iterator[_Found]:
    for match in _IBAN.finditer(view.text):
        if iban_shaped(match.group(0)):
            # One that fails the check is not an account; it is kept whole (None), not read as phones.
            yield match.start(), match.end(), "[BANK_CARD]" if iban_ok(match.group(0)) else None


def _numbers(view: _View) -> Iterator[_Found]:
    for run in _NUMBER_RUN.finditer(view.digits):
        groups = [(m.start() + run.start(), m.end() + run.start(), m.group(0).upper())
                  for m in _GROUP.finditer(run.group(0))]
        first = 0
        while first < len(groups):
            found = None
            # Longest first: the whole card before the phone-like digits inside it.
            last, length = first, 0
            while last < len(groups) and length + len(groups[last][2]) <= _MAX_NUMBER:
                length += len(groups[last][2])
                last += 1
            for end in range(last, first, -1):
                if end - first >= 3 and all(g[2].endswith("00") for g in groups[first:end]):
                    continue  # "1000 2000 3000 4000": a list of amounts, whatever Luhn says
                kind = number_kind("".join(g[2] for g in groups[first:end]))
                if kind:
                    found = (groups[first][0], groups[end - 1][1], kind, end)
                    break
            if found is None:
                first += 1
                continue
            start, stop, kind, first = found
            digits = view.digits
            if start > 0 and stop < len(digits) and digits[start - 1].isascii() and digits[start - 1].isalpha() \
                    and digits[stop].isascii() and digits[stop].isalpha():
                continue  # letters on both sides: part of an identifier (a hash, a tracking code), not a number
            # "+86 …", "(010)…": the sign and brackets go with the number.
            while start > 0 and view.digits[start - 1] in "+(":
                start -= 1
            if stop < len(view.digits) and view.digits[stop] == ")" and "(" in view.digits[start:stop]:
                stop += 1
            yield start, stop, kind


# --- URLs and e-mails -------------------------------------------------------------------

_URL_CHARS = r"[^\s<>\"'\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}"
# With a scheme or www., or a bare host followed by a path or a query (pay.example.com/x?token=…).
_URL = re.compile(
    r"(?:(?:https?|ftp)://|www\.|(?<![A-Za-z0-9@._-])" + _HOST + r"(?=[/?#:]))" + _URL_CHARS + r"*",
    re.IGNORECASE,
)
_URL_TAIL = ".,;:!?)]"
_URL_USERINFO = re.compile(r"^(?:[a-z]+://)?[^/?#@\s:]+:[^/?#@\s]*@", re.IGNORECASE)
_SECRET_PARAM = re.compile(
    r"[?&#;/][A-Za-z0-9_.-]{0,40}?(?:token|key|sig|signature|password|passwd|pwd|pass|secret|code|otp|auth|"
    r"ticket|session|sid|jwt|credential|credentials|bearer|sign)(?:[_-]?id)?=",
    re.IGNORECASE,
)
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}"
    r"(?![A-Za-z])"
)


def _urls(view: _View) -> Iterator[_Found]:
    for match in _URL.finditer(view.text):
        start, end = match.span()
        while end > start and view.text[end - 1] in _URL_TAIL:
            end -= 1
        url = view.text[start:end]
        if _URL_USERINFO.match(url) or _SECRET_PARAM.search(url):
            yield start, end, "[URL_WITH_SECRET]"


def _emails(view: _View) -> Iterator[_Found]:
    for match in _EMAIL.finditer(view.text):
        yield match.start(), match.end(), "[EMAIL]"


# --- ids after a label ------------------------------------------------------------------

# Label, then an optional marker with spaces around it. One `\s*` never meets another:
# "微信" followed by 20,000 spaces is one pass, not 20,000².
_MARKER = r"\s*(?:(?:[:：=]|是|为)\s*|is\s+)?"
_STRONG_MARKER = r"\s*(?:[:：=]|是|为|is)\s*"
_WECHAT_ID = r"([A-Za-z][-_A-Za-z0-9]{5,29})(?![-_A-Za-z0-9])"
# Strong labels are never followed by an amount; a bare id after them may be digits only.
_WECHAT_STRONG = (
    r"微 ?信 ?(?:号|账号|id)|威 ?信 ?号|薇 ?信 ?号|[vV] ?信 ?号|v ?x ?号|wechat\s*id|weixin\s*id|wx ?id(?![_a-z0-9])"
)
_WECHAT_WEAK = (
    r"微 ?信|威 ?信|薇 ?信|维 ?信|[vV] ?信|薇|加 ?[vV](?![a-z])|\+ ?[vV](?![a-z])|卫星|"
    r"(?<![A-Za-z])(?:v ?x|w ?x|wechat|weixin)"
)
_WECHAT = re.compile(
    r"((?:" + _WECHAT_STRONG + "|" + _WECHAT_WEAK + r")(?:\s*(?:account|handle|username))?" + _MARKER + r")"
    + r"(?:" + _WECHAT_ID + r"|([1-9][0-9]{5,11})(?![0-9]))",
    re.IGNORECASE,
)
_AMOUNT_AFTER = re.compile(r"\s{0,3}(?:元|块|万|千|百|rmb|yuan|usdt|刀|美元|cny)", re.IGNORECASE)
# Not a number followed by a currency word: "QQ 20000元" is an amount.
_QQ = re.compile(
    r"((?:(?<![A-Za-z])q ?q(?:号码|号|群|\s*id|\s*number)?|扣 ?扣(?:号|群)?|企 ?鹅(?:号|群)|(?<![A-Za-z])q号)"
    + _MARKER + r")([1-9](?:[ -]?[0-9]){4,10})(?![0-9])",
    re.IGNORECASE,
)
# Alipay accounts are phones or e-mails (replaced before this) or names with a letter,
# so a bare number after "支付宝" is an amount, not an account.
_ALIPAY = re.compile(
    r"((?:支付宝(?:账号|账户|号|id)" + _MARKER + r"|支付宝" + _STRONG_MARKER
    + r"|(?<![A-Za-z])alipay(?:\s*(?:account|id)(?![A-Za-z0-9_]))?" + _STRONG_MARKER + "))"
    + r"((?=[-_.0-9]{0,30}[A-Za-z])[A-Za-z0-9][-_.A-Za-z0-9]{3,29})(?![-_.A-Za-z0-9])",
    re.IGNORECASE,
)
_PASSPORT = re.compile(
    r"((?:护照(?:号码|号)?|(?<![A-Za-z])passport(?:\s*(?:no\.?|number|#))?)" + _MARKER + r")"
    r"([A-Za-z]{1,2}[0-9]{6,8})(?![A-Za-z0-9])",
    re.IGNORECASE,
)
# The Chinese e-passport without a label: E + 8 digits, or E, a letter and 7 digits.
_EPASSPORT = re.compile(r"(?<![A-Za-z0-9])E[0-9A-HJ-NP-Z][0-9]{7}(?![A-Za-z0-9])")
_PLATE = re.compile(
    r"(?<![A-Za-z0-9])[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Za-z]"
    r"[ ·•.\-]?(?=[A-Za-z]{0,5}[0-9])[A-HJ-NP-Za-hj-np-z0-9]{5,6}(?![A-Za-z0-9])"
)


def _has_digit_or_mark(value: str) -> bool:
    return any(c.isdigit() or c in "_-" for c in value)


def _wechat(view: _View) -> Iterator[_Found]:
    for match in _WECHAT.finditer(view.digits):
        label = match.group(1)
        strong = re.match(_WECHAT_STRONG, label.strip(), re.IGNORECASE) is not None
        marked = re.search(r"[:：=是为]|is\s*$", label, re.IGNORECASE) is not None
        if match.group(2):
            value, group = match.group(2), 2
            # "wechat please", "vx转账": a weak label takes only an id that looks like one.
            if not (strong or marked or _has_digit_or_mark(value)):
                continue
        else:
            value, group = match.group(3), 3
            if not strong or _AMOUNT_AFTER.match(view.digits, match.end(3)):
                continue
        yield match.start(group), match.end(group), "[WECHAT_ID]"


def _qq(view: _View) -> Iterator[_Found]:
    for match in _QQ.finditer(view.digits):
        if not _AMOUNT_AFTER.match(view.digits, match.end(2)):
            yield match.start(2), match.end(2), "[QQ_ID]"


def _labelled(pattern: Pattern[str], placeholder: str) -> Callable[[_View], Iterator[_Found]]:
    def find(view: _View) -> Iterator[_Found]:
        for match in pattern.finditer(view.digits):
            yield match.start(2), match.end(2), placeholder

    return find


def _whole(pattern: Pattern[str], placeholder: str) -> Callable[[_View], Iterator[_Found]]:
    def find(view: _View) -> Iterator[_Found]:
        for match in pattern.finditer(view.text):
            yield match.start(), match.end(), placeholder

    return find


# --- a person's own name and home address -------------------------------------------------

_SURNAMES_2 = ("欧阳", "司马", "上官", "诸葛", "东方", "慕容", "令狐", "皇甫", "尉迟",
               "公孙", "长孙", "宇文", "司徒", "夏侯", "端木", "南宫", "独孤")
_SURNAMES_1 = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈"
    "任姚卢姜崔钟谭陆汪范廖石金韦贾夏付方邹熊孟秦邱侯江尹薛闫段雷黎史龙陶贺顾毛郝龚邵万覃武钱戴严欧"
    "莫孔向常汤康易乔赖文施洪辛柯庄蓝牛包左鲁葛焦关舒樊颜倪伍岳聂孔麦祝殷庞涂"
)
# A name ends before these: "我叫张伟今年三十", "我是李明的朋友".
_AFTER_NAME = set("的了是在今年说和跟被把让给要想去来就也都还又很我你他她它们这那啊吧呢吗哦嗯个已经刚叫")
# Given-name characters never include these either: "我叫他转账", "我是王警官", "我是东方航空的客服".
_NOT_GIVEN = _AFTER_NAME | set(
    "位先女士小姐警官经理老师客服律师医生局长主任科队总监会计员工作人买卖转汇打问骗告诉"
    "航空银集团司证券险递融部院所厅店厂网"
)
# "我是王警官" is what the scammer claims: evidence, not the person's name.
_TITLES = re.compile(
    r"(?:警官|警察|经理|老师|客服|律师|医生|局长|主任|科长|队长|总|法官|检察官|专员|教授|先生|女士|小姐)"
)
_CJK = r"[\u4e00-\u9fff]"
# "My name is Officer Smith": a title makes it the scammer's claim.
_EN_TITLES = {"officer", "agent", "detective", "inspector", "sergeant", "captain", "dr", "mr", "mrs", "ms", "miss",
              "sir", "madam", "lady", "lord", "general", "colonel", "major", "barrister", "attorney", "professor"}
_NAME_ZH = re.compile(
    r"(我叫|我的名字(?:是|叫)|本人(?:叫|姓名)|我的姓名是|我是|我姓名)\s*(?:[:：]\s*)?(" + _CJK + r"{2,4})"
)
_NAME_EN = re.compile(
    r"((?<![A-Za-z])(?:[Mm]y (?:full )?name is|[Mm]y name's|I am called|I'm called|[Cc]all me)\s+)"
    r"([A-Z][a-z]{1,20}(?:[ -][A-Z][a-z]{1,20}){0,2})(?![A-Za-z])"
)
_ADDRESS_ZH = re.compile(
    r"((?:我(?:家)?(?:住在|住|的(?:家庭|家|收货|收件)?(?:住址|地址)(?:是|在)?)|家住(?:在)?|家庭住址|家庭地址|本人住址)"
    r"\s*(?:[:：]\s*)?)([^\s，。！？；,!?;\n的]{2,60})"
)
_ADDRESS_MARKS = re.compile(r"路|街|巷|弄|号|楼|栋|幢|单元|室|村|小区|花园|苑|大道|公寓")
_ADDRESS_EN = re.compile(
    r"((?<![A-Za-z])(?:[Mm]y (?:home )?address is|I live at|[Mm]y address:)\s*)"
    r"([^\n;!?,]{4,80}?)(?=[.;!?\n](?:\s|$)|,|$)"
)
_FLAT = re.compile(
    r"(?<![0-9])[0-9]{1,4}(?:号楼|栋|幢|座)(?:[0-9]{1,2}单元)?[0-9]{2,4}(?:室|房|号)?|"
    r"(?<![0-9])[0-9]{1,2}单元[0-9]{2,4}(?:室|房|号)?"
)



def _name_zh(view: _View) -> Iterator[_Found]:
    text = view.text
    for match in _NAME_ZH.finditer(text):
        candidate = match.group(2)
        surname = next((s for s in _SURNAMES_2 if candidate.startswith(s)), candidate[0])
        if surname not in _SURNAMES_2 and surname not in _SURNAMES_1:
            continue
        start = match.start(2) + len(surname)
        # One or two given-name characters, then the name must end: not inside "王者荣耀".
        for size in (2, 1):
            given = text[start:start + size]
            end = start + size
            if len(given) < size or any(c in _NOT_GIVEN or not re.match(_CJK, c) for c in given):
                continue
            if end < len(text) and re.match(_CJK, text[end]) and text[end] not in _AFTER_NAME:
                continue
            if _TITLES.match(text, end):  # "我是王警官": the scammer's claim is evidence
                break
            yield match.start(2), end, "[NAME]"
            break


def _name_en(view: _View) -> Iterator[_Found]:
    for match in _NAME_EN.finditer(view.text):
        if match.group(2).split()[0].lower() not in _EN_TITLES:
            yield match.start(2), match.end(2), "[NAME]"


def _address_zh(view: _View) -> Iterator[_Found]:
    for match in _ADDRESS_ZH.finditer(view.text):
        if _ADDRESS_MARKS.search(match.group(2)) and not match.group(2).startswith("某"):
            yield match.start(2), match.end(2), "[ADDRESS]"


def _address_en(view: _View) -> Iterator[_Found]:
    for match in _ADDRESS_EN.finditer(view.text):
        if any(c.isdigit() for c in match.group(2)):
            yield match.start(2), match.end(2), "[ADDRESS]"


# In order: what comes first keeps its span (a URL's digits are not a phone, an ID is not a card).
_FINDERS: Sequence[Callable[[_View], Iterator[_Found]]] = (
    _urls,
    _emails,
    _ibans,
    _numbers,
    _wechat,
    _qq,
    _labelled(_ALIPAY, "[ALIPAY_ID]"),
    _labelled(_PASSPORT, "[PASSPORT]"),
    _whole(_EPASSPORT, "[PASSPORT]"),
    _whole(_PLATE, "[PLATE]"),
    _name_zh,
    _name_en,
    _address_zh,
    _address_en,
    _whole(_FLAT, "[ADDRESS]"),
)


def personal_spans(text: str) -> List[Tuple[int, int, str]]:
    """(start, end, placeholder) in `text`, sorted and non-overlapping."""
    if not text:
        return []
    view = _View(text)
    taken = bytearray(len(view.text) + 1)
    spans: List[Tuple[int, int, str]] = []
    for finder in _FINDERS:
        for start, end, placeholder in finder(view):
            if end <= start or any(taken[start:end]):
                continue
            taken[start:end] = b"\x01" * (end - start)
            if placeholder is not None:
                spans.append((*view.original_span(start, end), placeholder))
    return sorted(spans)


def redact(text: str) -> str:
    """The text with personal data replaced by [PHONE], [ID_NUMBER], [BANK_CARD] and the like."""
    spans = personal_spans(text)
    if not spans:
        return text
    parts: List[str] = []
    position = 0
    for start, end, placeholder in spans:
        parts.append(text[position:start])
        parts.append(placeholder)
        position = end
    parts.append(text[position:])
    return "".join(parts)

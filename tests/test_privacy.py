"""Redaction of personal data in realistic Chinese and English messages, and what must stay."""

from __future__ import annotations

import time

import pytest

from bot.privacy import id_checksum_ok, luhn_ok, redact

ID_NUMBER = "11010519491231002X"  # the checksum example of GB 11643
CARD_16 = "6222021234567894"  # Luhn-valid, made up
CARD_19 = "6228480012345678903"


@pytest.mark.parametrize("text, expected", [
    ("他让我加他电话13812345678再细聊", "他让我加他电话[PHONE]再细聊"),
    ("对方号码是+86 138 1234 5678，自称客服", "对方号码是[PHONE]，自称客服"),
    ("回拨 138-1234-5678 或 0086 13912345678", "回拨 [PHONE] 或 [PHONE]"),
    ("Call me back on +8613812345678.", "Call me back on [PHONE]."),
    ("派出所座机010-62345678，分机没人接", "派出所座机[PHONE]，分机没人接"),
    ("来电显示(0755)83765432", "来电显示[PHONE]"),
    (f"身份证号{ID_NUMBER}，名字张三", "身份证号[ID_NUMBER]，名字张三"),
    (f"my ID number is {ID_NUMBER.lower()}", "my ID number is [ID_NUMBER]"),
    (f"把钱转到卡号{CARD_16}上", "把钱转到卡号[BANK_CARD]上"),
    ("银行卡 6228 4800 1234 5678 903 户名李四", "银行卡 [BANK_CARD] 户名李四"),
    ("card 4111-1111-1111-1111, exp 09/27", "card [BANK_CARD], exp 09/27"),
    ("把截图发到邮箱zhang.san+test@example.com.cn就行", "把截图发到邮箱[EMAIL]就行"),
    ("email me at li_si@mail.example.org", "email me at [EMAIL]"),
    ("点这个https://pay.example.com/confirm?order=88&token=9f8e7d6c登录", "点这个[URL_WITH_SECRET]登录"),
    ("open https://admin:hunter2@bank.example.net/login now", "open [URL_WITH_SECRET] now"),
    ("链接 www.example.cn/reset?access_token=abc&uid=1。", "链接 [URL_WITH_SECRET]。"),
    ("https://example.com/cb?code=482910&state=x", "[URL_WITH_SECRET]"),
    ("see https://example.com/s?SESSION_ID=77 and https://x.example/a?sig=ab",
     "see [URL_WITH_SECRET] and [URL_WITH_SECRET]"),
    ("加我微信abc_123456，拉你进群", "加我微信[WECHAT_ID]，拉你进群"),
    ("他的微信号是 wxid_k2j3h4，头像是个美女", "他的微信号是 [WECHAT_ID]，头像是个美女"),
    ("vx: lucky8888 私聊", "vx: [WECHAT_ID] 私聊"),
    ("WeChat ID: zhang_san88", "WeChat ID: [WECHAT_ID]"),
    ("导师的QQ 12345678，群号也发你了", "导师的QQ [QQ_ID]，群号也发你了"),
    ("qq号：987654321", "qq号：[QQ_ID]"),
    ("退款打到支付宝账号 lisi.pay2024", "退款打到支付宝账号 [ALIPAY_ID]"),
    ("支付宝账号13812345678", "支付宝账号[PHONE]"),
    ("Alipay account: someone@example.com", "Alipay account: [EMAIL]"),
    # as people type them (issue 12): the original span goes, whatever the spelling
    ("加我vx13812345678", "加我vx[PHONE]"),
    ("加我VX13812345678", "加我VX[PHONE]"),
    ("电话１３８ 一二三四 5678", "电话[PHONE]"),
    ("手机 1 3 8 1 2 3 4 5 6 7 8 打我", "手机 [PHONE] 打我"),
    ("座机 +86 10 6234 5678", "座机 [PHONE]"),
    ("身份证 110105 19491231 002x", "身份证 [ID_NUMBER]"),
    ("老身份证110105491231002", "老身份证[ID_NUMBER]"),
    ("卡号 622202 1234567894", "卡号 [BANK_CARD]"),
    ("加v zs123456", "加v [WECHAT_ID]"),
    ("微 信 号：zs123456", "微 信 号：[WECHAT_ID]"),
    ("my WeChat is zs123456", "my WeChat is [WECHAT_ID]"),
    ("扣扣 123456789", "扣扣 [QQ_ID]"),
    ("企鹅号：987654321", "企鹅号：[QQ_ID]"),
    ("pay.example.com/confirm?apikey=Zx81", "[URL_WITH_SECRET]"),
    ("https://m.example.cn/h5?accessToken=eyJh8K", "[URL_WITH_SECRET]"),
    ("add me on WeChat please, my name is Lily", "add me on WeChat please, my name is [NAME]"),
    ("我叫张伟，刚才被骗了", "我叫[NAME]，刚才被骗了"),
    ("家住幸福小区5栋1203室", "家住[ADDRESS]"),
    ("护照号E12345678", "护照号[PASSPORT]"),
    ("车牌粤B12345被拍了", "车牌[PLATE]被拍了"),
    ("wire it to IBAN DE23 5001 0517 0000 1234 56 today", "wire it to IBAN [BANK_CARD] today"),
])
def test_personal_data_becomes_typed_placeholders(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "他说投资5万元，一个月能翻倍",
    "已经转了¥12,800，还有3000块没转",
    "I sent $2,000 on 2024-03-15 at 14:30",
    "2024年3月15日下午3点，对方打来电话",
    "订单号2024031512345678，说是快递丢了",  # 16 digits failing Luhn
    "order 202403151234567890 was refunded",  # 18 digits, neither an ID nor a card
    "验证码 384756，请勿告诉他人",
    "Your code is 384756. Do not share it.",
    "请拨打110或96110，也可以打12381咨询",
    "房间号1203，快递柜取件码6683",
    "官网 https://www.gov.cn/fraud/report?id=12 可以举报",
    "http://example.com/article?page=2&lang=zh",
    "add me on WeChat please, we met on Tinder",
    "我是公安局的王警官，你涉嫌洗钱",
    "My name is Officer Smith from the police",
    "在王者荣耀里买账号被骗",
    "转了 1000 2000 3000 4000 5000 一共五次",
    "IBAN DE21 5001 0517 8831 2290 44 (its check fails: no account, and no phone inside either)",
    "message 9f3a13812345678c2e (letters on both sides: an identifier)",
    "用微信支付了两万，又用支付宝转了5000",
    "支付宝：3000元，微信：2000元",
    "QQ 20000元的游戏装备",
    "客服电话95588，400-820-8820",
    "身份证11010519491231002Y是假的",
    "",
])
def test_look_alikes_stay(text: str) -> None:
    assert redact(text) == text


def test_several_kinds_in_one_message() -> None:
    text = (f"我叫王五，手机13912345678，身份证{ID_NUMBER}，卡号{CARD_19}，"
            "邮箱wangwu@example.com，他发来https://app.example.com/verify?token=abc123，让我转5万元")
    assert redact(text) == (
        "我叫[NAME]，手机[PHONE]，身份证[ID_NUMBER]，卡号[BANK_CARD]，"
        "邮箱[EMAIL]，他发来[URL_WITH_SECRET]，让我转5万元"
    )


def test_checksums() -> None:
    assert id_checksum_ok(ID_NUMBER) and not id_checksum_ok(ID_NUMBER[:-1] + "1")
    assert luhn_ok(CARD_16) and luhn_ok(CARD_19) and not luhn_ok("2024031512345678")


def test_the_original_span_goes_whatever_the_normalisation() -> None:
    # A full-width digit and a Chinese digit each stand for one character of the original.
    text = "号码：＋８６ 一三八 1234 ５６７８。好"
    assert redact(text) == "号码：[PHONE]。好"


# Worst cases for each pattern family: long runs of what a pattern reads, after each label.
_ATOMS = [" ", "a", "1", "1 ", "1-", "1.", "1(", "1X", "a.", "a@", "@a", ".a", "a-", "a:", "a1", "?", "?a", "&token",
          "/", ":", "微信", "微信 ", "微", "qq", "QQ ", "扣扣 ", "vx ", "加v ", "http://a", "www.", "x.co/", "我叫",
          "我叫张", "我是王", "我住在", "家住", "my name is ", "My name is A", "I live at 1", "1号楼", "1单元", "粤B",
          "E1", "护照", "passport ", "一", "１", "\u00a0", "\u200b", "12345 ", "Ab ", "1 Ab ", "支付宝：", "wechat ",
          "a@b.", "a.b", "https://a.b/?", "我的地址是", "DE12 3456 ", "GB00"]
_PREFIXES = ["", "微信", "QQ", "我叫", "http://", "https://a:", "my name is ", "I live at ", "护照", "支付宝账号"]


def test_every_pattern_is_linear_time() -> None:
    """64 KB (the largest body a door takes) of any worst case redacts in well under a second;
    "微信" + 20,000 spaces took 13 s and "http://" + "a:" x 32,000 6 s before."""
    size = 64 * 1024
    slowest = (0.0, "", "")
    runs = (" ", "a", "1", "1 ", "a:", "a1", ".")
    cases = [("", atom) for atom in _ATOMS] + [(prefix, atom) for prefix in _PREFIXES for atom in runs]
    for prefix, atom in cases:
        text = prefix + atom * ((size - len(prefix)) // len(atom))
        started = time.process_time()
        redact(text)
        slowest = max(slowest, (time.process_time() - started, prefix, atom))
    assert slowest[0] < 1.0, f"{slowest[0]:.2f} s of CPU for {slowest[1]!r} + {slowest[2]!r} repeated"

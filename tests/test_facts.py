"""bot/facts.py: triage facts read from free text, in both languages, with knowledge/facts.yml."""

from __future__ import annotations

import copy
import time
from datetime import datetime
from typing import Any, Dict

import pytest
import yaml

from bot.facts import (
    BOOL_FIELDS,
    CHANNELS,
    FACTS_FILE,
    Facts,
    FactsRulesError,
    check_linear,
    extract_facts,
    load_rules,
    parse_rules,
)
from bot.timeparse import find_times

NOW = datetime(2024, 5, 10, 15, 0)  # a Friday, 15:00


def facts(text: str, lang: str = "zh", **kwargs: Any) -> Facts:
    return extract_facts(text, lang, NOW, **kwargs)


def check(result: Facts, expected: Dict[str, Any]) -> None:
    got = {name: getattr(result, name) for name in expected}
    assert got == expected


# ---------------------------------------------------------------------------
# money_sent, with amount, channel and time where the sentence gives them

MONEY_SENT = [
    ("骗子让我妈转了两万", "zh", {"money_sent": True, "amount": "两万"}),
    ("我刚才用手机银行给他转了两万", "zh",
     {"money_sent": True, "minutes_since_transfer": 5.0, "amount": "两万", "payment_channel": "bank_transfer"}),
    ("打了两万过去", "zh", {"money_sent": True, "amount": "两万"}),
    ("那我就转了两万过去，后来才发现是骗子", "zh", {"money_sent": True, "amount": "两万"}),
    ("这两个礼拜往群里推荐的平台打了8万", "zh", {"money_sent": True, "amount": "8万"}),
    ("最后一笔是前天 都是手机银行转到他们给的卡上", "zh", {"money_sent": True, "minutes_since_transfer": 2940.0}),
    ("I've put $12,000 into it over the past month", "en", {"money_sent": True, "amount": "$12,000"}),
    ("last deposit was 4 days ago, all bank transfers", "en", {"money_sent": True, "minutes_since_transfer": 5760.0}),
    # a fee paid, said without naming it; a transfer whose payee follows it
    ("要先交解冻费才能放款 我昨天晚上已经交了", "zh", {"money_sent": True}),
    ("已经交了2000", "zh", {"money_sent": True, "amount": "2000"}),
    ("i did a bank transfer to the account his lawyer gave me, about an hour ago", "en",
     {"money_sent": True, "minutes_since_transfer": 60.0}),
    ("我充了", "zh", {"money_sent": True}),
    ("昨天晚上已经汇过去3万5了", "zh", {"money_sent": True, "amount": "3万5", "minutes_since_transfer": 1080.0}),
    ("扫码付了800块", "zh", {"money_sent": True, "amount": "800块"}),
    ("我妈给那个骗子交了5000保证金", "zh", {"money_sent": True, "amount": "5000"}),
    ("老人上午去银行柜台汇的款", "zh",
     {"money_sent": True, "payment_channel": "bank_transfer", "minutes_since_transfer": 300.0}),
    ("卡里的钱全没了", "zh", {"money_sent": True}),
    ("交了1.5万的解冻费", "zh", {"money_sent": True, "amount": "1.5万"}),
    ("用微信扫了他的收款码付了300", "zh", {"money_sent": True, "amount": "300", "payment_channel": "wechat_pay"}),
    ("转帐给他了 一共八千", "zh", {"money_sent": True, "amount": "八千"}),
    ("买了五张京东卡给他", "zh", {"money_sent": True, "payment_channel": "gift_card"}),
    ("被骗了六万多", "zh", {"money_sent": True}),
    ("上个月被刷单骗了4万多 已经报过案了", "zh",
     {"money_sent": True, "amount": "4万多", "minutes_since_transfer": 43200.0}),
    ("差点被刷单骗了两万", "zh", {"money_sent": False}),
    ("I got scammed out of 4000 dollars last month", "en", {"money_sent": True, "minutes_since_transfer": 43200.0}),
    ("they nearly scammed me out of 500", "en", {"money_sent": False}),
    ("有个中介说能消除不良记录 收了我6000服务费", "zh", {"money_sent": True, "amount": "6000"}),
    ("我老婆看到宝妈副业 她说已经往一个app里充了3000做任务", "zh", {"money_sent": True, "amount": "3000"}),
    ("我妈说她已经把钱转过去了", "zh", {"money_sent": True}),
    ("then 5000 was gone from my account an hour ago", "en", {"money_sent": True, "minutes_since_transfer": 60.0}),
    ("I ended up sending them 7,000 yuan through Alipay", "en",
     {"money_sent": True, "amount": "7,000 yuan", "payment_channel": "alipay"}),
    ("on an app called NexaCoin, I put in $3,000 and it shows $9,000 now", "en",
     {"money_sent": True, "amount": "$3,000"}),
    ("yes he paid the 600", "en", {"money_sent": True, "amount": "600"}),
    ("the last lot was this morning, about $1,500 of Apple gift cards, she scratched them and "
     "sent him photos of the codes",
     "en", {"money_sent": True, "amount": "$1,500", "payment_channel": "gift_card"}),
    ("I sent about 4000 USDT in total, last one 2 days ago", "en",
     {"money_sent": True, "amount": "4000 USDT", "minutes_since_transfer": 2880.0, "payment_channel": "crypto"}),
    ("I sent him $3,000 through Zelle an hour ago", "en",
     {"money_sent": True, "amount": "$3,000", "minutes_since_transfer": 60.0, "payment_channel": "bank_transfer"}),
    ("my mum wired 5k to their safe account last night", "en",
     {"money_sent": True, "amount": "5k", "minutes_since_transfer": 1080.0}),
    ("bought gift cards worth $500 this morning", "en",
     {"money_sent": True, "amount": "$500", "payment_channel": "gift_card", "minutes_since_transfer": 360.0}),
    ("I've already transferred 2000 to the account he gave me", "en", {"money_sent": True, "amount": "2000"}),
    ("We paid the release fee of £450 two days ago", "en",
     {"money_sent": True, "amount": "£450", "minutes_since_transfer": 2880.0}),
    ("I deposited 10k into the platform", "en", {"money_sent": True, "amount": "10k"}),
    ("Dad handed the courier an envelope of cash", "en", {"money_sent": True, "payment_channel": "cash"}),
    ("made two bank transfers to him", "en", {"money_sent": True}),
    ("lost $8,000 to the investment site", "en", {"money_sent": True, "amount": "$8,000"}),
    ("打了2w过去", "zh", {"money_sent": True, "amount": "2w"}),
    ("刚转完", "zh", {"money_sent": True, "minutes_since_transfer": 5.0}),
    ("钱已经过去了", "zh", {"money_sent": True}),
    ("zfb转了800", "zh", {"money_sent": True, "amount": "800", "payment_channel": "alipay"}),
    ("转了两万五", "zh", {"money_sent": True, "amount": "两万五"}),
    ("I had to pay a fee of $300", "en", {"money_sent": True, "amount": "$300"}),
    ("sent an e-transfer of 400 this morning", "en",
     {"money_sent": True, "amount": "400", "payment_channel": "bank_transfer", "minutes_since_transfer": 360.0}),
]

MONEY_NOT_SENT = [
    ("我没转", "zh", {"money_sent": False}),
    ("just checked my banking app, nothing's gone out yet", "en", {"money_sent": False}),
    ("还没转呢，他一直在催", "zh", {"money_sent": False, "still_in_contact": True}),
    ("没给钱", "zh", {"money_sent": False}),
    ("她让我也下个软件跟着她买 然后我还没买呢 就是想问问靠谱吗", "zh", {"money_sent": False}),
    ("平台我注册了，但是一直没投", "zh", {"money_sent": False}),
    ("一分钱都没转", "zh", {"money_sent": False}),
    ("钱还在卡里 没动", "zh", {"money_sent": False}),
    ("我不想转，感觉不对劲", "zh", {"money_sent": False}),
    ("他让我转钱我没转", "zh", {"money_sent": False}),
    ("转账失败了，银行拦下来了", "zh", {"money_sent": False, "payment_channel": None}),
    ("I haven't paid anything", "en", {"money_sent": False}),
    ("didn't send anything, we only talked", "en", {"money_sent": False}),
    ("No money has been sent yet", "en", {"money_sent": False}),
    ("I was told to buy gift cards but I didn't", "en", {"money_sent": False}),
    ("i didnt pay", "en", {"money_sent": False}),
    ("我差点就转了，幸好我儿子拦住了", "zh", {"money_sent": False}),
    ("I nearly paid them", "en", {"money_sent": False}),
    ("I was going to pay but didn't", "en", {"money_sent": False}),
]

# Questions, plans, instructions, quoted words, incoming money, other senses: no fact.
MONEY_NOT_SAID = [
    ("她说要我先转2万", "zh"),
    ("作业已经交了", "zh"),
    ("他让我交2000", "zh"),
    # a decision after advice: the money has not left yet
    ("好 那我就借给他了 谢谢你", "zh"),
    # the buyer's claim, then an instruction to a relative
    ("有个买家说在交易平台上付了款 但被冻结了 要我儿子先交2000解冻", "zh"),
    ("他说已经帮你转过去了", "zh"),
    ("他收了我的身份证复印件", "zh"),
    ("I put in a complaint with the store", "en"),
    ("I sent about 20 messages to him", "en"),
    ("I sent him 20 photos of the parcel", "en"),
    ("要不要转?", "zh"),
    ("我需要转钱吗", "zh"),
    ("should I pay?", "en"),
    ("Do I need to send the money today?", "en"),
    ("他说你把钱转到安全账户就没事", "zh"),
    ("他把我转给了检察官", "zh"),
    ("he transferred me to a prosecutor", "en"),
    ("then they transferred him to a prosecutor who showed him an arrest warrant", "en"),
    ("they transferred my grandpa to a so-called police officer", "en"),
    ("then he transferred the call to his supervisor", "en"),
    ("I was transferred to another officer", "en"),
    ("客服让我转账到指定账户", "zh"),
    ("“请立即将资金转入安全账户”", "zh"),
    ("他给我转了50块佣金", "zh"),
    ("they paid me $20 for the first task", "en"),
    ("如果我转了钱能追回吗", "zh"),
    ("冒充公安的人打电话来", "zh"),
    ("I got paid on Friday", "en"),
    ("请问转账给对方后还能撤回吗", "zh"),
    ("千万别转", "zh"),
    ("he wants me to wire the money tomorrow", "en"),
    ("你转了吗", "zh"),
    ("请勿向陌生账户转账", "zh"),
    ("- never send money to someone you have not met", "en"),
    ("the message said: you have paid the fee", "en"),
]


@pytest.mark.parametrize("text, lang, expected", MONEY_SENT + MONEY_NOT_SENT)
def test_money_sent(text: str, lang: str, expected: Dict[str, Any]) -> None:
    check(facts(text, lang), expected)


@pytest.mark.parametrize("text, lang", MONEY_NOT_SAID)
def test_no_money_fact_in_questions_quotes_and_other_senses(text: str, lang: str) -> None:
    assert facts(text, lang).money_sent is None


# ---------------------------------------------------------------------------
# minutes_since_transfer and time_text, against NOW (Friday 15:00)

TIMES = [
    ("十分钟前转的", 10.0, "十分钟前"),
    ("半个钟头前付的款", 30.0, "半个钟头前"),
    ("10来分钟前转的", 10.0, "10来分钟前"),
    ("一个钟前转的", 60.0, "一个钟前"),
    ("两个小时前汇的", 120.0, "两个小时前"),
    ("一个半小时前转了", 90.0, "一个半小时前"),
    ("就在刚才转了5000", 5.0, "就在刚才"),
    ("今天下午转的", 75.0, "今天下午"),
    ("前天转的", 2940.0, "前天"),
    ("上周转了三次", 10080.0, "上周"),
    ("三天前转了一万", 4320.0, "三天前"),
    ("二十分钟前转了", 20.0, "二十分钟前"),
    ("昨晚8点转的", 1140.0, "昨晚8点"),
    ("I paid just now", 5.0, "just now"),
    ("I paid them 10 minutes ago", 10.0, "10 minutes ago"),
    ("paid an hour ago", 60.0, "an hour ago"),
    ("transferred the money this morning", 360.0, "this morning"),
    ("last week I wired him 2,000 dollars", 10080.0, "last week"),
    ("yesterday I sent her $800", 1500.0, "yesterday"),
    ("十分钟", 10.0, "十分钟"),
    ("刚刚", 5.0, "刚刚"),
    ("大概半小时前吧", 30.0, "半小时前"),
    ("about 2 days ago", 2880.0, "2 days ago"),
    ("三天前加的微信，今天上午转了两万", 300.0, "今天上午"),
    ("I sent the money at 2pm", 60.0, "at 2pm"),
    # long ago: only that it is far past the stop-payment window (60 days, early afternoon)
    ("去年转了他五万", 86460.0, "去年"),
    ("我5月份给他转了2万", 86460.0, "5月份"),
    ("I lost $40,000 to her. that was back in March", 86460.0, "back in March"),
]


@pytest.mark.parametrize("text, minutes, phrase", TIMES)
def test_time_since_transfer(text: str, minutes: float, phrase: str) -> None:
    result = facts(text)
    assert (result.minutes_since_transfer, result.time_text) == (minutes, phrase)


@pytest.mark.parametrize("text", [
    "他十分钟前打电话来，我没转",  # no transfer: no time since it
    "今天天气不错，出去走走",
    "我三天前认识的他，聊得挺好",
    "see you next week",
])
def test_no_transfer_time(text: str) -> None:
    assert facts(text).minutes_since_transfer is None


def test_time_follows_now() -> None:
    morning = datetime(2024, 5, 10, 9, 0)  # the morning is still going on: halfway since 5:00
    assert extract_facts("今天早上转的", "zh", morning).minutes_since_transfer == 120.0
    evening = datetime(2024, 5, 10, 22, 0)
    assert extract_facts("昨天转的", "zh", evening).minutes_since_transfer == 32 * 60.0


# ---------------------------------------------------------------------------
# Amounts: only money, never a phone number, a code, a date or an order number

AMOUNTS = [
    ("我手机号13812345678，转了3000", "3000"),
    ("验证码是482913，我没给他", None),
    ("订单号20240312881，付了199元", "199元"),
    ("2024年3月5日转了3万", "3万"),
    ("3月12号那天转了八千", "八千"),
    ("他15:30打来的，我转了600", "600"),
    ("卡号尾号6789，被转走了两万", "两万"),
    ("I paid 3 times, $1,200 in total", "$1,200"),
    ("转了3次，一共5万", "5万"),
    ("我今年68岁 转了两万块", "两万块"),
    ("call me back on 07700 900123, I sent $250", "$250"),
    ("¥12,800", "¥12,800"),
    ("两万块", "两万块"),
    ("我先转了5000又转了2万", "2万"),
    ("他给我返了50块，我后来充了3000", "3000"),
    ("我今年65了", None),
    ("room 402, flat 7", None),
    ("I am 72 years old", None),
    ("我们公司在这一块投入很大", None),
    ("装机容量达到462.9万千瓦", None),
]


@pytest.mark.parametrize("text, amount", AMOUNTS)
def test_amount_only_when_money(text: str, amount: Any) -> None:
    assert facts(text).amount == amount


# ---------------------------------------------------------------------------
# payment_channel

CHANNEL_CASES = [
    ("支付宝转的", "alipay"),
    ("微信转了他五千", "wechat_pay"),
    ("用USDT付的", "crypto"),
    ("买了苹果卡给他", "gift_card"),
    ("取了现金交给上门的人", "cash"),
    ("I bought Apple gift cards for them", "gift_card"),
    ("paid through Western Union", "other"),
    ("I paid with my credit card", "card_payment"),
    ("我是在网银上转的", "bank_transfer"),
    ("转了一笔比特币给他", "crypto"),
    ("冒充支付宝客服打来的", None),
    ("微信上认识的网友", None),
    ("没用支付宝，用的微信转的", "wechat_pay"),
    ("转了5000人民币", None),
]


@pytest.mark.parametrize("text, channel", CHANNEL_CASES)
def test_payment_channel(text: str, channel: Any) -> None:
    result = facts(text)
    assert result.payment_channel == channel
    assert channel is None or channel in CHANNELS


# ---------------------------------------------------------------------------
# What else went to them: app, screen, ID, card details, code, loan; and contact

EXPOSURES = [
    # app_installed
    ("他让我下了个……软件 我下了", "app_installed", True),
    ("下载了一个叫安全助手的app", "app_installed", True),
    ("装了向日葵", "app_installed", True),
    ("进了腾讯会议", "app_installed", True),
    ("I installed AnyDesk like he said", "app_installed", True),
    ("I downloaded the app he sent", "app_installed", True),
    ("下栽了那个app", "app_installed", True),
    ("我需要下载吗", "app_installed", None),
    ("要不要下载这个软件？", "app_installed", None),
    ("没有下载", "app_installed", False),
    ("I didn't install anything", "app_installed", False),
    ("He wants me to download TeamViewer", "app_installed", None),
    ("He made me install an app", "app_installed", True),
    # screen_shared
    ("开了屏幕共享", "screen_shared", True),
    ("屏幕共享了", "screen_shared", True),
    ("他能看到我的手机屏幕", "screen_shared", True),
    ("I shared my screen on zoom", "screen_shared", True),
    ("gave him remote access", "screen_shared", True),
    ("I didn't share my screen", "screen_shared", False),
    ("他要我共享屏幕，我没同意", "screen_shared", False),
    ("should I share my screen?", "screen_shared", None),
    # id_given
    ("身份证正反面拍照上传了", "id_given", True),
    ("拍了身份证正反面", "id_given", True),
    ("做了人脸识别", "id_given", True),
    ("I sent him a photo of my passport", "id_given", True),
    ("I did a face scan in the app", "id_given", True),
    ("他要我的身份证照片，我没发", "id_given", False),
    ("我没把身份证号告诉他", "id_given", False),
    ("他说：“你把身份证拍给我”", "id_given", None),
    # card_details_given
    ("把银行卡号和密码都告诉他了", "card_details_given", True),
    ("输入了支付密码", "card_details_given", True),
    ("I gave him my card number and the CVV", "card_details_given", True),
    ("I didn't give him my card details", "card_details_given", False),
    ("卡号没给", "card_details_given", False),
    ("I didn't give him my card number but I did give my PIN", "card_details_given", True),
    # code_given
    ("给了验证码", "code_given", True),
    ("还没给他验证码", "code_given", False),
    ("验证码我没告诉任何人", "code_given", False),
    ("验证码是482913，我告诉他了", "code_given", True),
    ("I read him the code from the text", "code_given", True),
    ("he sent me a code and I read it out to him", "code_given", True),
    ("银行发了验证码给我", "code_given", None),
    ("I haven't shared any codes", "code_given", False),
    ("短信截图发给他了", "code_given", True),
    ("你把验证码发给我", "code_given", None),
    ("Should I give him the code?", "code_given", None),
    ("For your security, never share verification codes or passwords.", "code_given", None),
    ("本行不会要求您提供短信验证码", "code_given", None),
    ("scan the QR code that was sent to you", "code_given", None),
    # loan_taken
    ("借呗借了3万转给他了", "loan_taken", True),
    ("在好几个网贷平台借了钱", "loan_taken", True),
    ("我已经借了两笔 一共4万 还没转给他", "loan_taken", True),
    ("他让我开通花呗，我没开", "loan_taken", False),
    ("I took out a payday loan to pay them", "loan_taken", True),
    ("I borrowed $2,000 from my sister", "loan_taken", True),
    ("should I take a loan?", "loan_taken", None),
    ("他说可以帮我办贷款", "loan_taken", None),
    # still_in_contact
    ("他一直在催", "still_in_contact", True),
    ("还在通话", "still_in_contact", True),
    ("电话还没挂", "still_in_contact", True),
    ("他又打来了", "still_in_contact", True),
    ("he's on the phone now", "still_in_contact", True),
    ("they're calling again", "still_in_contact", True),
    ("my mum is still on the line with them", "still_in_contact", True),
    ("he hasn't hung up", "still_in_contact", True),
    ("I hung up on him", "still_in_contact", False),
    ("他已经把我拉黑了", "still_in_contact", False),
    ("我把他删了", "still_in_contact", False),
    ("他挂了电话又打来了", "still_in_contact", True),
    ("we blocked his number", "still_in_contact", False),
    ("没关系，我不着急", "still_in_contact", None),
    # their account to pay into is not the person's card
    ("now she's sent bank details and says it has to go in the next hour", "card_details_given", None),
    ("I sent him my bank details", "card_details_given", True),
]


@pytest.mark.parametrize("text, name, value", EXPOSURES)
def test_what_else_went_to_them(text: str, name: str, value: Any) -> None:
    assert getattr(facts(text), name) is value


# ---------------------------------------------------------------------------
# Mixed languages, typos, traditional characters, pasted chats, several facts at once

COMBINED = [
    ("我转了 500 dollars via PayPal", {"money_sent": True, "amount": "500 dollars", "payment_channel": "other"}),
    ("he said 你要下载app, I installed it", {"app_installed": True}),
    ("妈妈 already paid 两万", {"money_sent": True, "amount": "两万"}),
    ("我已經轉帳了兩萬", {"money_sent": True, "amount": "兩萬"}),
    ("transfered 500 yesterday", {"money_sent": True, "amount": "500", "minutes_since_transfer": 1500.0}),
    ("客服：请您下载这个app，开启屏幕共享\n我：好的，下好了", {"app_installed": True, "screen_shared": None}),
    ("Agent: please read me the code\nMe: ok I read it to him", {"code_given": True}),
    ("I installed an app and shared my screen", {"app_installed": True, "screen_shared": True}),
    ("今天上午用支付宝转了¥12,800，现在他还在通话",
     {"money_sent": True, "minutes_since_transfer": 300.0, "amount": "¥12,800", "payment_channel": "alipay",
      "still_in_contact": True}),
    ("我没转，但是给了验证码", {"money_sent": False, "code_given": True}),
    ("I didn't pay, but I gave him my ID and the code",
     {"money_sent": False, "id_given": True, "code_given": True}),
    ("他让我下了个软件开了共享屏幕 然后让我把卡号和验证码都发给他 我都发了 还没转钱",
     {"app_installed": True, "screen_shared": True, "code_given": True, "money_sent": False}),
    ("老人被冒充公检法骗了，用网银转了十二万到所谓安全账户，骗子还在打电话",
     {"money_sent": True, "amount": "十二万", "payment_channel": "bank_transfer", "still_in_contact": True}),
    ("My dad got a call from 'Amazon', he installed TeamViewer, they took control of his laptop "
     "and he sent them $2,500 in Google Play cards an hour ago. They keep calling him.",
     {"app_installed": True, "screen_shared": True, "money_sent": True, "amount": "$2,500",
      "payment_channel": "gift_card", "minutes_since_transfer": 60.0, "still_in_contact": True}),
]


# Longer first-person accounts, as frightened people write them
ACCOUNTS = [
    ("您好，我想问一下，我刚刚接到一个自称是派出所的电话，说我的卡涉嫌洗钱，我已经转了6万过去了，"
     "现在他们还在电话里让我继续转，怎么办啊",
     {"money_sent": True, "minutes_since_transfer": 5.0, "amount": "6万", "still_in_contact": True}),
    ("警察同志，我爸今天早上被骗了，对方冒充我表哥说急需用钱，我爸就用微信给他转了9000，后来发现不对，现在联系不上了",
     {"money_sent": True, "minutes_since_transfer": 450.0, "amount": "9000", "payment_channel": "wechat_pay",
      "still_in_contact": False}),
    ("A man rang saying he was from my internet provider and told me to install something called AnyDesk. I did. "
     "Then he said I had been refunded too much and had to send back $700 in gift cards. I bought them at the "
     "supermarket about 40 minutes ago and read him the numbers. He is still on the phone with me.",
     {"app_installed": True, "money_sent": True, "amount": "$700", "payment_channel": "gift_card",
      "minutes_since_transfer": 40.0, "still_in_contact": True}),
    ("my aunt got a text about a held parcel, she clicked the link and entered her card details. she didnt pay "
     "anything else", {"card_details_given": True, "money_sent": False}),
    ("做任务的，先做了几单返了佣金，后来让我充值做大单，我前后充了四次一共3万6，现在提现不了，客服也不回了",
     {"money_sent": True, "amount": "3万6", "still_in_contact": False}),
    ("他让我下载了一个会议软件，开了共享屏幕，然后他操作我的手机银行，转走了4万多",
     {"app_installed": True, "screen_shared": True, "money_sent": True, "amount": "4万多"}),
    ("对方要我提供身份证正反面和银行卡号，我只给了身份证，卡号没给", {"id_given": True, "card_details_given": False}),
    ("没有转账，也没有给验证码，就是加了个微信", {"money_sent": False, "code_given": False}),
    ("我没有下载任何软件，也没共享屏幕", {"app_installed": False, "screen_shared": False}),
    ("昨天在一个贷款平台申请了贷款，对方说要先交2000解冻金，我还没交",
     {"loan_taken": True, "money_sent": False, "minutes_since_transfer": None}),
    ("i was about to send the money but my son stopped me", {"money_sent": False}),
    ("He asked for the code that was sent to my phone. I gave it to him.", {"code_given": True}),
    ("Should I give them my bank details? they say they will refund me 500",
     {"card_details_given": None, "money_sent": None}),
    ("我转了吗？我也不记得了", {"money_sent": None}),
    ("我老婆已经把三万转到那个账户了，我现在该怎么办", {"money_sent": True, "amount": "三万"}),
]


@pytest.mark.parametrize("text, expected", ACCOUNTS)
def test_first_person_accounts(text: str, expected: Dict[str, Any]) -> None:
    check(facts(text), expected)


@pytest.mark.parametrize("text, expected", COMBINED)
def test_mixed_and_combined(text: str, expected: Dict[str, Any]) -> None:
    check(facts(text), expected)


@pytest.mark.parametrize("text", [
    "您的快递已到丰巢柜，取件码 3321",
    "今天天气不错",
    "I love you, call me when you land",
    "妈，我换号了，这是我新号码",
    "Your parcel is waiting, reply STOP to opt out",
    "晚上一起吃饭吗",
])
def test_ordinary_text_states_nothing(text: str) -> None:
    assert facts(text) == Facts()


# ---------------------------------------------------------------------------
# A short answer to the question just asked

@pytest.mark.parametrize("text, asked, name, value", [
    ("还没", "money_sent", "money_sent", False),
    ("是的", "code_given", "code_given", True),
    ("no", "screen_shared", "screen_shared", False),
    ("600", "amount", "amount", "600"),
    ("微信", "payment_channel", "payment_channel", "wechat_pay"),
    ("大概十分钟", "minutes_since_transfer", "minutes_since_transfer", 10.0),
    ("还没", None, "money_sent", None),
    ("大概上个月吧，记不清了", "time_since_transfer", "time_text", "上个月"),
    ("我想想 应该是昨天晚上", "time_since_transfer", "time_text", "昨天晚上"),
    # asked when the money left, she speaks of another event: no answer
    ("可是他对我真的很好 每天早安晚安 上个月还给我订了花 不会骗我的吧", "time_since_transfer", "time_text", None),
    ("我还没交", None, "money_sent", False),
])
def test_answer_to_the_question_asked(text: str, asked: Any, name: str, value: Any) -> None:
    assert getattr(facts(text, asked=asked), name) == value


def test_empty_and_blank_texts() -> None:
    assert facts("") == Facts()
    assert facts("   \n ") == Facts()


# ---------------------------------------------------------------------------
# Misses from end-to-end runs: each made a person who had just lost money look not urgent.

# Doing what the scammer said is the person's own act; a causative ("made me", "had my dad") too.
FOLLOWED_INSTRUCTIONS = [
    ("十分钟前我按照客服说的把两万转到了他给的账户",
     {"money_sent": True, "minutes_since_transfer": 10.0, "amount": "两万"}),
    ("半小时前我照着那个警官说的把8万存进了安全账户",
     {"money_sent": True, "minutes_since_transfer": 30.0, "amount": "8万", "payment_channel": "bank_transfer"}),
    ("我按他说的步骤操作，刚刚把3万转到他给的卡上了",
     {"money_sent": True, "minutes_since_transfer": 5.0, "amount": "3万"}),
    ("按照客服的要求把1万2转过去了，大概二十分钟前",
     {"money_sent": True, "minutes_since_transfer": 20.0, "amount": "1万2"}),
    ("我是听了老师讲的才充了两万进去", {"money_sent": True, "amount": "两万"}),
    ("我妈刚才被人骗了，按照对方说的用手机银行转了5万，现在人还在电话上",
     {"money_sent": True, "minutes_since_transfer": 5.0, "amount": "5万", "payment_channel": "bank_transfer",
      "still_in_contact": True}),
    ("帮我爸问一下，他下午按照“检察官”的指示把存款转进了安全账户，大概2点多",
     {"money_sent": True, "minutes_since_transfer": 60.0, "payment_channel": "bank_transfer"}),
    ("自己的钱按照客服说的全转过去了 十几分钟前的事", {"money_sent": True, "minutes_since_transfer": 13.0}),
    ("照他说的做了 钱已经转过去了", {"money_sent": True}),
    ("a fake police officer made me transfer 50,000 yuan to a safe account about 40 minutes ago",
     {"money_sent": True, "minutes_since_transfer": 40.0, "amount": "50,000 yuan"}),
    ("My mother got a call this morning from a man who said he was from the police, he said her bank account "
     "was linked to money laundering and a fake police officer made me transfer 50,000 yuan to a safe account "
     "about 40 minutes ago", {"money_sent": True, "minutes_since_transfer": 40.0, "amount": "50,000 yuan"}),
    ("He told me to move my savings. As he told me, I transferred 12,000 dollars about 25 minutes ago",
     {"money_sent": True, "minutes_since_transfer": 25.0, "amount": "12,000 dollars"}),
    ("like the agent said, I sent 900 to the new account twenty minutes ago",
     {"money_sent": True, "minutes_since_transfer": 20.0, "amount": "900"}),
    ("She got me to send 2,000 dollars through Zelle maybe half an hour ago",
     {"money_sent": True, "minutes_since_transfer": 30.0, "amount": "2,000 dollars",
      "payment_channel": "bank_transfer"}),
    ("they had my dad pay a 1,500 release fee about an hour ago",
     {"money_sent": True, "minutes_since_transfer": 60.0, "amount": "1,500"}),
    ("the scammer had my grandma pay 800 for a fee", {"money_sent": True, "amount": "800"}),
    ("my mother was scared so the caller made her wire 30k to a holding account about 3 hours ago",
     {"money_sent": True, "minutes_since_transfer": 180.0, "amount": "30k"}),
    ("The man on the phone made my grandma hand the cash to a courier about two hours ago",
     {"money_sent": True, "minutes_since_transfer": 120.0, "payment_channel": "cash"}),
    ("My 80 year old father followed the caller's instructions and transferred 18,000 dollars to a "
     "\"safe account\" this afternoon",
     {"money_sent": True, "minutes_since_transfer": 90.0, "amount": "18,000 dollars"}),
    # still not the person's act, or not done
    ("他说只要按照他说的把钱转到安全账户就没事，我没转", {"money_sent": False}),
    ("客服说要先交保证金，我还没交", {"money_sent": False}),
]

# How long they have chatted or known each other is not when the money left: unknown (None) then.
RELATIONSHIP_TIME = [
    ("网上认识一个男的 聊了两个多月了 他带我投资 我先充了5000",
     {"money_sent": True, "amount": "5000", "minutes_since_transfer": None}),
    ("网上认识的一个姐姐 聊了快半年了 她说带我做黄金 我前前后后投了8万",
     {"money_sent": True, "amount": "8万", "minutes_since_transfer": None}),
    ("我们认识两年了，他说家里出事了，我就给他转了3万",
     {"money_sent": True, "amount": "3万", "minutes_since_transfer": None}),
    ("我三天前认识的他，后来他带我投资，我充了5000", {"money_sent": True, "minutes_since_transfer": None}),
    ("和他聊了三个月了我给他转了2万", {"money_sent": True, "amount": "2万", "minutes_since_transfer": None}),
    ("在交友软件上认识的 处了一个月了 昨天我给他转了5000",
     {"money_sent": True, "amount": "5000", "minutes_since_transfer": 1500.0}),
    ("我老公在网上认识一个投资导师 跟了半年了 今天早上又往平台里充了3万",
     {"money_sent": True, "amount": "3万", "minutes_since_transfer": 450.0}),
    ("we have been chatting for about six weeks. i sent her 3000 dollars for a plane ticket",
     {"money_sent": True, "amount": "3000 dollars", "minutes_since_transfer": None}),
    ("I met him on a dating app 2 months ago and last night I sent him 4,000 dollars",
     {"money_sent": True, "minutes_since_transfer": 1080.0, "time_text": "last night"}),
    # a time of the transfer in its own clause is still its time
    ("转了5000，已经半个小时了", {"money_sent": True, "minutes_since_transfer": 30.0}),
    ("十分钟前，我转了两万", {"money_sent": True, "minutes_since_transfer": 10.0, "amount": "两万"}),
]

# Gift and shopping cards bought and their codes sent: the money is gone.
GIFT_CARD_CODES = [
    ("买了2张 京东卡 卡密都发他了", {"money_sent": True, "payment_channel": "gift_card"}),
    ("卡密都发他了", {"money_sent": True, "payment_channel": "gift_card"}),
    ("把京东卡的卡号和密码发给他了", {"money_sent": True, "payment_channel": "gift_card"}),
    ("买了五张京东卡，卡密拍照发过去了", {"money_sent": True, "payment_channel": "gift_card"}),
    ("买了3张沃尔玛卡，卡号和密码都拍给他了", {"money_sent": True, "payment_channel": "gift_card"}),
    ("他让我去超市买了两千块的苹果卡，把卡密发过去了",
     {"money_sent": True, "amount": "两千块", "payment_channel": "gift_card"}),
    ("I sent the gift card codes to him", {"money_sent": True, "payment_channel": "gift_card",
                                            "card_details_given": None}),
    ("I bought four Steam cards at the shop and sent him the card codes",
     {"money_sent": True, "payment_channel": "gift_card", "card_details_given": None}),
    ("mum scratched off the backs of the Apple cards and texted the codes to him", {"money_sent": True}),
    ("I gave him the numbers on the back of the Steam cards", {"money_sent": True, "payment_channel": "gift_card"}),
    ("my mom says she was told her account was hacked and the man had her buy 600 dollars of Google Play cards "
     "an hour ago", {"money_sent": True, "minutes_since_transfer": 60.0, "payment_channel": "gift_card"}),
    # a bank card's number and password are card details, not a gift card
    ("我把银行卡号和密码告诉他了", {"money_sent": None, "card_details_given": True}),
    ("他让我买京东卡，我没买，但把银行卡密码告诉他了", {"money_sent": False, "card_details_given": True}),
]


@pytest.mark.parametrize("text, expected", FOLLOWED_INSTRUCTIONS + RELATIONSHIP_TIME + GIFT_CARD_CODES)
def test_end_to_end_misses(text: str, expected: Dict[str, Any]) -> None:
    check(facts(text), expected)


# Answers to "have you sent money?" (asked="money_sent"): a yes with a time is a recent loss.
@pytest.mark.parametrize("text, expected", [
    ("刚刚买的", {"money_sent": True, "minutes_since_transfer": 5.0}),
    ("刚转的", {"money_sent": True, "minutes_since_transfer": 5.0}),
    ("刚汇过去", {"money_sent": True, "minutes_since_transfer": 5.0}),
    ("半小时前转的", {"money_sent": True, "minutes_since_transfer": 30.0}),
    ("转了，十分钟前", {"money_sent": True, "minutes_since_transfer": 10.0}),
    ("嗯 已经转了", {"money_sent": True}),
    ("just did", {"money_sent": True, "minutes_since_transfer": 5.0}),
    ("yes about an hour ago", {"money_sent": True, "minutes_since_transfer": 60.0}),
    ("I did, twenty minutes ago", {"money_sent": True, "minutes_since_transfer": 20.0}),
    ("yes just now", {"money_sent": True, "minutes_since_transfer": 5.0}),
    ("already sent it", {"money_sent": True}),
    ("i did", {"money_sent": True}),
    ("没有", {"money_sent": False}),
    ("还没转", {"money_sent": False}),
    ("not yet", {"money_sent": False}),
    ("I did not", {"money_sent": False}),
    ("didn't", {"money_sent": False}),
    ("no", {"money_sent": False}),
])
def test_answer_to_the_money_question(text: str, expected: Dict[str, Any]) -> None:
    check(facts(text, asked="money_sent"), expected)


# ---------------------------------------------------------------------------
# Speed and safety: linear time, checked patterns

ADVERSARIAL = [
    "转" * 5000, "0" * 5000, "我" + " " * 5000, "转了" * 2500, "1 " * 2500, "，" * 5000, "“" * 5000,
    "i didn't " * 560, "paid " * 1000, "下了个软件" * 1000, "客服：" * 1700, "$1," * 1700, "1" + " " * 5000,
    "十" * 5000, "a" * 5000, "给我" * 2500, "昨天下午3点" * 800,
    "转了500 " * 700, "微信转了" * 1250, "我没发。身份证。" * 600, "I paid $5, " * 500, "昨天转了3万。" * 700,
    "按照他说的" * 1000, "聊了两个月了 转了 " * 600, "京东卡卡密发了" * 700, "as he told me, I did " * 250,
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=[f"adversarial-{i}" for i in range(len(ADVERSARIAL))])
def test_long_adversarial_input_is_fast(text: str) -> None:
    load_rules()
    best = min(_timed(text) for _ in range(2))
    assert best < 0.2


def _timed(text: str) -> float:
    """CPU seconds: what the call costs, whatever else the machine runs."""
    start = time.process_time()
    extract_facts(text, "zh", NOW)
    return time.process_time() - start


def test_times_and_amounts_are_linear_too() -> None:
    from bot.amounts import parse_amount
    from bot.timeparse import minutes_ago

    for text in ("1" + " " * 5000, "0" * 5000, "十" * 5000, "我" + " " * 5000):
        start = time.process_time()  # CPU time: another job on the machine does not count
        minutes_ago(text)
        parse_amount(text)
        find_times(text, NOW)
        assert time.process_time() - start < 0.2


@pytest.mark.parametrize("pattern", [r"(a+)+", r"\d+", r"(.*)*", r".*x", r"(?:ab{0,50}){0,50}", r"(a)\1"])
def test_slow_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(FactsRulesError):
        check_linear(pattern, max_repeat=60, max_nested=400)


@pytest.mark.parametrize("pattern", [r".{0,8}", r"转(?:了|过)", r"\d{1,9}(?:,\d{3}){0,3}", r"(?<![\d])x"])
def test_bounded_patterns_are_accepted(pattern: str) -> None:
    check_linear(pattern, max_repeat=60, max_nested=400)


def test_a_broken_edit_fails_on_load() -> None:
    data = yaml.safe_load(FACTS_FILE.read_text(encoding="utf-8"))
    parse_rules(data)
    slow = copy.deepcopy(data)
    slow["fields"]["money_sent"]["positive"].append("(转.*)*了")
    with pytest.raises(FactsRulesError, match="unbounded"):
        parse_rules(slow)
    broken = copy.deepcopy(data)
    broken["fields"]["code_given"]["positive"][0] = "(unclosed"
    with pytest.raises(FactsRulesError, match="bad pattern"):
        parse_rules(broken)
    missing = copy.deepcopy(data)
    del missing["fields"]["loan_taken"]
    with pytest.raises(FactsRulesError, match="loan_taken"):
        parse_rules(missing)
    unknown = copy.deepcopy(data)
    unknown["fields"]["money_sent"]["positive"].append({"re": "转了", "requires": "nowhere"})
    with pytest.raises(FactsRulesError, match="context"):
        parse_rules(unknown)


def test_rules_are_loaded_once() -> None:
    assert load_rules() is load_rules()


def test_facts_interface() -> None:
    result = facts("转了")
    assert set(BOOL_FIELDS) <= set(result.__dataclass_fields__)
    with pytest.raises(AttributeError):
        result.money_sent = False  # type: ignore[misc]


def test_a_message_read_twice_in_a_turn_is_read_once_and_a_new_anchor_reads_it_again() -> None:
    from bot.facts import _read_facts

    _read_facts.cache_clear()
    text = "我十分钟前刚转了两万给他"
    first = extract_facts(text, "zh")
    assert extract_facts(text, "zh") is first
    assert _read_facts.cache_info().hits == 1
    later = extract_facts(text, "zh", now=datetime(2024, 5, 10, 15, 0))
    assert later == first and _read_facts.cache_info().misses == 2


@pytest.mark.parametrize("text, asked", [
    ("他让我下载一个App 说是安全认证", ("app_installed",)),
    ("对方要我共享屏幕给他看一下", ("screen_shared",)),
    ("he wants me to download some app called SecureGov to do it", ("app_installed",)),
    ("she keeps asking me to read her the code from the text", ("code_given",)),
    ("让我先交3000解冻费才能放款", ("money_sent",)),
    ("他让我下了个软件 我下了", ()),  # done: a fact, not a request
    ("我自己下载了银行的App", ()),  # nobody asked
    ("他让我下载App吗？", ()),  # a question
])
def test_what_they_asked_the_person_to_do(text: str, asked: tuple) -> None:
    assert extract_facts(text, "zh").asked_for == asked

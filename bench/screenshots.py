"""Synthetic phone screenshots of scam and everyday messages, for measuring OCR offline.

    python -m bench.screenshots [--out /tmp/screens]

Every sample in SAMPLES is drawn with Pillow alone (WenQuanYi Micro Hei covers Chinese and
Latin) in one of five styles: a WeChat chat, an SMS thread, a long WeChat chat, a small noisy
re-shared chat, and a plain notice. `write_all` writes one PNG per sample and `truth.jsonl`
with the message text (`text`) and everything drawn, window chrome included (`visible_text`).
Rendering is deterministic: any randomness is seeded from the sample name.

All message texts were written for this file; none is taken from a dataset or a website.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import List, Tuple

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from bot.knowledge import SCAM_TYPE_IDS

FONT_PATH = Path(os.environ.get("SCREENSHOT_FONT", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"))

STYLES: Tuple[str, ...] = ("wechat", "sms", "long_chat", "noisy_small", "plain_note")
LANGS: Tuple[str, ...] = ("zh", "en")
# The taxonomy's ids (knowledge/scam_types.yml), and "none" for everyday messages.
SCAM_TYPES: Tuple[str, ...] = ("none", *SCAM_TYPE_IDS)
SIDES: Tuple[str, ...] = ("them", "me")

Color = Tuple[int, int, int]
Box = Tuple[int, int, int, int]


class FontMissingError(RuntimeError):
    """The CJK font the screenshots are drawn with is not installed."""


def split_side(line: str) -> Tuple[str, str]:
    """("me" or "them", text) for a chat line; lines without a prefix come from "them"."""
    for side in SIDES:
        prefix = side + ":"
        if line.startswith(prefix):
            return side, line[len(prefix) :].strip()
    return "them", line.strip()


@dataclass(frozen=True)
class ScreenshotSample:
    """One screenshot: its style, language, messages in order and the scam type they show.

    `sender` is the chat's contact name or the SMS sender number; empty picks a plain default.
    """

    name: str
    style: str
    lang: str
    lines: List[str]
    scam_type: str
    sender: str = ""

    def __post_init__(self) -> None:
        # A typo in a hand-written sample should fail at import, not skew a measurement.
        if self.style not in STYLES:
            raise ValueError(f"{self.name}: unknown style {self.style!r}")
        if self.lang not in LANGS:
            raise ValueError(f"{self.name}: unknown lang {self.lang!r}")
        if self.scam_type not in SCAM_TYPES:
            raise ValueError(f"{self.name}: unknown scam_type {self.scam_type!r}")
        if not 1 <= len(self.lines) <= 10 or not all(split_side(line)[1] for line in self.lines):
            raise ValueError(f"{self.name}: needs 1-10 non-empty lines")

    @property
    def text(self) -> str:
        """The ground truth: the messages without side prefixes, one per line."""
        return "\n".join(split_side(line)[1] for line in self.lines)


@cache
def font(size: int) -> ImageFont.FreeTypeFont:
    """The CJK font at `size` pixels; a clear error when it is not installed."""
    if not FONT_PATH.is_file():
        raise FontMissingError(
            f"CJK font not found at {FONT_PATH}: install it (Debian/Ubuntu: apt-get install fonts-wqy-microhei) "
            "or point SCREENSHOT_FONT at a .ttf/.ttc that has Chinese glyphs"
        )
    return ImageFont.truetype(str(FONT_PATH), size=size, index=0)


# A run of printable ASCII (an English word, a number, a link) is one token; every other
# character (each Chinese character or full-width mark) is a token of its own.
_TOKEN_RE = re.compile(r"[!-~]+|\s+|.", re.S)
# Marks a line may not start with: phones keep them on the previous line, slightly over the edge.
_NO_LINE_START = frozenset("，。！？、；：）》」』”’,.!?;:)%")


def wrap_text(text: str, face: ImageFont.FreeTypeFont, max_width: int) -> List[str]:
    """`text` broken into lines no wider than `max_width`: per word for English, per character for Chinese."""
    lines: List[str] = []
    current = ""
    for token in _TOKEN_RE.findall(text):
        if token.isspace():
            if current:
                current += " "
            continue
        if face.getlength(current + token) <= max_width or token in _NO_LINE_START:
            current += token
            continue
        if current.strip():
            lines.append(current.rstrip())
        current = ""
        if face.getlength(token) <= max_width:
            current = token
            continue
        # A link or number wider than the whole line is split between characters, as phones do.
        for char in token:
            if current and face.getlength(current + char) > max_width:
                lines.append(current)
                current = ""
            current += char
    if current.strip():
        lines.append(current.rstrip())
    return lines or [""]


INK: Color = (25, 25, 25)
GREY_TEXT: Color = (150, 150, 150)
WHITE: Color = (255, 255, 255)
WECHAT_BG: Color = (237, 237, 237)
WECHAT_GREEN: Color = (149, 236, 105)
SMS_GREY: Color = (233, 233, 235)
SMS_BLUE: Color = (10, 132, 255)
AVATAR_COLORS: Tuple[Color, ...] = (
    (96, 145, 214),
    (230, 140, 80),
    (120, 180, 120),
    (200, 110, 160),
    (150, 120, 200),
    (90, 170, 180),
)
# Drawing starts on a canvas this tall and is cropped to what was used; a sample that does not
# fit is an error rather than a silently clipped screenshot.
CANVAS_HEIGHT = 6000


@dataclass(frozen=True)
class Theme:
    """Sizes of one screen: everything scales with the message font size (30 px on a 750 px phone)."""

    width: int = 750
    font_size: int = 30
    min_height: int = 1334

    def px(self, value: float) -> int:
        """`value` (designed at 30 px text) scaled to this theme, at least one pixel."""
        return max(1, round(value * self.font_size / 30))


PHONE = Theme()
# A smaller screenshot, as re-shared through a chat app: small text, then blurred and recompressed.
SMALL_PHONE = Theme(width=540, font_size=21, min_height=960)
NOTE = Theme(width=750, font_size=30, min_height=0)


class Page:
    """A tall canvas, the y reached so far and the texts drawn on it, in reading order."""

    def __init__(self, theme: Theme, background: Color) -> None:
        self.theme = theme
        self.background = background
        self.image = Image.new("RGB", (theme.width, CANVAS_HEIGHT), background)
        self.draw = ImageDraw.Draw(self.image)
        self.drawn: List[str] = []
        self.y = 0

    def text(
        self, xy: Tuple[int, int], text: str, size: int, fill: Color, anchor: str = "lm", bold: bool = False
    ) -> None:
        """Draws one line of text; `bold` fakes a heavier weight with a stroke (the font has no bold face)."""
        stroke = 1 if bold else 0
        self.draw.text(xy, text, font=font(size), fill=fill, anchor=anchor, stroke_width=stroke, stroke_fill=fill)

    def finish(self, bottom: int) -> Image.Image:
        """The used part of the canvas plus `bottom` pixels, at least the theme's screen height."""
        if self.y + bottom > CANVAS_HEIGHT:
            raise ValueError(f"content is {self.y + bottom} px tall, more than the {CANVAS_HEIGHT} px canvas")
        return self.image.crop((0, 0, self.theme.width, max(self.theme.min_height, self.y + bottom)))


def clock(rng: random.Random) -> str:
    """A status-bar time such as 9:41."""
    return f"{rng.randint(7, 23)}:{rng.randint(0, 59):02d}"


def stamp(lang: str, rng: random.Random) -> str:
    """A conversation timestamp as chat apps print it between messages."""
    hour, minute = rng.randint(7, 23), rng.randint(0, 59)
    if lang == "zh":
        return f"{rng.choice(('昨天', '今天', '星期二', '星期五'))} {hour:02d}:{minute:02d}"
    half = "AM" if hour < 12 else "PM"
    return f"{rng.choice(('Yesterday', 'Today', 'Tue', 'Fri'))} {(hour - 1) % 12 + 1}:{minute:02d} {half}"


def status_bar(page: Page, rng: random.Random) -> None:
    """Phone status bar: the time as text, signal and battery as shapes (so OCR sees only the time)."""
    px, draw = page.theme.px, page.draw
    mid = px(22)
    time_text = clock(rng)
    page.text((px(32), mid), time_text, px(24), INK)
    page.drawn.append(time_text)
    right = page.theme.width - px(30)
    draw.rounded_rectangle((right - px(44), mid - px(10), right, mid + px(10)), radius=px(4), outline=INK, width=px(2))
    draw.rectangle((right - px(40), mid - px(6), right - px(12), mid + px(6)), fill=INK)
    draw.rectangle((right + 1, mid - px(4), right + px(4), mid + px(4)), fill=INK)
    for bar in range(4):
        x = right - px(110) + bar * px(10)
        draw.rectangle((x, mid + px(8) - px(4 + 4 * bar), x + px(6), mid + px(8)), fill=INK)
    page.y = px(44)


def chevron(page: Page, x: int, mid: int, fill: Color) -> None:
    """The "back" arrow of a title bar, drawn as two strokes."""
    px = page.theme.px
    page.draw.line([(x + px(16), mid - px(16)), (x, mid), (x + px(16), mid + px(16))], fill=fill, width=px(4))


def title_bar(page: Page, title: str) -> None:
    """WeChat's title bar: back arrow, contact name centred, "more" dots, a hairline below."""
    px, draw, width = page.theme.px, page.draw, page.theme.width
    top, height = page.y, px(88)
    mid = top + height // 2
    chevron(page, px(28), mid, INK)
    page.text((width // 2, mid), title, px(32), INK, anchor="mm")
    page.drawn.append(title)
    for dot in range(3):
        x = width - px(64) + dot * px(14)
        draw.ellipse((x - px(4), mid - px(4), x + px(4), mid + px(4)), fill=INK)
    draw.line([(0, top + height), (width, top + height)], fill=(214, 214, 214), width=1)
    page.y = top + height


def chat_bubble(page: Page, side: str, text: str, avatar_color: Color) -> None:
    """One WeChat message: square avatar at the edge, green bubble for "me", white for "them"."""
    theme, draw = page.theme, page.draw
    px = theme.px
    face = font(theme.font_size)
    avatar, margin, gap, pad_x, pad_y = px(80), px(24), px(18), px(22), px(18)
    line_height = round(theme.font_size * 1.45)
    # WeChat leaves the far side free: bubbles never reach the other avatar column.
    max_text = theme.width - 2 * (margin + avatar + gap) - 2 * pad_x - px(60)
    wrapped = wrap_text(text, face, max_text)
    bubble_w = round(max(face.getlength(line) for line in wrapped)) + 2 * pad_x
    bubble_h = len(wrapped) * line_height + 2 * pad_y
    top = page.y
    tail_y = top + pad_y + line_height // 2
    if side == "me":
        avatar_x = theme.width - margin - avatar
        right = avatar_x - gap
        left = right - bubble_w
        fill = WECHAT_GREEN
        tail = [(right, tail_y - px(9)), (right + px(9), tail_y), (right, tail_y + px(9))]
    else:
        avatar_x = margin
        left = avatar_x + avatar + gap
        fill = WHITE
        tail = [(left, tail_y - px(9)), (left - px(9), tail_y), (left, tail_y + px(9))]
    draw.rounded_rectangle((avatar_x, top, avatar_x + avatar, top + avatar), radius=px(8), fill=avatar_color)
    draw.rounded_rectangle((left, top, left + bubble_w, top + bubble_h), radius=px(8), fill=fill)
    draw.polygon(tail, fill=fill)
    for row, line in enumerate(wrapped):
        page.text((left + pad_x, top + pad_y + row * line_height + line_height // 2), line, theme.font_size, INK)
    page.drawn.append(text)
    page.y = top + max(avatar, bubble_h)


def chat_input_bar(image: Image.Image, theme: Theme) -> None:
    """WeChat's input bar at the bottom: voice and "+" buttons and an empty text box, all shapes."""
    px, draw = theme.px, ImageDraw.Draw(image)
    top = image.height - px(110)
    draw.rectangle((0, top, theme.width, image.height), fill=(246, 246, 246))
    draw.line([(0, top), (theme.width, top)], fill=(220, 220, 220), width=1)
    mid = top + px(50)
    draw.rounded_rectangle((px(84), mid - px(30), theme.width - px(150), mid + px(30)), radius=px(8), fill=WHITE)
    for x in (px(42), theme.width - px(104), theme.width - px(42)):
        draw.ellipse((x - px(24), mid - px(24), x + px(24), mid + px(24)), outline=INK, width=px(3))


def draw_chat(sample: ScreenshotSample, theme: Theme, rng: random.Random) -> Tuple[Image.Image, List[str]]:
    """A WeChat conversation; long chats get a second timestamp halfway, as WeChat does after a pause."""
    page = Page(theme, WECHAT_BG)
    px = theme.px
    status_bar(page, rng)
    title_bar(page, sample.sender or ("小林" if sample.lang == "zh" else "Alex"))
    page.y += px(28)
    stamps = {0: stamp(sample.lang, rng)}
    if len(sample.lines) >= 6:
        stamps[len(sample.lines) // 2] = stamp(sample.lang, rng)
    them_color, me_color = rng.sample(AVATAR_COLORS, 2)
    for index, line in enumerate(sample.lines):
        if index in stamps:
            page.text((theme.width // 2, page.y + px(16)), stamps[index], px(24), GREY_TEXT, anchor="mm")
            page.drawn.append(stamps[index])
            page.y += px(32) + px(24)
        side, text = split_side(line)
        chat_bubble(page, side, text, me_color if side == "me" else them_color)
        page.y += px(30)
    image = page.finish(bottom=px(130))
    chat_input_bar(image, theme)
    return image, page.drawn


def draw_sms(sample: ScreenshotSample, theme: Theme, rng: random.Random) -> Tuple[Image.Image, List[str]]:
    """An SMS thread: sender number under a blank avatar, a timestamp, grey bubbles on the left."""
    page = Page(theme, WHITE)
    px, draw, width = theme.px, page.draw, theme.width
    status_bar(page, rng)
    top = page.y
    chevron(page, px(28), top + px(48), SMS_BLUE)
    draw.ellipse((width // 2 - px(36), top + px(12), width // 2 + px(36), top + px(84)), fill=(190, 192, 198))
    sender = sample.sender or ("10690000" if sample.lang == "zh" else "+1 (555) 010-0000")
    page.text((width // 2, top + px(108)), sender, px(26), INK, anchor="mm")
    page.drawn.append(sender)
    draw.line([(0, top + px(140)), (width, top + px(140))], fill=(220, 220, 220), width=1)
    page.y = top + px(170)
    for label in ("短信/彩信" if sample.lang == "zh" else "Text Message", stamp(sample.lang, rng)):
        page.text((width // 2, page.y + px(14)), label, px(22), GREY_TEXT, anchor="mm")
        page.drawn.append(label)
        page.y += px(32)
    page.y += px(16)
    face = font(theme.font_size)
    pad_x, pad_y = px(28), px(16)
    line_height = round(theme.font_size * 1.4)
    max_text = int(width * 0.7) - 2 * pad_x
    previous = ""
    for line in sample.lines:
        side, text = split_side(line)
        # Bubbles from the same side sit close together, as in every messaging app.
        page.y += px(10) if side == previous else px(24)
        previous = side
        wrapped = wrap_text(text, face, max_text)
        bubble_w = round(max(face.getlength(row) for row in wrapped)) + 2 * pad_x
        bubble_h = len(wrapped) * line_height + 2 * pad_y
        left = width - px(28) - bubble_w if side == "me" else px(28)
        fill, ink = (SMS_BLUE, WHITE) if side == "me" else (SMS_GREY, INK)
        draw.rounded_rectangle((left, page.y, left + bubble_w, page.y + bubble_h), radius=px(34), fill=fill)
        for row, segment in enumerate(wrapped):
            row_mid = page.y + pad_y + row * line_height + line_height // 2
            page.text((left + pad_x, row_mid), segment, theme.font_size, ink)
        page.drawn.append(text)
        page.y += bubble_h
    image = page.finish(bottom=px(130))
    bar = ImageDraw.Draw(image)
    mid = image.height - px(55)
    bar.line([(0, mid - px(55)), (width, mid - px(55))], fill=(220, 220, 220), width=1)
    bar.ellipse((px(24), mid - px(26), px(76), mid + px(26)), fill=(200, 200, 204))
    bar.rounded_rectangle((px(100), mid - px(30), width - px(28), mid + px(30)), radius=px(30), outline=(200, 200, 204))
    return image, page.drawn


def draw_note(sample: ScreenshotSample, theme: Theme) -> Tuple[Image.Image, List[str]]:
    """A notice: the first line is a centred heading, the rest are paragraphs of black text on white."""
    page = Page(theme, WHITE)
    px, width = theme.px, theme.width
    margin = px(56)
    texts = [split_side(line)[1] for line in sample.lines]
    page.y = margin
    heading_size = px(40)
    for segment in wrap_text(texts[0], font(heading_size), width - 2 * margin):
        page.text((width // 2, page.y + heading_size // 2), segment, heading_size, INK, anchor="mm", bold=True)
        page.y += round(heading_size * 1.5)
    page.drawn.append(texts[0])
    page.draw.line([(margin, page.y + px(8)), (width - margin, page.y + px(8))], fill=(200, 200, 200), width=px(2))
    page.y += px(32)
    line_height = round(theme.font_size * 1.6)
    for paragraph in texts[1:]:
        for segment in wrap_text(paragraph, font(theme.font_size), width - 2 * margin):
            page.text((margin, page.y + line_height // 2), segment, theme.font_size, INK)
            page.y += line_height
        page.drawn.append(paragraph)
        page.y += px(18)
    return page.finish(bottom=margin), page.drawn


def degrade(image: Image.Image, rng: random.Random) -> Image.Image:
    """What re-sharing does to a screenshot: a slight tilt, blur, sensor-like noise, heavy JPEG."""
    if rng.random() < 0.75:
        angle = rng.uniform(1.0, 2.0) * rng.choice((-1, 1))
        image = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=WECHAT_BG)
    image = image.filter(ImageFilter.GaussianBlur(radius=0.6))
    # Seeded bytes rather than Image.effect_noise, whose C generator cannot be seeded.
    noise = Image.frombytes("L", image.size, rng.randbytes(image.width * image.height))
    noise = noise.point(lambda value: 116 + value * 24 // 255).convert("RGB")
    image = ImageChops.add(image, noise, offset=-128)  # noise of -12..+12 levels around each pixel
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=35)
    buffer.seek(0)
    with Image.open(buffer) as jpeg:
        return jpeg.convert("RGB")


def render_with_text(sample: ScreenshotSample) -> Tuple[Image.Image, str]:
    """The screenshot and every text drawn on it (chrome included), one per line in reading order."""
    rng = random.Random(zlib.crc32(sample.name.encode("utf-8")))
    if sample.style == "sms":
        image, drawn = draw_sms(sample, PHONE, rng)
    elif sample.style == "plain_note":
        image, drawn = draw_note(sample, NOTE)
    elif sample.style == "noisy_small":
        image, drawn = draw_chat(sample, SMALL_PHONE, rng)
        image = degrade(image, rng)
    else:  # wechat and long_chat differ only in how many messages the sample has
        image, drawn = draw_chat(sample, PHONE, rng)
    return image, "\n".join(drawn)


def render(sample: ScreenshotSample) -> Image.Image:
    """The screenshot of `sample` as an RGB image."""
    return render_with_text(sample)[0]


def _sample(name: str, style: str, lang: str, scam_type: str, sender: str, *lines: str) -> ScreenshotSample:
    return ScreenshotSample(name=name, style=style, lang=lang, lines=list(lines), scam_type=scam_type, sender=sender)


ZH_SAMPLES: List[ScreenshotSample] = [
    _sample(
        "zh_wechat_order_brushing", "wechat", "zh", "order_brushing", "兼职小助手-佳佳",
        "them:你好，看到你在找兼职？我们这边是电商平台补单，在家用手机就能做",
        "them:一单佣金8到30元，做完立刻返本金加佣金，日结不压款",
        "me:要交钱吗？",
        "them:不收任何费用哦，先做一单试试，垫付29.9元，十分钟内返你35.9元",
        "them:下载这个App登记一下：http://t.cn/A6xYz12 邀请码 6628",
    ),
    _sample(
        "zh_sms_order_brushing", "sms", "zh", "order_brushing", "106 5523 0871",
        "【优选兼职】宝妈学生党看过来，手机点赞关注即可日赚200-500元，加微信 qq778231 领取任务，名额有限。退订回T",
    ),
    _sample(
        "zh_long_chat_order_brushing", "long_chat", "zh", "order_brushing", "任务派单-小雨",
        "them:恭喜你前三单都完成了，佣金一共56元已经到账",
        "me:收到了，谢谢",
        "them:接下来系统派的是联单任务，需要连续做完三单才能一起返款",
        "them:第一单1280元，第二单3600元，第三单8800元",
        "me:这么多？我只有两千多",
        "them:联单中途停下的话系统会冻结账户，之前的本金也提不出来",
        "them:你可以找朋友借一下，做完马上连本带利返14890元",
        "me:我先转了1280，后面的能不能少一点",
        "them:不行哦，这是系统规定的，超过30分钟没完成要扣信誉分",
    ),
    _sample(
        "zh_wechat_investment", "wechat", "zh", "investment", "股票交流群-陈老师",
        "them:各位早上好，昨天推荐的两只票都涨停了，恭喜跟上的朋友",
        "them:今天下午两点有内部消息，机构要拉升一只新能源股",
        "them:想上车的加助理微信，开通专属VIP通道，保底收益月化30%",
        "me:怎么开户？",
        "them:用我们合作的平台开户，普通券商拿不到这个额度，链接 http://t.cn/R9kPq3w",
    ),
    _sample(
        "zh_noisy_small_investment", "noisy_small", "zh", "investment", "平台客服-小周",
        "me:我在平台里赚了四万多，为什么提现不了？",
        "them:您的账户触发了风控，需要缴纳20%的个人所得税才能解冻",
        "them:税费需要另外转入，不能从余额扣除，请在今天18:00前办理完毕",
    ),
    _sample(
        "zh_plain_note_investment", "plain_note", "zh", "investment", "",
        "数字资产量化交易计划",
        "本金5000元起，AI智能跟单，每日收益1.5%至3%",
        "平台由海外基金会担保，稳赚不赔，随时可提",
        "推荐一位好友再奖励800元",
        "咨询热线：400-820-6631",
    ),
    _sample(
        "zh_wechat_fake_shopping", "wechat", "zh", "fake_shopping", "二手好物-阿杰",
        "me:那台相机还在吗？",
        "them:在的，九五新，原价六千多，现在2300出",
        "them:二手平台上挂着手续费高，你直接微信转我，我给你顺丰包邮",
        "me:能走平台担保吗？",
        "them:平台太麻烦了，好多人都是直接转的，你先付500定金我帮你留着",
    ),
    _sample(
        "zh_sms_fake_shopping", "sms", "zh", "fake_shopping", "1069 8812 3376",
        "【清仓特卖】品牌羽绒服工厂直销，原价1299元现仅需199元，今日最后一天，点击 http://t.cn/Ex8Lm4 抢购。",
        "下单后需先付运费保证金20元，收货后退还。",
    ),
    _sample(
        "zh_wechat_customer_service", "wechat", "zh", "customer_service", "快递理赔专员",
        "them:您好，我是快递公司理赔专员，您的包裹在运输途中丢失了",
        "them:我们这边按照三倍赔偿，一共赔您268元",
        "me:好的，怎么赔？",
        'them:您打开支付宝，搜索"备用金"，按我说的操作，我给您开通理赔通道',
        "them:需要您共享一下屏幕，确认收款账户",
    ),
    _sample(
        "zh_sms_customer_service", "sms", "zh", "customer_service", "+86 171 2290 4418",
        "【购物平台客服】尊敬的用户，您开通的百万保障服务即将每月扣费500元，"
        "如需取消请致电 0571-8823-6610，逾期将自动续费。",
    ),
    _sample(
        "zh_long_chat_customer_service", "long_chat", "zh", "customer_service", "售后客服-小美",
        "them:您好，您上周购买的面膜被检测出质量问题，我们要给您办理双倍退款",
        "me:是哪一单？",
        "them:订单号是2023112088417，金额129元，退款一共258元",
        "me:那我需要做什么？",
        "them:您点开这个退款链接 http://t.cn/Rf3kLd9 填写一下收款银行卡",
        "me:填好了",
        "them:系统给您发了一个验证码，请把6位数字告诉我，我这边提交退款",
        "me:验证码是多少位来着",
        "them:6位，短信里写着不要告诉别人，您不用管，那是系统自动发的",
    ),
    _sample(
        "zh_wechat_loan", "wechat", "zh", "fake_loan", "速贷通-信贷经理",
        "me:你好，我想贷款三万",
        "them:可以的，无抵押无担保，身份证就能办，当天放款",
        "them:您的资料审核通过了，但是银行卡号填错了，资金被冻结",
        "them:需要转2000元解冻金证明还款能力，解冻后和贷款一起退给您",
        "me:能从贷款里扣吗？",
        "them:不能哦，这是监管部门的规定",
    ),
    _sample(
        "zh_noisy_small_loan", "noisy_small", "zh", "fake_loan", "借款专员",
        "them:【急速借款】无视黑白户，最高可借20万",
        "them:年化利率低至3.6%，两分钟到账",
        "them:先交会员费199元开通额度，加QQ 2881734905 办理",
    ),
    _sample(
        "zh_wechat_credit_repair", "wechat", "zh", "fake_credit", "征信修复中心-王经理",
        "them:您好，您的征信上有逾期记录吗？我们可以帮您消除",
        "them:我们和银行内部有合作，三个工作日内修复，不成功全额退款",
        "me:要多少钱？",
        "them:每条逾期记录收费1500元，先付一半，修复后再付剩下的",
        "them:修复成功就可以办房贷车贷了",
    ),
    _sample(
        "zh_plain_note_credit_repair", "plain_note", "zh", "fake_credit", "",
        "征信洗白 逾期消除 快速上征",
        "专业团队对接银行内部系统，黑户也能修复",
        "网贷逾期、信用卡逾期、呆账均可处理",
        "先办事后收费，联系电话 138 2716 0493",
    ),
]

ZH_SAMPLES += [
    _sample(
        "zh_wechat_impersonate_acquaintance", "wechat", "zh", "impersonate_acquaintance", "李总",
        "them:在吗？我是李总，这是我的新微信，旧号不用了",
        "me:李总好",
        "them:我现在在开会，不方便接电话",
        "them:有个合作方要先付一笔定金，你先帮我转48000到这个账户，下午我让财务补给你",
        "them:户名：周海涛，卡号 6228 4801 2237 9965，农业银行",
        "them:转好了截图给我，这事先别跟其他人说",
    ),
    _sample(
        "zh_sms_impersonate_acquaintance", "sms", "zh", "impersonate_acquaintance", "+86 186 0271 3354",
        "妈，我手机掉水里了，这是同学的手机号。",
        "我现在急需交一笔培训费3200元，你先转到老师的卡上，卡号我一会儿发你，先别给我打电话，我在上课。",
    ),
    _sample(
        "zh_wechat_impersonate_official", "wechat", "zh", "impersonate_official", "市公安局-刘警官",
        "them:你好，我是市公安局刑侦支队的刘警官，警号031427",
        "them:你的身份证涉嫌一起洗钱案件，名下有张银行卡转入了赃款120万",
        "me:不可能，我没有办过这张卡",
        "them:现在要对你的资金进行清查，不要告诉任何人，否则按妨碍公务处理",
        "them:把你名下所有存款转到国家安全账户，核查完毕后48小时内退还",
    ),
    _sample(
        "zh_plain_note_impersonate_official", "plain_note", "zh", "impersonate_official", "",
        "关于个人医保账户异常的通知",
        "经核查，您的医保卡在外地存在违规套现记录，账户将于今日17时冻结。",
        "如有异议，请立即拨打医保核查专线 010-5882-7713。",
        "逾期未处理的，将移交公安机关依法追究责任。",
    ),
    _sample(
        "zh_noisy_small_impersonate_official", "noisy_small", "zh", "impersonate_official", "ETC服务中心",
        "them:【ETC服务】您的ETC卡已失效，为避免影响通行，请尽快登录 http://etc-gx.cn/renz 进行认证",
        "them:认证时需填写银行卡号和手机验证码",
        "me:我上个月才办的",
    ),
    _sample(
        "zh_long_chat_romance", "long_chat", "zh", "romance", "Jason林",
        "them:早安宝贝，昨晚睡得好吗？",
        "me:还行，你今天不忙吗",
        "them:再忙也要先跟你说早安呀，等这个项目结束我就回国见你",
        "them:对了，我在一个博彩平台发现了漏洞，他们的数据有规律，我已经稳赚好几个月了",
        "me:真的假的？",
        "them:我怎么会骗你，你先充5000试试，我教你怎么下注",
        "them:我们以后结婚买房的钱，就靠这个了",
        "me:我怕会亏",
        "them:有我在你怕什么，赚了钱我们一起花",
    ),
    _sample(
        "zh_wechat_romance", "wechat", "zh", "romance", "小雅",
        "them:哥哥，认识你这么久，你是第一个让我这么信任的人",
        "them:我妈妈住院了要做手术，医院让先交3万押金",
        "them:我已经凑了一半，还差一万五，你能先借我吗？发工资就还你",
        "me:要不我直接打给医院？",
        "them:医院那边只收现金，你转给我就好，我拿去交",
    ),
    _sample(
        "zh_wechat_game_trading", "wechat", "zh", "game_trading", "账号回收-阿伟",
        "me:你好，这个号1800能出吗？",
        "them:可以的，我们走交易平台，安全有保障",
        "them:http://t.cn/A6Gm7Yk 在这个平台注册一下，把账号挂上去",
        "them:买家已经付款了，但是平台显示你的账户没开通VIP，资金被冻结",
        "them:你需要先充值600元开通VIP，解冻后跟货款一起提现",
    ),
    _sample(
        "zh_sms_game_trading", "sms", "zh", "game_trading", "1065 9021 7788",
        "【游戏福利】恭喜您获得限定皮肤一套，价值688元，请在24小时内登录 http://t.cn/wzry88 领取，需验证QQ号和密码。",
    ),
    _sample(
        "zh_noisy_small_game_trading", "noisy_small", "zh", "game_trading", "收装备的大刘",
        "them:兄弟，你那把限定刀卖不卖？我出3500",
        "me:可以，怎么交易",
        'them:你加我QQ 3319028475，我们去"游易宝"交易，那边有担保',
    ),
    _sample(
        "zh_sms_none_parcel", "sms", "zh", "none", "10690182",
        "【驿站】您的包裹已到小区东门驿站，凭取件码8-3-2071于今日21:00前领取，如有疑问请联系0571-8627-3310。",
    ),
    _sample(
        "zh_sms_none_bank", "sms", "zh", "none", "96588",
        "【XX银行】您尾号4471的储蓄卡12月5日09:32支出人民币238.50元，当前余额12,406.77元。",
    ),
    _sample(
        "zh_wechat_none_family_dinner", "wechat", "zh", "none", "妈妈",
        "them:今晚回家吃饭吗？我炖了排骨汤",
        "me:回的，大概七点到",
        "them:路上买点豆腐回来，再买一把小葱",
        "me:好嘞，还要别的吗",
        "them:不用了，早点回来，外面下雨记得带伞",
    ),
    _sample(
        "zh_plain_note_none_meeting", "plain_note", "zh", "none", "",
        "会议通知",
        "各部门负责人：定于本周四下午3:00在三楼会议室召开季度总结会。",
        "请提前准备好本部门第三季度工作汇报，时间控制在10分钟以内。",
        "行政部 12月3日",
    ),
    _sample(
        "zh_noisy_small_none_doctor", "noisy_small", "zh", "none", "社区医院-陈医生",
        "them:您好，您预约的口腔科复诊时间是12月8日上午10:30",
        "them:请带好医保卡，提前15分钟到二楼挂号处签到",
        "me:好的，谢谢陈医生",
    ),
    _sample(
        "zh_long_chat_none_hiking", "long_chat", "zh", "none", "阿强",
        "them:周六去爬山吗？天气预报说是晴天",
        "me:好啊，去哪座山？",
        "them:凤凰山吧，从南门上去大概两个小时",
        "me:几点集合？",
        "them:早上七点半地铁站B出口，我开车带你们过去",
        "me:要带什么吗",
        "them:带点水和零食就行，中午在山顶吃饭",
        "me:那我买点面包和水果",
        "them:好，到时候见",
    ),
]

EN_SAMPLES: List[ScreenshotSample] = [
    _sample(
        "en_wechat_order_brushing", "wechat", "en", "order_brushing", "Recruiter Amy",
        "them:Hi! We are hiring part-time product reviewers, you can work from your phone",
        "them:Just like and rate items, earn $50 to $300 a day, paid daily",
        "me:Is there any fee?",
        "them:No fee. For the first task you prepay $29 and get $37 back within 10 minutes",
        "them:Register here: http://t.cn/A6xYz12 and use code 6628",
    ),
    _sample(
        "en_sms_investment", "sms", "en", "investment", "+1 (646) 555-0187",
        "Hi, this is Mia from Apex Wealth. Our AI trading signal made members 42% last month.",
        "Spots in the private group close tonight. Reply YES to join or visit http://apx-gain.co/vip",
    ),
    _sample(
        "en_long_chat_investment", "long_chat", "en", "investment", "Crypto Mentor Leo",
        "them:Hey, did you check the BTC signal I sent yesterday?",
        "me:Yes, it went up",
        "them:Told you. Our members made 18% in one day",
        "them:I can open an account for you on our exchange, minimum deposit $1,000",
        "me:Which exchange?",
        "them:It's a private platform, here is the link http://t.cn/CrX9v1p",
        "them:Deposit today and you get a 30% bonus",
        "me:Can I withdraw anytime?",
        "them:Of course, after the 30 day lock period",
    ),
    _sample(
        "en_plain_note_fake_shopping", "plain_note", "en", "fake_shopping", "",
        "CLEARANCE SALE - TODAY ONLY",
        "Designer handbags from $39, up to 90% off retail.",
        "Stock is limited. Pay by gift card or bank transfer for priority shipping.",
        "Order now at http://t.cn/Bg72qLx",
    ),
    _sample(
        "en_sms_customer_service", "sms", "en", "customer_service", "+44 7700 900412",
        "Your account has been charged $499.99 for an annual subscription.",
        "If you did not authorise this, call our support team at 1-888-555-0143 within 24 hours to cancel.",
    ),
    _sample(
        "en_noisy_small_loan", "noisy_small", "en", "fake_loan", "QuickCash Loans",
        "them:Pre-approved: personal loan up to $15,000, no credit check",
        "them:Funds in your account within 1 hour",
        "them:A refundable insurance fee of $150 is required before release. Pay via gift card.",
    ),
    _sample(
        "en_wechat_credit_repair", "wechat", "en", "fake_credit", "Credit Fix Pros",
        "them:Tired of a low credit score? We can remove late payments and collections",
        "them:Guaranteed +120 points in 30 days or your money back",
        "me:How much does it cost?",
        "them:Only $399 upfront, then we dispute everything for you",
        "them:Don't contact the credit bureaus yourself, it will slow the process",
    ),
    _sample(
        "en_sms_impersonate_acquaintance", "sms", "en", "impersonate_acquaintance", "+1 (312) 555-0164",
        "Hi Mum, I dropped my phone and this is my new number.",
        "Can you send me $850 for rent today? I'll pay you back on Friday. Please don't call, the mic is broken.",
    ),
    _sample(
        "en_plain_note_impersonate_official", "plain_note", "en", "impersonate_official", "",
        "FINAL NOTICE FROM THE TAX OFFICE",
        "Our records show an unpaid balance of $2,318.40 on your tax account.",
        "A warrant will be issued if payment is not received by 5:00 PM today.",
        "Call 1-877-555-0199 immediately to settle by prepaid card.",
    ),
    _sample(
        "en_long_chat_romance", "long_chat", "en", "romance", "Daniel",
        "them:Good morning, beautiful. Did you sleep well?",
        "me:I did, how is life on the oil rig?",
        "them:Busy as always, but I think about you all day",
        "them:My contract ends next month, then I can finally fly to see you",
        "me:I can't wait",
        "them:There is one problem, my bank account is frozen until I'm back onshore",
        "them:Could you help me with $2,500 for the customs fee on my equipment?",
        "me:That's a lot of money",
        "them:I will pay you back double when we meet, I promise, my love",
    ),
    _sample(
        "en_wechat_game_trading", "wechat", "en", "game_trading", "SkinTrader99",
        "me:Still selling the dragon skin?",
        "them:Yes, $120. We use a middleman site so it's safe",
        "them:Log in with your game account at http://t.cn/StmTrd5 to confirm the trade",
        "them:Also send me the code that was just sent to your email",
    ),
    _sample(
        "en_wechat_none_family_dinner", "wechat", "en", "none", "Mom",
        "them:Are you coming home for dinner tonight?",
        "me:Yes, around 7",
        "them:Can you grab a loaf of bread on the way?",
        "me:Sure, anything else?",
        "them:Some milk too, thanks love",
    ),
    _sample(
        "en_sms_none_parcel", "sms", "en", "none", "72455",
        "Your parcel is ready at the Maple St locker. Pickup code: 418 226. Available until 8 PM on Dec 9.",
    ),
    _sample(
        "en_sms_none_bank", "sms", "en", "none", "Bank Alerts",
        "A payment of $64.20 to GreenLeaf Grocery was made with your card ending 3390.",
        "Available balance: $1,872.55.",
    ),
    _sample(
        "en_plain_note_none_meeting", "plain_note", "en", "none", "",
        "Team meeting reminder",
        "Thursday at 10:00 AM in Room 4B.",
        "Agenda: Q3 results, holiday rota, the new printer.",
        "Please bring your laptop.",
    ),
    _sample(
        "en_noisy_small_none_doctor", "noisy_small", "en", "none", "Riverside Clinic",
        "them:Reminder: your appointment with Dr. Patel is on Tue 12 Dec at 9:15 AM",
        "them:Please arrive 10 minutes early and bring your insurance card",
        "me:Thanks, see you then",
    ),
]

SAMPLES: List[ScreenshotSample] = ZH_SAMPLES + EN_SAMPLES


def write_all(out_dir: Path) -> List[Path]:
    """Writes every sample as `<name>.png` plus `truth.jsonl` into `out_dir`; returns the PNG paths."""
    names = [sample.name for sample in SAMPLES]
    if len(set(names)) != len(names):
        raise ValueError("sample names must be unique: they are file names")
    font(PHONE.font_size)  # a missing font fails here, before an empty output directory is made
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: List[Path] = []
    with (out_dir / "truth.jsonl").open("w", encoding="utf-8") as truth:
        for sample in SAMPLES:
            image, drawn = render_with_text(sample)
            path = out_dir / f"{sample.name}.png"
            image.save(path)
            paths.append(path)
            record = {
                "name": sample.name,
                "file": path.name,
                "style": sample.style,
                "lang": sample.lang,
                "scam_type": sample.scam_type,
                "text": sample.text,
                "visible_text": drawn,
            }
            truth.write(json.dumps(record, ensure_ascii=False) + "\n")
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("/tmp/screens"))
    args = parser.parse_args()
    paths = write_all(args.out)
    print(f"wrote {len(paths)} screenshots and truth.jsonl to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

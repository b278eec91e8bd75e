"""Text read from a screenshot, offline: rapidocr-onnxruntime with the PP-OCRv4 Chinese/English models
inside its wheel (nothing is downloaded).

The image is checked before it is decoded (size, format, pixel count: a decompression bomb is refused
from its header), decoded once by Pillow, and read on one worker thread per process: onnxruntime
releases the GIL, so the server's event loop keeps serving other conversations while an image is read,
and a queue of at most MAX_WAITING images stops a flood from piling up. Images are never stored.
"""

from __future__ import annotations

import asyncio
import io
import re
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from bot.channels.http import MAX_TEXT_CHARS, RequestRejected

MAX_IMAGE_BYTES = 8 * 1024 * 1024
# A phone screenshot is 1-4 megapixels; a long scrolling capture stays under this.
MAX_PIXELS = 40_000_000
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "BMP": "image/bmp", "GIF": "image/gif"}
IMAGE_TYPES = frozenset(FORMATS.values()) | {"image/jpg"}
MAX_WAITING = 4
# Below this confidence a piece of text is more often noise (an icon, a blurred edge) than words.
MIN_SCORE = 0.6
# Two boxes are on one line when their vertical centres are closer than this share of a line's height.
SAME_LINE = 0.5
# Two cores: OCR takes one of them, the server and the NLU keep the other.
OCR_THREADS = 1
# metadata.source of a chat message whose text was read from a screenshot (actions/slots.py reads it).
IMAGE_SOURCE = "image"
_SENTENCE_END = re.compile(r"[。！？!?…:：;；]$|[.]$")
_CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef，、“”]")


class ReaderBusy(RuntimeError):
    """More images are waiting than MAX_WAITING: try again shortly."""


@dataclass(frozen=True)
class ReadText:
    lines: List[str]
    seconds: float

    @property
    def text(self) -> str:
        """The lines as read, one per line (what the person is shown)."""
        return "\n".join(self.lines)

    @property
    def flowing(self) -> str:
        """The text to analyse: a bubble's wrapped lines joined again (Chinese without a space), a line
        that ends a sentence kept apart, at most MAX_TEXT_CHARS."""
        parts: List[str] = []
        for line in self.lines:
            if parts and not _SENTENCE_END.search(parts[-1]):
                joiner = "" if _CJK.match(line[:1]) and _CJK.match(parts[-1][-1:]) else " "
                parts[-1] = parts[-1] + joiner + line
            else:
                parts.append(line)
        return "\n".join(parts)[:MAX_TEXT_CHARS]

    def as_dict(self) -> Dict[str, Any]:
        """`text` is what was analysed: the analysis's offsets point into it."""
        return {"text": self.flowing, "lines": len(self.lines), "seconds": round(self.seconds, 3)}


def decode_image(data: bytes) -> np.ndarray:
    """The image as an RGB array, or RequestRejected saying what is wrong with it."""
    if not data:
        raise RequestRejected(400, "empty_body", "The image is empty.")
    if len(data) > MAX_IMAGE_BYTES:
        raise RequestRejected(413, "image_too_large", f"The image is larger than {MAX_IMAGE_BYTES} bytes.")
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that: every bomb is an error here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            opened = Image.open(io.BytesIO(data))
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError):
            raise RequestRejected(415, "not_an_image", "This is not a PNG, JPEG, WebP, BMP or GIF image.")
        if opened.format not in FORMATS:
            raise RequestRejected(415, "not_an_image", "This is not a PNG, JPEG, WebP, BMP or GIF image.")
        width, height = opened.size
        if width * height > MAX_PIXELS or width < 1 or height < 1:
            raise RequestRejected(413, "image_too_large", f"The image has more than {MAX_PIXELS} pixels.")
        try:
            opened.load()  # a truncated file fails here, before any OCR
            image = ImageOps.exif_transpose(opened).convert("RGB")
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning):
            raise RequestRejected(422, "broken_image", "The image is damaged or cut off; send it again.")
    return np.asarray(image)


@lru_cache(maxsize=1)
def _engine() -> Any:
    from rapidocr_onnxruntime import RapidOCR  # loads the onnx models: only when the first image comes

    return RapidOCR(intra_op_num_threads=OCR_THREADS, inter_op_num_threads=1)


def in_reading_order(boxes: Sequence[Tuple[Sequence[Sequence[float]], str, float]]) -> List[str]:
    """The recognised pieces as lines, top to bottom, pieces of one line left to right."""
    pieces = []
    for box, text, score in boxes:
        if float(score) < MIN_SCORE or not str(text).strip():
            continue
        ys = [float(p[1]) for p in box]
        xs = [float(p[0]) for p in box]
        pieces.append(((min(ys) + max(ys)) / 2, max(ys) - min(ys), min(xs), str(text).strip()))
    pieces.sort()
    lines: List[List[Tuple[float, str]]] = []
    last_centre, last_height = None, 0.0
    for centre, height, left, text in pieces:
        if last_centre is not None and abs(centre - last_centre) < SAME_LINE * max(height, last_height):
            lines[-1].append((left, text))
        else:
            lines.append([(left, text)])
            last_centre, last_height = centre, height
    return [" ".join(text for _, text in sorted(line)) for line in lines]


def read_array(image: np.ndarray) -> ReadText:
    started = time.perf_counter()
    # RapidOCR takes OpenCV's channel order.
    result, _ = _engine()(np.ascontiguousarray(image[:, :, ::-1]))
    return ReadText(in_reading_order(result or []), time.perf_counter() - started)


class Reader:
    """One OCR worker per process, with a bounded queue."""

    def __init__(self, max_waiting: int = MAX_WAITING) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ocr")
        self._max_waiting = max_waiting
        self._waiting = 0
        self._lock = threading.Lock()

    async def read(self, data: bytes) -> ReadText:
        """Decode and read an image off the event loop: RequestRejected, ReaderBusy or the text."""
        with self._lock:
            if self._waiting >= self._max_waiting:
                raise ReaderBusy("too many images are being read")
            self._waiting += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, lambda: read_array(decode_image(data)))
        finally:
            with self._lock:
                self._waiting -= 1


@lru_cache(maxsize=1)
def shared_reader() -> Reader:
    return Reader()


async def read_image(data: bytes) -> ReadText:
    """For an HTTP route: the text of an image with at least one line, or RequestRejected."""
    try:
        read = await shared_reader().read(data)
    except ReaderBusy:
        raise RequestRejected(503, "busy", "Other images are being read; try again in a few seconds.")
    if not read.lines:
        raise RequestRejected(422, "no_text", "No text could be read in this image.")
    return read

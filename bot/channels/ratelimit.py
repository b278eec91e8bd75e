"""A per-sender limit on chat messages, so that one sender cannot flood the bot.

Rasa handles one sender's messages one at a time (its lock store polls once a
second), so a flood from one sender id would queue up until the locks expire.
"""

from __future__ import annotations

import math
import os
import time
from collections import deque
from typing import Callable, Deque, Dict, Optional

from bot.settings import ConfigurationError

DEFAULT_MESSAGES = 20
DEFAULT_WINDOW_S = 60.0
SWEEP_FLOOR = 1024


def _positive(variable: str, default: float) -> float:
    raw = (os.environ.get(variable) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise ConfigurationError(f"{variable} must be a number >= 0, got {raw!r}.")
    return value


class SenderRateLimit:
    """At most `messages` accepted messages per sender in any `window_s` seconds; 0 messages: no limit.

    It lives in this process's memory. Senders quiet for a whole window are
    forgotten, so the table holds only the senders active within the last window.
    """

    def __init__(self, messages: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._messages = messages
        self._window_s = window_s
        self._clock = clock
        self._accepted: Dict[str, Deque[float]] = {}
        self._sweep_at = SWEEP_FLOOR

    @classmethod
    def from_environment(cls) -> SenderRateLimit:
        """WEBCHAT_RATE_MESSAGES (default 20) per WEBCHAT_RATE_WINDOW_S seconds (default 60)."""
        return cls(
            int(_positive("WEBCHAT_RATE_MESSAGES", DEFAULT_MESSAGES)),
            _positive("WEBCHAT_RATE_WINDOW_S", DEFAULT_WINDOW_S),
        )

    def retry_after(self, sender: str) -> Optional[int]:
        """None, counting the message, if `sender` may send it now; else the seconds to wait."""
        if self._messages <= 0:
            return None
        now = self._clock()
        accepted = self._accepted.setdefault(sender, deque())
        while accepted and accepted[0] <= now - self._window_s:
            accepted.popleft()
        if len(accepted) >= self._messages:
            return max(1, math.ceil(accepted[0] + self._window_s - now))
        accepted.append(now)
        if len(self._accepted) > self._sweep_at:
            self._forget_quiet_senders(now)
        return None

    def _forget_quiet_senders(self, now: float) -> None:
        self._accepted = {s: a for s, a in self._accepted.items() if a and a[-1] > now - self._window_s}
        # Sweeping again only after the table doubles keeps the cost per message constant.
        self._sweep_at = max(SWEEP_FLOOR, 2 * len(self._accepted))

    def __len__(self) -> int:
        return len(self._accepted)

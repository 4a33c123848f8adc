"""Telegram's rate limits for the outbox: the limits and retry policy (Pacing) and the sliding
windows that enforce them (Pacer). Pacing is per chat: the forum topics of one chat share it."""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pacing:
    """Outbox rate limits and retry policy; the defaults are Telegram's documented limits."""

    group_limit: int = 20
    """Posts per ``group_window`` to one channel or group."""
    group_window: float = 60.0
    chat_interval: float = 1.0
    """Seconds between two messages to the same chat (private, group or channel)."""
    global_limit: int = 25
    """Outbox messages per ``global_window`` across all chats."""
    global_window: float = 1.0
    retry_slack: float = 0.25
    """Added to a 429's retry_after before the same message is tried again."""
    backoff_base: float = 2.0
    backoff_cap: float = 600.0
    max_attempts: int = 20
    """Failed attempts (5xx, network) after which a delivery is marked 'failed'."""
    idle_poll: float = 30.0
    """Longest sleep of the deliverer even when nothing seems due (a safety net)."""
    lease: float = 120.0
    """Seconds a claimed row is reserved for the send under way (a send is cut off then): far
    above the publisher's request timeout. After a crash mid-send its chat waits this long."""

    def backoff(self, attempts: int) -> float:
        """Delay before retry number ``attempts`` (1-based): exponential, capped, jittered."""
        delay = min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempts - 1))
        return delay * random.uniform(0.8, 1.0)


def is_group(chat_id: str) -> bool:
    """Channels and groups ('@name' or a negative id) get the 20-per-minute rule."""
    return chat_id.startswith("@") or chat_id.startswith("-")


class Pacer:
    """Sliding windows over send *completion* times, so the server never sees more than allowed."""

    def __init__(self, pacing: Pacing, clock: Callable[[], float] = time.monotonic) -> None:
        self.pacing = pacing
        self.clock = clock
        self._groups: dict[str, deque[float]] = {}
        self._last: dict[str, float] = {}
        self._global: deque[float] = deque(maxlen=pacing.global_limit)
        self._blocked: dict[str, float] = {}

    def ready_in(self, chat_id: str) -> float:
        """Seconds until one more message may go to this chat (0: now)."""
        now = self.clock()
        at = max(
            self._blocked.get(chat_id, 0.0),
            self._last.get(chat_id, -math.inf) + self.pacing.chat_interval,
        )
        sent = self._groups.get(chat_id)
        if sent is not None and len(sent) >= self.pacing.group_limit:
            at = max(at, sent[0] + self.pacing.group_window)
        return max(0.0, at - now)

    def global_ready_in(self) -> float:
        """Seconds until the overall limit allows one more outbox message."""
        if len(self._global) < self.pacing.global_limit:
            return 0.0
        return max(0.0, self._global[0] + self.pacing.global_window - self.clock())

    def record(self, chat_id: str, at: float | None = None) -> None:
        """A request to this chat just completed (whatever its result)."""
        now = self.clock() if at is None else at
        self._global.append(now)
        self._last[chat_id] = max(now, self._last.get(chat_id, -math.inf))
        if is_group(chat_id):
            self._groups.setdefault(chat_id, deque(maxlen=self.pacing.group_limit)).append(now)
        if len(self._last) > 10_000:  # forget chats whose interval has long passed
            cutoff = now - self.pacing.chat_interval
            self._last = {c: t for c, t in self._last.items() if t > cutoff}

    def block(self, chat_id: str, seconds: float) -> None:
        """Nothing to this chat for ``seconds`` (429 retry_after)."""
        self._blocked[chat_id] = max(self._blocked.get(chat_id, 0.0), self.clock() + seconds)

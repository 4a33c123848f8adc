"""Clocks and Telegram's flood limits for the fake Bot API server (rules.md §2 R1–R4)."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)

#: Methods that count as "sending a message" for the flood limits.
SEND_METHODS = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "sendmediagroup",
        "copymessage",
        "forwardmessage",
        "sendsticker",
        "sendvideo",
    }
)


class Clock(Protocol):
    """What the server needs from a clock: a monotonic reading and a wall-clock reading."""

    def monotonic(self) -> float: ...

    def time(self) -> float: ...


class RealClock:
    """The default clock: the process's real time."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary start, never going backwards."""
        return time.monotonic()

    def time(self) -> float:
        """Unix time, used for message dates."""
        return time.time()


class VirtualClock:
    """A clock tests move by hand, so limits and retry_after can be tested without sleeping."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self._now = 0.0
        self._wall0 = start

    def monotonic(self) -> float:
        """Virtual seconds elapsed since the clock was made."""
        return self._now

    def time(self) -> float:
        """Virtual unix time."""
        return self._wall0 + self._now

    def advance(self, seconds: float) -> None:
        """Move time forward (never backwards)."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        """Jump forward by `seconds` at once (for code under test that takes a sleep function)."""
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)


@dataclass
class Limits:
    """Flood-limit settings; the defaults are Telegram's published numbers."""

    enabled: bool = True
    per_chat_rate: float = 1.0  # messages per second to one chat, sustained
    per_chat_burst: int = 10  # messages one chat may take at once before the rate applies
    group_per_window: int = 20  # messages to one group/channel (id < 0 or '@name') ...
    group_window: float = 60.0  # ... per this many seconds
    global_rate: float = 30.0  # messages per second across all chats
    global_burst: int = 30
    paid_rate: float = 1000.0  # allow_paid_broadcast=true requests, per second
    methods: frozenset[str] = field(default_factory=lambda: SEND_METHODS)

    @classmethod
    def off(cls) -> Limits:
        """No flood limits at all (benchmarks, tests that do not care)."""
        return cls(enabled=False)


class _Bucket:
    """A token bucket: `capacity` at once, refilled at `rate` per second."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate, self.capacity = rate, capacity
        self.tokens, self.stamp = capacity, now

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0 if one is)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


class RateLimiter:
    """Decides whether one more message may go out now; returns retry_after seconds or 0."""

    def __init__(self, limits: Limits, clock: Clock) -> None:
        self.limits = limits
        self.clock = clock
        self._chats: dict[int, _Bucket] = {}
        self._groups: dict[int, deque[float]] = {}
        self._global: _Bucket | None = None
        self._paid: _Bucket | None = None

    def applies_to(self, method: str) -> bool:
        """Whether this (lower-case) method is flood-limited at all."""
        return self.limits.enabled and method in self.limits.methods

    def check(self, chat_id: int, *, is_group: bool, paid: bool) -> int:
        """Consume a slot and return 0, or return retry_after (seconds ≥ 1) and consume nothing."""
        lim, now = self.limits, self.clock.monotonic()
        if paid:
            if self._paid is None:
                self._paid = _Bucket(lim.paid_rate, max(1.0, lim.paid_rate), now)
            wait = self._paid.wait(now)
            if wait > 0:
                return max(1, math.ceil(wait))
            self._paid.take()
            return 0
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Bucket(lim.per_chat_rate, lim.per_chat_burst, now)
        if self._global is None:
            self._global = _Bucket(lim.global_rate, lim.global_burst, now)
        waits = [chat.wait(now), self._global.wait(now)]
        window = self._groups.setdefault(chat_id, deque()) if is_group else None
        if window is not None:
            while window and window[0] <= now - lim.group_window:
                window.popleft()
            if len(window) >= lim.group_per_window:
                waits.append(window[0] + lim.group_window - now)
        wait = max(waits)
        if wait > 0:
            return max(1, math.ceil(wait))
        chat.take()
        self._global.take()
        if window is not None:
            window.append(now)
        return 0

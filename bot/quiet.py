"""Pure: quiet hours (QUIET_HOURS=23:00-07:00 in SOURCE_TZ): is an instant inside, when it ends.

The window is wall-clock time in the zone, so it follows daylight saving: on a day when the
clocks jump over the end (spring) the window ends at the jump; on a day when an hour repeats
(autumn) a wall time inside the window is quiet both times it occurs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

QuietMode = Literal["silent", "hold"]
QUIET_MODES: tuple[QuietMode, ...] = ("silent", "hold")
_WINDOW = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window [start, end) of wall-clock time in ``tz``; start > end crosses midnight."""

    start: time
    end: time
    tz: ZoneInfo

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.tz.key}"

    def contains(self, at: datetime) -> bool:
        """Is the aware instant ``at`` inside the window?"""
        now = at.astimezone(self.tz).time()
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def ends_at(self, at: datetime) -> datetime | None:
        """When the window holding ``at`` ends, in UTC; None when ``at`` is outside.

        UTC, because arithmetic on two datetimes of one ZoneInfo ignores DST (wall-clock math).
        """
        if not self.contains(at):
            return None
        local = at.astimezone(self.tz)
        day = local.date()
        if self.start > self.end and local.time() >= self.start:
            day += timedelta(days=1)  # the evening part: the window ends tomorrow morning
        return self._first_wall_time(day, self.end, after=at)

    def release_at(self, at: datetime) -> datetime:
        """``at`` itself outside the window, else the window's end: when held posts may go."""
        end = self.ends_at(at)
        return at.astimezone(UTC) if end is None else end

    def _first_wall_time(self, day: date, wall: time, *, after: datetime) -> datetime:
        """The first instant after ``after`` when the clock on ``day`` shows ``wall`` or later."""
        candidates = []
        for fold in (0, 1):
            local = datetime.combine(day, wall, tzinfo=self.tz).replace(fold=fold)
            utc = local.astimezone(UTC)
            if utc.astimezone(self.tz).replace(tzinfo=None) == local.replace(tzinfo=None):
                candidates.append(utc)  # this wall time exists (twice in a repeated hour)
        later = sorted(c for c in candidates if c > after)
        if later:
            return later[0]
        # ``wall`` is skipped (clocks jump over it): the window ends at the jump itself
        lo = datetime.combine(day, wall, tzinfo=self.tz).replace(fold=1).astimezone(UTC)
        hi = datetime.combine(day, wall, tzinfo=self.tz).replace(fold=0).astimezone(UTC)
        lo, hi = min(lo, hi), max(lo, hi)
        while hi - lo > timedelta(seconds=1):
            mid = lo + (hi - lo) / 2
            if mid.astimezone(self.tz).replace(tzinfo=None) >= datetime.combine(day, wall):
                hi = mid
            else:
                lo = mid
        return hi.replace(microsecond=0)


def parse_quiet_hours(text: str, tz: ZoneInfo) -> QuietHours | None:
    """``HH:MM-HH:MM`` → QuietHours; '' → None; ValueError says what is wrong."""
    if not text.strip():
        return None
    m = _WINDOW.fullmatch(text)
    if m is None:
        raise ValueError(f"expected HH:MM-HH:MM such as 23:00-07:00, got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"hours are 00-23 and minutes 00-59, got {text!r}")
    start, end = time(h1, m1), time(h2, m2)
    if start == end:
        raise ValueError(f"the window starts and ends at the same time, got {text!r}")
    return QuietHours(start, end, tz)

"""When a seed file counts as settled: unchanged (size, mtime, content) for SETTLE_SECONDS.

A scraper that writes a page in two parts must not get half an article to the channel, so a
new or changed file is applied to the store only once it has stayed the same that long; a file
gone counts as gone only after that long too, so a rename seen as delete-then-create is never a
withdrawal. A file's mtime is when it was last written: one already older than SETTLE_SECONDS
when first seen is settled at once (start-up and backlog are not delayed). The state is this
process's memory: after a restart the files are simply observed again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Stamp = tuple[int, int, str]
"""(size, mtime_ns, sha256) of one observation of a file."""


@dataclass(slots=True)
class _Pending:
    stamp: Stamp
    deadline: float
    key: str | None
    looked: float
    """When this file was last looked at: a change seen later happened after it."""


class SettleTracker:
    """Pending new/changed files and missing files, on an injectable wall clock."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.seconds = seconds
        self.clock = clock
        self._pending: dict[str, _Pending] = {}
        self._missing: dict[str, float] = {}

    def settled(self, source: str, stamp: Stamp, key: str | None = None) -> bool:
        """True when this observation of ``source`` may be applied now.

        The deadline is SETTLE_SECONDS after the file's mtime, or after the moment this exact
        stamp was first seen when the mtime lies in the future; any change starts it again.
        """
        self._missing.pop(source, None)
        if self.seconds <= 0:
            self._pending.pop(source, None)
            return True
        now = self.clock()
        seen = self._pending.get(source)
        if seen is None or seen.stamp != stamp:
            mtime = stamp[1] / 1e9
            since = mtime if mtime <= now else now
            if seen is not None:  # changed after the last look, whatever a coarse mtime says
                since = max(since, seen.looked)
            seen = self._pending[source] = _Pending(stamp, since + self.seconds, key, now)
        seen.looked = now
        if now >= seen.deadline:
            del self._pending[source]
            return True
        return False

    def gone(self, source: str) -> bool:
        """True once ``source`` has been missing for longer than SETTLE_SECONDS."""
        self._pending.pop(source, None)
        if self.seconds <= 0:
            self._missing.pop(source, None)
            return True
        now = self.clock()
        since = self._missing.setdefault(source, now)
        if now - since > self.seconds:
            del self._missing[source]
            return True
        return False

    def keep_only(self, pending: Iterable[str], missing: Iterable[str]) -> None:
        """Forget files no longer in either state (applied elsewhere, back in place, deleted)."""
        keep_p, keep_m = set(pending), set(missing)
        self._pending = {s: p for s, p in self._pending.items() if s in keep_p}
        self._missing = {s: t for s, t in self._missing.items() if s in keep_m}

    def pending_keys(self) -> set[str]:
        """Identity keys of files still settling (a copy on its way keeps its article)."""
        return {p.key for p in self._pending.values() if p.key is not None}

    def next_deadline(self) -> float | None:
        """Wall-clock time something pending settles or something missing counts as gone."""
        times = [p.deadline for p in self._pending.values()]
        times += [t + self.seconds for t in self._missing.values()]
        return min(times, default=None)

    @property
    def waiting(self) -> int:
        """How many files are settling or missing but not yet gone."""
        return len(self._pending) + len(self._missing)

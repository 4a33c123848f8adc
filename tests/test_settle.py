"""The settle rule on an injected clock: unchanged (size, mtime, content) for SETTLE_SECONDS."""

from __future__ import annotations

from bot.services.settle import SettleTracker

S = 10.0
NS = 1_000_000_000


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def stamp(size: int, mtime: float, digest: str = "h") -> tuple[int, int, str]:
    return size, int(mtime * NS), digest


def test_new_file_settles_settle_seconds_after_its_mtime() -> None:
    clock = Clock()
    t = SettleTracker(S, clock)
    written = clock.now - 0.2  # noticed 0.2 s after the write
    assert not t.settled("a.txt", stamp(10, written))
    assert t.next_deadline() == written + S
    clock.now = written + S - 0.01
    assert not t.settled("a.txt", stamp(10, written))
    clock.now = written + S
    assert t.settled("a.txt", stamp(10, written))
    assert t.next_deadline() is None and t.waiting == 0


def test_a_file_older_than_the_settle_time_is_settled_at_once() -> None:
    clock = Clock()
    t = SettleTracker(S, clock)
    assert t.settled("backlog.txt", stamp(10, clock.now - S - 1))
    assert t.waiting == 0


def test_a_second_part_starts_the_wait_again() -> None:
    clock = Clock()
    t = SettleTracker(S, clock)
    first = clock.now
    assert not t.settled("a.txt", stamp(10, first, "half"))
    clock.now += 3  # the scraper writes the rest 3 s later
    assert not t.settled("a.txt", stamp(25, clock.now, "whole"))
    clock.now = first + S + 1  # past the first deadline: not settled, it changed at +3
    assert not t.settled("a.txt", stamp(25, first + 3, "whole"))
    clock.now = first + 3 + S
    assert t.settled("a.txt", stamp(25, first + 3, "whole"))


def test_same_size_and_mtime_but_new_content_is_a_change() -> None:
    """A coarse-mtime filesystem: the content hash still tells, and the wait counts from the
    look that saw the change, not from the (unchanged) mtime."""
    clock = Clock()
    t = SettleTracker(S, clock)
    mtime = clock.now - 5
    assert not t.settled("a.txt", stamp(10, mtime, "v1"))
    clock.now += 2
    assert not t.settled("a.txt", stamp(10, mtime, "v2"))
    clock.now = mtime + S + 0.5  # the v1 deadline would have passed
    assert not t.settled("a.txt", stamp(10, mtime, "v2"))
    clock.now = mtime + 5 + S
    assert t.settled("a.txt", stamp(10, mtime, "v2"))


def test_mtime_in_the_future_counts_from_first_sight() -> None:
    clock = Clock()
    t = SettleTracker(S, clock)
    seen = clock.now
    assert not t.settled("a.txt", stamp(10, seen + 3600))
    clock.now = seen + S
    assert t.settled("a.txt", stamp(10, seen + 3600))


def test_zero_means_at_once() -> None:
    t = SettleTracker(0, Clock())
    assert t.settled("a.txt", stamp(1, 1e12))
    assert t.gone("a.txt")
    assert t.next_deadline() is None


def test_gone_only_after_longer_than_the_settle_time() -> None:
    clock = Clock()
    t = SettleTracker(S, clock)
    first = clock.now
    assert not t.gone("a.txt")
    assert t.next_deadline() == first + S
    clock.now = first + S
    assert not t.gone("a.txt")  # "longer than", not "as long as"
    clock.now = first + S + 0.01
    assert t.gone("a.txt")


def test_a_file_back_in_place_is_no_longer_missing() -> None:
    clock = Clock()
    t = SettleTracker(S, clock)
    assert not t.gone("a.txt")
    t.keep_only(pending=[], missing=[])  # the next scan found it again
    clock.now += S + 1
    assert not t.gone("a.txt")  # the clock starts again: it was missing only just now


def test_pending_keys_name_the_copies_on_their_way() -> None:
    clock = Clock()
    t = SettleTracker(S, clock)
    assert not t.settled("new.txt", stamp(10, clock.now), key="k1")
    assert t.pending_keys() == {"k1"}
    t.keep_only(pending=[], missing=[])
    assert t.pending_keys() == set()

"""Quiet hours: inside or not and when the window ends, across midnight and on DST days."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import ConfigError, Settings
from bot.quiet import QuietHours, parse_quiet_hours

MSK = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo(
    "Europe/Berlin"
)  # has daylight saving: 30.03.2025 02:00→03:00, 26.10 03:00→02:00


def at(tz: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=tz).replace(fold=fold)  # type: ignore[misc]


def test_parse_and_validate() -> None:
    q = parse_quiet_hours("23:00-07:00", MSK)
    assert q == QuietHours(time(23), time(7), MSK) and str(q) == "23:00-07:00 Europe/Moscow"
    assert parse_quiet_hours(" 1:30 - 6:05 ", MSK) == QuietHours(time(1, 30), time(6, 5), MSK)
    assert parse_quiet_hours("", MSK) is None
    for bad in ("23-07", "25:00-07:00", "23:60-07:00", "07:00-07:00", "night", "23:00-"):
        with pytest.raises(ValueError):
            parse_quiet_hours(bad, MSK)


def test_window_across_midnight() -> None:
    q = QuietHours(time(23), time(7), MSK)
    assert not q.contains(at(MSK, 2025, 5, 21, 22, 59))
    assert q.contains(at(MSK, 2025, 5, 21, 23, 0))
    assert q.contains(at(MSK, 2025, 5, 22, 0, 0)) and q.contains(at(MSK, 2025, 5, 22, 6, 59))
    assert not q.contains(at(MSK, 2025, 5, 22, 7, 0))
    assert q.contains(datetime(2025, 5, 21, 20, 30, tzinfo=UTC))  # 23:30 in Moscow
    assert q.ends_at(at(MSK, 2025, 5, 21, 23, 30)) == at(MSK, 2025, 5, 22, 7, 0)
    assert q.ends_at(at(MSK, 2025, 5, 22, 3, 0)) == at(MSK, 2025, 5, 22, 7, 0)
    assert q.ends_at(at(MSK, 2025, 5, 22, 12, 0)) is None
    noon = at(MSK, 2025, 5, 22, 12, 0)
    assert q.release_at(noon) == noon
    assert q.release_at(at(MSK, 2025, 5, 21, 23, 1)) == at(MSK, 2025, 5, 22, 7)


def test_window_within_a_day() -> None:
    q = QuietHours(time(1), time(6, 30), MSK)
    assert not q.contains(at(MSK, 2025, 5, 22, 0, 59)) and q.contains(at(MSK, 2025, 5, 22, 1))
    assert q.ends_at(at(MSK, 2025, 5, 22, 2)) == at(MSK, 2025, 5, 22, 6, 30)
    assert not q.contains(at(MSK, 2025, 5, 22, 23, 0))


def test_spring_forward_ends_the_window_at_the_jump() -> None:
    q = QuietHours(time(22), time(2, 30), BERLIN)  # 02:30 does not exist on 30.03.2025
    end = q.ends_at(at(BERLIN, 2025, 3, 29, 23, 0))
    assert end == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)  # 03:00 summer time
    assert not q.contains(end) and q.contains(end - timedelta(seconds=1))  # 01:59:59 winter
    normal = QuietHours(time(23), time(7), BERLIN)
    end = normal.ends_at(at(BERLIN, 2025, 3, 29, 23, 30))  # 7.5 h of wall time, 6.5 h real
    assert end == at(BERLIN, 2025, 3, 30, 7)
    assert end - at(BERLIN, 2025, 3, 29, 23, 30) == timedelta(hours=6, minutes=30)


def test_fall_back_repeats_quiet_wall_times() -> None:
    q = QuietHours(time(23), time(2, 30), BERLIN)  # 02:00-03:00 happens twice on 26.10.2025
    first = at(BERLIN, 2025, 10, 26, 2, 10, fold=0)  # summer time
    assert q.contains(first)
    assert q.ends_at(first).astimezone(UTC) == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)
    between = at(BERLIN, 2025, 10, 26, 2, 40, fold=0)
    assert not q.contains(between)
    again = at(BERLIN, 2025, 10, 26, 2, 10, fold=1)  # winter time: the same wall time again
    assert q.contains(again)
    assert q.ends_at(again).astimezone(UTC) == datetime(2025, 10, 26, 1, 30, tzinfo=UTC)


minutes = st.integers(0, 24 * 60 - 1)


@settings(max_examples=300, deadline=None)
@given(
    minutes,
    minutes,
    st.datetimes(datetime(2024, 1, 1), datetime(2027, 1, 1), timezones=st.just(UTC)),
    st.sampled_from([MSK, BERLIN, ZoneInfo("America/New_York"), ZoneInfo("Australia/Sydney")]),
)
def test_the_end_is_the_first_moment_outside(start: int, end: int, when: datetime, tz) -> None:
    if start == end:
        return
    q = QuietHours(time(start // 60, start % 60), time(end // 60, end % 60), tz)
    stop = q.ends_at(when)
    if stop is None:
        assert not q.contains(when)
        return
    assert stop > when and not q.contains(stop)
    assert stop - when <= timedelta(hours=25)
    step = max(timedelta(seconds=1), (stop - when) / 50)
    probe = when
    while probe < stop - timedelta(seconds=1):  # quiet all the way to the end
        assert q.contains(probe), probe
        probe += step
    assert q.contains(stop - timedelta(seconds=1))


def test_settings() -> None:
    s = Settings.from_env({"QUIET_HOURS": "23:00-07:00", "SOURCE_TZ": "Europe/Berlin"})
    assert s.quiet_hours == QuietHours(time(23), time(7), BERLIN) and s.quiet_mode == "silent"
    assert Settings.from_env({"QUIET_MODE": "HOLD"}).quiet_mode == "hold"
    assert Settings.from_env({}).quiet_hours is None
    for name, value in (("QUIET_HOURS", "late"), ("QUIET_MODE", "mute")):
        with pytest.raises(ConfigError, match=f"^{name}"):
            Settings.from_env({name: value})

"""Shared fixtures: a private copy of the seeds, a temp DB, settings, and running FakeTelegram
servers; the bot itself is started with ``tests.helpers.start_bot``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from bot.config import Settings
from bot.store.db import open_db
from tests.fake_telegram import FakeTelegram
from tests.feed_site import FeedSite
from tests.helpers import MSK, copy_seeds


@pytest.fixture(autouse=True)
def _files_settle_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bots the tests start as processes (they inherit the environment) apply a seed file at
    once, as the ``settings`` fixture does; tests of settling set SETTLE_SECONDS themselves."""
    monkeypatch.setenv("SETTLE_SECONDS", "0")


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    """A private copy of the project's real seeds folder (add files with helpers.write_seed)."""
    return copy_seeds(tmp_path / "seeds")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A database file that does not exist yet."""
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
def settings(seeds_dir: Path, db_path: Path) -> Settings:
    """Settings for tests: temp seeds and DB, no token, no channel, Moscow time."""
    return Settings(
        seeds_dir=seeds_dir,
        db_path=db_path,
        source_tz=MSK,
        post_interval=3600.0,
        settle_seconds=0.0,
    )


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    """An open, empty database at tmp_path/bot.sqlite3; closed afterwards."""
    c = await open_db(tmp_path / "bot.sqlite3")
    yield c
    await c.close()


@pytest.fixture
async def fake_tg() -> AsyncIterator[FakeTelegram]:
    """A running FakeTelegram on 127.0.0.1 (tests/fake_telegram.py); stopped afterwards."""
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """A running FakeTelegram that also knows the channel @news (delivery and admin tests)."""
    server = FakeTelegram()
    server.add_channel("news")
    async with server:
        yield server


@pytest.fixture
async def site() -> AsyncIterator[FeedSite]:
    """A publisher's web site on 127.0.0.1 (tests/feed_site.py) serving what a test adds."""
    async with FeedSite() as server:
        yield server

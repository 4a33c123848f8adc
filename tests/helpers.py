"""Helpers shared by tests: seed files, a publishing service on a temp DB, and the real bot
(built by ``bot.app.build_app``) long-polling the fake Bot API server."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import aiosqlite
from aiogram import Bot, Dispatcher

from bot.app import App, build_app
from bot.config import Secret, Settings, WithdrawnPosts
from bot.services.ingest import Ingestor
from bot.services.publishing import PublishingService
from bot.services.scheduler import Pacing
from bot.services.subscriptions import SubscriptionService
from bot.sources.http import HttpLimits
from bot.telegram.session import JsonSession
from bot.text import stems
from tests.fake_telegram import FakeTelegram, SentMessage

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
REAL_SEED = SEEDS / "000_9778a571ca4719d4.txt"
MSK = ZoneInfo("Europe/Moscow")
TEST_TOKEN = "123456:TEST-token"
ADMIN = 900
"""The admin of the delivery and admin tests."""

FAST = Pacing(
    chat_interval=0.05,
    group_limit=20,
    group_window=60.0,
    global_limit=25,
    retry_slack=0.05,
    backoff_base=0.1,
    backoff_cap=0.5,
    max_attempts=6,
    idle_poll=0.5,
)
"""Delivery pacing with time scaled down, for the end-to-end delivery tests."""

HOSTILE = [
    '"open quote',
    "*",
    "NEAR(",
    "NEAR(партнер учения, 5)",
    "AND OR NOT",
    "партнер AND учения",
    "'; DROP TABLE articles; --",
    "title:партнер",
    "{title}: партнер",
    "^партнер",
    "партнер + учения",
    "x" * 5000,
    "партнер " * 1000,
    "😀😀😀",
    "",
    "   ",
    "\x00\x01",
    '""',
    "-",
    "--",
    '-"',
    "\ud800",
]
"""Queries that try FTS5's syntax, SQL, sizes and broken Unicode (query parser and search)."""


# ---- seed files --------------------------------------------------------------------------------


def copy_seeds(dest: Path) -> Path:
    """A private copy of the project's real seeds folder."""
    shutil.copytree(SEEDS, dest)
    return dest


def seed_text(
    title: str,
    paragraphs: list[str],
    *,
    date: str = "21 мая 2025 г. 10:37",
    credit: str | None = "Фото: Иван Петров / ТАСС",
) -> str:
    """A seed file in the publisher's format: date, title, breadcrumb, credit, paragraphs, junk."""
    lines = [date, "", title, "", f"/ {title}", title]
    if credit:
        lines.append(credit)
    lines.append("")
    for p in paragraphs:
        lines += [p, ""]
    lines += ["", "Комментарии", "20 мая", "РЕДАКТОРСКая КОЛОНКа", "", "Цифра недели", "$7 млрд"]
    return "\n".join(lines) + "\n"


def write_seed(
    folder: Path,
    name: str,
    title: str,
    paragraphs: list[str],
    *,
    date: str = "21 мая 2025 г. 10:37",
    credit: str | None = "Фото: Иван Петров / ТАСС",
) -> Path:
    """Write ``seed_text(...)`` to ``folder/name`` as UTF-8 and return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(seed_text(title, paragraphs, date=date, credit=credit), encoding="utf-8")
    return path


def seed_article(
    folder: Path, i: int, title: str = "", text: str = "Обычная новость дня."
) -> None:
    """Seed file number ``i``; a higher ``i`` is a later publication date."""
    write_seed(
        folder,
        f"{i:03d}.txt",
        title or f"Новость номер {i}",
        [text],
        date=f"{1 + i // 24} мая 2025 г. {i % 24:02d}:00",
    )


# ---- publishing without Telegram ---------------------------------------------------------------


class StemMatcher:
    """Stand-in for SearchService: every query word's stem must occur in the article."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def search(self, query: str, page: int = 1, per_page: int = 5) -> object | None:
        return object() if stems(query) else None

    async def matches(self, article_id: int, query: str) -> bool:
        async with self.conn.execute(
            "SELECT title || ' ' || lead || ' ' || body FROM articles WHERE id = ?", (article_id,)
        ) as cur:
            row = await cur.fetchone()
        return row is not None and set(stems(query)) <= set(stems(row[0]))


def publishing_service(
    conn: aiosqlite.Connection, seeds: Path, *, channel: str | None = "@news", backlog: int = 3
) -> PublishingService:
    """A PublishingService on ``seeds`` whose subscriptions match by stems (StemMatcher)."""
    subs = SubscriptionService(conn, StemMatcher(conn))
    return PublishingService(
        conn,
        ingestor=Ingestor(conn, seeds, MSK),
        subscriptions=subs,
        channel_id=channel,
        backlog=backlog,
    )


# ---- the real bot on the fake server -----------------------------------------------------------


@dataclass
class BotApp:
    """The bot under test: the App that ``build_app`` made, long-polling ``fake``."""

    app: App
    fake: FakeTelegram
    task: asyncio.Task[None]

    @property
    def dp(self) -> Dispatcher:
        return self.app.dp

    @property
    def bot(self) -> Bot:
        return self.app.bot

    @property
    def conn(self) -> aiosqlite.Connection:
        return self.app.conn

    @property
    def settings(self) -> Settings:
        return self.app.settings

    async def stop(self) -> None:
        """Stop polling the way SIGTERM does (shutdown hooks run), then close the App."""
        if not self.task.done():
            await self.dp.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.app.close()


async def start_bot(
    settings: Settings,
    fake: FakeTelegram,
    *,
    scan: bool = True,
    pacing: Pacing | None = None,
    timeout: float = 60.0,
    clock: Callable[[], float] = time.time,
    feed_http: HttpLimits | None = None,
    watch: bool = False,
) -> BotApp:
    """Build the bot over a session to ``fake``, ingest the seeds (unless ``scan`` is off: then
    the scheduler's first tick does), and start polling.

    ``pacing`` is the deliverer's (default: Telegram's limits); ``timeout`` the session's;
    ``clock`` the wall clock the quiet hours are read on; ``feed_http`` the feed client's limits
    (FEEDS). ``watch`` turns on the seeds watcher (off by default, so a test's new file waits
    for a tick or /reload, as it does where notifications are unavailable).
    """
    settings = replace(settings, bot_token=Secret(TEST_TOKEN), telegram_api_url=fake.url)
    session = JsonSession.over(fake.url, timeout=timeout)
    app = await build_app(
        settings, session=session, pacing=pacing, clock=clock, feed_http=feed_http, watch=watch
    )
    if scan:
        await app.ingestor.scan()
    polling = app.dp.start_polling(app.bot, polling_timeout=1, handle_signals=False)
    return BotApp(app, fake, asyncio.create_task(polling))


async def start_fast_bot(
    settings: Settings,
    fake: FakeTelegram,
    pacing: Pacing = FAST,
    clock: Callable[[], float] = time.time,
    *,
    watch: bool = False,
) -> BotApp:
    """The bot with delivery time scaled down; its scheduler's first tick ingests."""
    return await start_bot(
        settings, fake, scan=False, pacing=pacing, timeout=5, clock=clock, watch=watch
    )


def delivery_settings(settings: Settings, withdrawn_posts: WithdrawnPosts = "notice") -> Settings:
    """Settings of the delivery tests: the fake's channel @news, ADMIN, a scan every 0.3 s and
    no backlog (only articles written during the test are posted)."""
    return replace(
        settings,
        channel_id="@news",
        admin_ids=frozenset({ADMIN}),
        post_interval=0.3,
        post_backlog=0,
        withdrawn_posts=withdrawn_posts,
    )


async def start_delivery_bot(settings: Settings, fake: FakeTelegram) -> BotApp:
    """``start_fast_bot`` with ``delivery_settings``, once it polls."""
    app = await start_fast_bot(settings, fake)
    await fake.wait_for_request("getUpdates")
    return app


# ---- talking to it -----------------------------------------------------------------------------


async def say(
    fake: FakeTelegram, chat: int, text: str, n: int = 1, *, lang: str | None = None
) -> list[SentMessage]:
    """A user writes ``text`` in ``chat``; wait for the bot's ``n`` replies and return them."""
    mark = fake.mark()
    fake.push_message(chat, text=text, language_code=lang)
    return await fake.wait_for_messages(chat, n, since=mark)


def channel(fake: FakeTelegram) -> int:
    """The chat id of the fake's channel @news."""
    return int(fake.chat("@news").id)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for HTTP_LISTEN)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Poll ``check`` every 50 ms until it holds; fail after ``timeout`` seconds."""
    for _ in range(int(timeout / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def old_database(path: Path, version: int) -> None:
    """A database file at schema ``version`` (schema.sql plus migrations up to it) holding one
    seed article 'Старая' (id 1): what an older bot left behind, for migration tests."""
    from importlib import resources

    from bot.store.db import MIGRATIONS

    old = await aiosqlite.connect(path)
    await old.executescript(resources.files("bot.store").joinpath("schema.sql").read_text())
    for step in range(2, version + 1):
        await old.executescript(MIGRATIONS[step])
    await old.execute(
        "INSERT INTO articles (source, title, published_at, lead, file_size, file_mtime_ns, "
        "content_hash, added_at) VALUES ('a.txt', 'Старая', 1.0, 'Лид', 1, 1, 'h', 1.0)"
    )
    await old.execute(f"PRAGMA user_version = {version}")
    await old.commit()
    await old.close()


# ---- `python -m bot` as a process -----------------------------------------------------------

BOT_COMMAND = (sys.executable, "-m", "bot")
STOP_GRACE = 5.0
"""Seconds a bot process gets after SIGTERM before it is killed when a test ends."""


async def end_process(proc: asyncio.subprocess.Process, grace: float = STOP_GRACE) -> None:
    """Stop a process a test started, if it still runs: SIGTERM, SIGKILL after ``grace``, wait.

    Its pipes are read meanwhile, so a bot logging its shutdown never blocks on a full pipe."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(proc.communicate(), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


async def spawn_bot(
    *args: str,
    env: dict[str, str],
    cwd: Path,
    stdout: int | IO[bytes] = asyncio.subprocess.PIPE,
    stderr: int | IO[bytes] = asyncio.subprocess.PIPE,
) -> asyncio.subprocess.Process:
    """Start ``python -m bot *args``; the caller ends it with ``end_process`` in a ``finally``
    (or uses ``bot_process``)."""
    return await asyncio.create_subprocess_exec(
        *BOT_COMMAND, *args, env=env, cwd=cwd, stdout=stdout, stderr=stderr
    )


@contextlib.asynccontextmanager
async def bot_process(
    *args: str,
    env: dict[str, str],
    cwd: Path,
    stdout: int | IO[bytes] = asyncio.subprocess.PIPE,
    stderr: int | IO[bytes] = asyncio.subprocess.PIPE,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``python -m bot *args`` for the block; however the block ends (a failed assertion, a
    timeout), the process is stopped by ``end_process`` and never outlives the test."""
    proc = await spawn_bot(*args, env=env, cwd=cwd, stdout=stdout, stderr=stderr)
    try:
        yield proc
    finally:
        await end_process(proc)


def run_bot_command(
    args: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    input: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """``python -m bot *args`` to its end, like ``subprocess.run``; on a timeout (or any error)
    the process gets SIGTERM, then SIGKILL after STOP_GRACE, and is waited for."""
    with subprocess.Popen(
        [*BOT_COMMAND, *args],
        stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
    ) as proc:
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except BaseException:
            proc.terminate()
            try:
                proc.communicate(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
            raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

"""kill -9 of the real ``python -m bot`` mid-backlog or with an edit queued, then a restart: no
duplicates, no losses."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import aiosqlite

from bot.store import outbox, subscribers
from bot.store.db import open_db
from tests import fake_telegram
from tests.fake_telegram import FakeTelegram
from tests.helpers import (
    ROOT,
    TEST_TOKEN,
    copy_seeds,
    end_process,
    spawn_bot,
    wait_until,
    write_seed,
)

SUBSCRIBER = 555
BACKLOG = 7


def bot_env(fake: FakeTelegram, tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "CHANNEL_"))}
    env.update(
        BOT_TOKEN=TEST_TOKEN,
        TELEGRAM_API_URL=fake.url,
        CHANNEL_ID="@news",
        ADMIN_IDS="900",
        SEEDS_DIR=str(tmp / "seeds"),
        DB_PATH=str(tmp / "bot.sqlite3"),
        POST_INTERVAL="1",
        POST_BACKLOG=str(BACKLOG),
        LOG_LEVEL="INFO",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


async def start(
    fake: FakeTelegram, tmp: Path, log: Path, **extra: str
) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await spawn_bot(
            "run", cwd=tmp, env=bot_env(fake, tmp, **extra), stdout=out, stderr=out
        )


async def stop(proc: asyncio.subprocess.Process, fake: FakeTelegram, log: Path) -> None:
    """Once nothing more is sent, SIGTERM: a clean exit (0) within 15 s."""
    await fake.settle(1.5, timeout=10)
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 15) == 0, log.read_text()


async def quiet_moment(fake: FakeTelegram, quiet: float = 0.3) -> None:
    """Wait until no sendMessage has been answered for ``quiet`` s (nothing is in flight)."""
    for _ in range(500):
        sends = fake.calls("sendMessage")
        if sends and fake.clock.monotonic() - sends[-1].time >= quiet:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the bot never paused between sends")


async def test_kill_mid_backlog_then_restart(tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    for i in range(BACKLOG + 2):
        write_seed(
            seeds, f"n{i}.txt", f"Новость {i}", ["Текст."], date=f"{i + 1} мая 2025 г. 09:00"
        )
    conn = await open_db(tmp_path / "bot.sqlite3")
    await subscribers.add(conn, SUBSCRIBER, "", now=0)
    await conn.close()
    log = tmp_path / "bot.log"
    async with fake_telegram.FakeTelegram() as fake:
        news = fake.add_channel("news").id
        proc = await start(fake, tmp_path, log)
        try:
            await fake.wait_for_messages(news, 3, timeout=20)
            await quiet_moment(fake)
            proc.kill()  # SIGKILL: no shutdown hooks, no goodbyes
            await proc.wait()
            first_run = len(fake.sent_messages(news))
            assert 3 <= first_run < BACKLOG, log.read_text()
            proc = await start(fake, tmp_path, log)
            channel = await fake.wait_for_messages(news, BACKLOG, timeout=25)
            alerts = await fake.wait_for_messages(SUBSCRIBER, BACKLOG, timeout=10)
            await stop(proc, fake, log)
        finally:
            await end_process(proc)  # never left running after a failed test
        channel, alerts = fake.sent_messages(news), fake.sent_messages(SUBSCRIBER)
    expected = [f"Новость {i}" for i in range(2, BACKLOG + 2)]
    expected = [*expected[1:], "В России назвали Беларусь"]  # the real seed (21 May) is newest
    titles = [m.text.split("\n")[0][:25] for m in channel]
    assert titles == [t[:25] for t in expected], log.read_text()
    assert [m.text.split("\n")[0][:25] for m in alerts] == titles
    assert fake.rate_limited == [] and fake.retry_violations == []
    conn = await open_db(tmp_path / "bot.sqlite3")
    try:
        rows = await outbox.all_deliveries(conn)
    finally:
        await conn.close()
    assert len(rows) == 2 * BACKLOG and {r.status for r in rows} == {"sent"}


async def retry_recorded(conn: aiosqlite.Connection) -> bool:
    """The edit's failed attempt is on record: queued, unclaimed, waiting for its retry."""
    rows = [d for d in await outbox.all_deliveries(conn) if d.action == "edit"]
    return [(d.status, d.attempts, d.claim_token) for d in rows] == [("queued", 1, None)]


async def test_a_queued_correction_goes_out_after_kill_9_and_restart(tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    write_seed(seeds, "c.txt", "Исходный заголовок", ["Текст."])
    log = tmp_path / "bot.log"
    async with fake_telegram.FakeTelegram() as fake:
        news = fake.add_channel("news").id
        proc = await start(fake, tmp_path, log, SETTLE_SECONDS="0")
        try:
            await fake.wait_for_messages(news, 2, timeout=20)
            [post] = [m for m in fake.sent_messages(news) if m.text.startswith("Исходный")]
            fault = fake.fail_next("500", method="editMessageText", times=None)
            write_seed(seeds, "c.txt", "Исправленный заголовок", ["Текст."])
            await fake.wait_for_request("editMessageText", timeout=20)  # tried once: a 500
            conn = await open_db(tmp_path / "bot.sqlite3")
            try:
                await wait_until(lambda: retry_recorded(conn), timeout=10)
            finally:
                await conn.close()
            proc.kill()  # SIGKILL with the edit queued for its retry
            await proc.wait()
            fault.cancel()
            proc = await start(fake, tmp_path, log, SETTLE_SECONDS="0")
            try:
                await fake.wait_for(
                    lambda: fake.message(news, post.message_id).text.startswith("Исправленный"),
                    timeout=25,
                )
            except TimeoutError:
                raise AssertionError(log.read_text()) from None
            await fake.wait_for_messages(900, 1, timeout=10)  # the admin's note
            await stop(proc, fake, log)
        finally:
            await end_process(proc)  # never left running after a failed test
        assert len(fake.calls("editMessageText", ok=True)) == 1
        assert len(fake.sent_messages(news)) == 2  # corrected in place, never posted again
        assert len(fake.sent_messages(900)) == 1
        assert fake.retry_violations == [] and fake.invalid_requests == []

"""The deliverer with a fake Publisher: order, 429, backoff, 403, pause, migration, restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiosqlite

from bot.models import Article, Kind, Note
from bot.services.publishing import PublishingService
from bot.services.scheduler import Deliverer, Pacer, Pacing, Scheduler
from bot.services.sending import (
    BadMessage,
    ChatMigrated,
    ChatUnavailable,
    RetryAfter,
    SendError,
    TransientError,
)
from bot.services.subscriptions import Outcome
from bot.store import outbox, state
from bot.store import targets as targets_store
from bot.store.db import open_db, transaction, write_lock
from tests.helpers import publishing_service, seed_article

FAST = Pacing(
    group_limit=100,
    group_window=1.0,
    chat_interval=0.0,
    global_limit=1000,
    retry_slack=0.0,
    backoff_base=0.05,
    backoff_cap=0.1,
    max_attempts=4,
    idle_poll=0.2,
)


@dataclass
class Sent:
    chat_id: str
    article_id: int
    kind: str
    at: float
    topic: int | None = None
    silent: bool = False


@dataclass
class FakePublisher:
    """Records sends; ``faults[chat]`` lists errors to raise on that chat's next attempts."""

    sent: list[Sent] = field(default_factory=list)
    attempts: list[tuple[str, int, float]] = field(default_factory=list)
    faults: dict[str, list[SendError]] = field(default_factory=dict)
    admin_notes: list[tuple[str, Note]] = field(default_factory=list)
    edits: list[tuple[str, int, int | None]] = field(default_factory=list)
    """(chat, message id, article id or None for the withdrawal notice) of each edit."""
    deleted: list[tuple[str, int]] = field(default_factory=list)

    async def send_article(
        self,
        chat_id: str,
        article: Article,
        *,
        kind: Kind,
        topic: int | None = None,
        silent: bool = False,
        template: Path | None = None,
    ) -> int | None:
        now = time.monotonic()
        self.attempts.append((chat_id, article.id, now))
        queue = self.faults.get(chat_id)
        if queue:
            raise queue.pop(0)
        self.sent.append(Sent(chat_id, article.id, kind, now, topic, silent))
        return len(self.sent)

    async def digest(
        self, article: Article | None, *, kind: Kind, template: Path | None = None
    ) -> str:
        if article is None:
            return "notice"
        return f"{kind}:{article.title}:{article.lead}" + (":" + article.lead if kind else "")

    async def _attempt(self, chat_id: str, article_id: int) -> None:
        self.attempts.append((chat_id, article_id, time.monotonic()))
        queue = self.faults.get(chat_id)
        if queue:
            raise queue.pop(0)

    async def edit_message(
        self,
        chat_id: str,
        message_id: int,
        article: Article | None,
        *,
        kind: Kind,
        template: Path | None = None,
    ) -> None:
        await self._attempt(chat_id, article.id if article else 0)
        self.edits.append((chat_id, message_id, article.id if article else None))

    async def delete_message(self, chat_id: str, message_id: int) -> None:
        await self._attempt(chat_id, 0)
        self.deleted.append((chat_id, message_id))

    async def pin_message(self, chat_id: str, message_id: int, *, silent: bool) -> None:
        await self._attempt(chat_id, 0)

    async def send_note(self, chat_id: str, note: Note) -> int | None:
        await self._attempt(chat_id, int(note.values.get("article", 0)))
        self.admin_notes.append((chat_id, note))
        return 1000 + len(self.admin_notes)

    def to(self, chat: str) -> list[int]:
        return [s.article_id for s in self.sent if s.chat_id == chat]


async def setup(
    conn: aiosqlite.Connection,
    tmp_path: Path,
    n: int,
    *,
    subscribers: tuple[int, ...] = (),
    channel: str | None = "@news",
) -> tuple[PublishingService, list[int]]:
    seeds = tmp_path / "seeds"
    seeds.mkdir(exist_ok=True)
    pub = publishing_service(conn, seeds, channel=channel, backlog=100)
    await pub.tick()  # fresh DB, empty folder: from now on every article is queued
    for chat in subscribers:
        await pub.subscriptions.subscribe(chat)
    for i in range(n):
        seed_article(seeds, i)
    await pub.tick()
    ids = [d.article_id for d in await outbox.all_deliveries(conn) if d.kind == "channel"]
    return pub, ids


async def drain(d: Deliverer, until: Callable[[], bool] | None = None, timeout: float = 5) -> None:
    """Run the deliverer until nothing is sendable (or ``until()``), within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wait = await d.run_once()
        if until is not None and until():
            return
        if wait == float("inf") and until is None:
            return
        await asyncio.sleep(min(wait, 0.05))
    raise AssertionError("deliverer did not finish in time")


async def test_sends_in_order_once_and_records_message_ids(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    _, ids = await setup(conn, tmp_path, 5, subscribers=(42,))
    pub = FakePublisher()
    d = Deliverer(conn, pub, pacing=FAST)
    await drain(d)
    assert pub.to("@news") == ids
    assert pub.to("42") == ids
    rows = await outbox.all_deliveries(conn)
    assert {r.status for r in rows} == {"sent"}
    assert all(r.message_id and r.sent_at and r.attempts == 1 for r in rows)
    await drain(Deliverer(conn, pub, pacing=FAST))  # a restart sends nothing again
    assert len(pub.sent) == 10


async def test_retry_after_is_obeyed_and_order_kept(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    _, ids = await setup(conn, tmp_path, 3, subscribers=(5,))
    pub = FakePublisher(faults={"@news": [RetryAfter(0.4)]})
    d = Deliverer(conn, pub, pacing=FAST)
    await drain(d, until=lambda: len(pub.sent) == 6)
    first, *rest = [a for a in pub.attempts if a[0] == "@news"]
    assert rest[0][2] - first[2] >= 0.4  # nothing to the channel before retry_after
    assert pub.to("@news") == ids  # the same message first, order kept
    assert pub.to("5") == ids  # other chats were not held up
    assert pub.sent[0].chat_id == "5"
    rows = [r for r in await outbox.all_deliveries(conn) if r.chat_id == "@news"]
    assert rows[0].attempts == 1  # the 429 is not counted as a failed attempt


async def test_transient_errors_back_off_then_fail_for_good(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    _, ids = await setup(conn, tmp_path, 2)
    errors: list[SendError] = [TransientError("500 Internal Server Error")] * 4
    pub = FakePublisher(faults={"@news": [TransientError("network down"), *errors]})
    await drain(Deliverer(conn, pub, pacing=FAST), until=lambda: len(pub.sent) == 1)
    rows = await outbox.all_deliveries(conn)
    assert rows[0].status == "failed" and rows[0].attempts == 4
    assert rows[0].last_error == "500 Internal Server Error"
    assert rows[1].status == "sent" and rows[1].attempts == 2  # one 500, then accepted
    assert pub.to("@news") == [ids[1]]
    gaps = [b[2] - a[2] for a, b in zip(pub.attempts, pub.attempts[1:], strict=False)]
    assert min(gaps[:3]) >= 0.03  # backoff between retries
    assert (await outbox.stats(conn)).recent_failures[0].id == rows[0].id


async def test_blocked_subscriber_is_removed_others_still_get_it(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    pub_service, ids = await setup(conn, tmp_path, 3, subscribers=(1, 2))
    pub = FakePublisher(
        faults={"1": [ChatUnavailable("403 Forbidden: bot was blocked by the user")]}
    )
    await drain(Deliverer(conn, pub, pacing=FAST))
    assert pub.to("2") == ids and pub.to("1") == [] and pub.to("@news") == ids
    assert await pub_service.subscriptions.list(1) == []
    assert {r.status for r in await outbox.all_deliveries(conn) if r.chat_id == "1"} == {
        "cancelled"
    }
    assert len([a for a in pub.attempts if a[0] == "1"]) == 1  # never tried again


async def test_channel_refusal_pauses_keeps_queue_and_tells_admins(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    pub_service, ids = await setup(conn, tmp_path, 2, subscribers=(9,))
    fault = ChatUnavailable("403 Forbidden: bot is not a member of the channel chat")
    pub = FakePublisher(faults={"@news": [fault]})
    d = Deliverer(conn, pub, pacing=FAST, admin_ids=frozenset({100, 200}))
    await drain(d)
    assert pub.to("@news") == [] and pub.to("9") == ids
    assert await state.paused(conn) is None  # only this target is paused, not all posting
    assert "not a member" in (await targets_store.paused(conn))["@news|"]
    reason = pub.admin_notes[0][1].values["reason"]
    assert "not a member" in str(reason)
    assert pub.admin_notes == [
        ("100", Note("target_paused", {"chat": "@news", "reason": reason})),
        ("200", Note("target_paused", {"chat": "@news", "reason": reason})),
    ]
    assert (await pub_service.status()).outbox.queued_channel == 2
    assert await pub_service.resume()
    await drain(d)
    assert pub.to("@news") == ids


async def test_bad_message_fails_only_that_row(conn: aiosqlite.Connection, tmp_path: Path) -> None:
    _, ids = await setup(conn, tmp_path, 2)
    pub = FakePublisher(faults={"@news": [BadMessage("400 Bad Request: message is too long")]})
    await drain(Deliverer(conn, pub, pacing=FAST))
    assert pub.to("@news") == ids[1:]
    assert await state.paused(conn) is None


async def test_migration_is_followed(conn: aiosqlite.Connection, tmp_path: Path) -> None:
    pub_service, ids = await setup(conn, tmp_path, 3, channel="-1")
    pub = FakePublisher(faults={"-1": [ChatMigrated(-1001)]})
    await drain(Deliverer(conn, pub, pacing=FAST))
    assert pub.to("-1001") == ids
    assert await pub_service.channel_chat() == "-1001"
    seed_article(tmp_path / "seeds", 50)
    await pub_service.tick()
    assert (await outbox.all_deliveries(conn))[-1].chat_id == "-1001"


async def test_withdrawn_article_is_cancelled(conn: aiosqlite.Connection, tmp_path: Path) -> None:
    pub_service, ids = await setup(conn, tmp_path, 2)
    (tmp_path / "seeds" / "000.txt").unlink()
    await pub_service.tick()
    pub = FakePublisher()
    await drain(Deliverer(conn, pub, pacing=FAST))
    assert pub.to("@news") == ids[1:]
    assert (await outbox.all_deliveries(conn))[0].status == "cancelled"


async def test_restart_resumes_without_repeats(conn: aiosqlite.Connection, tmp_path: Path) -> None:
    _, ids = await setup(conn, tmp_path, 6)
    first = FakePublisher()
    d = Deliverer(conn, first, pacing=FAST)
    await drain(d, until=lambda: len(first.sent) == 3)
    second = FakePublisher()  # "after a restart": a new deliverer, same database
    await drain(Deliverer(conn, second, pacing=FAST))
    assert first.to("@news") + second.to("@news") == ids


async def test_pause_skips_channel_until_resumed(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    pub_service, ids = await setup(conn, tmp_path, 2)
    await pub_service.pause("by admin")
    pub = FakePublisher()
    d = Deliverer(conn, pub, pacing=FAST)
    assert await d.run_once() == float("inf") and pub.sent == []
    await pub_service.resume()
    await drain(d)
    assert pub.to("@news") == ids


def test_production_pacing_defaults() -> None:
    p = Pacing()
    assert (p.group_limit, p.group_window) == (20, 60.0)
    assert p.chat_interval == 1.0
    assert (p.global_limit, p.global_window) == (25, 1.0)
    assert p.max_attempts >= 10 and p.backoff_cap >= 60


def test_pacer_windows() -> None:
    now = [0.0]
    p = Pacer(Pacing(group_limit=2, group_window=10, global_limit=3), clock=lambda: now[0])
    assert p.ready_in("@c") == 0
    p.record("@c")
    assert p.ready_in("@c") == 1.0  # one a second to any chat, channels too
    p.record("@c")
    assert p.ready_in("@c") == 10  # third post waits for the 2-per-10-s window
    assert p.ready_in("-100") == 0  # other groups are separate
    p.record("5")
    assert p.ready_in("5") == 1.0  # private: about one a second
    assert p.global_ready_in() == 1.0  # 3 sends within 1 s: the overall limit bites
    now[0] = 1.0
    assert p.ready_in("5") == 0 and p.global_ready_in() == 0
    p.block("5", 7)
    assert p.ready_in("5") == 7
    assert p.ready_in("@c") == 9


def test_backoff_grows_and_caps() -> None:
    p = Pacing(backoff_base=1, backoff_cap=8)
    assert [round(p.backoff(n) / (1, 2, 4, 8, 8)[n - 1] + 0.1) for n in range(1, 6)] == [1] * 5


async def test_scheduler_survives_failing_ticks(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    pub_service, _ = await setup(conn, tmp_path, 0)
    calls: list[int] = []
    real_tick = pub_service.tick

    async def flaky() -> object:
        calls.append(1)
        if len(calls) < 3:
            raise OSError("seeds folder unreadable")
        return await real_tick()

    pub_service.tick = flaky  # type: ignore[method-assign]
    pub = FakePublisher()
    sched = Scheduler(pub_service, Deliverer(conn, pub, pacing=FAST), interval=0.05)
    sched.start()
    try:
        seed_article(tmp_path / "seeds", 1)
        for _ in range(100):
            if pub.sent:
                break
            await asyncio.sleep(0.05)
    finally:
        await sched.stop()
    assert len(calls) >= 3 and len(pub.sent) == 1


@dataclass
class SlowPublisher(FakePublisher):
    """A FakePublisher whose sends wait for ``gate``: a Telegram request that takes its time."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    async def send_article(
        self,
        chat_id: str,
        article: Article,
        *,
        kind: Kind,
        topic: int | None = None,
        silent: bool = False,
        template: Path | None = None,
    ) -> int | None:
        self.entered.set()
        await self.gate.wait()
        return await super().send_article(chat_id, article, kind=kind)


async def test_slow_send_holds_no_lock_and_a_second_process_does_not_repeat_it(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    pub_service, ids = await setup(conn, tmp_path, 1)
    slow = SlowPublisher()
    sending = asyncio.create_task(Deliverer(conn, slow, pacing=FAST).run_once())
    await asyncio.wait_for(slow.entered.wait(), 5)
    # While Telegram has not answered, the same connection takes writes at once …
    result = await asyncio.wait_for(pub_service.subscriptions.subscribe(77), 5)
    assert result.outcome is Outcome.ADDED
    async with transaction(conn):
        await state.put(conn, "probe", "1")
    assert not sending.done()
    # … and a deliverer of another process on the same database leaves the claimed row alone.
    other_conn = await open_db(tmp_path / "bot.sqlite3")
    try:
        other = FakePublisher()
        await Deliverer(other_conn, other, pacing=FAST).run_once()
        assert other.attempts == []
    finally:
        await other_conn.close()
    slow.gate.set()
    await asyncio.wait_for(sending, 5)
    assert slow.to("@news") == ids
    [row] = await outbox.all_deliveries(conn)
    assert (row.status, row.attempts, row.claim_token) == ("sent", 1, None)
    assert [s.query for s in await pub_service.subscriptions.list(77)] == [""]


async def test_a_claim_left_by_a_crash_is_sent_once_after_its_lease(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    _, ids = await setup(conn, tmp_path, 1)
    [row] = await outbox.all_deliveries(conn)
    async with write_lock(conn):  # a deliverer claims the row, then its process dies
        crashed = await outbox.claim(conn, row.id, now=time.time(), lease=0.3)
    assert crashed is not None and crashed.claim_token
    pub = FakePublisher()
    d = Deliverer(conn, pub, pacing=FAST)
    assert 0 < await d.run_once() <= 0.3 and pub.attempts == []  # not before the lease ends
    await drain(d, until=lambda: len(pub.sent) == 1)
    async with write_lock(conn):  # the dead claim's outcome, arriving late, changes nothing
        await outbox.reschedule(
            conn, row.id, at=0, error="late", count=True, claim=crashed.claim_token
        )
        await outbox.mark_sent(conn, row.id, message_id=999, now=0, claim=crashed.claim_token)
    [after] = await outbox.all_deliveries(conn)
    assert (after.status, after.message_id, after.attempts) == ("sent", 1, 1)
    await drain(Deliverer(conn, pub, pacing=FAST))
    assert pub.to("@news") == ids


async def test_unsubscribe_during_a_failing_send_is_not_undone(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    pub_service, _ = await setup(conn, tmp_path, 1, subscribers=(5,), channel=None)
    slow = SlowPublisher(faults={"5": [TransientError("502 Bad Gateway")]})
    sending = asyncio.create_task(Deliverer(conn, slow, pacing=FAST).run_once())
    await asyncio.wait_for(slow.entered.wait(), 5)
    assert await pub_service.subscriptions.unsubscribe_all(5) == 1
    slow.gate.set()
    await asyncio.wait_for(sending, 5)
    [row] = await outbox.all_deliveries(conn)
    assert row.status == "cancelled"  # the 502 did not put the cancelled alert back in line
    await drain(Deliverer(conn, slow, pacing=FAST))
    assert slow.sent == [] and len(slow.attempts) == 1

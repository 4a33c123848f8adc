"""The approval decision service on a real SQLite file: hold, one winner, release, timeout."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import aiosqlite
import pytest

from bot.config import ApprovalDefault, ConfigError, Settings
from bot.services.approval import ApprovalPolicy, ApprovalService, Outcome
from bot.store import approvals, outbox
from bot.store.db import open_db
from tests.helpers import publishing_service, seed_article

ADMINS = frozenset({900, 902})


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def _service(
    conn: aiosqlite.Connection,
    seeds: Path,
    clock: Clock,
    timeout: float = 0.0,
    default: ApprovalDefault = "publish",
) -> ApprovalService:
    policy = ApprovalPolicy(ADMINS, timeout, default, clock)
    seeds.mkdir(exist_ok=True)
    publishing = publishing_service(conn, seeds, backlog=0)
    publishing.approval = policy
    await publishing.tick()  # the fresh database's backlog: nothing held
    return ApprovalService(conn, publishing, policy)


def _kinds(rows: list[outbox.Delivery]) -> list[tuple[str, str, str, bool]]:
    return [(d.kind, d.action, d.chat_id, d.silent) for d in rows]


async def test_new_article_waits_with_one_preview_per_admin(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds, clock = tmp_path / "s", Clock()
    seed_article(seeds, 1)
    service = await _service(conn, seeds, clock, timeout=600)
    seed_article(seeds, 2)
    queued = await service.publishing.tick()
    assert (queued.queued.channel, queued.queued.previews) == (0, 2)
    assert _kinds(await outbox.all_deliveries(conn)) == [
        ("preview", "send", "900", False),
        ("preview", "send", "902", False),
    ]
    [waiting] = await service.waiting()
    assert (waiting.since, waiting.deadline) == (clock.now, clock.now + 600)
    assert await service.count_pending() == 1


async def test_first_decision_wins_and_queues_posts_and_preview_edits(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds, clock = tmp_path / "s", Clock()
    service = await _service(conn, seeds, clock)
    await service.publishing.subscriptions.subscribe(555, None)
    seed_article(seeds, 1)
    await service.publishing.tick()
    [aid] = [w.article_id for w in await service.waiting()]
    first, second = await asyncio.gather(
        service.decide(aid, "s", 900, "Анна"), service.decide(aid, "p", 902, "Борис")
    )
    assert (first.outcome, second.outcome) == (Outcome.DECIDED, Outcome.ALREADY)
    assert second.approval is not None and second.approval.decider == "Анна"
    assert second.approval.status == "silent"
    rows = await outbox.all_deliveries(conn)
    assert _kinds(rows)[2:] == [
        ("channel", "send", "@news", True),
        ("subscriber", "send", "555", True),
        ("preview", "edit", "900", False),
        ("preview", "edit", "902", False),
    ]
    assert await service.count_pending() == 0
    again = await service.decide(aid, "x", 900, "Анна")
    assert again.outcome is Outcome.ALREADY
    assert len(await outbox.all_deliveries(conn)) == len(rows)  # nothing more queued


async def test_skip_queues_no_post(conn: aiosqlite.Connection, tmp_path: Path) -> None:
    seeds, clock = tmp_path / "s", Clock()
    service = await _service(conn, seeds, clock)
    seed_article(seeds, 1)
    await service.publishing.tick()
    [aid] = [w.article_id for w in await service.waiting()]
    decision = await service.decide(aid, "x", 902, "Борис")
    assert decision.outcome is Outcome.DECIDED
    assert decision.approval is not None and decision.approval.status == "skipped"
    assert {d.kind for d in await outbox.all_deliveries(conn)} == {"preview"}
    assert (await service.decide(aid, "?", 902, "Борис")).outcome is Outcome.UNKNOWN
    assert (await service.decide(777, "p", 902, "Борис")).outcome is Outcome.UNKNOWN


@pytest.mark.parametrize(("default", "status"), [("publish", "published"), ("skip", "skipped")])
async def test_timeout_decides_with_the_default(
    conn: aiosqlite.Connection, tmp_path: Path, default: ApprovalDefault, status: str
) -> None:
    seeds, clock = tmp_path / "s", Clock()
    service = await _service(conn, seeds, clock, timeout=300, default=default)
    seed_article(seeds, 1)
    await service.publishing.tick()
    [aid] = [w.article_id for w in await service.waiting()]
    clock.now += 299
    assert await service.expire() == 0
    clock.now += 1
    assert await service.expire() == 1
    approval = await approvals.get(conn, aid)
    assert approval is not None and (approval.status, approval.decided_by) == (status, None)
    channel = [d for d in await outbox.all_deliveries(conn) if d.kind == "channel"]
    assert len(channel) == (1 if default == "publish" else 0)
    assert await service.expire() == 0


async def test_no_timeout_waits_forever(conn: aiosqlite.Connection, tmp_path: Path) -> None:
    seeds, clock = tmp_path / "s", Clock()
    service = await _service(conn, seeds, clock)
    seed_article(seeds, 1)
    await service.publishing.tick()
    clock.now += 10 * 365 * 86400
    assert await service.expire() == 0 and await service.count_pending() == 1


async def test_decisions_survive_reopening_the_database(tmp_path: Path) -> None:
    seeds, clock, path = tmp_path / "s", Clock(), tmp_path / "bot.sqlite3"
    conn = await open_db(path)
    service = await _service(conn, seeds, clock)
    seed_article(seeds, 1)
    await service.publishing.tick()
    await conn.close()
    conn = await open_db(path)
    try:
        service = await _service(conn, seeds, clock)
        [aid] = [w.article_id for w in await service.waiting()]
        assert (await service.decide(aid, "p", 900, "Анна")).outcome is Outcome.DECIDED
    finally:
        await conn.close()


async def test_admin_language_is_written_at_most_once_a_minute(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    service = await _service(conn, tmp_path / "s", Clock())
    await service.saw_admin(900, "en")
    await service.saw_admin(900, "ru")  # within the minute: not written
    assert await approvals.admin_lang(conn, 900) == "en"
    await service.saw_admin(902, "ru")
    assert await approvals.admin_lang(conn, 902) == "ru"


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"APPROVAL": "yes", "ADMIN_IDS": "1"}, "APPROVAL"),
        ({"APPROVAL": "on", "ADMIN_IDS": "1", "APPROVAL_TIMEOUT": "-1"}, "APPROVAL_TIMEOUT"),
        ({"APPROVAL": "on", "ADMIN_IDS": "1", "APPROVAL_TIMEOUT": "soon"}, "APPROVAL_TIMEOUT"),
        ({"APPROVAL": "on", "ADMIN_IDS": "1", "APPROVAL_DEFAULT": "post"}, "APPROVAL_DEFAULT"),
        ({"APPROVAL": "on"}, "ADMIN_IDS"),
    ],
)
def test_bad_approval_settings_name_the_setting(env: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert name in str(info.value) and "\n" not in str(info.value)


def test_approval_settings() -> None:
    default = Settings.from_env({})
    assert (default.approval, default.approval_timeout, default.approval_default) == (
        False,
        0.0,
        "publish",
    )
    s = Settings.from_env(
        {"APPROVAL": "ON", "ADMIN_IDS": "1", "APPROVAL_TIMEOUT": "1.5", "APPROVAL_DEFAULT": "skip"}
    )
    assert (s.approval, s.approval_timeout, s.approval_default) == (True, 1.5, "skip")
    assert replace(s, approval=False).approval is False

"""Approvals (APPROVAL=on): an article waiting for the first admin's decision, and the admins'
Telegram languages as last seen (their previews speak it).

``decide`` is one UPDATE guarded by ``status = 'pending'``: SQLite runs one writer at a time, so
of two admins pressing at once exactly one changes the row. Writers hold ``db.write_lock(conn)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from bot.store.db import scalar

PENDING = "pending"


@dataclass(frozen=True, slots=True)
class Approval:
    """One article's approval: pending, or decided (``decided_by`` None: by the timeout)."""

    article_id: int
    status: str
    """pending | published | silent | skipped"""
    decided_by: int | None
    decider: str | None
    """The deciding admin's name as Telegram gave it (None: the timeout decided)."""
    created_at: float
    deadline: float | None
    decided_at: float | None

    @property
    def pending(self) -> bool:
        return self.status == PENDING


@dataclass(frozen=True, slots=True)
class Waiting:
    """A pending approval as /pending lists it."""

    article_id: int
    title: str
    since: float
    deadline: float | None
    withdrawn: bool


def _approval(row: aiosqlite.Row) -> Approval:
    return Approval(
        article_id=int(row["article_id"]),
        status=str(row["status"]),
        decided_by=row["decided_by"],
        decider=row["decider"],
        created_at=float(row["created_at"]),
        deadline=row["deadline"],
        decided_at=row["decided_at"],
    )


async def create(
    conn: aiosqlite.Connection, article_id: int, *, now: float, deadline: float | None
) -> bool:
    """A pending approval for this article; False when it has one already."""
    cur = await conn.execute(
        "INSERT OR IGNORE INTO approvals (article_id, status, created_at, deadline) "
        "VALUES (:id, 'pending', :now, :deadline)",
        {"id": article_id, "now": now, "deadline": deadline},
    )
    return cur.rowcount == 1


async def get(conn: aiosqlite.Connection, article_id: int) -> Approval | None:
    """The article's approval, None when it never needed one."""
    async with conn.execute(
        "SELECT * FROM approvals WHERE article_id = :id", {"id": article_id}
    ) as cur:
        row = await cur.fetchone()
    return None if row is None else _approval(row)


async def decide(
    conn: aiosqlite.Connection,
    article_id: int,
    status: str,
    *,
    by: int | None,
    decider: str | None,
    now: float,
) -> bool:
    """Decide a pending approval; False when it was decided already (or does not exist)."""
    cur = await conn.execute(
        "UPDATE approvals SET status = :status, decided_by = :by, decider = :decider, "
        "decided_at = :now WHERE article_id = :id AND status = 'pending'",
        {"id": article_id, "status": status, "by": by, "decider": decider, "now": now},
    )
    return cur.rowcount == 1


async def expired(conn: aiosqlite.Connection, now: float) -> list[int]:
    """Pending approvals whose deadline has passed, oldest first; a withdrawn article waits
    (it expires once it is back)."""
    rows = await conn.execute_fetchall(
        "SELECT p.article_id FROM approvals p JOIN articles a ON a.id = p.article_id "
        "WHERE p.status = 'pending' AND p.deadline IS NOT NULL AND p.deadline <= :now "
        "AND a.withdrawn = 0 ORDER BY p.deadline, p.article_id",
        {"now": now},
    )
    return [int(r[0]) for r in rows]


async def waiting(conn: aiosqlite.Connection, limit: int = 100) -> list[Waiting]:
    """Pending approvals, oldest first."""
    rows = await conn.execute_fetchall(
        "SELECT p.article_id, a.title, p.created_at, p.deadline, a.withdrawn FROM approvals p "
        "JOIN articles a ON a.id = p.article_id WHERE p.status = 'pending' "
        "ORDER BY p.created_at, p.article_id LIMIT :limit",
        {"limit": limit},
    )
    return [Waiting(int(r[0]), str(r[1]), float(r[2]), r[3], bool(r[4])) for r in rows]


async def count_pending(conn: aiosqlite.Connection) -> int:
    """How many articles wait for a decision (/stats)."""
    return await scalar(conn, "SELECT count(*) FROM approvals WHERE status = 'pending'")


async def preview_rows(conn: aiosqlite.Connection, article_id: int) -> list[int]:
    """The article's preview send rows (queued or sent), whose messages a decision edits."""
    rows = await conn.execute_fetchall(
        "SELECT id FROM deliveries WHERE article_id = :id AND kind = 'preview' "
        "AND action = 'send' AND status IN ('queued', 'sent') ORDER BY id",
        {"id": article_id},
    )
    return [int(r[0]) for r in rows]


async def admin_lang(conn: aiosqlite.Connection, user_id: int) -> str | None:
    """The admin's Telegram language_code as last seen (None: never seen or not given)."""
    async with conn.execute(
        "SELECT language_code FROM admin_langs WHERE user_id = :id", {"id": user_id}
    ) as cur:
        row = await cur.fetchone()
    return None if row is None else row[0]


async def saw_admin(
    conn: aiosqlite.Connection, user_id: int, language_code: str | None, *, now: float
) -> None:
    """Remember the admin's language as Telegram sent it just now."""
    await conn.execute(
        "INSERT INTO admin_langs (user_id, language_code, seen_at) VALUES (:id, :code, :now) "
        "ON CONFLICT (user_id) DO UPDATE SET language_code = :code, seen_at = :now",
        {"id": user_id, "code": language_code, "now": now},
    )

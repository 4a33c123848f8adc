"""The durable outbox: a row per (article, chat) before sending; 'sent' once Telegram accepts.

Status moves queued → sent | failed | cancelled. Only the head of a target (chat and forum topic:
its /post rows first, then its oldest queued row) is ever eligible, so a later article never
overtakes an earlier one stuck in retry for that target.
Writers hold ``db.write_lock(conn)``; these functions never open transactions themselves.

Claims, so that no lock is held while Telegram answers: the deliverer ``claim``s the row it is
about to send in one UPDATE (a fresh ``claim_token``, ``next_try_at`` pushed out by the lease),
sends with no lock held, then records the outcome with that token; an outcome whose token no
longer matches changes nothing. One UPDATE is atomic in SQLite, so two deliverers (two
processes on one database) never both claim a row, and a claimed row stays its chat's head.

Crash window: a process that dies between Telegram's acceptance and the commit of 'sent'
(milliseconds), or a send Telegram delivered whose answer a timeout lost, leaves the row queued
and claimed; when the lease runs out any deliverer sends it again. That is the only way a message
repeats. A process that dies after its claim but before sending only delays that chat by the
lease. A row is 'sent' exactly when Telegram said so.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, fields

import aiosqlite

from bot.models import Kind, Note

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row: an article (or a follow-up, or an admin note) on its way to one chat."""

    id: int
    article_id: int | None
    chat_id: str
    kind: Kind
    manual: bool
    status: str
    attempts: int
    last_error: str | None
    next_try_at: float
    created_at: float
    sent_at: float | None = None
    message_id: int | None = None
    claim_token: str | None = None
    """Set while a deliverer is sending the row (see the module docstring)."""
    note: Note | None = None
    """What a 'note' row says."""
    action: str = "send"
    """'send' (a new message or a note), 'edit' (a follow-up of ``parent_id``), 'pin'."""
    parent_id: int | None = None
    revision: int | None = None
    """Send rows: the article revision the message shows now (store/followups.py)."""
    shown: str | None = None
    digest: str | None = None
    delete_refused: bool = False
    done: str | None = None
    topic: int | None = None
    """The forum topic (message_thread_id) a target row goes to; None: the chat itself."""
    silent: bool = False
    """Send without a notification (approval «Без звука», /post … silent, a silent target)."""
    pin: bool = False
    """Pin the message once sent (/post … pin): a child row action 'pin'."""
    priority: int = 0
    """Higher goes first within its chat (/post jumps the paced queue)."""


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """Counts for /stats."""

    queued_channel: int
    queued_subscribers: int
    sent: int
    failed: int
    cancelled: int
    last_channel_post_at: float | None
    recent_failures: tuple[Delivery, ...]

    @property
    def queued(self) -> int:
        return self.queued_channel + self.queued_subscribers


_FIELDS = tuple(f.name for f in fields(Delivery))
_FLAGS = frozenset({"manual", "delete_refused", "silent", "pin"})


def _delivery(row: aiosqlite.Row) -> Delivery:
    values = {f: bool(row[f]) if f in _FLAGS else row[f] for f in _FIELDS}
    return Delivery(**{**values, "note": _note(row["note"])})


def _note(raw: str | None) -> Note | None:
    if raw is None:
        return None
    data = json.loads(raw)
    return Note(str(data["key"]), dict(data.get("values") or {}))


async def unannounced(conn: aiosqlite.Connection) -> list[tuple[int, bool]]:
    """(id, withdrawn) of every article not yet announced, oldest first."""
    async with conn.execute(
        "SELECT id, withdrawn FROM articles WHERE announced = 0 ORDER BY published_at, id"
    ) as cur:
        return [(int(r[0]), bool(r[1])) for r in await cur.fetchall()]


async def mark_announced(conn: aiosqlite.Connection, ids: list[int]) -> None:
    """Flag these articles as handled so no later tick queues them again."""
    await conn.executemany(
        "UPDATE articles SET announced = 1 WHERE id = :id", [{"id": i} for i in ids]
    )


async def enqueue(
    conn: aiosqlite.Connection,
    article_id: int,
    chat_id: str,
    kind: Kind,
    *,
    now: float,
    manual: bool = False,
    topic: int | None = None,
    silent: bool = False,
    pin: bool = False,
    priority: int = 0,
) -> bool:
    """Queue one delivery; False when (article, chat, topic, kind) is already in the outbox
    (not manual)."""
    cur = await conn.execute(
        "INSERT OR IGNORE INTO deliveries (article_id, chat_id, kind, manual, created_at, "
        "next_try_at, topic, silent, pin, priority) "
        "VALUES (:article, :chat, :kind, :manual, :now, 0, :topic, :silent, :pin, :priority)",
        {
            "article": article_id,
            "chat": chat_id,
            "kind": kind,
            "manual": int(manual),
            "now": now,
            "topic": topic,
            "silent": int(silent),
            "pin": int(pin),
            "priority": priority,
        },
    )
    return cur.rowcount == 1


async def enqueue_note(conn: aiosqlite.Connection, chat_id: str, note: Note, *, now: float) -> int:
    """Queue a private note to one chat (an admin); returns the row id."""
    cur = await conn.execute(
        "INSERT INTO deliveries (article_id, chat_id, kind, note, created_at, next_try_at) "
        "VALUES (NULL, :chat, 'note', :note, :now, 0)",
        {
            "chat": chat_id,
            "note": json.dumps({"key": note.key, "values": note.values}),
            "now": now,
        },
    )
    return int(cur.lastrowid or 0)


_HEADS = (
    "SELECT * FROM (SELECT d.*, ROW_NUMBER() OVER (PARTITION BY d.chat_id, IFNULL(d.topic, 0) "
    "ORDER BY d.priority DESC, d.id) AS head FROM deliveries d WHERE d.status = 'queued' "
    "AND (:channel OR d.kind != 'channel') "
    "AND NOT (:hold AND d.action = 'send' AND d.manual = 0 "
    "AND d.kind IN ('channel', 'subscriber')) "
    "AND NOT (d.kind = 'channel' AND d.chat_id || '|' || IFNULL(d.topic, '') IN "
    "(SELECT target FROM target_state))) WHERE head = 1 "
)
"""The head of each target (chat, topic): its highest-priority, then oldest, queued row, leaving
out channel rows while all posting is paused, send rows held by the quiet hours (QUIET_MODE=hold;
not /post's), and the rows of a target paused alone (target_state)."""


async def due_heads(
    conn: aiosqlite.Connection,
    now: float,
    *,
    include_channel: bool,
    hold: bool = False,
    limit: int = 200,
) -> list[Delivery]:
    """The head of each chat (each topic of a forum) whose next try time has come: /post's rows
    first, then oldest first."""
    async with conn.execute(
        _HEADS + "AND next_try_at <= :now ORDER BY priority DESC, id LIMIT :limit",
        {"channel": int(include_channel), "hold": int(hold), "now": now, "limit": limit},
    ) as cur:
        return [_delivery(r) for r in await cur.fetchall()]


async def next_try_at(
    conn: aiosqlite.Connection, *, include_channel: bool, hold: bool = False
) -> float | None:
    """When the earliest head becomes due (None: nothing queued)."""
    async with conn.execute(
        "SELECT MIN(next_try_at) FROM (" + _HEADS + ")",
        {"channel": int(include_channel), "hold": int(hold)},
    ) as cur:
        row = await cur.fetchone()
    return None if row is None or row[0] is None else float(row[0])


async def enqueue_pin(conn: aiosqlite.Connection, parent_id: int, *, now: float) -> bool:
    """Queue the pin of a sent message (/post … pin): a child row action 'pin'."""
    cur = await conn.execute(
        "INSERT OR IGNORE INTO deliveries (article_id, chat_id, kind, action, parent_id, "
        "created_at, next_try_at, topic, silent, priority) SELECT article_id, chat_id, kind, "
        "'pin', id, :now, 0, topic, silent, priority FROM deliveries WHERE id = :id",
        {"id": parent_id, "now": now},
    )
    return cur.rowcount == 1


async def get(conn: aiosqlite.Connection, delivery_id: int) -> Delivery | None:
    """One delivery by id."""
    async with conn.execute("SELECT * FROM deliveries WHERE id = :id", {"id": delivery_id}) as cur:
        row = await cur.fetchone()
    return None if row is None else _delivery(row)


async def claim(
    conn: aiosqlite.Connection, delivery_id: int, *, now: float, lease: float
) -> Delivery | None:
    """Reserve a due queued row for one send for ``lease`` seconds; the row as claimed (its
    ``claim_token`` set), or None when it is not due: sent, cancelled, or claimed by another
    deliverer whose lease has not run out."""
    rows = await conn.execute_fetchall(
        "UPDATE deliveries SET claim_token = :token, next_try_at = :until "
        "WHERE id = :id AND status = 'queued' AND next_try_at <= :now RETURNING *",
        {"id": delivery_id, "token": secrets.token_hex(8), "until": now + lease, "now": now},
    )
    return next((_delivery(row) for row in rows), None)


_CLAIMED = "(:claim IS NULL OR claim_token = :claim)"
"""An outcome applies only while the row is still the caller's claim (None: no claim check)."""


async def all_deliveries(conn: aiosqlite.Connection) -> list[Delivery]:
    """Every row in id order (tests and diagnostics)."""
    async with conn.execute("SELECT * FROM deliveries ORDER BY id") as cur:
        return [_delivery(r) for r in await cur.fetchall()]


async def mark_sent(
    conn: aiosqlite.Connection,
    delivery_id: int,
    *,
    message_id: int | None,
    now: float,
    claim: str | None = None,
    revision: int | None = None,
    digest: str | None = None,
) -> None:
    """Telegram accepted the message: never send this row again (even if it was cancelled
    while the send was under way: it did go out). An article's message remembers the
    ``revision`` and ``digest`` it shows, for corrections."""
    await conn.execute(
        "UPDATE deliveries SET status = 'sent', sent_at = :now, message_id = :mid, "
        "attempts = attempts + 1, last_error = NULL, claim_token = NULL, revision = :revision, "
        "digest = :digest, shown = CASE WHEN :revision IS NULL THEN shown ELSE 'article' END "
        f"WHERE id = :id AND {_CLAIMED}",
        {
            "id": delivery_id,
            "now": now,
            "mid": message_id,
            "claim": claim,
            "revision": revision,
            "digest": digest,
        },
    )


async def reschedule(
    conn: aiosqlite.Connection,
    delivery_id: int,
    *,
    at: float,
    error: str,
    count: bool,
    claim: str | None = None,
) -> None:
    """Keep the row queued, to be tried again at ``at``; ``count`` adds a failed attempt."""
    await conn.execute(
        "UPDATE deliveries SET next_try_at = :at, last_error = :error, claim_token = NULL, "
        f"attempts = attempts + :count WHERE id = :id AND status = 'queued' AND {_CLAIMED}",
        {"id": delivery_id, "at": at, "error": error[:500], "count": int(count), "claim": claim},
    )


async def mark_failed(
    conn: aiosqlite.Connection, delivery_id: int, *, error: str, claim: str | None = None
) -> None:
    """Give up on this row for good; the error stays visible in /stats."""
    await conn.execute(
        "UPDATE deliveries SET status = 'failed', last_error = :error, attempts = attempts + 1, "
        f"claim_token = NULL WHERE id = :id AND {_CLAIMED}",
        {"id": delivery_id, "error": error[:500], "claim": claim},
    )


async def cancel(conn: aiosqlite.Connection, delivery_id: int, *, reason: str) -> None:
    """Drop one queued row on purpose (article withdrawn)."""
    await conn.execute(
        "UPDATE deliveries SET status = 'cancelled', last_error = :reason "
        "WHERE id = :id AND status = 'queued'",
        {"id": delivery_id, "reason": reason[:500]},
    )


async def cancel_chat(conn: aiosqlite.Connection, chat_id: str, *, reason: str) -> int:
    """Drop every queued row for a chat that can no longer receive messages."""
    cur = await conn.execute(
        "UPDATE deliveries SET status = 'cancelled', last_error = :reason "
        "WHERE chat_id = :chat AND status = 'queued'",
        {"chat": chat_id, "reason": reason[:500]},
    )
    return cur.rowcount


async def move_chat(conn: aiosqlite.Connection, old: str, new: str) -> int:
    """Point queued rows of ``old`` at ``new`` (migrate_to_chat_id); duplicates are cancelled."""
    await conn.execute(
        "UPDATE deliveries SET status = 'cancelled', last_error = 'duplicate after migration' "
        "WHERE chat_id = :old AND status = 'queued' AND manual = 0 AND action = 'send' AND "
        "EXISTS (SELECT 1 FROM deliveries n WHERE n.chat_id = :new AND n.manual = 0 "
        "AND n.action = 'send' AND n.article_id = deliveries.article_id "
        "AND n.kind = deliveries.kind AND IFNULL(n.topic, 0) = IFNULL(deliveries.topic, 0))",
        {"old": old, "new": new},
    )
    cur = await conn.execute(
        "UPDATE deliveries SET chat_id = :new WHERE chat_id = :old AND status = 'queued'",
        {"old": old, "new": new},
    )
    return cur.rowcount


async def recent_channel_sends(
    conn: aiosqlite.Connection, since: float
) -> list[tuple[str, float]]:
    """(chat_id, sent_at) of channel posts sent after ``since``, to restore pacing on start."""
    async with conn.execute(
        "SELECT chat_id, sent_at FROM deliveries WHERE kind = 'channel' AND status = 'sent' "
        "AND sent_at > :since ORDER BY sent_at",
        {"since": since},
    ) as cur:
        return [(str(r[0]), float(r[1])) for r in await cur.fetchall()]


async def stats(conn: aiosqlite.Connection) -> OutboxStats:
    """Counts by status, the last channel post time and the latest failures."""
    counts: dict[tuple[str, str], int] = {}
    async with conn.execute(
        "SELECT status, kind, count(*) FROM deliveries WHERE action = 'send' GROUP BY status, kind"
    ) as cur:
        for status, kind, n in await cur.fetchall():
            counts[(status, kind)] = int(n)
    async with conn.execute(
        "SELECT MAX(sent_at) FROM deliveries WHERE kind = 'channel' AND status = 'sent' "
        "AND action = 'send'"
    ) as cur:
        row = await cur.fetchone()
    async with conn.execute(
        "SELECT * FROM deliveries WHERE status = 'failed' ORDER BY id DESC LIMIT 3"
    ) as cur:
        failures = tuple(_delivery(r) for r in await cur.fetchall())

    def total(status: str) -> int:
        return counts.get((status, "channel"), 0) + counts.get((status, "subscriber"), 0)

    return OutboxStats(
        queued_channel=counts.get(("queued", "channel"), 0),
        queued_subscribers=counts.get(("queued", "subscriber"), 0),
        sent=total("sent"),
        failed=total("failed"),
        cancelled=total("cancelled"),
        last_channel_post_at=None if row is None or row[0] is None else float(row[0]),
        recent_failures=failures,
    )

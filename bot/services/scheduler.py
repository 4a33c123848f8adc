"""How things are sent: the paced deliverer and every retry rule (the tick loop: ticks.py).

This is the one module that owns retries; the pacing rules are services/pacing.py. The
deliverer sends only the head of each target (a chat, or one forum topic of it: its /post rows
first, then its oldest queued row, so order holds per target), waits for the chat's pacer,
claims the row, sends it with no database lock held, records 'sent' right after Telegram
accepts a message, and turns each kind of refusal into the outbox state it needs (claims and the
crash window: store/outbox.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime

import aiosqlite

from bot.config import WithdrawnPosts
from bot.models import Note
from bot.observe import NO_OBSERVER, Observer
from bot.quiet import QuietHours, QuietMode
from bot.services.edits import Step, Steps
from bot.services.notes import queue_notes
from bot.services.pacing import Pacer, Pacing, is_group
from bot.services.sending import (
    BadMessage,
    CannotDelete,
    CannotPin,
    ChatMigrated,
    ChatUnavailable,
    MessageGone,
    Publisher,
    RetryAfter,
    SendError,
    TransientError,
)
from bot.services.targets import TargetRules
from bot.services.ticks import Scheduler  # re-export: the tick loop moved to ticks.py
from bot.store import followups as followups_store
from bot.store import outbox, state, subscribers
from bot.store import targets as targets_store
from bot.store.db import unlocked_transaction, write_lock
from bot.store.followups import WITHDRAWN
from bot.store.outbox import Delivery

log = logging.getLogger(__name__)

__all__ = ["Deliverer", "Pacer", "Pacing", "Scheduler", "is_group"]


class Deliverer:
    """Sends due outbox rows through a Publisher, paced, until stopped; never dies on an error."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        publisher: Publisher,
        *,
        pacing: Pacing | None = None,
        admin_ids: frozenset[int] = frozenset(),
        withdrawn_posts: WithdrawnPosts = "notice",
        observer: Observer = NO_OBSERVER,
        targets: TargetRules | None = None,
        quiet: QuietHours | None = None,
        quiet_mode: QuietMode = "silent",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.conn = conn
        self.publisher = publisher
        self.observer = observer
        self.quiet = quiet
        self.quiet_mode = quiet_mode
        self.clock = clock
        """The wall clock the quiet hours are read on (tests stand at any hour)."""
        self.steps = Steps(
            conn,
            publisher,
            withdrawn_posts=withdrawn_posts,
            targets=targets,
            quiet_now=self.quiet_now,
        )
        self.pacing = pacing or Pacing()
        self.pacer = Pacer(self.pacing)
        self.admin_ids = admin_ids
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Look at the outbox now (something was queued or resumed)."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the current send, then leave the loop."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """The delivery loop."""
        try:
            await self._restore_pacing()
            if self.steps.targets is not None:
                await self.steps.targets.follow_migrations(self.conn)
        except Exception:
            log.exception("could not restore the pacing window or the targets' migrations")
        while not self._stopping:
            self._wake.clear()
            try:
                delay = await self.run_once()
            except Exception:
                log.exception("delivery pass failed; trying again shortly")
                delay = 5.0
            if delay > 0 and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(delay, self.pacing.idle_poll))

    def quiet_now(self) -> bool:
        """Inside the quiet hours now? Then whatever is sent goes without a notification."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        return self.quiet is not None and self.quiet.contains(now)

    def _held_for(self) -> float:
        """QUIET_MODE=hold inside the window: seconds until it ends (0: nothing is held)."""
        if self.quiet is None or self.quiet_mode != "hold" or not self.quiet_now():
            return 0.0
        now = datetime.fromtimestamp(self.clock(), UTC)
        return max(0.01, (self.quiet.release_at(now) - now).total_seconds())

    async def run_once(self, limit: int = 200) -> float:
        """Send what the pacer allows now; return seconds until something may be sendable.

        With QUIET_MODE=hold inside the quiet hours the posts and alerts wait (not /post's,
        edits or notes): they go in order, paced, once the window ends."""
        include_channel = await state.paused(self.conn) is None
        held_for = self._held_for()
        hold = held_for > 0
        heads = await outbox.due_heads(
            self.conn, time.time(), include_channel=include_channel, hold=hold, limit=limit
        )
        wait, sent = (held_for if hold else math.inf), False
        for delivery in heads:
            if self._stopping:
                return 0.0
            ready = self.pacer.ready_in(delivery.chat_id)
            if ready > 0:
                wait = min(wait, ready)
                continue
            while (pause := self.pacer.global_ready_in()) > 0:
                await asyncio.sleep(pause)
            await self.deliver(delivery)
            sent = True
        if sent:
            return 0.0
        if len(heads) < limit:
            nxt = await outbox.next_try_at(self.conn, include_channel=include_channel, hold=hold)
            if nxt is not None:
                wait = min(wait, max(0.01, nxt - time.time()))
        return wait

    async def deliver(self, d: Delivery) -> None:
        """One attempt at one row: claim it, send with no lock held, record the outcome.

        The write lock covers only the two short database steps, so other writers (/subscribe,
        ingest) never wait for Telegram; the claim keeps the row from going out twice. What the
        row sends (a post, an edit, a deletion, an admin note) is its Step (services/edits.py).
        """
        step = await self.steps.prepare(d)
        claimed = await self._claim(d, step)
        if claimed is None or step is None:
            return
        error: SendError | None = None
        message_id: int | None = None
        if step.run is not None:
            try:
                async with asyncio.timeout(self.pacing.lease):  # never outlive the claim
                    message_id = await step.run()
            except SendError as exc:
                error = exc
            except Exception as exc:  # anything unexpected is treated as transient
                log.exception("sending delivery %d failed unexpectedly", d.id)
                error = TransientError(repr(exc))
            self.pacer.record(d.chat_id)
        async with write_lock(self.conn):
            if error is None:
                await step.done(claimed.claim_token, message_id)
                log.info(
                    "%s %s to %s (%s)", step.action, d.article_id or "note", d.chat_id, d.kind
                )
                result = "ok"
            else:
                result = await self._refused(claimed, error)
        if step.run is not None:  # a follow-up with nothing to change made no request
            self.observer.delivered(d.kind, step.action, result)

    async def _claim(self, d: Delivery, step: Step | None) -> Delivery | None:
        """Reserve the row for one send; None when it must not go now (cancelled meanwhile,
        claimed by another deliverer, article withdrawn, channel paused)."""
        async with write_lock(self.conn):
            if step is None:
                await outbox.cancel(self.conn, d.id, reason=WITHDRAWN)
                return None
            if d.kind == "channel" and (
                await state.paused(self.conn) is not None
                or await targets_store.is_paused(self.conn, d.chat_id, d.topic)
            ):
                return None  # paused while this pass was running
            return await outbox.claim(self.conn, d.id, now=time.time(), lease=self.pacing.lease)

    async def _refused(self, d: Delivery, exc: SendError) -> str:
        """Apply one refusal to the claimed row (lock held); returns the attempt's result for
        the metrics: 'retry' (it goes again) or 'failed' (for good)."""
        now, claim = time.time(), d.claim_token
        if isinstance(exc, MessageGone):
            log.warning("message of delivery %d is gone (%s): not followed again", d.id, exc)
            await followups_store.fail(self.conn, d, error=str(exc), claim=claim, lost=True)
            return "failed"
        elif isinstance(exc, CannotDelete):
            log.info("Telegram will not delete %s's message (%s): notice instead", d.chat_id, exc)
            await followups_store.refuse_delete(self.conn, d)
            await outbox.reschedule(
                self.conn, d.id, at=now, error=str(exc), count=False, claim=claim
            )
        elif isinstance(exc, RetryAfter):
            wait = exc.seconds + self.pacing.retry_slack
            self.pacer.block(d.chat_id, wait)
            self.observer.retry_after_obeyed(exc.seconds)
            log.warning("429 for %s: waiting %.1f s before retrying", d.chat_id, wait)
            await outbox.reschedule(
                self.conn, d.id, at=now + wait, error=str(exc), count=False, claim=claim
            )
        elif isinstance(exc, ChatMigrated):
            new = str(exc.new_chat_id)
            log.warning("chat %s migrated to %s; following", d.chat_id, new)
            async with unlocked_transaction(self.conn):
                await outbox.reschedule(
                    self.conn, d.id, at=now, error=str(exc), count=False, claim=claim
                )
                await state.record_migration(self.conn, d.chat_id, new)
                await outbox.move_chat(self.conn, d.chat_id, new)
            if self.steps.targets is not None:
                self.steps.targets.moved(d.chat_id, new)
        elif isinstance(exc, ChatUnavailable) and d.kind == "channel":
            log.error(
                "Telegram refused %s: %s; this target paused, its queue kept, the others go on",
                self.steps.target(d),
                exc.description,
            )
            async with unlocked_transaction(self.conn):
                key = targets_store.target_key(d.chat_id, d.topic)
                await targets_store.pause(self.conn, key, exc.description, now=now)
                await outbox.reschedule(
                    self.conn, d.id, at=now, error=str(exc), count=True, claim=claim
                )
                note = Note("target_paused", _target(d) | {"reason": exc.description})
                await queue_notes(self.conn, self.admin_ids, note, now=now)
        elif isinstance(exc, CannotPin):
            log.error(
                "could not pin article %s in %s: %s", d.article_id, self.steps.target(d), exc
            )
            async with unlocked_transaction(self.conn):
                await outbox.mark_failed(self.conn, d.id, error=str(exc), claim=claim)
                values = _target(d) | {"reason": exc.description}
                note = Note("pin_failed", values | {"article": str(d.article_id)})
                await queue_notes(self.conn, self.admin_ids, note, now=now)
            return "failed"
        elif isinstance(exc, ChatUnavailable) and d.kind in ("note", "preview"):
            log.warning("admin %s cannot get the bot's note: %s", d.chat_id, exc)
            await outbox.mark_failed(self.conn, d.id, error=str(exc), claim=claim)
            return "failed"
        elif isinstance(exc, ChatUnavailable):
            log.warning("subscriber %s unreachable (%s): unsubscribed", d.chat_id, exc)
            async with unlocked_transaction(self.conn):
                await subscribers.remove_all(self.conn, int(d.chat_id))
                await outbox.cancel_chat(self.conn, d.chat_id, reason=str(exc))
            return "failed"
        elif isinstance(exc, BadMessage):
            log.error("delivery %d to %s rejected for good: %s", d.id, d.chat_id, exc)
            await self._give_up(d, exc)
            return "failed"
        elif d.attempts + 1 >= self.pacing.max_attempts:
            log.error("delivery %d failed %d times, giving up: %s", d.id, d.attempts + 1, exc)
            await self._give_up(d, exc)
            return "failed"
        else:
            delay = self.pacing.backoff(d.attempts + 1)
            log.warning(
                "delivery %d to %s failed (%s); retry in %.1f s", d.id, d.chat_id, exc, delay
            )
            await outbox.reschedule(
                self.conn, d.id, at=now + delay, error=str(exc), count=True, claim=claim
            )
        return "retry"

    async def _give_up(self, d: Delivery, exc: SendError) -> None:
        """Mark the row failed; a failed follow-up also stops following its message until the
        article changes again (so a bad edit is not retried every tick)."""
        if d.action == "edit":
            await followups_store.fail(
                self.conn, d, error=str(exc), claim=d.claim_token, lost=False
            )
        else:
            await outbox.mark_failed(self.conn, d.id, error=str(exc), claim=d.claim_token)

    async def _restore_pacing(self) -> None:
        """Seed the channel window with posts sent shortly before a restart."""
        wall, mono = time.time(), self.pacer.clock()
        for chat_id, sent_at in await outbox.recent_channel_sends(
            self.conn, wall - self.pacing.group_window
        ):
            self.pacer.record(chat_id, at=mono - (wall - sent_at))


def _target(d: Delivery) -> dict[str, str | float]:
    """A note's values naming the row's target (the telegram layer words it)."""
    values: dict[str, str | float] = {"chat": d.chat_id}
    if d.topic is not None:
        values["topic"] = str(d.topic)
    return values

"""How one outbox row goes out: a Step (one request, and how to record its success).

The deliverer (bot/services/scheduler.py) claims a row, runs its step with no lock held, and
records the outcome; this module decides the step. A follow-up looks at the article as it is
*now*: visible → edit the message to the current rendering (or post it again, once, when a
withdrawal had deleted it: the only way to show it); withdrawn → WITHDRAWN_POSTS: keep it, edit
it to the notice, or delete it while Telegram allows (48 hours), the notice otherwise. A message
that already shows what it should (same digest) costs no request.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiosqlite

from bot.config import WithdrawnPosts
from bot.models import Article, Kind, Note, Target
from bot.services.followups import DELETE_WINDOW
from bot.services.sending import Publisher
from bot.services.targets import TargetRules
from bot.store import articles, outbox
from bot.store import followups as store
from bot.store.outbox import Delivery

Done = Callable[[str | None, int | None], Awaitable[None]]
"""Records a success (lock held): (claim token, message id Telegram returned)."""


@dataclass(frozen=True, slots=True)
class Step:
    """One row's request (None: nothing to send, just record ``done``) and its record."""

    run: Callable[[], Awaitable[int | None]] | None
    done: Done
    action: str = "send"
    """What the request does, for the metrics: send | edit | delete | note | pin."""


def _kind(d: Delivery) -> Kind:
    return "channel" if d.kind == "channel" else "subscriber"


def sent_as(conn: aiosqlite.Connection, d: Delivery, revision: int, digest: str) -> Done:
    """Records a send row's success: the message shows this revision, hashed as ``digest``."""

    async def done(claim: str | None, message_id: int | None) -> None:
        await outbox.mark_sent(
            conn,
            d.id,
            message_id=message_id,
            now=time.time(),
            claim=claim,
            revision=revision,
            digest=digest,
        )

    return done


class Steps:
    """Builds the Step of each outbox row from the store and the Publisher."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        publisher: Publisher,
        *,
        withdrawn_posts: WithdrawnPosts = "notice",
        clock: Callable[[], float] = time.time,
        targets: TargetRules | None = None,
        quiet_now: Callable[[], bool] = lambda: False,
    ) -> None:
        self.conn = conn
        self.publisher = publisher
        self.withdrawn_posts = withdrawn_posts
        self.clock = clock
        self.targets = targets
        self.quiet_now = quiet_now
        """Inside the quiet hours? (their notifications are off, QUIET_MODE=silent)"""

        from bot.services.previews import PreviewSteps  # here: it builds on Step (cycle)

        self.previews = PreviewSteps(conn, publisher)

    def target(self, d: Delivery) -> Target:
        """The target a channel row goes to (its template, its silence); a bare one for a chat
        that is no longer configured, and for everything that is not a channel row."""
        found = None
        if d.kind == "channel" and self.targets is not None:
            found = self.targets.find(d.chat_id, d.topic)
        return found or Target(chat=d.chat_id, topic=d.topic)

    async def prepare(self, d: Delivery) -> Step | None:
        """The step for this row; None when it was cancelled instead (article withdrawn)."""
        if d.note is not None:
            return self._note(d, d.note)
        if d.action == "edit":
            return await self._follow_up(d)
        if d.action == "pin":
            return await self._pin(d)
        return await self._send(d)

    async def _send(self, d: Delivery) -> Step | None:
        article = await articles.get_article(self.conn, d.article_id or 0)
        if article is None:
            return None
        if d.kind == "preview":
            return await self.previews.send(d, article)
        kind, target = _kind(d), self.target(d)
        digest = await self.publisher.digest(article, kind=kind, template=target.template)
        silent = d.silent or target.silent or self.quiet_now()

        recorded = sent_as(self.conn, d, article.revision, digest)

        async def done(claim: str | None, message_id: int | None) -> None:
            await recorded(claim, message_id)
            if d.pin and message_id is not None:
                await outbox.enqueue_pin(self.conn, d.id, now=time.time())

        def run() -> Awaitable[int | None]:
            return self.publisher.send_article(
                d.chat_id,
                article,
                kind=kind,
                topic=d.topic,
                silent=silent,
                template=target.template,
            )

        return Step(run, done)

    async def _pin(self, d: Delivery) -> Step:
        parent = await outbox.get(self.conn, d.parent_id or 0)

        async def done(claim: str | None, message_id: int | None) -> None:
            await outbox.mark_sent(self.conn, d.id, message_id=None, now=time.time(), claim=claim)

        if parent is None or parent.message_id is None:

            async def drop(claim: str | None, message_id: int | None) -> None:
                await outbox.cancel(self.conn, d.id, reason="no message to pin")

            return Step(None, drop)
        chat, mid = parent.chat_id, parent.message_id
        silent = d.silent or self.target(d).silent or self.quiet_now()  # as its post was
        pin = _none(lambda: self.publisher.pin_message(chat, mid, silent=silent))
        return Step(pin, done, "pin")

    def _note(self, d: Delivery, note: Note) -> Step:
        async def done(claim: str | None, message_id: int | None) -> None:
            await outbox.mark_sent(
                self.conn, d.id, message_id=message_id, now=time.time(), claim=claim
            )

        return Step(lambda: self.publisher.send_note(d.chat_id, note), done, "note")

    async def _follow_up(self, d: Delivery) -> Step | None:
        parent = await outbox.get(self.conn, d.parent_id or 0)
        current = await articles.get_article_any(self.conn, d.article_id or 0)
        if parent is None or current is None or parent.message_id is None:

            async def drop(claim: str | None, message_id: int | None) -> None:
                await outbox.cancel(self.conn, d.id, reason="no message to follow")

            return Step(None, drop)
        revision, article = current.revision, None if current.withdrawn else current
        kind, chat, mid = _kind(parent), parent.chat_id, parent.message_id
        pub, template = self.publisher, self.target(parent).template

        def record(done: str, shown: str | None, digest: str | None, sent: bool = True) -> Done:
            async def finish(claim: str | None, message_id: int | None) -> None:
                await store.finish(
                    self.conn,
                    d,
                    claim=claim,
                    now=time.time(),
                    done=done,
                    revision=revision,
                    shown=shown or "article",
                    digest=digest,
                    sent=sent,
                    message_id=message_id if done == "resent" else None,
                )
                again = await articles.revisions(self.conn, [current.id])
                if sent and again.get(current.id, (0, False))[0] > revision:  # changed meanwhile
                    await store.queue_one(self.conn, parent.id, now=time.time())

            return finish

        def keep(reason: str) -> Step:
            return Step(None, record(reason, parent.shown, parent.digest, sent=False))

        if parent.shown == "lost":
            return keep("message gone")
        if parent.kind == "preview":
            return await self.previews.follow(parent, current, record, keep)
        if article is not None:
            return await self._show(parent, article, record, keep)
        if self.withdrawn_posts == "keep" or parent.shown == "deleted":
            return keep("kept")
        young = parent.sent_at is not None and self.clock() - parent.sent_at < DELETE_WINDOW
        if self.withdrawn_posts == "delete" and young and not parent.delete_refused:
            delete = _none(lambda: pub.delete_message(chat, mid))
            return Step(delete, record("deleted", "deleted", None), "delete")
        digest = await pub.digest(None, kind=kind, template=template)
        if digest == parent.digest:
            return keep("unchanged")
        notice = _none(lambda: pub.edit_message(chat, mid, None, kind=kind, template=template))
        return Step(notice, record("notice", "notice", digest), "edit")

    async def _show(
        self,
        parent: Delivery,
        article: Article,
        record: Callable[..., Done],
        keep: Callable[[str], Step],
    ) -> Step:
        """Make the message show the article again (or for the first time after a change),
        rendered with the template of the target it went to."""
        kind, pub, target = _kind(parent), self.publisher, self.target(parent)
        template = target.template
        digest = await pub.digest(article, kind=kind, template=template)
        if parent.shown == "deleted":
            if kind != "channel":
                return keep("deleted")  # a reader is not alerted twice
            silent = parent.silent or target.silent or self.quiet_now()

            def run() -> Awaitable[int | None]:
                return pub.send_article(
                    parent.chat_id,
                    article,
                    kind=kind,
                    topic=parent.topic,
                    silent=silent,
                    template=template,
                )

            return Step(run, record("resent", "article", digest))
        if digest == parent.digest:
            return keep("unchanged")
        chat, mid = parent.chat_id, parent.message_id or 0
        edit = _none(lambda: pub.edit_message(chat, mid, article, kind=kind, template=template))
        return Step(edit, record("edited", "article", digest), "edit")


def _none(request: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[int | None]]:
    """A step runner for a request that returns no message id."""

    async def run() -> int | None:
        await request()
        return None

    return run

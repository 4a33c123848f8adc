"""How an approval preview goes out and follows its article and its approval (the Steps).

A preview is rendered when it goes, from the article and the approval as they are then: pending
shows the channel post with the decision buttons, decided shows who decided what, without them.
If the approval changed while the request was under way, one more follow-up is queued, so the
last word always reaches the admin's message.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import aiosqlite

from bot.models import Article
from bot.services.edits import Done, Step, _none, sent_as
from bot.services.sending import Publisher
from bot.store import approvals
from bot.store.approvals import Approval
from bot.store.followups import queue_one
from bot.store.outbox import Delivery


class PreviewSteps:
    """The send and follow-up Steps of kind 'preview' rows."""

    def __init__(self, conn: aiosqlite.Connection, publisher: Publisher) -> None:
        self.conn = conn
        self.publisher = publisher

    async def _state(self, d: Delivery) -> tuple[Approval | None, str | None]:
        approval = await approvals.get(self.conn, d.article_id or 0)
        return approval, await approvals.admin_lang(self.conn, int(d.chat_id))

    async def _again_if_changed(self, send_row: int, shown: Approval) -> None:
        """The approval was decided while its old state was on its way: edit once more."""
        now = await approvals.get(self.conn, shown.article_id)
        if now is not None and now.status != shown.status:
            await queue_one(self.conn, send_row, now=time.time())

    async def send(self, d: Delivery, article: Article) -> Step | None:
        """The first preview to one admin; None (cancelled) when there is no approval."""
        approval, lang = await self._state(d)
        if approval is None:
            return None
        pub = self.publisher
        digest = await pub.preview_digest(article, approval, lang=lang)

        sent = sent_as(self.conn, d, article.revision, digest)

        async def done(claim: str | None, message_id: int | None) -> None:
            await sent(claim, message_id)
            await self._again_if_changed(d.id, approval)

        return Step(lambda: pub.send_preview(d.chat_id, article, approval, lang=lang), done)

    async def follow(
        self,
        parent: Delivery,
        current: Article,
        record: Callable[..., Done],
        keep: Callable[[str], Step],
    ) -> Step:
        """Edit a sent preview to the article (or the withdrawal notice) and approval now."""
        approval, lang = await self._state(parent)
        if approval is None:
            return keep("no approval")
        article = None if current.withdrawn else current
        pub = self.publisher
        digest = await pub.preview_digest(article, approval, lang=lang)
        if digest == parent.digest:
            return keep("unchanged")
        finish = record("edited", "article" if article else "notice", digest)

        async def done(claim: str | None, message_id: int | None) -> None:
            await finish(claim, message_id)
            await self._again_if_changed(parent.id, approval)

        chat, mid = parent.chat_id, parent.message_id or 0
        run = _none(lambda: pub.edit_preview(chat, mid, article, approval, lang=lang))
        return Step(run, done, "edit")

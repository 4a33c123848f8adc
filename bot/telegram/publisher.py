"""The Publisher over aiogram: sends outbox messages and maps Telegram's refusals to outbox rules.

No retries here: every refusal becomes a ``SendError`` subclass that the deliverer (the one place
owning pacing and retries) acts on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
)

from bot.models import Article, Kind
from bot.services.followups import AdminNote
from bot.services.publishing import (
    BadMessage,
    CannotDelete,
    ChatMigrated,
    ChatUnavailable,
    MessageGone,
    RetryAfter,
    SendError,
    TransientError,
)
from bot.telegram.formatting import deep_link, escape
from bot.telegram.posts import (
    NO_PREVIEW,
    Post,
    channel_post,
    digest,
    subscriber_alert,
    withdrawn_notice,
)
from bot.telegram.texts import t

log = logging.getLogger(__name__)
T = TypeVar("T")

MESSAGE_FAULTS = (
    "too long",
    "parse",
    "empty",
    "non-empty",
    "markup",
    "button",
    "url",
    "entit",
    "caption",
)
"""Words in a 400's description that blame the message, not the chat (resending can't help)."""
GONE = ("message to edit not found", "message can't be edited")
"""400s that say the message to change is no longer ours to change (deleted by an admin)."""
FIELDS = ("title", "text", "date", "credit")
"""What a correction can change (store/corrections.py), each with a name in the catalogue."""
NOT_MODIFIED = "message is not modified"
"""400 for an edit to what the message already shows: the edit is done."""


def chat_ref(chat_id: str) -> int | str:
    """'@name' stays a string; numeric ids go to Telegram as integers."""
    try:
        return int(chat_id)
    except ValueError:
        return chat_id


def classify(exc: Exception) -> SendError:
    """Which outbox rule applies to this aiogram exception."""
    if isinstance(exc, TelegramRetryAfter):
        return RetryAfter(
            float(exc.retry_after), f"429 Too Many Requests: retry after {exc.retry_after}"
        )
    if isinstance(exc, TelegramMigrateToChat):
        return ChatMigrated(exc.migrate_to_chat_id, exc.message.splitlines()[0])
    if isinstance(exc, TelegramForbiddenError):
        return ChatUnavailable(f"403 {exc.message}")
    if isinstance(exc, TelegramBadRequest):
        text = exc.message.lower()
        if any(words in text for words in GONE):
            return MessageGone(f"400 {exc.message}")
        if "message can't be deleted" in text:
            return CannotDelete(f"400 {exc.message}")
        if any(word in text for word in MESSAGE_FAULTS):
            return BadMessage(f"400 {exc.message}")
        return ChatUnavailable(f"400 {exc.message}")
    if isinstance(exc, TelegramAPIError):
        return TransientError(f"{type(exc).__name__}: {exc.message}")
    return TransientError(f"{type(exc).__name__}: {exc}")


async def _call(request: Awaitable[T], *, done_if: str | None = None) -> T | None:
    """Await one Bot API request; a refusal becomes its SendError, except a 400 whose
    description says the request's work is already done (``done_if``): then None."""
    try:
        return await request
    except TelegramBadRequest as exc:
        if done_if is None or done_if not in exc.message.lower():
            raise classify(exc) from exc
    except Exception as exc:
        raise classify(exc) from exc
    return None


class AiogramPublisher:
    """Sends channel posts and subscriber alerts through an aiogram Bot."""

    def __init__(self, bot: Bot, *, tz: ZoneInfo, timeout: int = 20) -> None:
        self.bot = bot
        self.tz = tz
        self.timeout = timeout

    async def _username(self) -> str | None:
        try:
            # the deep links name the bot: getMe once (startup already asked; aiogram keeps it)
            return (await self.bot.me()).username
        except Exception as exc:
            raise classify(exc) from exc

    async def _post(self, article: Article | None, kind: Kind) -> Post:
        """What ``article`` renders to in a chat of this kind (None: the withdrawal notice)."""
        if article is None:
            return withdrawn_notice()
        username = await self._username()
        if kind == "channel":
            return channel_post(article, self.tz, username)
        return subscriber_alert(article, self.tz, username)

    async def digest(self, article: Article | None, *, kind: Kind) -> str:
        """The hash of what the article's message shows (edits that change nothing are skipped)."""
        return digest(await self._post(article, kind))

    async def send_article(self, chat_id: str, article: Article, *, kind: Kind) -> int | None:
        """Send one outbox message; raises a SendError subclass when Telegram refuses."""
        return await self._send(chat_id, await self._post(article, kind))

    async def _send(self, chat_id: str, post: Post) -> int | None:
        message = await _call(
            self.bot.send_message(
                chat_id=chat_ref(chat_id),
                text=post.text,
                parse_mode="HTML",
                reply_markup=post.markup,
                link_preview_options=NO_PREVIEW,
                request_timeout=self.timeout,
            )
        )
        return None if message is None else message.message_id

    async def edit_message(
        self, chat_id: str, message_id: int, article: Article | None, *, kind: Kind
    ) -> None:
        """Edit a sent message to the article's rendering now, or to the withdrawal notice (its
        button removed); Telegram's "message is not modified" means it already shows that."""
        post = await self._post(article, kind)
        await _call(
            self.bot.edit_message_text(
                chat_id=chat_ref(chat_id),
                message_id=message_id,
                text=post.text,
                parse_mode="HTML",
                reply_markup=post.markup,
                link_preview_options=NO_PREVIEW,
                request_timeout=self.timeout,
            ),
            done_if=NOT_MODIFIED,
        )

    async def delete_message(self, chat_id: str, message_id: int) -> None:
        """Delete a sent message; one already gone counts as deleted."""
        await _call(
            self.bot.delete_message(
                chat_id=chat_ref(chat_id), message_id=message_id, request_timeout=self.timeout
            ),
            done_if="message to delete not found",
        )

    async def send_note(self, chat_id: str, note: AdminNote) -> int | None:
        """A private note to one admin (staff texts: Russian)."""
        if note.topic == "paused":
            return await self._send(
                chat_id, Post(t("ru", "channel_paused", reason=escape(note.reason)))
            )
        username = await self._username()
        link = deep_link(username, note.article_id or 0) if username else ""
        fields = ", ".join(t("ru", f"field_{f}") if f in FIELDS else f for f in note.fields)
        text = t("ru", "correction_note", title=escape(note.title[:300]), fields=fields, link=link)
        return await self._send(chat_id, Post(text))

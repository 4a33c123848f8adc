"""The Publisher over aiogram: sends outbox messages and maps Telegram's refusals to outbox rules.

No retries here: every refusal becomes a ``SendError`` subclass that the deliverer (the one place
owning pacing and retries) acts on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
from datetime import UTC, datetime
from pathlib import Path
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

from bot.models import Article, Kind, Note
from bot.services.sending import (
    BadMessage,
    CannotDelete,
    CannotPin,
    ChatMigrated,
    ChatUnavailable,
    MessageGone,
    RetryAfter,
    SendError,
    TransientError,
)
from bot.store.approvals import Approval
from bot.telegram.approval_view import preview_post
from bot.telegram.formatting import UtmParams, deep_link, escape, fmt_date, target_name
from bot.telegram.posts import (
    Post,
    channel_post,
    digest,
    subscriber_alert,
    withdrawn_notice,
)
from bot.telegram.templates import PostRenderer
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
    """Sends channel posts (through the post template) and subscriber alerts via an aiogram Bot.

    Whether a message is silent is the deliverer's decision (the row, the target, the quiet
    hours). ``renderers`` are the targets' own templates by path (None: POST_TEMPLATE's
    ``renderer``); ``utm`` (UTM_PARAMS) goes on links to the site.
    """

    def __init__(
        self,
        bot: Bot,
        *,
        tz: ZoneInfo,
        timeout: int = 20,
        renderer: PostRenderer | None = None,
        renderers: Mapping[Path, PostRenderer] | None = None,
        utm: UtmParams = (),
    ) -> None:
        self.bot = bot
        self.tz = tz
        self.timeout = timeout
        self.renderer = renderer
        self.renderers = dict(renderers or {})
        self.utm = utm

    async def _username(self) -> str | None:
        try:
            # the deep links name the bot: getMe once (startup already asked; aiogram keeps it)
            return (await self.bot.me()).username
        except Exception as exc:
            raise classify(exc) from exc

    async def _post(
        self, article: Article | None, kind: Kind, template: Path | None = None
    ) -> Post:
        """What ``article`` renders to in a chat of this kind (None: the withdrawal notice),
        with the target's ``template`` when it has one."""
        if article is None:
            return withdrawn_notice()
        username = await self._username()
        if kind == "channel":
            renderer = self.renderers.get(template, self.renderer) if template else self.renderer
            return channel_post(article, self.tz, username, renderer=renderer, utm=self.utm)
        return subscriber_alert(article, self.tz, username, self.utm)

    async def digest(
        self, article: Article | None, *, kind: Kind, template: Path | None = None
    ) -> str:
        """The hash of what the article's message shows (edits that change nothing are skipped)."""
        return digest(await self._post(article, kind, template))

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
        """Send one outbox message (to a forum ``topic``: message_thread_id); raises a SendError
        subclass when Telegram refuses."""
        post = await self._post(article, kind, template)
        return await self._send(chat_id, post, silent=silent, topic=topic)

    async def _send(
        self, chat_id: str, post: Post, *, silent: bool = False, topic: int | None = None
    ) -> int | None:
        message = await _call(
            self.bot.send_message(
                chat_id=chat_ref(chat_id),
                message_thread_id=topic,
                text=post.text,
                parse_mode="HTML",
                reply_markup=post.markup,
                link_preview_options=post.preview,
                disable_notification=True if silent else None,
                request_timeout=self.timeout,
            )
        )
        return None if message is None else message.message_id

    async def pin_message(self, chat_id: str, message_id: int, *, silent: bool) -> None:
        """Pin a sent message; any 400 (no right to pin, message gone) is CannotPin: the post
        stays, the pin is not retried. A 403 still says the chat is lost to us."""
        try:
            await self.bot.pin_chat_message(
                chat_id=chat_ref(chat_id),
                message_id=message_id,
                disable_notification=True if silent else None,
                request_timeout=self.timeout,
            )
        except TelegramBadRequest as exc:
            raise CannotPin(f"400 {exc.message}") from exc
        except Exception as exc:
            raise classify(exc) from exc

    async def send_note(self, chat_id: str, note: Note) -> int | None:
        """Send one admin note from the outbox, rendered from the catalogue (staff: Russian)."""
        username = await self._username() if "article" in note.values else None
        return await self._send(chat_id, Post(self.note_text(note, username)))

    def note_text(self, note: Note, bot_username: str | None = None) -> str:
        """A note's HTML: times (unix seconds) as dates in SOURCE_TZ, ``fields`` (a correction's
        comma list) named, ``article`` (an id) as a deep link, everything else escaped."""
        values = {k: self._shown(v) for k, v in note.values.items()}
        if "fields" in note.values:
            names = str(note.values["fields"]).split(",")
            values["fields"] = ", ".join(
                t("ru", f"field_{f}") if f in FIELDS else f for f in names
            )
        if "chat" in note.values:  # a target: its chat and, for a forum topic, the topic
            topic = note.values.get("topic")
            values["target"] = target_name(str(note.values["chat"]), topic, "ru")
        if "article" in note.values:
            article_id = int(note.values["article"])
            values["article"] = deep_link(bot_username, article_id) if bot_username else ""
        return t("ru", note.key, **values)

    def _shown(self, value: str | float) -> str:
        if isinstance(value, int | float):
            return fmt_date(datetime.fromtimestamp(value, UTC), self.tz)
        return escape(value)

    async def edit_message(
        self,
        chat_id: str,
        message_id: int,
        article: Article | None,
        *,
        kind: Kind,
        template: Path | None = None,
    ) -> None:
        """Edit a sent message to the article's rendering now (text, buttons and image preview
        as a send would have them), or to the withdrawal notice (no button, no preview);
        Telegram's "message is not modified" means it already shows that. An edit never
        notifies, so the quiet hours do not apply."""
        await self._edit(chat_id, message_id, await self._post(article, kind, template))

    async def _edit(self, chat_id: str, message_id: int, post: Post) -> None:
        await _call(
            self.bot.edit_message_text(
                chat_id=chat_ref(chat_id),
                message_id=message_id,
                text=post.text,
                parse_mode="HTML",
                reply_markup=post.markup,
                link_preview_options=post.preview,
                request_timeout=self.timeout,
            ),
            done_if=NOT_MODIFIED,
        )

    async def _preview(
        self, article: Article | None, approval: Approval, lang: str | None
    ) -> Post:
        post = await self._post(article, "channel")
        return preview_post(post, approval, article.title if article else "", lang)

    async def preview_digest(
        self, article: Article | None, approval: Approval, *, lang: str | None
    ) -> str:
        """The hash of what an approval preview shows (its state and buttons included)."""
        return digest(await self._preview(article, approval, lang))

    async def send_preview(
        self, chat_id: str, article: Article, approval: Approval, *, lang: str | None
    ) -> int | None:
        """The channel post plus the decision buttons, to one admin (no quiet hours: a person
        was asked to decide)."""
        return await self._send(chat_id, await self._preview(article, approval, lang))

    async def edit_preview(
        self,
        chat_id: str,
        message_id: int,
        article: Article | None,
        approval: Approval,
        *,
        lang: str | None,
    ) -> None:
        """Show the article (None: the withdrawal notice) and the approval's state now."""
        await self._edit(chat_id, message_id, await self._preview(article, approval, lang))

    async def delete_message(self, chat_id: str, message_id: int) -> None:
        """Delete a sent message; one already gone counts as deleted."""
        await _call(
            self.bot.delete_message(
                chat_id=chat_ref(chat_id), message_id=message_id, request_timeout=self.timeout
            ),
            done_if="message to delete not found",
        )

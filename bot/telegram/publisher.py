"""The Publisher over aiogram: sends outbox messages and maps Telegram's refusals to outbox rules.

No retries here: every refusal becomes a ``SendError`` subclass that the deliverer (the one place
owning pacing and retries) acts on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
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
from bot.quiet import QuietHours
from bot.services.publishing import (
    BadMessage,
    ChatMigrated,
    ChatUnavailable,
    RetryAfter,
    SendError,
    TransientError,
)
from bot.telegram.formatting import UtmParams, escape, fmt_date
from bot.telegram.posts import NO_PREVIEW, channel_post, subscriber_alert
from bot.telegram.templates import PostRenderer
from bot.telegram.texts import t

log = logging.getLogger(__name__)

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
        if any(word in text for word in MESSAGE_FAULTS):
            return BadMessage(f"400 {exc.message}")
        return ChatUnavailable(f"400 {exc.message}")
    if isinstance(exc, TelegramAPIError):
        return TransientError(f"{type(exc).__name__}: {exc.message}")
    return TransientError(f"{type(exc).__name__}: {exc}")


class AiogramPublisher:
    """Sends channel posts (through the post template) and subscriber alerts via an aiogram Bot.

    Inside the quiet hours channel posts and alerts go out without a notification; the clock
    is injected so tests can stand at any hour. ``utm`` (UTM_PARAMS) goes on links to the site.
    """

    def __init__(
        self,
        bot: Bot,
        *,
        tz: ZoneInfo,
        timeout: int = 20,
        renderer: PostRenderer | None = None,
        quiet: QuietHours | None = None,
        clock: Callable[[], float] = time.time,
        utm: UtmParams = (),
    ) -> None:
        self.bot = bot
        self.tz = tz
        self.timeout = timeout
        self.renderer = renderer
        self.quiet = quiet
        self.clock = clock
        self.utm = utm

    def silent_now(self) -> bool:
        """Are we inside the quiet hours?"""
        now = datetime.fromtimestamp(self.clock(), UTC)
        return self.quiet is not None and self.quiet.contains(now)

    async def send_article(self, chat_id: str, article: Article, *, kind: Kind) -> int | None:
        """Send one outbox message; raises a SendError subclass when Telegram refuses."""
        try:
            # the deep links name the bot: getMe once (startup already asked; aiogram keeps it)
            username = (await self.bot.me()).username
        except Exception as exc:
            raise classify(exc) from exc
        if kind == "channel":
            post = channel_post(article, self.tz, username, renderer=self.renderer, utm=self.utm)
        else:
            post = subscriber_alert(article, self.tz, username, self.utm)
        try:
            message = await self.bot.send_message(
                chat_id=chat_ref(chat_id),
                text=post.text,
                parse_mode="HTML",
                reply_markup=post.markup,
                link_preview_options=post.preview,
                disable_notification=True if self.silent_now() else None,
                request_timeout=self.timeout,
            )
        except Exception as exc:
            raise classify(exc) from exc
        return message.message_id

    async def send_note(self, chat_id: str, note: Note) -> int | None:
        """Send one admin note from the outbox, rendered from the catalogue (staff: Russian)."""
        try:
            message = await self.bot.send_message(
                chat_id=chat_ref(chat_id),
                text=self.note_text(note),
                parse_mode="HTML",
                link_preview_options=NO_PREVIEW,
                request_timeout=self.timeout,
            )
        except Exception as exc:
            raise classify(exc) from exc
        return message.message_id

    def note_text(self, note: Note) -> str:
        """A note's HTML: times (unix seconds) as dates in SOURCE_TZ, everything escaped."""
        return t("ru", note.key, **{k: self._shown(v) for k, v in note.values.items()})

    def _shown(self, value: str | float) -> str:
        if isinstance(value, int | float):
            return fmt_date(datetime.fromtimestamp(value, UTC), self.tz)
        return escape(value)

    async def channel_paused(self, admin_ids: frozenset[int], reason: str) -> None:
        """Tell each admin in private; an admin who never started the bot is only logged."""
        text = t("ru", "channel_paused", reason=escape(reason))  # staff texts: Russian
        for admin_id in sorted(admin_ids):
            try:
                await self.bot.send_message(
                    chat_id=admin_id,
                    text=text,
                    parse_mode="HTML",
                    link_preview_options=NO_PREVIEW,
                    request_timeout=self.timeout,
                )
            except Exception as exc:
                log.warning("could not notify admin %s: %s", admin_id, exc)

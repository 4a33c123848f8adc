"""How services talk to Telegram without importing aiogram: the ``Publisher`` protocol that
bot.telegram.publisher implements, and the ``SendError`` refusals it raises, each saying what the
outbox must do (retry, pause a target, give up, follow no more)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from bot.models import Article, Kind, Note
from bot.store.approvals import Approval


class SendError(Exception):
    """A send Telegram did not accept; the subclass says what the outbox must do."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class RetryAfter(SendError):
    """429: nothing more to this chat for ``seconds``, then the same message again."""

    def __init__(self, seconds: float, description: str = "") -> None:
        super().__init__(description or f"Too Many Requests: retry after {seconds:g}")
        self.seconds = seconds


class ChatMigrated(SendError):
    """400 with migrate_to_chat_id: the group now lives under ``new_chat_id``."""

    def __init__(self, new_chat_id: int, description: str = "") -> None:
        super().__init__(description or f"group migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


class ChatUnavailable(SendError):
    """403, or a 400 about the chat itself: this chat cannot receive messages from us."""


class BadMessage(SendError):
    """400 about the message (too long, bad HTML): resending it unchanged cannot help."""


class TransientError(SendError):
    """5xx, network trouble, timeouts: retry later with backoff."""


class CannotPin(BadMessage):
    """400 to pinChatMessage (no right to pin): the post stays, the pin is recorded failed."""


class MessageGone(SendError):
    """400 "message to edit not found" (a channel admin deleted it): never follow it again."""


class CannotDelete(SendError):
    """400 "message can't be deleted" (older than 48 hours): show the notice instead."""


class Publisher(Protocol):
    """Sends outbox messages; implemented over aiogram in bot.telegram.publisher.

    ``article`` None in ``digest``/``edit_message`` means the withdrawal notice.
    """

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
        """Send the channel post (to a forum ``topic``, rendered with the target's
        ``template``) or subscriber card; returns Telegram's message_id."""
        ...

    async def digest(
        self, article: Article | None, *, kind: Kind, template: Path | None = None
    ) -> str:
        """A short hash of the message this article renders to (text and buttons)."""
        ...

    async def edit_message(
        self,
        chat_id: str,
        message_id: int,
        article: Article | None,
        *,
        kind: Kind,
        template: Path | None = None,
    ) -> None:
        """Show ``article`` (or the notice) in a sent message; "not modified" is success."""
        ...

    async def pin_message(self, chat_id: str, message_id: int, *, silent: bool) -> None:
        """Pin a sent message (/post … pin); CannotPin when the bot may not."""
        ...

    async def delete_message(self, chat_id: str, message_id: int) -> None:
        """Delete a sent message; CannotDelete when Telegram refuses (48 hours)."""
        ...

    async def send_note(self, chat_id: str, note: Note) -> int | None:
        """Send a private note to an admin; returns Telegram's message_id."""
        ...

    async def preview_digest(
        self, article: Article | None, approval: Approval, *, lang: str | None
    ) -> str:
        """The hash of an approval preview (the channel post, its state and buttons)."""
        ...

    async def send_preview(
        self, chat_id: str, article: Article, approval: Approval, *, lang: str | None
    ) -> int | None:
        """Send an admin the approval preview (``lang``: their Telegram language_code)."""
        ...

    async def edit_preview(
        self,
        chat_id: str,
        message_id: int,
        article: Article | None,
        approval: Approval,
        *,
        lang: str | None,
    ) -> None:
        """Show the article (None: withdrawn) and the approval's state now in a preview."""
        ...

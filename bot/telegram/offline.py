"""An in-process Bot API for the offline console: records what the bot sends, no network at all."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    AnswerCallbackQuery,
    AnswerInlineQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, InlineKeyboardMarkup, InlineQueryResultUnion, Message, User

BOT_USER = User(id=1000000, is_bot=True, first_name="News bot", username="newsbot_offline")
OFFLINE_TOKEN = "1000000:offline-console"


@dataclass
class Output:
    """One thing the bot did that a person in the chat would see."""

    kind: str  # "send" | "edit" | "alert" | "inline" | "other"
    text: str = ""
    markup: InlineKeyboardMarkup | None = None
    message: Message | None = None
    results: list[InlineQueryResultUnion] = field(default_factory=list)


class OfflineSession(BaseSession):
    """Answers Bot API calls like Telegram would and records each visible effect (``take``)."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: dict[tuple[int, int], Message] = {}
        self._outputs: list[Output] = []
        self._next_id = 1

    def take(self) -> list[Output]:
        """What the bot did since the last call, oldest first."""
        outputs, self._outputs = self._outputs, []
        return outputs

    def _emit(self, output: Output) -> None:
        self._outputs.append(output)

    async def close(self) -> None:
        """Nothing to close: there is no connection."""

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        """Files are not available offline."""
        raise RuntimeError("no file downloads in the offline console")
        yield b""  # pragma: no cover

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        return cast(TelegramType, self._answer(bot, method))

    def _answer(self, bot: Bot, method: TelegramMethod[TelegramType]) -> object:
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, (EditMessageText, EditMessageReplyMarkup)):
            return self._edit(bot, method)
        if isinstance(method, AnswerCallbackQuery):
            if method.text:
                self._emit(Output("alert", text=method.text))
            return True
        if isinstance(method, AnswerInlineQuery):
            self._emit(Output("inline", results=list(method.results)))
            return True
        if getattr(method, "__returning__", None) is Message:
            return self._send(bot, cast(TelegramMethod[Message], method))
        return True  # setMyCommands, deleteWebhook, …: accepted, nothing to show

    def _send(self, bot: Bot, method: TelegramMethod[Message]) -> Message:
        text = getattr(method, "text", None) or getattr(method, "caption", None) or ""
        chat = getattr(method, "chat_id", None)
        chat_id = chat if isinstance(chat, int) else 0
        message = Message(
            message_id=self._next_id,
            date=datetime.now(UTC),
            chat=Chat(id=chat_id, type="private" if chat_id > 0 else "channel"),
            from_user=BOT_USER,
            text=text,
            reply_markup=getattr(method, "reply_markup", None),
        ).as_(bot)
        self._next_id += 1
        self.messages[(chat_id, message.message_id)] = message
        self._emit(Output("send", text=text, markup=message.reply_markup, message=message))
        return message

    def _edit(self, bot: Bot, method: EditMessageText | EditMessageReplyMarkup) -> Message | bool:
        key = (method.chat_id if isinstance(method.chat_id, int) else 0, method.message_id or 0)
        old = self.messages.get(key)
        if old is None:
            return True
        text = method.text if isinstance(method, EditMessageText) else old.text
        message = old.model_copy(update={"text": text, "reply_markup": method.reply_markup})
        message = message.as_(bot)
        self.messages[key] = message
        self._emit(Output("edit", text=text or "", markup=message.reply_markup, message=message))
        return message


def readable(text: str) -> str:
    """Telegram HTML as a person would read it: links as "text (url)", other tags dropped."""
    text = re.sub(
        r'<a\s+href="([^"]*)"\s*>(.*?)</a>',
        lambda m: f"{m.group(2)} ({html.unescape(m.group(1))})",
        text,
        flags=re.S,
    )
    return html.unescape(re.sub(r"<[^>]*>", "", text))

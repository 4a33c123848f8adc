"""Test-side update builders for the fake server: what a user does, turned into Update objects."""

from __future__ import annotations

import itertools
import logging
from typing import TYPE_CHECKING, Any

from tests.fake_telegram_model import FakeChat, SentMessage
from tests.telegram_html import utf16_len

if TYPE_CHECKING:
    from tests.fake_telegram_limits import Clock
    from tests.fake_telegram_updates import UpdateQueue

log = logging.getLogger(__name__)


def default_chat_type(chat_id: int) -> str:
    """What a chat id alone suggests: users are positive, -100… ids are supergroups."""
    if chat_id > 0:
        return "private"
    return "supergroup" if chat_id <= -1_000_000_000_000 else "group"


class PushMixin:
    """push_* helpers of FakeTelegram (the attributes below and add_chat are the server's)."""

    updates: UpdateQueue
    clock: Clock
    chats: dict[int, FakeChat]
    users: dict[int, dict[str, Any]]
    messages: dict[tuple[int, int], SentMessage]
    callback_queries: dict[str, float]
    inline_queries: dict[str, float]
    _query_ids = itertools.count(4_000_000_000_000_000_001)

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw Update (update_id assigned if missing); returns it as queued."""
        return self.updates.push(update, self.clock.monotonic())

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        language_code: str | None = None,
        username: str | None = None,
        last_name: str | None = None,
    ) -> dict[str, Any]:
        """Register or update a user; returns the User object pushes will carry."""
        user = self.users.setdefault(
            user_id, {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        )
        for key, value in (
            ("first_name", first_name),
            ("language_code", language_code),
            ("username", username),
            ("last_name", last_name),
        ):
            if value is not None:
                user[key] = value
        return user

    def _user_chat(
        self,
        chat_id: int,
        user_id: int | None,
        chat_type: str | None,
        language_code: str | None,
        **user_fields: Any,
    ) -> tuple[FakeChat, dict]:
        if user_id is None:
            if chat_id < 0:
                raise ValueError("a group message needs user_id")
            user_id = chat_id
        user = self.add_user(user_id, language_code=language_code, **user_fields)
        chat = self.chats.get(chat_id)
        if chat is None:
            kind = chat_type or default_chat_type(chat_id)
            names = (
                {"first_name": user["first_name"], "username": user.get("username")}
                if (kind == "private")
                else {"title": f"Chat {chat_id}"}
            )
            chat = self.add_chat(chat_id, kind, **names)  # type: ignore[attr-defined]
        return chat, user

    def push_message(
        self,
        chat_id: int,
        user_id: int | None = None,
        text: str | None = None,
        *,
        chat_type: str | None = None,
        language_code: str | None = "ru",
        first_name: str | None = None,
        username: str | None = None,
        reply_to_message_id: int | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A user writes `text` ('/command' gets a bot_command entity); `fields` go in as-is."""
        chat, user = self._user_chat(
            chat_id, user_id, chat_type, language_code, first_name=first_name, username=username
        )
        message: dict[str, Any] = {
            "message_id": chat.next_message_id,
            "date": int(self.clock.time()),
            "chat": chat.to_dict(),
            "from": dict(user),
        }
        chat.next_message_id += 1
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                command = text.split(maxsplit=1)[0]
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
                ]
        if reply_to_message_id is not None:
            target = self.messages.get((chat.id, reply_to_message_id))
            if target is not None:
                message["reply_to_message"] = target.to_dict()
        message.update(fields)
        self.messages[(chat.id, message["message_id"])] = SentMessage(
            chat,
            message["message_id"],
            text or "",
            text or "",
            message.get("entities", []),
            None,
            message["date"],
            self.clock.monotonic(),
            from_bot=False,
            method="",
            sender=dict(user),
        )
        return self.push_update({"message": message})

    def push_edited_message(
        self, chat_id: int, message_id: int, text: str, *, user_id: int | None = None
    ) -> dict[str, Any]:
        """A user edits one of their earlier messages."""
        chat, user = self._user_chat(chat_id, user_id, None, None)
        original = self.messages.get((chat.id, message_id))
        date = original.date if original else int(self.clock.time())
        message = {
            "message_id": message_id,
            "date": date,
            "chat": chat.to_dict(),
            "from": dict(user),
            "text": text,
            "edit_date": int(self.clock.time()),
        }
        return self.push_update({"edited_message": message})

    def push_sticker(
        self, chat_id: int, user_id: int | None = None, *, emoji: str = "👍"
    ) -> dict[str, Any]:
        """A user sends a sticker (a message without text)."""
        sticker = {
            "file_id": "CAACAgIAAxkBAAE",
            "file_unique_id": "AgADsticker",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self.push_message(chat_id, user_id, None, sticker=sticker)

    def _find_message(
        self, chat_id: int, message_id: int | None, want: dict[str, str]
    ) -> SentMessage:
        if message_id is not None:
            msg = self.messages.get((chat_id, message_id))
            if msg is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            return msg
        for msg in sorted(
            (m for m in self.messages.values() if m.chat.id == chat_id),
            key=lambda m: -m.message_id,
        ):
            if (
                msg.from_bot
                and not msg.deleted
                and any(
                    all(button.get(k) == val for k, val in want.items()) for button in msg.buttons
                )
            ):
                return msg
        raise ValueError(f"no bot message in chat {chat_id} has a button {want}")

    def push_callback(
        self,
        chat_id: int,
        data: str | None = None,
        *,
        message_id: int | None = None,
        user_id: int | None = None,
        button_text: str | None = None,
        check: bool = True,
    ) -> dict[str, Any]:
        """A user presses an inline button (by callback_data or by its text) on a bot message.

        Without message_id the newest bot message in the chat carrying such a button is used.
        With check=True (default) the button must exist, as in real Telegram.
        """
        want = {"callback_data": data} if data is not None else {}
        if button_text is not None:
            want["text"] = button_text
        if not want:
            raise ValueError("give data or button_text")
        msg = self._find_message(chat_id, message_id, want if check else {})
        button = next(
            (b for b in msg.buttons if all(b.get(k) == val for k, val in want.items())), None
        )
        if button is None and check:
            raise ValueError(f"message {msg.message_id} has no button {want}: {msg.buttons}")
        if data is None:
            data = (button or {}).get("callback_data")
            if data is None:
                raise ValueError(f"button {button_text!r} has no callback_data")
        chat, user = self._user_chat(chat_id, user_id, None, None)
        if chat.type == "private" and user["id"] != chat.id:
            raise ValueError(f"only user {chat.id} can press buttons in their private chat")
        query_id = str(next(self._query_ids))
        self.callback_queries[query_id] = self.clock.monotonic()
        query = {
            "id": query_id,
            "from": dict(user),
            "chat_instance": str(-chat_id * 7919),
            "message": msg.to_dict(),
            "data": data,
        }
        return self.push_update({"callback_query": query})

    def press_button(
        self, chat_id: int, text: str, *, message_id: int | None = None, user_id: int | None = None
    ) -> dict[str, Any]:
        """Press the inline button labelled `text` on the newest bot message that has it."""
        return self.push_callback(
            chat_id, message_id=message_id, user_id=user_id, button_text=text
        )

    def push_inline_query(
        self,
        user_id: int,
        query: str = "",
        *,
        offset: str = "",
        chat_type: str = "sender",
        language_code: str | None = "ru",
    ) -> dict[str, Any]:
        """A user types `@bot query` in some chat."""
        user = self.add_user(user_id, language_code=language_code)
        query_id = str(next(self._query_ids))
        self.inline_queries[query_id] = self.clock.monotonic()
        inline = {
            "id": query_id,
            "from": dict(user),
            "query": query,
            "offset": offset,
            "chat_type": chat_type,
        }
        return self.push_update({"inline_query": inline})

    def push_chosen_inline_result(
        self,
        user_id: int,
        result_id: str,
        query: str = "",
        *,
        inline_message_id: str | None = None,
    ) -> dict[str, Any]:
        """A user picks an inline result (needs inline feedback enabled in real Telegram)."""
        chosen: dict[str, Any] = {
            "result_id": result_id,
            "from": dict(self.add_user(user_id)),
            "query": query,
        }
        if inline_message_id:
            chosen["inline_message_id"] = inline_message_id
        return self.push_update({"chosen_inline_result": chosen})

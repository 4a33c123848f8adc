"""Chats the fake server knows, their states (blocked, kicked, migrated) and chat_id lookup."""

from __future__ import annotations

import logging
import re
from typing import Any

from tests.fake_telegram_model import (
    CHAT_ERRORS,
    MIGRATED,
    ApiError,
    Call,
    FakeChat,
    SentMessage,
    bad,
)
from tests.fake_telegram_push import default_chat_type

log = logging.getLogger(__name__)


class ChatsMixin:
    """Chat registry of FakeTelegram; unknown ids are auto-created unless auto_create_chats."""

    chats: dict[int, FakeChat]
    messages: dict[tuple[int, int], SentMessage]
    _usernames: dict[str, int]
    _dead_chats: set[int]
    auto_create_chats: bool

    def add_chat(self, chat_id: int, chat_type: str | None = None, **fields: Any) -> FakeChat:
        """Register (or update) a chat: type private|group|supergroup|channel, title, username…"""
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = FakeChat(chat_id, chat_type or default_chat_type(chat_id))
        elif chat_type:
            chat.type = chat_type
        for key, value in fields.items():
            setattr(chat, key, value)
        if chat.username:
            self._usernames[chat.username.lower()] = chat_id
        return chat

    def add_channel(
        self, username: str, chat_id: int = -1001000000001, title: str = "Fake News"
    ) -> FakeChat:
        """A channel reachable as '@username' and as chat_id, with the bot as an admin."""
        return self.add_chat(chat_id, "channel", username=username.lstrip("@"), title=title)

    def chat(self, chat_id: int | str) -> FakeChat:
        """A known chat by id or '@username' (KeyError if unknown)."""
        found = self.lookup_chat(str(chat_id))
        if found is None:
            raise KeyError(chat_id)
        return found

    def set_chat_state(self, chat_id: int | str, state: str) -> FakeChat:
        """Make every later request to the chat fail: see model.CHAT_ERRORS ('ok' restores)."""
        if state != "ok" and state not in CHAT_ERRORS:
            raise ValueError(f"unknown chat state {state!r}")
        chat = self.lookup_chat(str(chat_id))
        if chat is None:
            chat = (
                self.add_channel(chat_id, -1001000000000 - len(self.chats) - 1)
                if isinstance(chat_id, str) and chat_id.startswith("@")
                else self.add_chat(int(chat_id))
            )
        chat.state = state
        if state == "ok":
            chat.migrated_to = None
            self._dead_chats.discard(chat.id)
        return chat

    def block_chat(self, chat_id: int) -> FakeChat:
        """The user blocked the bot: 403 `Forbidden: bot was blocked by the user`."""
        return self.set_chat_state(chat_id, "blocked")

    def deactivate_user(self, chat_id: int) -> FakeChat:
        """403 `Forbidden: user is deactivated`."""
        return self.set_chat_state(chat_id, "deactivated")

    def kick_bot(self, chat_id: int | str) -> FakeChat:
        """403 `Forbidden: bot was kicked from the <type> chat`."""
        return self.set_chat_state(chat_id, "kicked")

    def remove_bot(self, chat_id: int | str) -> FakeChat:
        """403 `Forbidden: bot is not a member of the <type> chat`."""
        return self.set_chat_state(chat_id, "not_member")

    def lose_chat(self, chat_id: int | str) -> FakeChat:
        """400 `Bad Request: chat not found`."""
        return self.set_chat_state(chat_id, "chat_not_found")

    def restore_chat(self, chat_id: int | str) -> FakeChat:
        """Undo any of the above (and a migration)."""
        return self.set_chat_state(chat_id, "ok")

    def delete_as_admin(self, chat_id: int | str, message_id: int) -> None:
        """A channel (or group) admin deletes a message by hand: the bot's edits of it then get
        `message to edit not found`, its deletions `message to delete not found`."""
        chat = self.chat(chat_id)
        msg = self.messages.get((chat.id, message_id))
        if msg is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        msg.deleted = True

    def migrate_chat(self, chat_id: int, new_chat_id: int | None = None) -> int:
        """Upgrade a group: the old id now gets 400 + migrate_to_chat_id; returns the new id."""
        old = self.chat(chat_id) if chat_id in self.chats else self.add_chat(chat_id, "group")
        new_id = new_chat_id or -(1_000_000_000_000 + abs(chat_id))
        self.add_chat(new_id, "supergroup", title=old.title)
        old.migrated_to = new_id
        return new_id

    def lookup_chat(self, raw: str) -> FakeChat | None:
        """Resolve a chat_id parameter ('123' or '@name') without creating anything."""
        raw = raw.strip()
        if raw.startswith("@"):
            chat_id = self._usernames.get(raw[1:].lower())
            return None if chat_id is None else self.chats.get(chat_id)
        try:
            return self.chats.get(int(raw))
        except ValueError:
            return None

    def resolve_chat(self, call: Call, *, check_state: bool = True) -> FakeChat:
        """The chat a request targets, or the error Telegram would give for it."""
        raw = (call.get("chat_id") or "").strip()
        if not raw:
            raise bad("chat_id is empty")
        chat = self.lookup_chat(raw)
        if chat is None and self.auto_create_chats:
            if raw.startswith("@") and re.fullmatch(r"@[A-Za-z][A-Za-z0-9_]{3,31}", raw):
                chat = self.add_channel(raw, -1001000000000 - len(self.chats) - 1, raw[1:])
            elif re.fullmatch(r"-?[1-9][0-9]{0,15}", raw):
                chat_id = int(raw)
                kind = "channel" if chat_id <= -1_000_000_000_000 else None
                chat = self.add_chat(
                    chat_id,
                    kind,
                    **({"first_name": f"User{chat_id}"} if chat_id > 0 else {"title": raw}),
                )
        if chat is None:
            raise ApiError(400, CHAT_ERRORS["chat_not_found"][1], kind="state", permanent=True)
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                MIGRATED,
                kind="state",
                permanent=True,
                parameters={"migrate_to_chat_id": chat.migrated_to},
            )
        if check_state and chat.state != "ok":
            status, description = CHAT_ERRORS[chat.state]
            raise ApiError(
                status, description.format(type=chat.type), kind="state", permanent=True
            )
        return chat

    def scope_key(self, scope: dict[str, Any]) -> tuple[Any, ...]:
        """A BotCommandScope as a dict key, with '@name' chat ids resolved."""
        key: list[Any] = [scope["type"]]
        if "chat_id" in scope:
            chat = self.lookup_chat(str(scope["chat_id"]))
            if chat is None and isinstance(scope["chat_id"], str):
                raise ApiError(400, CHAT_ERRORS["chat_not_found"][1], kind="state")
            key.append(chat.id if chat is not None else scope["chat_id"])
        if "user_id" in scope:
            key.append(scope["user_id"])
        return tuple(key)

"""Forum topics, silent sends and pinning in the fake server, as Telegram has them.

Topics exist only in supergroups with topics on (``is_forum``); a ``message_thread_id`` that
names no topic of the chat gives ``Bad Request: message thread not found``. pinChatMessage
needs nothing in a private chat, ``can_pin_messages`` in a group and ``can_edit_messages`` in a
channel (Bot API, pinChatMessage), else ``not enough rights to manage pinned messages in the
chat``. A pin notifies a group's members unless ``disable_notification`` (``pin_notices``); in
channels and private chats it never does.
"""

from __future__ import annotations

from typing import Any

from tests.fake_telegram_chats import ChatsMixin
from tests.fake_telegram_model import Call, FakeChat, bad

THREAD_NOT_FOUND = "message thread not found"
NO_PIN_RIGHTS = "not enough rights to manage pinned messages in the chat"
ADMIN_RIGHTS = (  # getChatMember's fields for an admin bot
    "can_be_edited",
    "is_anonymous",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
    "can_post_messages",
    "can_edit_messages",
    "can_pin_messages",
)


class ForumsMixin(ChatsMixin):
    """Forum supergroups, their topics, and what the bot may do in a chat."""

    def add_forum(
        self, chat_id: int = -1002000000001, title: str = "Fake Forum", *topics: str
    ) -> FakeChat:
        """A supergroup with topics on, the bot an admin; ``topics`` are created in order."""
        forum = self.add_chat(chat_id, "supergroup", title=title, is_forum=True)
        for name in topics:
            self.add_topic(chat_id, name)
        return forum

    def add_topic(self, chat_id: int | str, name: str) -> int:
        """Create a topic; returns its message_thread_id (the id of its creation message)."""
        chat = self.chat(chat_id)
        if not chat.is_forum:
            raise ValueError(f"chat {chat.id} is not a forum supergroup")
        thread_id = chat.next_message_id
        chat.next_message_id += 1
        chat.topics[thread_id] = name
        return thread_id

    def delete_topic(self, chat_id: int | str, thread_id: int) -> None:
        """The topic is gone: later sends to it get `message thread not found`."""
        del self.chat(chat_id).topics[thread_id]

    def set_bot_rights(self, chat_id: int | str, **rights: bool) -> FakeChat:
        """The bot stays an admin of the chat with these rights changed (others all true)."""
        chat = self.chat(chat_id)
        chat.bot_rights = {**dict.fromkeys(ADMIN_RIGHTS, True), **rights}
        chat.bot_rights.update(can_be_edited=False, is_anonymous=False)
        return chat


def bot_can(chat: FakeChat, right: str) -> bool:
    """Has the bot this admin right in the chat? (None rights: an admin with all of them.)"""
    return chat.bot_rights is None or bool(chat.bot_rights.get(right))


def thread_extra(chat: FakeChat, call: Call) -> dict[str, Any]:
    """The Message fields of a send to ``message_thread_id``, or Telegram's refusal."""
    thread_id = call.int("message_thread_id")
    if not thread_id:
        return {}
    if not (chat.type == "supergroup" and chat.is_forum and thread_id in chat.topics):
        raise bad(THREAD_NOT_FOUND, kind="state")
    return {"message_thread_id": thread_id, "is_topic_message": True}

"""Bot API methods of the fake server; each takes (server, call) and returns the `result`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from tests import fake_telegram_validate as v
from tests.fake_telegram_forums import ADMIN_RIGHTS, NO_PIN_RIGHTS, bot_can, thread_extra
from tests.fake_telegram_model import NOT_MODIFIED, ApiError, Call, SentMessage, bad
from tests.fake_telegram_updates import CONFLICT_WEBHOOK

if TYPE_CHECKING:
    from tests.fake_telegram import FakeTelegram

log = logging.getLogger(__name__)

Handler = Callable[["FakeTelegram", Call], Awaitable[Any]]
#: lower-case method name -> (canonical name, handler)
METHODS: dict[str, tuple[str, Handler]] = {}
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_NO_GIFTS = {
    "unlimited_gifts": False,
    "limited_gifts": False,
    "unique_gifts": False,
    "premium_subscription": False,
    "gifts_from_channels": False,
}


def method(name: str) -> Callable[[Handler], Handler]:
    """Register a handler under its case-insensitive Bot API name."""

    def register(func: Handler) -> Handler:
        METHODS[name.lower()] = (name, func)
        return func

    return register


@method("getMe")
async def get_me(srv: FakeTelegram, call: Call) -> Any:
    return {
        **srv.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": True,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@method("getUpdates")
async def get_updates(srv: FakeTelegram, call: Call) -> Any:
    if srv.webhook is not None:
        raise ApiError(409, CONFLICT_WEBHOOK, kind="conflict")
    allowed = call.json("allowed_updates", "allowed_updates")
    return await srv.updates.get(
        offset=call.int("offset"),
        limit=call.int("limit", 100),
        timeout=call.int("timeout"),
        allowed=allowed if isinstance(allowed, list) else None,
    )


@method("setWebhook")
async def set_webhook(srv: FakeTelegram, call: Call) -> Any:
    return srv.set_webhook(call)


@method("deleteWebhook")
async def delete_webhook(srv: FakeTelegram, call: Call) -> Any:
    return srv.delete_webhook(call)


@method("getWebhookInfo")
async def get_webhook_info(srv: FakeTelegram, call: Call) -> Any:
    return srv.webhook_info()


def _check_reply(srv: FakeTelegram, call: Call, chat_id: int) -> dict[str, Any] | None:
    reply = call.json("reply_parameters", "reply parameters")
    if reply is None and call.int("reply_to_message_id"):
        reply = {
            "message_id": call.int("reply_to_message_id"),
            "allow_sending_without_reply": call.flag("allow_sending_without_reply"),
        }
    if not isinstance(reply, dict):
        return None
    target = srv.messages.get((chat_id, int(reply.get("message_id") or 0)))
    if (target is None or target.deleted) and not reply.get("allow_sending_without_reply"):
        raise bad("message to be replied not found", kind="state")
    return target.to_dict() if target is not None and not target.deleted else None


@method("sendMessage")
async def send_message(srv: FakeTelegram, call: Call) -> Any:
    preview = v.link_preview_options(
        call.get("link_preview_options"), call.flag("disable_web_page_preview")
    )
    text = srv.check_text(call, "text")
    markup = srv.check_markup(call)
    chat = srv.resolve_chat(call)
    reply_to = _check_reply(srv, call, chat.id)
    extra: dict[str, Any] = thread_extra(chat, call)
    srv.rate_limit(chat, call)
    if preview:
        extra["link_preview_options"] = preview
    if reply_to:
        extra["reply_to_message"] = reply_to
    return srv.store_message(chat, text, call.get("text") or "", markup, call, extra).to_dict()


@method("sendPhoto")
async def send_photo(srv: FakeTelegram, call: Call) -> Any:
    photo = call.get("photo") or ""
    key = photo[len("attach://") :] if photo.startswith("attach://") else None
    if not photo or (key is not None and key not in call.files):
        raise bad("there is no photo in the request")
    caption = srv.check_text(call, "caption", caption=True)
    markup = srv.check_markup(call)
    chat = srv.resolve_chat(call)
    extra = thread_extra(chat, call)
    srv.rate_limit(chat, call)
    size = len(call.files[key]) if key is not None else 0
    file_id = f"AgAC{srv.next_file_id()}"
    sizes = [
        {
            "file_id": file_id,
            "file_unique_id": file_id[-8:],
            "width": 800,
            "height": 600,
            "file_size": size,
        }
    ]
    return srv.store_message(
        chat, caption, call.get("caption") or "", markup, call, {**extra, "photo": sizes}
    ).to_dict()


def own_message(srv: FakeTelegram, call: Call, missing: str) -> SentMessage:
    chat = srv.resolve_chat(call)
    message_id = call.int("message_id")
    if not message_id:
        raise bad("message identifier is not specified")
    msg = srv.messages.get((chat.id, message_id))
    if msg is None or msg.deleted:
        raise bad(missing, kind="state")
    return msg


@method("pinChatMessage")
async def pin_chat_message(srv: FakeTelegram, call: Call) -> Any:
    msg = own_message(srv, call, "message to pin not found")
    chat = msg.chat
    if chat.type == "channel" and not bot_can(chat, "can_edit_messages"):
        raise bad(NO_PIN_RIGHTS, kind="state")
    if chat.type in ("group", "supergroup") and not bot_can(chat, "can_pin_messages"):
        raise bad(NO_PIN_RIGHTS, kind="state")
    if msg.message_id in chat.pinned:
        chat.pinned.remove(msg.message_id)
    chat.pinned.append(msg.message_id)
    if chat.type in ("group", "supergroup") and not call.flag("disable_notification"):
        chat.pin_notices.append(msg.message_id)  # always silent in channels and private chats
    return True


@method("editMessageText")
async def edit_message_text(srv: FakeTelegram, call: Call) -> Any:
    preview = v.link_preview_options(
        call.get("link_preview_options"), call.flag("disable_web_page_preview")
    )
    text = srv.check_text(call, "text")
    markup = srv.check_markup(call, inline_only=True)
    if call.get("inline_message_id"):
        srv.record_edit(None, call, text, markup)
        return True
    msg = own_message(srv, call, "message to edit not found")
    if not msg.from_bot:
        raise bad("message can't be edited", kind="state")
    if "photo" in msg.extra:
        raise bad("there is no text in the message to edit", kind="state")
    if (msg.text, msg.entities, msg.reply_markup) == (text.text, text.entities, markup):
        raise ApiError(400, NOT_MODIFIED, kind="state")
    if preview:
        msg.extra["link_preview_options"] = preview
    srv.record_edit(msg, call, text, markup)
    return msg.to_dict()


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(srv: FakeTelegram, call: Call) -> Any:
    markup = srv.check_markup(call, inline_only=True)
    if call.get("inline_message_id"):
        srv.record_edit(None, call, None, markup)
        return True
    msg = own_message(srv, call, "message to edit not found")
    if not msg.from_bot:
        raise bad("message can't be edited", kind="state")
    if msg.reply_markup == markup:
        raise ApiError(400, NOT_MODIFIED, kind="state")
    srv.record_edit(msg, call, None, markup)
    return msg.to_dict()


DELETE_WINDOW = 48 * 3600.0
"""deleteMessage works only on messages sent less than 48 hours ago (api.json)."""


@method("deleteMessage")
async def delete_message(srv: FakeTelegram, call: Call) -> Any:
    msg = own_message(srv, call, "message to delete not found")
    if srv.clock.monotonic() - msg.time >= DELETE_WINDOW:
        raise bad("message can't be deleted", kind="state")
    msg.deleted = True
    return True


@method("answerCallbackQuery")
async def answer_callback_query(srv: FakeTelegram, call: Call) -> Any:
    query_id = call.get("callback_query_id") or ""
    pushed_at = srv.callback_queries.get(query_id)
    too_old = (
        srv.answer_timeout is not None
        and pushed_at is not None
        and (srv.clock.monotonic() - pushed_at > srv.answer_timeout)
    )
    if pushed_at is None or query_id in srv.callback_answers or too_old:
        raise bad(QUERY_INVALID, kind="state")
    if len(call.get("text") or "") > 200:
        raise bad("MESSAGE_TOO_LONG")
    srv.callback_answers[query_id] = call.decoded()
    return True


@method("answerInlineQuery")
async def answer_inline_query(srv: FakeTelegram, call: Call) -> Any:
    query_id = call.get("inline_query_id") or ""
    results = v.inline_results(
        call.get("results"),
        max_buttons=srv.max_buttons,
        max_per_row=srv.max_row_buttons,
        strict_nesting=srv.strict_nesting,
    )
    if len((call.get("next_offset") or "").encode()) > 64:
        raise bad("NEXT_OFFSET_INVALID")
    call.json("button", "inline query results button")
    pushed_at = srv.inline_queries.get(query_id)
    too_old = (
        srv.answer_timeout is not None
        and pushed_at is not None
        and (srv.clock.monotonic() - pushed_at > srv.answer_timeout)
    )
    if pushed_at is None or query_id in srv.inline_answers or too_old:
        raise bad(QUERY_INVALID, kind="state")
    srv.inline_answers[query_id] = {**call.decoded(), "results": results}
    return True


@method("setMyCommands")
async def set_my_commands(srv: FakeTelegram, call: Call) -> Any:
    commands = v.bot_commands(call.get("commands"))
    key = srv.scope_key(v.command_scope(call.get("scope")))
    srv.commands[(key, v.language_code(call.get("language_code")))] = commands
    return True


@method("getMyCommands")
async def get_my_commands(srv: FakeTelegram, call: Call) -> Any:
    key = srv.scope_key(v.command_scope(call.get("scope")))
    return srv.commands.get((key, v.language_code(call.get("language_code"))), [])


@method("deleteMyCommands")
async def delete_my_commands(srv: FakeTelegram, call: Call) -> Any:
    key = srv.scope_key(v.command_scope(call.get("scope")))
    srv.commands.pop((key, v.language_code(call.get("language_code"))), None)
    return True


@method("setChatMenuButton")
async def set_chat_menu_button(srv: FakeTelegram, call: Call) -> Any:
    button = call.json("menu_button", "menu button") or {"type": "default"}
    chat_id = srv.resolve_chat(call).id if call.get("chat_id") else None
    srv.menu_buttons[chat_id] = button
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(srv: FakeTelegram, call: Call) -> Any:
    chat_id = srv.resolve_chat(call).id if call.get("chat_id") else None
    return srv.menu_buttons.get(chat_id) or srv.menu_buttons.get(None) or {"type": "default"}


def _profile_setter(field: str, limit: int) -> Handler:
    async def setter(srv: FakeTelegram, call: Call) -> Any:
        value = call.get(field) or ""
        if len(value) > limit:
            raise bad(f"{field.replace('_', ' ')} is too long")
        srv.profile[(field, v.language_code(call.get("language_code")))] = value
        return True

    return setter


def _profile_getter(field: str) -> Handler:
    async def getter(srv: FakeTelegram, call: Call) -> Any:
        lang = v.language_code(call.get("language_code"))
        return {field: srv.profile.get((field, lang), srv.profile.get((field, ""), ""))}

    return getter


for _name, _field, _limit in (
    ("MyDescription", "description", 512),
    ("MyShortDescription", "short_description", 120),
    ("MyName", "name", 64),
):
    method("set" + _name)(_profile_setter(_field, _limit))
    method("get" + _name)(_profile_getter(_field))


@method("getChat")
async def get_chat(srv: FakeTelegram, call: Call) -> Any:
    chat = srv.resolve_chat(call, check_state=False)
    return {
        **chat.to_dict(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": dict(_NO_GIFTS),
    }


@method("getChatMember")
async def get_chat_member(srv: FakeTelegram, call: Call) -> Any:
    chat = srv.resolve_chat(call, check_state=False)
    user_id = call.int("user_id")
    if user_id != srv.bot_id:
        user = srv.users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": "User"}
        return {"status": "member", "user": user}
    bot = srv.bot_user
    if chat.state == "kicked":
        return {"status": "kicked", "user": bot, "until_date": 0}
    if chat.state == "not_member":
        return {"status": "left", "user": bot}
    if chat.type == "private":
        return {"status": "member", "user": bot}
    rights = dict(chat.bot_rights or dict.fromkeys(ADMIN_RIGHTS, True))
    rights.update(can_be_edited=False, is_anonymous=False)
    return {"status": "administrator", "user": bot, **rights}


@method("sendChatAction")
async def send_chat_action(srv: FakeTelegram, call: Call) -> Any:
    if call.get("action") not in CHAT_ACTIONS:
        raise bad("wrong parameter action in request")
    srv.resolve_chat(call)
    return True


@method("leaveChat")
async def leave_chat(srv: FakeTelegram, call: Call) -> Any:
    srv.resolve_chat(call).state = "not_member"
    return True

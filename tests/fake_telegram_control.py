"""The standalone fake server's control routes (``python -m tests.fake_telegram``): what a test
does in Python (push a message, press a button, add a channel or a forum, kick the bot, read
what the bot sent), over HTTP under ``/_fake/`` for a bot running as its own process.

Telegram has no such routes; tests that build a FakeTelegram in process never get them.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from tests.fake_telegram import FakeTelegram
    from tests.fake_telegram_model import SentMessage


_dumps = functools.partial(json.dumps, ensure_ascii=False)  # readable Cyrillic in curl


def _message(m: SentMessage) -> dict[str, Any]:
    return {
        "chat_id": m.chat_id,
        "message_id": m.message_id,
        "seq": m.seq,
        "text": m.text,
        "html": m.html,
        "buttons": m.buttons,
        "silent": m.silent,
        "message_thread_id": m.extra.get("message_thread_id"),
        "deleted": m.deleted,
        "edits": len(m.history),
    }


def add_control_routes(app: web.Application, server: FakeTelegram) -> None:
    """Register the ``/_fake/…`` routes (before the catch-all)."""

    async def body(request: web.Request) -> dict[str, Any]:
        data = await request.json() if request.can_read_body else {}
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text="a JSON object is expected")
        return data

    def answer(handler: Any) -> Any:
        async def run(request: web.Request) -> web.Response:
            try:
                return web.json_response(await handler(await body(request), request), dumps=_dumps)
            except (KeyError, ValueError, TypeError) as exc:
                return web.json_response({"ok": False, "error": repr(exc)}, status=400)

        return run

    async def message(data: dict[str, Any], _: web.Request) -> Any:
        return server.push_message(
            int(data["chat_id"]),
            data.get("user_id"),
            data["text"],
            language_code=data.get("language_code", "ru"),
            first_name=data.get("first_name"),
        )

    async def press(data: dict[str, Any], _: web.Request) -> Any:
        update = server.push_callback(
            int(data["chat_id"]),
            data.get("data"),
            message_id=data.get("message_id"),
            user_id=data.get("user_id"),
            button_text=data.get("text"),
            check=data.get("check", True),
        )
        return {"callback_query_id": update["callback_query"]["id"]}

    async def answers(_: dict[str, Any], request: web.Request) -> Any:
        return server.callback_answers.get(request.query["id"])

    async def messages(_: dict[str, Any], request: web.Request) -> Any:
        chat = request.query.get("chat_id")
        since = int(request.query.get("since", 0))
        found = server.sent_messages(server.chat(chat).id if chat else None, since=since)
        return [_message(m) for m in found]

    async def chat(data: dict[str, Any], _: web.Request) -> Any:
        kind, chat_id = data.get("kind", "channel"), int(data["chat_id"])
        if kind == "channel":
            made = server.add_channel(data["username"], chat_id, data.get("title", "Fake News"))
        elif kind == "forum":
            made = server.add_forum(chat_id, data.get("title", "Fake Forum"))
        else:
            made = server.add_chat(chat_id, kind, title=data.get("title", f"Chat {chat_id}"))
        topics = {name: server.add_topic(made.id, name) for name in data.get("topics", [])}
        return {"chat_id": made.id, "topics": topics}

    async def state(data: dict[str, Any], _: web.Request) -> Any:
        """``{"chat_id": …, "state": "kicked" | "ok" | …}`` (see set_chat_state)."""
        server.set_chat_state(data["chat_id"], data["state"])
        return {"ok": True}

    routes = {
        "message": ("POST", message),
        "press": ("POST", press),
        "answer": ("GET", answers),
        "messages": ("GET", messages),
        "chat": ("POST", chat),
        "state": ("POST", state),
    }
    for name, (method, handler) in routes.items():
        app.router.add_route(method, f"/_fake/{name}", answer(handler))

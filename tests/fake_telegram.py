"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests and benchmarks.

The real aiogram Bot talks to it over HTTP; it validates requests like Telegram (rules.md),
enforces flood limits, injects faults and records everything (see docs/development.md).

    async with FakeTelegram() as server:
        bot = server.make_bot()
        server.push_message(42, text="/start")
        [reply] = await server.wait_for_messages(42, 1)
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from typing import Any

from aiohttp import web

from tests import fake_telegram_validate as v
from tests.fake_telegram_control import add_control_routes
from tests.fake_telegram_faults import FaultsMixin
from tests.fake_telegram_forums import ForumsMixin
from tests.fake_telegram_limits import Clock, Limits, RateLimiter, RealClock, VirtualClock
from tests.fake_telegram_methods import METHODS
from tests.fake_telegram_model import (
    BAD_GATEWAY_HTML,
    ApiError,
    Call,
    FakeChat,
    Fault,
    RequestRecord,
    RetryViolation,
    SentMessage,
    bad,
    too_many,
)
from tests.fake_telegram_push import PushMixin
from tests.fake_telegram_records import RecordsMixin
from tests.fake_telegram_updates import UpdateQueue
from tests.fake_telegram_webhook import WebhookMixin, WebhookPost

__all__ = [
    "ApiError",
    "Clock",
    "FakeChat",
    "FakeTelegram",
    "Fault",
    "Limits",
    "RealClock",
    "RequestRecord",
    "RetryViolation",
    "SentMessage",
    "VirtualClock",
    "WebhookPost",
]

log = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456789:AAFakeTelegramTokenForTests-0123456789"
_TOKEN = re.compile(r"[1-9][0-9]{0,15}:[^/\s]{1,70}")
#: Requests that deliver or change messages in a chat: the ones retry_after and 403 apply to.
CHAT_SCOPED = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "editmessagetext",
        "editmessagereplymarkup",
        "deletemessage",
        "sendchataction",
    }
)


class FakeTelegram(ForumsMixin, FaultsMixin, PushMixin, RecordsMixin, WebhookMixin):
    """The server: `async with FakeTelegram(...) as server`, or await start() / stop()."""

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_username: str = "fake_news_bot",
        bot_name: str = "Fake News Bot",
        limits: Limits | None = None,
        clock: Clock | None = None,
        strict_nesting: bool = True,
        auto_create_chats: bool = True,
        max_buttons: int = 100,
        max_row_buttons: int = 8,
        answer_timeout: float | None = None,
        first_update_id: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        control: bool = False,
    ) -> None:
        self.token, self.host, self.port = token, host, port
        self.control = control
        """Serve the /_fake/ control routes (the standalone server: fake_telegram_control)."""
        self.bot_user = {
            "id": int((token or DEFAULT_TOKEN).split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self._token_seen = token is not None
        self._adopted_token: str | None = token
        self.clock: Clock = clock or RealClock()
        self.limits = limits if limits is not None else Limits()
        self.limiter = RateLimiter(self.limits, self.clock)
        self.strict_nesting, self.auto_create_chats = strict_nesting, auto_create_chats
        self.max_buttons, self.max_row_buttons = max_buttons, max_row_buttons
        self.answer_timeout = answer_timeout
        self._changed = asyncio.Event()
        self.updates = UpdateQueue(first_update_id, self._notify)
        self.chats: dict[int, FakeChat] = {}
        self._usernames: dict[str, int] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], SentMessage] = {}
        self.callback_queries: dict[str, float] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.inline_queries: dict[str, float] = {}
        self.inline_answers: dict[str, dict[str, Any]] = {}
        self.commands: dict[tuple[tuple[Any, ...], str], list[dict[str, str]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.profile: dict[tuple[str, str], str] = {}
        self.faults: list[Fault] = []
        self._flood_until: dict[int, float] = {}
        self._dead_chats: set[int] = set()
        self._bad_requests: set[tuple[str, str]] = set()
        self._file_ids = 0
        self._init_records()
        self._init_webhook()
        self._runner: web.AppRunner | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What to give TelegramAPIServer.from_base / TELEGRAM_API_URL."""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """Alias of base_url."""
        return self.base_url

    @property
    def bot_id(self) -> int:
        """The bot's user id (from `token`, or from the first token a client used)."""
        return int(self.bot_user["id"])

    async def start(self) -> FakeTelegram:
        """Listen on host:port (port 0 picks a free one, then `port` holds it)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        if self.control:
            add_control_routes(app, self)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        log.info("fake Telegram listening on %s", self.base_url)
        return self

    async def stop(self) -> None:
        """Stop webhook deliveries, release long polls and close the listener."""
        await self._stop_webhook()
        self.updates.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def api_server(self) -> Any:
        """aiogram's TelegramAPIServer for this server."""
        from aiogram.client.telegram import TelegramAPIServer

        return TelegramAPIServer.from_base(self.base_url)

    def make_bot(
        self, token: str | None = None, *, timeout: float = 60.0, **bot_kwargs: Any
    ) -> Any:
        """A real aiogram Bot whose session points here; close it with bot.session.close()."""
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession

        session = AiohttpSession(api=self.api_server(), timeout=timeout)
        token = token or self._adopted_token or DEFAULT_TOKEN
        return Bot(token, session=session, **bot_kwargs)

    # ---- used by the method handlers --------------------------------------------------------

    def check_text(self, call: Call, key: str, *, caption: bool = False) -> v.Formatted:
        """Validate text/caption + parse_mode (+ entities); strict mode rejects bad nesting."""
        entities_key = "caption_entities" if caption else "entities"
        text = v.formatted_text(
            call.get(key), call.get("parse_mode"), call.get(entities_key), caption=caption
        )
        if text.nesting_errors:
            if self.strict_nesting:
                raise v.strict_nesting_error(text.nesting_errors[0])
            self.nesting_warnings.append((call.get(key) or "", text.nesting_errors))
        return text

    def check_markup(self, call: Call, *, inline_only: bool = False) -> dict[str, Any] | None:
        """Validate reply_markup with this server's button limits."""
        return v.reply_markup(
            call.get("reply_markup"),
            max_buttons=self.max_buttons,
            max_per_row=self.max_row_buttons,
            inline_only=inline_only,
        )

    def rate_limit(self, chat: FakeChat, call: Call) -> None:
        """Spend a flood-limit slot for this send, or raise 429."""
        if not self.limiter.applies_to(call.method):
            return
        wait = self.limiter.check(
            chat.id, is_group=chat.type != "private", paid=call.flag("allow_paid_broadcast")
        )
        if wait:
            raise too_many(wait, "rate")

    def next_file_id(self) -> int:
        """A fresh number for file ids."""
        self._file_ids += 1
        return self._file_ids

    def store_message(
        self,
        chat: FakeChat,
        text: v.Formatted,
        html: str,
        markup: dict[str, Any] | None,
        call: Call,
        extra: dict[str, Any],
    ) -> SentMessage:
        """Record an accepted message from the bot and give it the chat's next message_id."""
        msg = SentMessage(
            chat,
            chat.next_message_id,
            text.text,
            html,
            text.entities,
            markup,
            int(self.clock.time()),
            self.clock.monotonic(),
            method=METHODS[call.method][0],
            parse_mode=call.get("parse_mode"),
            extra=extra,
            sender=dict(self.bot_user),
            seq=call.seq,
            silent=call.flag("disable_notification"),
        )
        chat.next_message_id += 1
        self.messages[(chat.id, msg.message_id)] = msg
        self.sent.append(msg)
        self._sent_by_chat.setdefault(chat.id, []).append(msg)
        return msg

    # ---- the HTTP pipeline ------------------------------------------------------------------

    async def _not_found(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _read_call(self, request: web.Request, method: str) -> Call:
        params = dict(request.query)
        files: dict[str, bytes] = {}
        if request.can_read_body and request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                raise bad("can't parse request JSON object")
            for key, value in body.items():
                if value is not None:
                    params[key] = value if isinstance(value, str) else json.dumps(value)
        elif request.can_read_body:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[key] = value.file.read()
                    params.setdefault(key, f"attach://{key}")
                else:
                    params[key] = str(value)
        return Call(method.lower(), params, files)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self._seq += 1
        rec = RequestRecord(self._seq, request.match_info["method"], {}, self.clock.monotonic())
        fault: Fault | None = None
        call: Call | None = None
        try:
            if not _TOKEN.fullmatch(request.match_info["token"]):
                raise ApiError(401, "Unauthorized: invalid token specified", kind="auth")
            self._check_token(request.match_info["token"])
            rec.content_type = request.content_type if request.can_read_body else ""
            call = await self._read_call(request, rec.method)
            call.seq = rec.seq
            rec.params = call.decoded()
            if call.method not in METHODS:
                raise ApiError(404, "Not Found: method not found", kind="routing")
            rec.method, handler = METHODS[call.method]
            rec.chat_id = self._chat_of(call)
            self._before(rec, call)
            fault = self._take_fault(call.method, rec.chat_id, call.get("chat_id") or "")
            if fault is None or fault.process:
                rec.result = await handler(self, call)
                rec.status, rec.ok = 200, True
            elif fault.kind not in ("drop", "502"):
                raise self._fault_error(fault, rec.chat_id)
        except ApiError as e:
            if call is not None and rec.chat_id is None:
                rec.chat_id = self._chat_of(call)
            self._failed(rec, e)
        except Exception as e:  # a bug in this fake: answer in Telegram's shape, keep a record
            log.exception("fake Telegram failed on %s", rec.method)
            self.internal_errors.append(rec)
            self._failed(
                rec, ApiError(500, f"Internal Server Error: fake server bug: {e!r}", kind="bug")
            )
        if fault is None or (fault.process and not rec.ok):
            self._finish(rec)
            return self._response(rec)
        rec.fault = fault.kind
        if fault.kind == "delay":
            self._finish(rec)
            await asyncio.sleep(fault.delay)
            return self._response(rec)
        if fault.kind in ("drop", "502"):
            rec.ok, rec.kind, rec.status = False, "scripted", 502 if fault.kind == "502" else 0
            self._finish(rec)
            if fault.kind == "502":
                return web.Response(status=502, text=BAD_GATEWAY_HTML, content_type="text/html")
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)
        if fault.process:
            self._failed(rec, self._fault_error(fault, rec.chat_id))
        self._finish(rec)
        return self._response(rec)

    def _check_token(self, token: str) -> None:
        """With token=None any well-formed token works and the first one fixes the bot's id."""
        if not self._token_seen:
            self._token_seen, self._adopted_token = True, token
            self.bot_user["id"] = int(token.split(":", 1)[0])
        elif self.token is not None and token != self.token:
            raise ApiError(401, "Unauthorized", kind="auth")

    def _chat_of(self, call: Call) -> int | None:
        """The chat a request targets, as an int id when it can be known."""
        raw = (call.get("chat_id") or "").strip()
        chat = self.lookup_chat(raw)
        if chat is not None:
            return chat.id
        return int(raw) if re.fullmatch(r"-?[0-9]{1,18}", raw) else None

    def _before(self, rec: RequestRecord, call: Call) -> None:
        """Checks that watch the bot's behaviour: early retries and sends to dead chats."""
        if rec.chat_id is None or call.method not in CHAT_SCOPED:
            return
        if rec.chat_id in self._dead_chats:
            self.sends_after_permanent_error.append(rec)
        until = self._flood_until.get(rec.chat_id, 0.0)
        if rec.time < until:
            self.retry_violations.append(RetryViolation(rec, rec.chat_id, until, until - rec.time))
            raise too_many(max(1, math.ceil(until - rec.time)), "violation")

    def _failed(self, rec: RequestRecord, e: ApiError) -> None:
        rec.ok, rec.status, rec.description = False, e.status, e.description
        rec.parameters, rec.kind = e.parameters, e.kind
        if rec.chat_id is not None and e.status == 429 and e.parameters:
            until = rec.time + e.parameters["retry_after"]
            self._flood_until[rec.chat_id] = max(self._flood_until.get(rec.chat_id, 0.0), until)
        if e.permanent and rec.chat_id is not None:
            self._dead_chats.add(rec.chat_id)
        if e.kind == "validation":
            key = (rec.method, json.dumps(rec.params, sort_keys=True, default=str))
            if key in self._bad_requests:
                self.repeated_bad_requests.append(rec)
            self._bad_requests.add(key)

    def _response(self, rec: RequestRecord) -> web.Response:
        if rec.ok:
            return web.json_response({"ok": True, "result": rec.result})
        body: dict[str, Any] = {
            "ok": False,
            "error_code": rec.status,
            "description": rec.description,
        }
        headers = {}
        if rec.parameters:
            body["parameters"] = rec.parameters
            if "retry_after" in rec.parameters:
                headers["Retry-After"] = str(rec.parameters["retry_after"])
        return web.json_response(body, status=rec.status, headers=headers)


async def _serve(port: int, limits: bool) -> None:
    """Run a server until interrupted (manual runs: TELEGRAM_API_URL=<printed url>)."""
    server = FakeTelegram(port=port, limits=None if limits else Limits.off(), control=True)
    await server.start()
    print(f"{server.base_url}  (any well-formed bot token works; control: /_fake/)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--no-limits", action="store_true")
    args = parser.parse_args()
    asyncio.run(_serve(args.port, not args.no_limits))

"""The webhook endpoint: aiogram's SimpleRequestHandler, made strict about what it accepts.

aiogram's handler checks the secret, but a body that is not an update makes it answer 500 (or
fail inside a background task). Here a request without the right
``X-Telegram-Bot-Api-Secret-Token`` gets 401 and a body that is not a JSON update gets 400,
before anything reaches the Dispatcher. An accepted update is answered (200) once its handler
finished, so Telegram redelivers what a crash interrupted, as with polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

import orjson
from aiogram import Bot, Dispatcher
from aiogram.exceptions import ClientDecodeError, TelegramAPIError
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from pydantic import ValidationError

from bot.observe import NO_OBSERVER, Observer
from bot.telegram.startup import reason

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class CheckedRequestHandler(SimpleRequestHandler):
    """POST <path>: 401 without the secret, 400 for a body that is not an update, else the
    update goes to the Dispatcher like a polled one."""

    def __init__(
        self, dispatcher: Dispatcher, bot: Bot, *, secret: str, observer: Observer = NO_OBSERVER
    ) -> None:
        super().__init__(dispatcher, bot, handle_in_background=False, secret_token=secret)
        self.observer = observer

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        """Constant-time comparison; an empty configured secret never matches."""
        return bool(self.secret_token) and secrets.compare_digest(
            telegram_secret_token.encode(), (self.secret_token or "").encode()
        )

    async def handle(self, request: web.Request) -> web.Response:
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), self.bot):
            log.warning("webhook: request without the right secret from %s", request.remote)
            return web.Response(status=401, text="Unauthorized")
        update = _update(await request.read(), self.bot)
        if update is None:
            log.warning("webhook: a body that is not an update from %s", request.remote)
            return web.Response(status=400, text="Bad Request: not a Telegram update")
        self.observer.telegram_reached()
        result = await self.dispatcher.feed_webhook_update(self.bot, update, **self.data)
        return web.Response(body=self._build_response_writer(bot=self.bot, result=result))

    async def close(self) -> None:
        """The App closes the Bot's session after the Dispatcher's shutdown, not aiohttp."""


def mount(
    web_app: web.Application,
    dp: Dispatcher,
    bot: Bot,
    *,
    path: str,
    secret: str,
    observer: Observer = NO_OBSERVER,
) -> None:
    """Serve the webhook at ``path`` of ``web_app`` and run the Dispatcher's startup/shutdown
    with the server's (``polling=False``: there is no getUpdates offset to confirm at stop)."""
    setup_application(web_app, dp, bot=bot, polling=False)
    handler = CheckedRequestHandler(dp, bot, secret=secret, observer=observer)
    handler.register(web_app, path=path)


def _update(body: bytes, bot: Bot) -> Update | None:
    """The update in ``body``, or None when it is not a JSON object with an int update_id that
    aiogram can read (unknown update kinds pass: Telegram adds new ones)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        return None
    try:
        return Update.model_validate(data, context={"bot": bot})
    except ValidationError:
        return None


class WebhookProbe:
    """Asks getWebhookInfo every ``every`` seconds: a quiet webhook bot still knows it reaches
    Telegram (readiness), and Telegram's delivery errors reach the log."""

    def __init__(self, bot: Bot, every: float) -> None:
        self.bot = bot
        self.every = every
        self._last_error: str | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhook-probe")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                info = await self.bot.get_webhook_info(request_timeout=10)
            except (TelegramAPIError, ClientDecodeError) as exc:
                log.warning("getWebhookInfo failed: %s", reason(exc))
                continue
            error = info.last_error_message
            if error and error != self._last_error:
                log.warning("Telegram cannot deliver to the webhook: %s", error)
            self._last_error = error

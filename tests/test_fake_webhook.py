"""The fake server's webhooks behave as Telegram's: setWebhook's checks, getUpdates' 409, and
queued updates POSTed with the secret header until the bot answers 2xx."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiohttp import web

from tests.fake_telegram import FakeTelegram
from tests.helpers import TEST_TOKEN, wait_until

USER = 42
URL = "https://bot.example/tg/hook"


@pytest.fixture
async def tg() -> AsyncIterator[tuple[FakeTelegram, Bot]]:
    async with FakeTelegram() as server:
        bot = server.make_bot(TEST_TOKEN)
        try:
            yield server, bot
        finally:
            await bot.session.close()


class Receiver:
    """A stand-in webhook endpoint on 127.0.0.1 answering the statuses it is told to."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, Any], str | None]] = []
        self.statuses: list[int] = []
        self.runner: web.AppRunner | None = None
        self.base = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append(
            (await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/tg/hook", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"url": "http://bot.example/hook"}, "bad webhook: An HTTPS URL must be provided"),
        ({"url": "https://bot.example:8080/hook"}, "only on ports 80, 88, 443 or 8443"),
        ({"url": URL, "secret_token": "has space"}, "secret token contains unallowed characters"),
        ({"url": URL, "secret_token": "x" * 257}, "secret token is too long"),
    ],
)
async def test_set_webhook_checks_like_telegram(
    tg: tuple[FakeTelegram, Bot], kwargs: dict[str, str], error: str
) -> None:
    server, bot = tg
    with pytest.raises(TelegramBadRequest, match=error):
        await bot.set_webhook(**kwargs)
    assert server.webhook is None
    assert (await bot.get_webhook_info()).url == ""


async def test_updates_are_posted_with_the_secret_until_accepted(
    tg: tuple[FakeTelegram, Bot],
) -> None:
    server, bot = tg
    receiver = await Receiver().start()
    server.webhook_retry_delay = 0.05
    try:
        server.route_webhook("https://bot.example", receiver.base)
        receiver.statuses = [500]
        await bot.set_webhook(URL, secret_token="s3cret_-X", allowed_updates=["message"])
        info = await bot.get_webhook_info()
        assert info.url == URL and info.allowed_updates == ["message"]
        with pytest.raises(TelegramConflictError, match="can't use getUpdates method while"):
            await bot.get_updates()
        server.push_inline_query(USER, "filtered out")
        first = server.push_message(USER, text="one")
        second = server.push_message(USER, text="two")

        async def both_confirmed() -> bool:
            return not server.updates.pending and len(receiver.got) == 3

        await wait_until(both_confirmed)
        ids = [update["update_id"] for update, _ in receiver.got]
        assert ids == [first["update_id"], first["update_id"], second["update_id"]]  # 500: again
        assert {secret for _, secret in receiver.got} == {"s3cret_-X"}
        assert [p.status for p in server.webhook_posts] == [500, 200, 200]
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0
        assert (
            info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        )
        await bot.delete_webhook()
        assert await bot.get_updates(timeout=0) == []
        server.push_message(USER, text="polled again")
        await asyncio.sleep(0.1)
        assert len(receiver.got) == 3  # no webhook: nothing posted
        assert [u.message.text for u in await bot.get_updates(timeout=0)] == ["polled again"]
    finally:
        assert receiver.runner is not None
        await receiver.runner.cleanup()

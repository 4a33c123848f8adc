"""The standalone fake server's /_fake/ control routes: a bot running as its own process can
be talked to and watched over HTTP; an in-process FakeTelegram has no such routes."""

from __future__ import annotations

import aiohttp
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from tests.fake_telegram import FakeTelegram


async def test_control_routes_push_press_and_show_what_the_bot_sent() -> None:
    async with FakeTelegram(control=True) as server, aiohttp.ClientSession() as http:
        bot = server.make_bot()
        base = f"{server.base_url}/_fake"
        try:
            async with http.post(
                f"{base}/chat", json={"kind": "forum", "chat_id": -1002000000001, "topics": ["A"]}
            ) as r:
                forum = await r.json()
            assert forum["chat_id"] == -1002000000001 and forum["topics"]["A"] > 0
            async with http.post(f"{base}/message", json={"chat_id": 42, "text": "/start"}) as r:
                assert r.status == 200
            [update] = await bot.get_updates()
            assert update.message is not None and update.message.text == "/start"
            keyboard = [[InlineKeyboardButton(text="Жми", callback_data="x:1")]]
            await bot.send_message(
                -1002000000001,
                "в тему",
                message_thread_id=forum["topics"]["A"],
                disable_notification=True,
            )
            await bot.send_message(
                42,
                "<b>привет</b>",
                parse_mode="HTML",
                reply_markup=InlineKeyboardMarkup(inline_keyboard=keyboard),
            )
            async with http.get(f"{base}/messages", params={"chat_id": "42"}) as r:
                [sent] = await r.json()
            assert (sent["text"], sent["html"]) == ("привет", "<b>привет</b>")
            assert sent["buttons"] == [{"text": "Жми", "callback_data": "x:1"}]
            async with http.get(f"{base}/messages", params={"chat_id": "-1002000000001"}) as r:
                [topic_post] = await r.json()
            assert topic_post["silent"] and topic_post["message_thread_id"] == forum["topics"]["A"]
            async with http.post(f"{base}/press", json={"chat_id": 42, "text": "Жми"}) as r:
                query_id = (await r.json())["callback_query_id"]
            [press] = await bot.get_updates(offset=update.update_id + 1)
            assert press.callback_query is not None and press.callback_query.data == "x:1"
            await bot.answer_callback_query(query_id, text="ок")
            async with http.get(f"{base}/answer", params={"id": query_id}) as r:
                assert (await r.json())["text"] == "ок"
            async with http.post(f"{base}/press", json={"chat_id": 42, "text": "Нет"}) as r:
                assert r.status == 400  # no such button: as in Telegram, nothing to press
            async with http.post(f"{base}/state", json={"chat_id": 42, "state": "blocked"}) as r:
                assert r.status == 200
            async with http.post(
                f"{server.base_url}/bot{bot.token}/sendMessage", json={"chat_id": 42, "text": "x"}
            ) as r:
                assert r.status == 403
        finally:
            await bot.session.close()


async def test_an_in_process_server_has_no_control_routes() -> None:
    async with (
        FakeTelegram() as server,
        aiohttp.ClientSession() as http,
        http.post(f"{server.base_url}/_fake/message", json={}) as r,
    ):
        assert r.status == 404

"""End to end in webhook mode: the fake server POSTs updates to the bot's own aiohttp server
(aiogram's integration); /readyz and /metrics on the same server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Secret, Settings
from bot.services.health import HealthPolicy
from bot.telegram.session import JsonSession
from bot.webhook import run_webhook
from tests.fake_telegram import FakeTelegram
from tests.helpers import ADMIN, TEST_TOKEN, free_port, say, start_bot, wait_until

CHAT = 42
ORIGIN = "https://bot.example"
URL = ORIGIN + "/tg/hook"
SECRET = "webhook-Secret_42"
TITLE = "В России назвали Беларусь стратегическим партнером в сфере военно-технического"
FAST_HEALTH = HealthPolicy(api_window=1.0, probe_every=0.2, snapshot_ttl=0.0)


def webhook_settings(settings: Settings, fake: FakeTelegram, **changes: object) -> Settings:
    return replace(
        settings,
        bot_token=Secret(TEST_TOKEN),
        telegram_api_url=fake.url,
        webhook_url=URL,
        webhook_secret=Secret(SECRET),
        http_listen=("127.0.0.1", free_port()),
        http_listen_set=True,
        **changes,
    )


@dataclass
class Hooked:
    """The bot running ``run_webhook`` in this process, and its HTTP server's address."""

    fake: FakeTelegram
    base: str
    stop: asyncio.Event
    task: asyncio.Task[int]

    async def get(self, path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as s, s.get(self.base + path) as resp:
            return resp.status, await resp.text()

    async def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        status, text = await self.get("/metrics")
        assert status == 200
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


async def start_hooked(settings: Settings, fake: FakeTelegram) -> Hooked:
    fake.route_webhook(ORIGIN, f"http://{settings.http_listen[0]}:{settings.http_listen[1]}")
    stop = asyncio.Event()
    session = JsonSession.over(fake.url, timeout=5)
    task = asyncio.create_task(
        run_webhook(settings, policy=FAST_HEALTH, session=session, stop=stop)
    )
    hooked = Hooked(fake, f"http://127.0.0.1:{settings.http_listen[1]}", stop, task)

    async def webhook_set() -> bool:
        assert not task.done(), f"run_webhook ended: {task.result()}"
        return fake.webhook is not None

    await wait_until(webhook_set)
    return hooked


@pytest.fixture
async def hooked(settings: Settings, fake: FakeTelegram) -> AsyncIterator[Hooked]:
    bot = await start_hooked(
        webhook_settings(settings, fake, channel_id="@news", admin_ids=frozenset({ADMIN})), fake
    )
    yield bot
    bot.stop.set()
    assert await asyncio.wait_for(bot.task, 20) == 0
    fake.assert_clean()


async def test_set_webhook_with_the_handled_update_types(hooked: Hooked) -> None:
    assert hooked.fake.webhook is not None
    [call] = hooked.fake.calls("setWebhook")
    assert call.params["url"] == URL and call.params["secret_token"] == SECRET
    assert call.params["drop_pending_updates"] == "false"  # sent, and false: keep the queue
    allowed = set(call.params["allowed_updates"])
    assert {"message", "callback_query", "inline_query"} <= allowed
    assert "chat_member" not in allowed
    assert hooked.fake.calls("getWebhookInfo")  # checked that it took
    assert not hooked.fake.calls("getUpdates")


async def test_latest_and_search_reply_as_in_polling(
    hooked: Hooked, settings: Settings, tmp_path: Path
) -> None:
    fake = hooked.fake
    [latest] = await say(fake, CHAT, "/latest")
    [found] = await say(fake, CHAT, "/search партнёр")
    assert TITLE in latest.text and "партнер" in found.text.lower()
    assert {p.status for p in fake.webhook_posts} == {200}
    async with FakeTelegram() as other:  # the same commands by long polling
        polled = await start_bot(replace(settings, db_path=tmp_path / "polled.sqlite3"), other)
        try:
            [latest_p] = await say(other, CHAT, "/latest")
            [found_p] = await say(other, CHAT, "/search партнёр")
        finally:
            await polled.stop()
    assert (latest.html, latest.reply_markup) == (latest_p.html, latest_p.reply_markup)
    assert (found.html, found.reply_markup) == (found_p.html, found_p.reply_markup)


@pytest.mark.parametrize(
    "secret", [None, "", "wrong-secret", SECRET + "x", SECRET.lower()], ids=repr
)
async def test_a_wrong_or_missing_secret_gets_401_and_no_reply(
    hooked: Hooked, secret: str | None
) -> None:
    fake = hooked.fake
    update = {
        "update_id": 900,
        "message": {
            "message_id": 1,
            "date": 1_750_000_000,
            "chat": {"id": CHAT, "type": "private", "first_name": "Eve"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "Eve"},
            "text": "/latest",
        },
    }
    mark = fake.mark()
    status, _ = await fake.post_to_webhook(update, secret=secret, use_secret=False)
    assert status == 401
    await asyncio.sleep(0.3)
    assert fake.sent_messages(CHAT, since=mark) == []
    assert ("newsbot_updates_total", (("outcome", "ok"), ("type", "message"))) not in (
        await hooked.metrics()
    )
    status, _ = await fake.post_to_webhook(update)  # the same update with the secret: answered
    assert status == 200
    [reply] = await fake.wait_for_messages(CHAT, 1, since=mark)
    assert TITLE in reply.text


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'"update"',
        b"{}",
        b'{"update_id": "7"}',
        b'{"update_id": 7, "message": {"text": "/latest"}}',
        b'{"update_id": 7, "message": "hi"}',
        b"\xff\xfe{",
    ],
)
async def test_a_body_that_is_not_an_update_gets_400(hooked: Hooked, body: bytes) -> None:
    fake = hooked.fake
    mark = fake.mark()
    status, text = await fake.post_to_webhook(body)
    assert status == 400, text
    await asyncio.sleep(0.2)
    assert fake.sent_messages(CHAT, since=mark) == []
    assert not [k for k in await hooked.metrics() if k[0] == "newsbot_updates_total"]
    [reply] = await say(fake, CHAT, "/latest")  # and the bot goes on
    assert TITLE in reply.text


async def test_readiness_follows_telegram(hooked: Hooked) -> None:
    fake = hooked.fake

    async def status(path: str) -> int:
        return (await hooked.get(path))[0]

    async def ready() -> bool:
        return await status("/readyz") == 200

    await wait_until(ready)
    fault = fake.fail_next("502", times=None)  # every request: a proxy's HTML 502
    try:
        await wait_until(lambda: _not(ready), timeout=5)
        code, body = await hooked.get("/readyz")
        assert code == 503 and '"telegram"' in body and '"database"' not in body
        assert await status("/healthz") == 200  # alive, only not ready
    finally:
        fault.cancel()
    await wait_until(ready, timeout=5)


async def _not(check: object) -> bool:
    assert callable(check)
    return not await check()


async def test_metrics_count_updates_sends_and_429s(hooked: Hooked) -> None:
    fake = hooked.fake
    news = fake.chat("@news").id
    await fake.wait_for_messages(news, 1)  # the backlog post of the one seed article
    await say(fake, CHAT, "/latest")
    await say(fake, CHAT, "/search партнёр")
    fake.fail_next("429", method="sendMessage", chat_id="@news", retry_after=1)
    await say(fake, ADMIN, "/post 1")
    await fake.wait_for_messages(news, 2, timeout=10)

    async def counted() -> bool:
        got = await hooked.metrics()
        return (
            got.get(
                _key("newsbot_deliveries_total", kind="channel", action="send", result="ok"), 0
            )
            == 2
        )

    await wait_until(counted)
    m = await hooked.metrics()
    assert m[_key("newsbot_deliveries_total", kind="channel", action="send", result="retry")] == 1
    assert m[_key("newsbot_telegram_429_total")] == 1
    assert m[_key("newsbot_telegram_retry_after_seconds_total")] == 1
    assert m[_key("newsbot_updates_total", type="message", outcome="ok")] == 3
    assert m[_key("newsbot_reply_latency_seconds_count")] == 3
    assert m[_key("newsbot_search_seconds_count")] == 1
    assert m[_key("newsbot_articles", state="visible")] == 1
    assert m[_key("newsbot_outbox_deliveries", kind="channel", state="sent")] == 2
    assert m[_key("newsbot_outbox_deliveries", kind="channel", state="queued")] == 0
    last_post = m[_key("newsbot_channel_last_post_timestamp_seconds", chat_id="@news")]
    assert last_post == pytest.approx(fake.sent_messages(news)[-1].date, abs=2)
    assert m[_key("newsbot_ingest_scans_total", result="ok")] >= 1
    assert m[_key("newsbot_ingest_files_total", result="unchanged")] >= 1  # the seed, rescanned
    assert m[_key("newsbot_subscribers")] == 0
    labels = {v for k in m for _, v in k[1]}
    assert not [v for v in labels if TEST_TOKEN in v or "партн" in v or "Eve" in v]


async def test_metrics_count_the_edit_of_a_corrected_post(
    hooked: Hooked, settings: Settings
) -> None:
    fake = hooked.fake
    news = fake.chat("@news").id
    [post] = await fake.wait_for_messages(news, 1)  # the backlog post of the one seed article
    [seed] = [p for p in settings.seeds_dir.rglob("*.txt") if TITLE in p.read_text("utf-8")]
    seed.write_text(seed.read_text("utf-8").replace(TITLE, TITLE + " (исправлено)"), "utf-8")
    await say(fake, ADMIN, "/reload")  # the scan finds the correction; the post is edited
    await fake.wait_for(lambda: fake.message(news, post.message_id).edit_date, timeout=10)
    edit = _key("newsbot_deliveries_total", kind="channel", action="edit", result="ok")

    async def counted() -> bool:
        return (await hooked.metrics()).get(edit, 0) == 1

    await wait_until(counted)
    m = await hooked.metrics()
    assert m[_key("newsbot_deliveries_total", kind="channel", action="send", result="ok")] == 1
    assert "(исправлено)" in fake.message(news, post.message_id).text
    assert len(fake.sent_messages(news)) == 1  # edited in place, not posted again


def _key(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted(labels.items()))


async def test_a_refused_webhook_stops_the_start_with_telegrams_reason(
    settings: Settings, fake_tg: FakeTelegram, capsys: pytest.CaptureFixture[str]
) -> None:
    reason = "Bad Request: bad webhook: Failed to resolve host: Name or service not known"
    fake_tg.fail_next("error", method="setWebhook", status=400, description=reason)
    s = webhook_settings(settings, fake_tg)
    code = await run_webhook(s, session=JsonSession.over(fake_tg.url, timeout=5))
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: Telegram refused the webhook {URL}: {reason}"]
    with contextlib.suppress(OSError), socket.create_connection(s.http_listen, timeout=1):
        raise AssertionError("the HTTP server still listens")  # it closed again

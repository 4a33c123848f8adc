"""``python -m bot run`` as an operator runs it: webhook mode stopped by SIGTERM, polling after
a webhook deployment with the health server on, and start-up errors as one line."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.__main__ import main
from bot.config import Settings
from tests.fake_telegram import FakeTelegram
from tests.helpers import TEST_TOKEN, bot_process, free_port, say, start_bot, wait_until

CHAT = 42
ORIGIN = "https://bot.example"
URL = ORIGIN + "/tg/hook"
SECRET = "process-secret"
TITLE = "В России назвали Беларусь стратегическим партнером в сфере военно-технического"


def bot_env(settings: Settings, api_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "HTTP_LISTEN"))}
    env.update(
        BOT_TOKEN=TEST_TOKEN,
        TELEGRAM_API_URL=api_url,
        SEEDS_DIR=str(settings.seeds_dir),
        DB_PATH=str(settings.db_path),
        LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


async def http_get(url: str) -> tuple[int, str]:
    try:
        async with aiohttp.ClientSession() as s, s.get(url) as resp:
            return resp.status, await resp.text()
    except aiohttp.ClientConnectionError:
        return 0, ""


async def stop(proc: asyncio.subprocess.Process) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout=15)
    return int(proc.returncode or 0), stderr.decode()


async def test_webhook_process_finishes_the_running_update_on_sigterm(
    settings: Settings, fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    port = free_port()
    fake_tg.route_webhook(ORIGIN, f"http://127.0.0.1:{port}")
    env = bot_env(
        settings,
        fake_tg.url,
        WEBHOOK_URL=URL,
        WEBHOOK_SECRET=SECRET,
        HTTP_LISTEN=f"127.0.0.1:{port}",
    )
    async with bot_process("run", env=env, cwd=tmp_path) as proc:

        async def webhook_set() -> bool:
            return fake_tg.webhook is not None

        await wait_until(webhook_set, timeout=30)
        [reply] = await say(fake_tg, CHAT, "/article 1")
        assert reply.text.startswith(TITLE)
        assert (await http_get(f"http://127.0.0.1:{port}/healthz"))[0] == 200
        # the next reply takes 1.5 s to be answered: SIGTERM arrives while it is in flight
        fake_tg.fail_next("delay", method="sendMessage", chat_id=CHAT, delay=1.5)
        mark = fake_tg.mark()
        update = fake_tg.push_message(CHAT, text="/latest")
        await fake_tg.wait_for_request("sendMessage", chat_id=CHAT, since=mark)
        code, stderr = await stop(proc)
        assert code == 0, stderr
        assert "stopped cleanly" in stderr
        assert "Traceback" not in stderr and TEST_TOKEN not in stderr and SECRET not in stderr
        posts = [p.status for p in fake_tg.webhook_posts if p.update_id == update["update_id"]]
        assert posts == [200]  # handled to the end, then acknowledged
        assert fake_tg.webhook is not None  # kept: Telegram holds updates for the next start
        assert not fake_tg.calls("getUpdates") and not fake_tg.calls("deleteWebhook")
    fake_tg.assert_clean()


async def test_polling_deletes_a_left_webhook_and_serves_health(
    settings: Settings, fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    bot = fake_tg.make_bot(TEST_TOKEN)
    await bot.set_webhook(URL, secret_token=SECRET)  # an earlier webhook deployment
    await bot.session.close()
    left = fake_tg.push_message(CHAT, text="/article 1")  # waiting at Telegram meanwhile
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = bot_env(settings, fake_tg.url, HTTP_LISTEN=f"127.0.0.1:{port}")
    async with bot_process("run", env=env, cwd=tmp_path) as proc:
        [reply] = await fake_tg.wait_for_messages(CHAT, 1, timeout=30)
        assert reply.text.startswith(TITLE)  # the pending update was kept and answered
        [delete] = fake_tg.calls("deleteWebhook")
        assert delete.params.get("drop_pending_updates") == "false"
        assert fake_tg.webhook is None and left["update_id"] in fake_tg.updates.delivered

        async def ready() -> bool:
            return (await http_get(base + "/readyz"))[0] == 200

        await wait_until(ready, timeout=10)
        assert (await http_get(base + "/healthz"))[0] == 200
        status, text = await http_get(base + "/metrics")
        assert status == 200 and 'newsbot_updates_total{outcome="ok",type="message"} 1.0' in text
        code, stderr = await stop(proc)
        assert code == 0, stderr
    assert (await http_get(base + "/healthz"))[0] == 0  # closed with the bot


Serve = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def impostor() -> AsyncIterator[Callable[[Serve], Awaitable[str]]]:
    """Start an HTTP server on 127.0.0.1 that answers every request with ``serve``."""
    runners: list[web.AppRunner] = []

    async def start(serve: Serve) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", serve)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        return f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]

    yield start
    for runner in runners:
        await runner.cleanup()


async def _html(request: web.Request) -> web.Response:
    return web.Response(text="<!doctype html><h1>Welcome to nginx!</h1>", content_type="text/html")


async def _no_ok(request: web.Request) -> web.Response:
    return web.json_response({"result": {"id": 1}, "status": "fine"})


async def _unauthorized(request: web.Request) -> web.Response:
    body = {"ok": False, "error_code": 401, "description": "Unauthorized"}
    return web.json_response(body, status=401)


@pytest.mark.parametrize(
    ("serve", "expected"),
    [
        (_html, "is not a Bot API server: getMe got an HTML page (HTTP 200)"),
        (_no_ok, 'is not a Bot API server: getMe got JSON without the Bot API\'s "ok" field'),
        (_unauthorized, "rejected BOT_TOKEN (401 Unauthorized)"),
        (None, "cannot reach Telegram at TELEGRAM_API_URL"),
    ],
    ids=["html", "json-without-ok", "401", "unreachable"],
)
async def test_a_wrong_address_stops_the_start_in_one_line(
    settings: Settings,
    tmp_path: Path,
    impostor: Callable[[Serve], Awaitable[str]],
    serve: Serve | None,
    expected: str,
) -> None:
    url = await impostor(serve) if serve is not None else f"http://127.0.0.1:{free_port()}"
    env = bot_env(settings, url, LOG_LEVEL="WARNING")
    async with bot_process("run", env=env, cwd=tmp_path) as proc:
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
    lines = stderr.decode().strip().splitlines()
    assert proc.returncode == 1
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and expected in lines[0] and url in lines[0]
    assert TEST_TOKEN not in lines[0]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"WEBHOOK_URL": "http://bot.example/hook", "WEBHOOK_SECRET": "s"}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": "https://bot.example:8080/hook", "WEBHOOK_SECRET": "s"}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": URL}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_URL": URL, "WEBHOOK_SECRET": "a secret with spaces"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_URL": URL, "WEBHOOK_SECRET": "x" * 257}, "WEBHOOK_SECRET"),
        ({"HTTP_LISTEN": "8080"}, "HTTP_LISTEN"),
        ({"HTTP_LISTEN": "127.0.0.1:99999"}, "HTTP_LISTEN"),
    ],
)
def test_a_bad_webhook_setting_is_exit_2_naming_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    named: str,
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("BOT_TOKEN", TEST_TOKEN)
    for name in ("WEBHOOK_URL", "WEBHOOK_SECRET", "HTTP_LISTEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["run"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {named} "), lines
    assert "spaces" not in lines[0]  # the secret itself is never echoed


async def test_a_busy_http_listen_is_exit_1(
    settings: Settings, fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = bot_env(settings, fake_tg.url, HTTP_LISTEN=f"127.0.0.1:{port}", LOG_LEVEL="WARNING")
        async with bot_process("run", env=env, cwd=tmp_path) as proc:
            _, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
    lines = stderr.decode().strip().splitlines()
    assert proc.returncode == 1
    assert lines == [
        f"error: cannot listen on HTTP_LISTEN 127.0.0.1:{port}: {os.strerror(errno.EADDRINUSE)}"
    ]


async def test_a_failing_command_menu_after_a_good_get_me_is_only_logged(
    settings: Settings, fake_tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    fake_tg.fail_next("502", method="setMyCommands", times=None)  # HTML from a proxy
    app = await start_bot(settings, fake_tg)
    try:
        [reply] = await say(fake_tg, CHAT, "/latest")
        assert TITLE in reply.text
        assert "failed: the answer was not a Bot API reply" in caplog.text
        assert "502 Bad Gateway" not in caplog.text  # one line, not the page
    finally:
        await app.stop()
    assert json.dumps(fake_tg.commands) == "{}"  # nothing was set, and the bot went on

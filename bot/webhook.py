"""``python -m bot run`` with WEBHOOK_URL: the webhook front end over aiogram's aiohttp
integration — the same App, handlers, scheduler and outbox as polling; only updates arrive
as HTTPS POSTs (through a reverse proxy) to HTTP_LISTEN.

Start: build and check the App (``bot.launch``), start the Dispatcher and the listener, then
setWebhook and confirm it with getWebhookInfo. SIGTERM: the listener closes, running updates
get their grace, the scheduler stops, exit 0. The webhook stays set, so Telegram keeps the
updates that arrive meanwhile for the next start.
"""

from __future__ import annotations

import asyncio
import logging

from bot.app import App
from bot.config import Settings, webhook_path
from bot.launch import prepare, say, stop_on_signals
from bot.observe import HealthPolicy
from bot.telegram.session import JsonSession
from bot.telegram.startup import StartupError, set_webhook
from bot.telegram.webhook import WebhookProbe, mount
from bot.web import ListenError, monitoring_app, serve

log = logging.getLogger(__name__)


async def run_webhook(
    settings: Settings,
    *,
    policy: HealthPolicy | None = None,
    session: JsonSession | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Run until SIGTERM/SIGINT (or ``stop``, for tests); returns the exit code."""
    policy = policy or HealthPolicy()
    with stop_on_signals() as signalled:
        prepared = await prepare(settings, monitoring=policy, session=session)
        if isinstance(prepared, int):
            return prepared
        try:
            return await _serve(prepared, policy, stop or signalled)
        finally:
            await prepared.close()


async def _serve(app: App, policy: HealthPolicy, stop: asyncio.Event) -> int:
    settings = app.settings
    url, health = settings.webhook_url, app.health
    assert url is not None and health is not None  # webhook mode builds with monitoring
    web_app = monitoring_app(health)
    secret = settings.webhook_secret.reveal()
    mount(web_app, app.dp, app.bot, path=webhook_path(url), secret=secret, observer=app.observer)
    try:
        runner = await serve(web_app, settings.http_listen)
    except ListenError as exc:
        say(f"error: {exc}")
        return 1
    probe = WebhookProbe(app.bot, policy.probe_every)
    try:
        try:
            await set_webhook(app.bot, url, secret, app.dp.resolve_used_update_types())
        except StartupError as exc:
            say(f"error: {exc}")
            return 1
        log.info("webhook %s set; updates arrive at %s", url, webhook_path(url))
        probe.start()
        await stop.wait()
        log.info("stopping: no new updates, finishing the running ones")
    finally:
        await probe.stop()
        await runner.cleanup()
    log.info("stopped cleanly")
    return 0

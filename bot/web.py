"""The bot's own HTTP server (HTTP_LISTEN): /healthz, /readyz and /metrics, and in webhook mode
the webhook route beside them. Shared by both front ends; aiohttp, no aiogram."""

from __future__ import annotations

import logging
import os

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.services.health import Health

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 10.0
"""Seconds in-flight requests get once the listener has closed (the handlers' own grace, 5 s,
runs first in the Dispatcher's shutdown)."""


def monitoring_app(health: Health) -> web.Application:
    """An aiohttp Application answering the three monitoring routes."""

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        failing = await health.failing()
        if failing:
            return web.json_response({"status": "not ready", "failing": failing}, status=503)
        return web.json_response({"status": "ready"})

    async def metrics(request: web.Request) -> web.Response:
        body = await health.render_metrics()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


class ListenError(Exception):
    """HTTP_LISTEN cannot be bound (in use, not an address of this host)."""


def listen_reason(exc: OSError) -> str:
    """Why a bind failed, in words: asyncio rewords bind errors (so the errno's own text), but
    getaddrinfo's errors have negative codes os.strerror does not know ("Unknown error -2")."""
    if exc.errno and exc.errno > 0:
        return os.strerror(exc.errno)
    return exc.strerror or str(exc)


async def serve(app: web.Application, listen: tuple[str, int]) -> web.AppRunner:
    """Run ``app`` on host:port (its startup hooks run first); ListenError if it cannot bind."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    host, port = listen
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise ListenError(
            f"cannot listen on HTTP_LISTEN {host}:{port}: {listen_reason(exc)}"
        ) from None
    log.info("HTTP server on %s:%d (/healthz, /readyz, /metrics)", host, port)
    return runner

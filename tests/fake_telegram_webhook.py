"""Webhooks in the fake server: setWebhook's rules, and delivering queued updates by POST.

As Telegram does, a set webhook takes the queued updates (getUpdates then gets 409) and POSTs
each, oldest first, as JSON with the ``X-Telegram-Bot-Api-Secret-Token`` header; only a 2xx
answer confirms an update, anything else is retried and shown in getWebhookInfo's
``last_error_message``. Deliveries here go one at a time (Telegram: up to max_connections).

Tests cannot serve https, so ``route_webhook(origin, local)`` maps the public https origin the
bot registers (``https://bot.example``) to its local listener (``http://127.0.0.1:PORT``); the
URL given to setWebhook is still checked as Telegram checks it (https, port 80/88/443/8443).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from tests.fake_telegram_limits import Clock
from tests.fake_telegram_model import Call, bad
from tests.fake_telegram_updates import UpdateQueue

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PORTS = (80, 88, 443, 8443)
_SECRET = re.compile(r"[A-Za-z0-9_-]*")


@dataclass
class WebhookPost:
    """One POST the fake made to the bot's webhook, and the status it got (0: no answer)."""

    update_id: int | None
    status: int
    secret: str | None


class WebhookMixin:
    """setWebhook / deleteWebhook / getWebhookInfo state and the delivery loop."""

    updates: UpdateQueue
    clock: Clock
    _changed: asyncio.Event
    _notify: Callable[[], None]

    def _init_webhook(self) -> None:
        self.webhook: dict[str, Any] | None = None
        self.webhook_routes: dict[str, str] = {}
        self.webhook_posts: list[WebhookPost] = []
        self.webhook_retry_delay = 0.2
        self._webhook_error: tuple[int, str] | None = None
        self._webhook_task: asyncio.Task[None] | None = None

    def route_webhook(self, origin: str, local: str) -> None:
        """Deliver webhooks registered under https ``origin`` to ``local`` (http://127.0.0.1:N)."""
        self.webhook_routes[origin.rstrip("/")] = local.rstrip("/")

    # ---- the methods -------------------------------------------------------------------------

    def set_webhook(self, call: Call) -> bool:
        url = call.get("url") or ""
        if not url:
            self.delete_webhook(call)
            return True
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        try:
            port = parts.port or 443
        except ValueError:
            raise bad("bad webhook: Failed to resolve host: Name or service not known") from None
        if port not in WEBHOOK_PORTS:
            raise bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = call.get("secret_token") or ""
        if len(secret) > 256:
            raise bad("secret token is too long")
        if not _SECRET.fullmatch(secret):
            raise bad("secret token contains unallowed characters")
        allowed = call.json("allowed_updates", "allowed_updates")
        if isinstance(allowed, list):
            self.updates.set_allowed(allowed)
        if call.flag("drop_pending_updates"):
            self.updates.drop_pending()
        self.webhook = {
            "url": url,
            "secret_token": secret or None,
            "max_connections": call.int("max_connections", 40),
            "allowed_updates": sorted(self.updates.allowed),
        }
        self._webhook_error = None
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver_loop(), name="fake-webhook")
        return True

    def delete_webhook(self, call: Call) -> bool:
        self.webhook = None
        if call.flag("drop_pending_updates"):
            self.updates.drop_pending()
        return True

    def webhook_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates.pending),
        }
        if self.webhook is not None:
            info["url"] = self.webhook["url"]
            info["max_connections"] = self.webhook["max_connections"]
            info["allowed_updates"] = self.webhook["allowed_updates"]
            if self._webhook_error is not None:
                info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    async def _stop_webhook(self) -> None:
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None

    # ---- delivery ----------------------------------------------------------------------------

    def _local_url(self, url: str) -> str | None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        local = self.webhook_routes.get(origin)
        if local is None:
            return None
        return local + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    async def post_to_webhook(
        self, body: bytes | dict[str, Any], *, secret: str | None = None, use_secret: bool = True
    ) -> tuple[int, str]:
        """POST ``body`` to the webhook as Telegram would (``use_secret``: the set secret
        header; or ``secret`` instead); returns (status, text). For hostile-request tests."""
        assert self.webhook is not None, "no webhook is set"
        target = self._local_url(self.webhook["url"])
        assert target is not None, "route_webhook() the webhook's origin first"
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        header = (
            secret
            if secret is not None
            else (self.webhook["secret_token"] if use_secret else None)
        )
        if header is not None:
            headers[SECRET_HEADER] = header
        async with (
            aiohttp.ClientSession() as session,
            session.post(target, data=data, headers=headers) as resp,
        ):
            text = await resp.text()
        update_id = body.get("update_id") if isinstance(body, dict) else None
        self.webhook_posts.append(WebhookPost(update_id, resp.status, header))
        return resp.status, text

    async def _deliver_loop(self) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            while self.webhook is not None:
                if not self.updates.pending:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 0.2)
                    continue
                update = self.updates.pending[0]
                if await self._deliver(session, update):
                    self.updates.delivered.append(update["update_id"])
                    self.updates.confirm(update["update_id"] + 1)
                    self._notify()
                else:
                    await asyncio.sleep(self.webhook_retry_delay)

    async def _deliver(self, session: aiohttp.ClientSession, update: dict[str, Any]) -> bool:
        assert self.webhook is not None
        target = self._local_url(self.webhook["url"])
        secret = self.webhook["secret_token"]
        status, error = 0, "Connection refused"
        if target is not None:
            headers = {"Content-Type": "application/json"}
            if secret:
                headers[SECRET_HEADER] = secret
            try:
                async with session.post(target, data=json.dumps(update), headers=headers) as resp:
                    await resp.read()
                    status = resp.status
                    error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = f"Connection failed: {type(exc).__name__}"
        self.webhook_posts.append(WebhookPost(update["update_id"], status, secret))
        if 200 <= status < 300:
            return True
        self._webhook_error = (int(self.clock.time()), error)
        return False

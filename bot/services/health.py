"""Liveness and readiness, and the scrape: what the HTTP server's /readyz and /metrics answer.

Ready means the bot can do its work now: the database answers, Telegram answered within
``api_window`` seconds (any API success or a webhook update), and the scheduler ticked within
``tick_factor`` × POST_INTERVAL. Each failing check is named, so a 503 says what to look at.
"""

from __future__ import annotations

import asyncio
import logging

import aiosqlite

from bot.observe import HealthPolicy
from bot.services.metrics import Metrics
from bot.store import monitoring

log = logging.getLogger(__name__)


class Health:
    """Answers /readyz and /metrics from the store, the metrics and the clock."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        metrics: Metrics,
        *,
        post_interval: float,
        policy: HealthPolicy | None = None,
    ) -> None:
        self.conn = conn
        self.metrics = metrics
        self.policy = policy or HealthPolicy()
        self.tick_limit = self.policy.tick_factor * post_interval
        self._snapshot_at: float | None = None
        self._refreshing = asyncio.Lock()

    async def failing(self) -> dict[str, str]:
        """check name → why it fails; empty when ready."""
        failing: dict[str, str] = {}
        try:
            await asyncio.wait_for(monitoring.ping(self.conn), self.policy.db_timeout)
        except Exception as exc:
            failing["database"] = f"no answer: {type(exc).__name__}: {exc}"
        now = self.metrics.clock()
        ok_at = self.metrics.telegram_ok_at
        if ok_at is None:
            failing["telegram"] = "not reached since start"
        elif now - ok_at > self.policy.api_window:
            failing["telegram"] = (
                f"last answered {now - ok_at:.0f} s ago (limit {self.policy.api_window:g} s)"
            )
        tick_at = self.metrics.tick_at
        if tick_at is None:
            failing["scheduler"] = "no tick finished since start"
        elif now - tick_at > self.tick_limit:
            failing["scheduler"] = (
                f"last tick {now - tick_at:.0f} s ago (limit {self.tick_limit:g} s)"
            )
        return failing

    async def render_metrics(self) -> bytes:
        """The metrics text, with the store gauges at most ``snapshot_ttl`` seconds old."""
        async with self._refreshing:
            now, last = self.metrics.clock(), self._snapshot_at
            if last is None or now - last >= self.policy.snapshot_ttl:
                try:
                    self.metrics.snapshot = await monitoring.snapshot(self.conn)
                    self._snapshot_at = now
                except Exception as exc:  # serve the counters with the last snapshot
                    log.warning("metrics: store snapshot failed: %s: %s", type(exc).__name__, exc)
        return self.metrics.render()

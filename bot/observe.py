"""What the bot tells its monitoring: one small protocol every layer may call, and a no-op.

Services and the Telegram layer take an ``Observer`` in their constructors (``bot.app`` passes
``bot.services.metrics.Metrics`` when the HTTP server is on, else ``NO_OBSERVER``), so nothing
keeps module globals and a bot without monitoring pays a no-op call at most.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.models import IngestReport


class Observer(Protocol):
    """Events worth counting; every method must be cheap (some run once per update)."""

    def update_handled(self, update_type: str, outcome: str, seconds: float) -> None:
        """An update went through the Dispatcher: outcome ok | unhandled | error."""

    def search_done(self, seconds: float) -> None:
        """A search (cached or not) answered."""

    def delivered(self, kind: str, action: str, result: str) -> None:
        """One outbox request: kind channel | subscriber | note, action send | edit | delete |
        note, result ok | retry | failed."""

    def too_many_requests(self) -> None:
        """Telegram answered 429."""

    def retry_after_obeyed(self, seconds: float) -> None:
        """The bot held back for a 429's retry_after."""

    def telegram_reached(self) -> None:
        """Telegram answered a request successfully, or delivered a webhook update."""

    def ticked(self, report: IngestReport | None) -> None:
        """A scheduler tick finished: its scan report, or None when the tick failed."""


class NoObserver:
    """The default observer: nothing is counted."""

    def update_handled(self, update_type: str, outcome: str, seconds: float) -> None:
        pass

    def search_done(self, seconds: float) -> None:
        pass

    def delivered(self, kind: str, action: str, result: str) -> None:
        pass

    def too_many_requests(self) -> None:
        pass

    def retry_after_obeyed(self, seconds: float) -> None:
        pass

    def telegram_reached(self) -> None:
        pass

    def ticked(self, report: IngestReport | None) -> None:
        pass


NO_OBSERVER: Observer = NoObserver()


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    """The readiness limits (the defaults are the documented ones); here, not in
    bot.services.health, so a bot without monitoring never imports prometheus_client."""

    api_window: float = 120.0
    """Seconds since Telegram last answered, beyond which the bot is not ready."""
    tick_factor: float = 3.0
    """The last tick may be at most this many POST_INTERVALs old."""
    probe_every: float = 30.0
    """Webhook mode: seconds between getWebhookInfo calls (keeps the Telegram check fresh
    when no update arrives, and logs Telegram's delivery errors)."""
    snapshot_ttl: float = 5.0
    """Seconds a store snapshot is reused between scrapes."""
    db_timeout: float = 2.0

"""Prometheus metrics: the Observer that counts, and the store gauges read at scrape time.

Everything lives in the Metrics object's own CollectorRegistry (never the global default), so two
bots in one process (the tests) never share a counter. Labels hold only update types, outcomes,
kinds, states and channel chat ids: never a token, a chat's text or a user's name. Per update the
cost is one cached counter child's ``inc`` and one histogram ``observe``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.models import IngestReport
from bot.store.monitoring import StoreSnapshot

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
OUTBOX_STATES = ("queued", "sent", "failed", "cancelled")
OUTBOX_KINDS = ("channel", "subscriber")
INGEST_RESULTS = ("added", "updated", "unchanged", "withdrawn", "restored", "failed")


class Metrics:
    """The bot's Observer for Prometheus; also remembers when Telegram and the tick last
    answered (the readiness checks read ``telegram_ok_at`` and ``tick_at``, monotonic)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.registry = CollectorRegistry(auto_describe=True)
        self.telegram_ok_at: float | None = None
        self.tick_at: float | None = None
        self.telegram_ok_wall: float | None = None
        self.tick_wall: float | None = None
        self.snapshot = StoreSnapshot()
        r = self.registry
        self.updates = Counter(
            "newsbot_updates",
            "Updates handled, by update type and outcome (ok, unhandled, error).",
            ("type", "outcome"),
            registry=r,
        )
        self.reply_latency = Histogram(
            "newsbot_reply_latency_seconds",
            "Time from an update reaching the dispatcher to "
            "its handler finishing (the replies included).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.search_latency = Histogram(
            "newsbot_search_seconds",
            "Time a search took to answer (result-cache hits included).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.deliveries = Counter(
            "newsbot_deliveries",
            "Outbox delivery attempts, by kind (channel, subscriber), "
            "action (send, edit, delete) and result (ok, retry, failed).",
            ("kind", "action", "result"),
            registry=r,
        )
        self.too_many = Counter(
            "newsbot_telegram_429",
            "429 Too Many Requests answers received from Telegram.",
            registry=r,
        )
        self.retry_after = Counter(
            "newsbot_telegram_retry_after_seconds",
            "Seconds of retry_after the bot obeyed "
            "(Telegram's figure, before the bot's own slack).",
            registry=r,
        )
        self.ingest_files = Counter(
            "newsbot_ingest_files",
            "Seed files seen by the scheduler's scans, by result.",
            ("result",),
            registry=r,
        )
        self.ingest_scans = Counter(
            "newsbot_ingest_scans",
            "Scheduler ticks (scan and queue), by result (ok, error).",
            ("result",),
            registry=r,
        )
        for result in INGEST_RESULTS:
            self.ingest_files.labels(result)
        for result in ("ok", "error"):
            self.ingest_scans.labels(result)
        self._update_children: dict[tuple[str, str], Counter] = {}
        self._delivery_children: dict[tuple[str, str, str], Counter] = {}
        r.register(_StoreCollector(self))

    # ---- the Observer ------------------------------------------------------------------------

    def update_handled(self, update_type: str, outcome: str, seconds: float) -> None:
        key = (update_type, outcome)
        child = self._update_children.get(key)
        if child is None:
            child = self._update_children[key] = self.updates.labels(update_type, outcome)
        child.inc()
        self.reply_latency.observe(seconds)

    def search_done(self, seconds: float) -> None:
        self.search_latency.observe(seconds)

    def delivered(self, kind: str, action: str, result: str) -> None:
        key = (kind, action, result)
        child = self._delivery_children.get(key)
        if child is None:
            child = self._delivery_children[key] = self.deliveries.labels(kind, action, result)
        child.inc()

    def too_many_requests(self) -> None:
        self.too_many.inc()

    def retry_after_obeyed(self, seconds: float) -> None:
        self.retry_after.inc(max(0.0, seconds))

    def telegram_reached(self) -> None:
        self.telegram_ok_at = self.clock()
        self.telegram_ok_wall = time.time()

    def ticked(self, report: IngestReport | None) -> None:
        self.tick_at = self.clock()
        self.tick_wall = time.time()
        if report is None:
            self.ingest_scans.labels("error").inc()
            return
        self.ingest_scans.labels("ok").inc()
        counts = (
            report.added,
            report.updated,
            report.unchanged,
            report.withdrawn,
            report.restored,
            len(report.failed),
        )
        for result, n in zip(INGEST_RESULTS, counts, strict=True):
            if n:
                self.ingest_files.labels(result).inc(n)

    # ---- scraping ----------------------------------------------------------------------------

    def render(self) -> bytes:
        """The Prometheus text format of everything (the store gauges from ``snapshot``)."""
        return generate_latest(self.registry)


class _StoreCollector(Collector):
    """Gauges from the last StoreSnapshot (refreshed by the caller before it renders)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m, snap = self.metrics, self.metrics.snapshot
        outbox = GaugeMetricFamily(
            "newsbot_outbox_deliveries",
            "Outbox rows by kind (channel, subscriber) and state.",
            labels=("kind", "state"),
        )
        for kind in OUTBOX_KINDS:
            for state in OUTBOX_STATES:
                outbox.add_metric((kind, state), snap.outbox.get((kind, state), 0))
        yield outbox
        oldest = GaugeMetricFamily(
            "newsbot_outbox_oldest_queued_timestamp_seconds",
            "When the oldest still-queued outbox row of each kind was queued (unix time).",
            labels=("kind",),
        )
        for kind, at in sorted(snap.oldest_queued.items()):
            oldest.add_metric((kind,), at)
        yield oldest
        posts = GaugeMetricFamily(
            "newsbot_channel_last_post_timestamp_seconds",
            "When the newest post to each channel was accepted by Telegram (unix time).",
            labels=("chat_id",),
        )
        for chat, at in sorted(snap.last_channel_post.items()):
            posts.add_metric((chat,), at)
        yield posts
        articles = GaugeMetricFamily(
            "newsbot_articles", "Articles in the archive by state.", labels=("state",)
        )
        for state in sorted({"visible", "withdrawn", "duplicate", *snap.articles}):
            articles.add_metric((state,), snap.articles.get(state, 0))
        yield articles
        yield GaugeMetricFamily(
            "newsbot_subscribers",
            "Private chats with at least one subscription.",
            value=snap.subscribers,
        )
        yield GaugeMetricFamily(
            "newsbot_subscriptions", "Subscriptions of all readers.", value=snap.subscriptions
        )
        for name, doc, at in (
            (
                "newsbot_telegram_last_success_timestamp_seconds",
                "When Telegram last answered a request or delivered an update (unix time).",
                m.telegram_ok_wall,
            ),
            (
                "newsbot_scheduler_last_tick_timestamp_seconds",
                "When the scheduler's last tick finished (unix time).",
                m.tick_wall,
            ),
        ):
            gauge = GaugeMetricFamily(name, doc)
            if at is not None:
                gauge.add_metric((), at)
            yield gauge

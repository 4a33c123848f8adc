"""Readiness checks and the store gauges on a real SQLite file, with a clock the test moves;
webhook settings as parsed from the environment."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

import aiosqlite
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Settings
from bot.models import IngestReport
from bot.services.health import Health, HealthPolicy
from bot.services.metrics import Metrics
from bot.services.publishing import PublishingService
from bot.store import outbox, subscribers
from bot.store.db import open_db, write_lock
from bot.web import listen_reason
from tests.helpers import publishing_service, seed_article


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_each_failing_check_is_named(conn: aiosqlite.Connection) -> None:
    clock = Clock()
    metrics = Metrics(clock=clock)
    health = Health(conn, metrics, post_interval=10.0, policy=HealthPolicy(api_window=120.0))
    assert await health.failing() == {
        "telegram": "not reached since start",
        "scheduler": "no tick finished since start",
    }
    metrics.telegram_reached()
    metrics.ticked(IngestReport(unchanged=1))
    assert await health.failing() == {}
    clock.now += 31  # 3 x POST_INTERVAL = 30 s
    assert list(await health.failing()) == ["scheduler"]
    metrics.ticked(None)  # a failed tick is a tick: the loop is alive
    assert await health.failing() == {}
    clock.now += 121
    metrics.ticked(IngestReport())
    assert (await health.failing())["telegram"] == "last answered 152 s ago (limit 120 s)"


async def test_a_closed_database_fails_readiness(tmp_path: Path) -> None:
    conn = await open_db(tmp_path / "bot.sqlite3")
    metrics = Metrics()
    metrics.telegram_reached()
    metrics.ticked(IngestReport())
    health = Health(conn, metrics, post_interval=60.0)
    await conn.close()
    assert list(await health.failing()) == ["database"]


async def test_store_gauges_come_from_the_database(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    for i in range(3):
        seed_article(seeds, i)
    publishing: PublishingService = publishing_service(conn, seeds, channel="@news", backlog=3)
    async with write_lock(conn):
        await subscribers.add(conn, 7, "", now=1.0)
        await subscribers.add(conn, 7, "новость", now=1.0)
    await publishing.tick()
    [first, *_] = await outbox.all_deliveries(conn)
    async with write_lock(conn):
        await outbox.mark_sent(conn, first.id, message_id=1, now=1_750_000_000.0)
    health = Health(conn, Metrics(), post_interval=60.0, policy=HealthPolicy(snapshot_ttl=0))
    m = samples((await health.render_metrics()).decode())
    assert m[("newsbot_articles", (("state", "visible"),))] == 3
    assert m[("newsbot_articles", (("state", "duplicate"),))] == 0
    assert m[("newsbot_outbox_deliveries", (("kind", "channel"), ("state", "sent")))] == 1
    assert m[("newsbot_outbox_deliveries", (("kind", "channel"), ("state", "queued")))] == 2
    assert m[("newsbot_outbox_deliveries", (("kind", "subscriber"), ("state", "queued")))] == 3
    assert m[("newsbot_channel_last_post_timestamp_seconds", (("chat_id", "@news"),))] == (
        1_750_000_000.0
    )
    oldest = m[("newsbot_outbox_oldest_queued_timestamp_seconds", (("kind", "subscriber"),))]
    assert oldest == min(d.created_at for d in await outbox.all_deliveries(conn))
    assert m[("newsbot_subscribers", ())] == 1 and m[("newsbot_subscriptions", ())] == 2


def test_webhook_settings_are_parsed_and_the_secret_hidden() -> None:
    s = Settings.from_env(
        {
            "WEBHOOK_URL": "https://bot.example.org:8443/tg/hook",
            "WEBHOOK_SECRET": "Ab_9-z",
            "HTTP_LISTEN": "[::1]:9000",
        },
        dotenv=False,
    )
    assert s.webhook_url == "https://bot.example.org:8443/tg/hook"
    assert s.webhook_secret.reveal() == "Ab_9-z" and "Ab_9-z" not in repr(s)
    assert s.http_listen == ("::1", 9000) and s.http_listen_set
    polling = Settings.from_env({}, dotenv=False)
    assert polling.webhook_url is None and polling.http_listen == ("127.0.0.1", 8080)
    assert not polling.http_listen_set


@pytest.mark.parametrize("secret", ["a", "A" * 256, "azAZ09_-"])
def test_every_allowed_secret_is_accepted(secret: str) -> None:
    s = Settings.from_env(
        {"WEBHOOK_URL": "https://x.org/h", "WEBHOOK_SECRET": secret}, dotenv=False
    )
    assert s.webhook_secret.reveal() == secret


def test_a_listen_error_names_the_reason_for_a_name_that_does_not_resolve() -> None:
    """getaddrinfo's errors have negative errno values: os.strerror(-2) is "Unknown error -2"."""
    unresolved = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert listen_reason(unresolved) == "Name or service not known"
    busy = OSError(errno.EADDRINUSE, "error while attempting to bind on address: address in use")
    assert listen_reason(busy) == os.strerror(errno.EADDRINUSE)


async def test_a_copied_seed_file_counts_as_a_duplicate(
    conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    seed_article(seeds, 1)
    seed_article(seeds, 2)
    (seeds / "copy-of-001.txt").write_bytes((seeds / "001.txt").read_bytes())
    publishing: PublishingService = publishing_service(conn, seeds, channel=None, backlog=0)
    await publishing.tick()
    health = Health(conn, Metrics(), post_interval=60.0, policy=HealthPolicy(snapshot_ttl=0))
    m = samples((await health.render_metrics()).decode())
    assert m[("newsbot_articles", (("state", "visible"),))] == 2
    assert m[("newsbot_articles", (("state", "duplicate"),))] == 1

"""Feed-to-channel latency: a new item on the publisher's site → the post in the channel.

The bot is built by ``bot.app.build_app`` (scheduler, outbox, Telegram's real pacing) and
long-polls the fake Bot API server; the publisher's site (tests/feed_site.py) serves an RSS feed
and the article page (tests/feeds/news_portal.html), both on 127.0.0.1. Each round adds one item
to the feed and times how long until its post reaches @news. FEED_INTERVAL is 1 s (the smallest
allowed), so on average half a second of every figure is the wait for the next poll; rounds
start at seeded random points of the poll cycle.

The floor, in the same run: a bare poller with the same interval that fetches the feed, fetches
the new item's page and calls sendMessage directly: no parsing, extraction, database, outbox or
pacing. The ratio says what the bot adds on top of the unavoidable poll wait and transfers.

    .venv/bin/python bench/feed_latency.py            # 20 rounds each
    .venv/bin/python bench/feed_latency.py --quick    # 5 rounds each
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import common

from tests.fake_telegram import FakeTelegram
from tests.feed_site import FeedSite, Item, rss

INTERVAL = 1.0
TOKEN = "123456:BENCH-token"
TARGET_P95 = 3.0
"""Seconds: a new item in the channel within three poll intervals, 95 times in 100."""


def gap(n: int) -> float:
    """Pause before the next round: past the channel's one-post-a-second pacing, then a
    point of the poll cycle drawn at random (seeded: both runs draw the same points)."""
    return 1.1 + random.Random(n).uniform(0, INTERVAL)


def publish(site: FeedSite, items: list[Item]) -> None:
    site.add("/rss", rss(list(reversed(items))), content_type="application/rss+xml")


def new_item(site: FeedSite, items: list[Item], n: int) -> None:
    """Item ``n``: its own page (the news-portal layout), added to the feed."""
    site.fixture(f"/news/{n}", "news_portal.html")
    when = datetime(2025, 6, 1, tzinfo=UTC) + timedelta(minutes=n)
    items.append(Item(f"Новость номер {n}", site.url(f"/news/{n}"), guid=str(n), date=when))
    publish(site, items)


async def bot_rounds(site: FeedSite, fake: FakeTelegram, rounds: int, work: Path) -> list[float]:
    """The real bot: seconds from publishing each item to its channel post."""
    from bot.app import build_app
    from bot.config import Secret, Settings
    from bot.telegram.session import JsonSession

    settings = Settings(
        bot_token=Secret(TOKEN),
        telegram_api_url=fake.url,
        channel_id="@news",
        seeds_dir=work / "seeds",
        db_path=work / "bot.sqlite3",
        post_interval=3600,
        post_backlog=0,
        feeds=(site.url("/rss"),),
        feed_interval=INTERVAL,
        utm_params=(("utm_source", "telegram"),),
    )
    (work / "seeds").mkdir()
    items: list[Item] = []
    publish(site, items)
    app = await build_app(settings, session=JsonSession.over(fake.url, timeout=10))
    task = asyncio.create_task(
        app.dp.start_polling(app.bot, polling_timeout=1, handle_signals=False)
    )
    out: list[float] = []
    try:
        await fake.wait_for_request("getUpdates")
        await asyncio.sleep(INTERVAL * 1.5)  # the first (empty) read is done
        out = await timed_rounds(site, fake, items, rounds)
    finally:
        await app.dp.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await app.close()
    return out


async def floor_rounds(site: FeedSite, fake: FakeTelegram, rounds: int) -> list[float]:
    """A bare poller: same interval, GET feed → GET page → sendMessage, nothing else."""
    items: list[Item] = []
    publish(site, items)
    seen: set[str] = set()
    api = f"{fake.url}/bot{TOKEN}/sendMessage"

    async def poller(http: aiohttp.ClientSession) -> None:
        while True:
            async with http.get(site.url("/rss")) as resp:
                body = await resp.text()
            for n in range(len(items)):
                link = site.url(f"/news/{n}")
                if link in body and link not in seen:
                    seen.add(link)
                    async with http.get(link) as page:
                        await page.read()
                    data = {"chat_id": "@news", "text": f"Новость номер {n}"}
                    async with http.post(api, json=data) as sent:
                        await sent.read()
            await asyncio.sleep(INTERVAL)

    async with aiohttp.ClientSession() as http:
        task = asyncio.create_task(poller(http))
        try:
            return await timed_rounds(site, fake, items, rounds)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def timed_rounds(
    site: FeedSite, fake: FakeTelegram, items: list[Item], rounds: int
) -> list[float]:
    """Seconds from publishing each new item to the next message in @news."""
    chat = fake.chat("@news").id
    out: list[float] = []
    for n in range(rounds):
        have = len(fake.sent_messages(chat))
        started = time.perf_counter()
        new_item(site, items, n)
        await fake.wait_for_messages(chat, have + 1, timeout=30)
        out.append(time.perf_counter() - started)
        await asyncio.sleep(gap(n))
    return out


def figures(values: list[float]) -> dict[str, float]:
    return {
        "p50_s": round(statistics.median(values), 3),
        "p95_s": round(common.percentile(values, 95), 3),
        "max_s": round(max(values), 3),
    }


async def run(rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        async with FeedSite() as site, FakeTelegram(token=TOKEN) as fake:
            fake.add_channel("news")
            bot = await bot_rounds(site, fake, rounds, Path(tmp))
        async with FeedSite() as site, FakeTelegram(token=TOKEN) as fake:
            fake.add_channel("news")
            floor = await floor_rounds(site, fake, rounds)
    b, f = figures(bot), figures(floor)
    rows = [
        {
            "figure": f"feed → channel latency, {key.split('_')[0]} (FEED_INTERVAL 1 s)",
            "value": f"{b[key]} s",
            "floor": f[key],
            "floor_name": "bare poller: GET feed, GET page, sendMessage",
            "ratio": round(b[key] / f[key], 2) if f[key] else None,
            "target": f"≤ {TARGET_P95:g} s" if key == "p95_s" else "",
            "pass": b[key] <= TARGET_P95 if key == "p95_s" else None,
        }
        for key in ("p50_s", "p95_s")
    ]
    return {"bench": "feed_latency", "rounds": rounds, "bot": b, "floor": f, "rows": rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="5 rounds")
    args = ap.parse_args()
    common.run_and_emit(run(5 if args.quick else args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

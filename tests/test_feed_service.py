"""The feed service on a real SQLite file against a local site: every good article stored once."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite

from bot.models import Article
from bot.services.feed_items import FeedItems
from bot.services.feeds import FeedService
from bot.services.ingest import Ingestor
from bot.services.search import SearchService
from bot.sources.http import HttpClient, HttpLimits
from bot.store import articles, outbox
from bot.store import feeds as feed_store
from bot.store.db import SCHEMA_VERSION, open_db
from tests.feed_site import FeedSite, Item, atom, rss
from tests.helpers import copy_seeds, old_database

MSK = ZoneInfo("Europe/Moscow")
FAST = HttpLimits(total_timeout=0.5, connect_timeout=0.5, backoff_base=0.01, attempts=2)
DAY = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


class Notes:
    """Records the admins' feed notes."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def feed_failing(self, url: str, since: float, error: str) -> None:
        self.sent.append(("failing", f"{url} {error}"))

    async def feed_recovered(self, url: str, since: float) -> None:
        self.sent.append(("recovered", url))


def service(
    conn: aiosqlite.Connection,
    feeds: list[str],
    *,
    backlog: int = 5,
    notes: Notes | None = None,
    note_after: float = 3600.0,
) -> FeedService:
    http = HttpClient(limits=FAST)
    return FeedService(
        conn, http, FeedItems(conn, http, MSK), tuple(feeds), interval=300, backlog=backlog,
        notes=notes, failing_note_after=note_after,
    )  # fmt: skip


async def all_articles(conn: aiosqlite.Connection) -> list[Article]:
    return await visible(
        conn, [r[0] for r in await conn.execute_fetchall("SELECT id FROM articles")]
    )


async def visible(conn: aiosqlite.Connection, ids: list[int]) -> list[Article]:
    """The visible articles among these ids, in id order."""
    found = [await articles.get_article(conn, i) for i in sorted(ids)]
    return [a for a in found if a is not None]


def by_title(items: list[Article]) -> dict[str, Article]:
    return {a.title: a for a in items}


def serve_fixture_site(site: FeedSite) -> None:
    site.fixture("/rss.xml", "rss.xml", content_type="application/rss+xml", etag='"r1"')
    site.fixture("/atom.xml", "atom.xml", content_type="application/atom+xml")
    site.fixture("/feed.json", "feed.json", content_type="application/feed+json")
    site.fixture("/news/tram-monument/", "figure_article.html")
    site.fixture("/news/budget-2026", "news_portal.html")
    site.fixture("/premium/airport", "paywall_teaser.html")
    site.fixture("/longread/vodovod", "longread.html")
    site.fixture("/agro/strawberry/", "div_layout.html", content_type="text/html")


async def test_rss_atom_and_json_feed_become_articles(
    site: FeedSite, conn: aiosqlite.Connection
) -> None:
    serve_fixture_site(site)
    feeds = service(conn, [site.url(p) for p in ("/rss.xml", "/atom.xml", "/feed.json")])
    try:
        for url in feeds.feeds:  # one by one: the longread's first link is the Atom one
            await feeds.poll(url)
    finally:
        await feeds.http.close()
    got = by_title(await all_articles(conn))
    assert sorted(got) == sorted(
        [
            "На набережной открыли памятник первым трамвайщикам",
            "Горсовет утвердил бюджет на 2026 год",
            "Эксклюзив: кто купит городской аэропорт",
            "Как город живёт без воды: три дня после аварии на водоводе",
            "Фермеры Заречья собрали рекордный урожай клубники",
            "Синоптики пообещали жару до плюс 35 градусов",
        ]
    )
    tram = got["На набережной открыли памятник первым трамвайщикам"]
    assert tram.url == site.url("/news/tram-monument/?utm_source=rss&utm_medium=feed")
    assert tram.image_url == site.url("/img/tram-monument.jpg")
    assert tram.credit == "Иван Петров / «Вечерний Город»"
    assert tram.lead.startswith("В субботу на Речной набережной") and not tram.teaser
    budget = got["Горсовет утвердил бюджет на 2026 год"]
    assert budget.image_url == site.url("/img/budget-large.jpg")
    assert not any("Петрович" in p or "Читайте" in p for p in budget.body)
    airport = got["Эксклюзив: кто купит городской аэропорт"]
    assert airport.teaser and airport.lead.startswith("Редакция выяснила")
    water = got["Как город живёт без воды: три дня после аварии на водоводе"]
    assert water.url == site.url("/longread/vodovod")
    assert len(site.hits("/longread/vodovod")) == 1  # the JSON Feed's copy is the same article
    heat = got["Синоптики пообещали жару до плюс 35 градусов"]
    assert heat.lead.startswith("В ближайшие пять дней") and not heat.teaser  # page 404: feed text
    strawberry = got["Фермеры Заречья собрали рекордный урожай клубники"]
    assert strawberry.lead.startswith("Хозяйства Заречного района")  # windows-1251 page
    search = SearchService(conn)
    hits = await search.search("клубника")
    assert hits is not None and [h.id for h in hits.items] == [strawberry.id]
    latest = await search.latest(per_page=10)
    assert latest.items[0].id == water.id  # newest first, like any article
    states = {s.url: s for s in await feeds.status()}
    assert states[site.url("/rss.xml")].item_count == 3
    assert states[site.url("/feed.json")].articles == 2


async def test_second_poll_is_conditional_and_304_changes_nothing(
    site: FeedSite, conn: aiosqlite.Connection
) -> None:
    serve_fixture_site(site)
    site.routes["/rss.xml"].last_modified = "Mon, 02 Jun 2025 11:05:00 GMT"
    feeds = service(conn, [site.url("/rss.xml")])
    try:
        await feeds.poll(feeds.feeds[0])
        before = [tuple(r) for r in await conn.execute_fetchall("SELECT * FROM articles")]
        report = await feeds.poll(feeds.feeds[0])
    finally:
        await feeds.http.close()
    first, second = site.hits("/rss.xml")
    assert "If-None-Match" not in first.headers
    assert second.headers["If-None-Match"] == '"r1"'
    assert second.headers["If-Modified-Since"] == "Mon, 02 Jun 2025 11:05:00 GMT"
    assert report is not None and not report.changed
    assert [tuple(r) for r in await conn.execute_fetchall("SELECT * FROM articles")] == before
    assert len(site.hits("/news/budget-2026")) == 1
    (state,) = await feeds.status()
    assert (state.polls, state.item_count, state.etag, state.last_error) == (2, 3, '"r1"', None)


async def test_unchanged_entries_are_not_fetched_again(
    site: FeedSite, conn: aiosqlite.Connection
) -> None:
    serve_fixture_site(site)
    site.routes["/rss.xml"].etag = None  # no validators: the whole feed comes every time
    feeds = service(conn, [site.url("/rss.xml")])
    try:
        await feeds.poll(feeds.feeds[0])
        report = await feeds.poll(feeds.feeds[0])
    finally:
        await feeds.http.close()
    assert report is not None and (report.added, report.unchanged) == (0, 3)
    assert len(site.hits("/news/budget-2026")) == len(site.hits("/premium/airport")) == 1


def troubled_feed(site: FeedSite) -> None:
    """One good page and every kind of bad one, in one RSS feed."""
    site.fixture("/news/budget-2026", "news_portal.html")
    site.add("/news/slow", "<html><p>late</p></html>", delay=1.0)
    site.add("/news/huge", b"<html><body>" + b"<p>x</p>" * 800_000)
    site.add("/files/report.pdf", b"%PDF-1.7 " * 1000, content_type="application/pdf")
    site.add("/news/loop", status=302, headers={"Location": "/news/loop2"})
    site.add("/news/loop2", status=302, headers={"Location": "/news/loop"})
    names = ["budget-2026", "slow", "huge", "loop"]
    items = [
        Item(f"Новость {n}", site.url(f"/news/{n}"), guid=n, date=DAY + timedelta(hours=i),
             summary=f"Тизер новости {n}.")
        for i, n in enumerate(names)
    ]  # fmt: skip
    items.append(Item("Годовой отчёт", site.url("/files/report.pdf"), guid="pdf", date=DAY,
                      summary="Отчёт о работе за год в PDF."))  # fmt: skip
    site.add("/good.xml", rss(items), content_type="application/rss+xml")
    site.add("/500.xml", "Internal Server Error", status=500)
    site.add("/bad.xml", rss(items)[:-40], content_type="application/rss+xml")


async def test_broken_feeds_and_pages_never_stop_the_good_ones(
    site: FeedSite, conn: aiosqlite.Connection
) -> None:
    troubled_feed(site)
    feeds = service(conn, [site.url(p) for p in ("/500.xml", "/bad.xml", "/good.xml")])
    try:
        await feeds.poll_all()
        first = await all_articles(conn)
        await feeds.poll_all()
        site.routes["/news/slow"].delay = 0  # the slow page answers again
        site.routes["/news/slow"].body = (
            Path(__file__).with_name("feeds") / "longread.html"
        ).read_bytes()
        await feeds.poll_all()
    finally:
        await feeds.http.close()
    titles = sorted(a.title for a in first)
    assert titles == sorted(
        ["Новость budget-2026", "Новость slow", "Новость huge", "Новость loop", "Годовой отчёт"]
    )
    teasers = {a.title for a in first if a.teaser}
    assert teasers == {"Новость slow", "Новость huge", "Новость loop", "Годовой отчёт"}
    final = by_title(await all_articles(conn))
    assert len(final) == 5  # three polls, no duplicates
    slow = final["Новость slow"]
    assert slow.id == by_title(first)["Новость slow"].id
    assert not slow.teaser and slow.lead.startswith("Авария на магистральном водоводе")
    assert len(site.hits("/news/huge")) == 1  # refused for good: never asked again
    assert len(site.hits("/files/report.pdf")) == 1
    states = {s.url.rsplit("/", 1)[1]: s for s in await feeds.status()}
    assert states["500.xml"].last_error == "HTTP 500"
    assert states["500.xml"].failing_since is not None and states["500.xml"].polls == 0
    assert states["bad.xml"].last_error.startswith("malformed XML at line")
    assert states["good.xml"].last_error is None and states["good.xml"].item_count == 5
    assert len(site.hits("/500.xml")) == 3 * FAST.attempts  # retried within each poll


async def test_same_item_in_two_feeds_and_a_new_guid_is_one_article(
    site: FeedSite, conn: aiosqlite.Connection
) -> None:
    site.fixture("/news/budget-2026", "news_portal.html")
    site.fixture("/news/budget-2026/", "news_portal.html")  # either feed may be read first
    link = site.url("/news/budget-2026")
    a = [Item("Бюджет", link + "?utm_source=rss", guid="a-1", date=DAY, summary="Тизер.")]
    b = [Item("Бюджет", link + "/?utm_medium=x&fbclid=1#top", guid="b-77", date=DAY,
              summary="Тизер.")]  # fmt: skip
    site.add("/a.xml", rss(a), content_type="application/rss+xml")
    site.add("/b.xml", atom(b), content_type="application/atom+xml")
    feeds = service(conn, [site.url("/a.xml"), site.url("/b.xml")])
    try:
        await feeds.poll_all()
        a[0].guid = "a-1-republished"
        site.add("/a.xml", rss(a), content_type="application/rss+xml")
        report = await feeds.poll(site.url("/a.xml"))
    finally:
        await feeds.http.close()
    assert len(await all_articles(conn)) == 1
    assert len(site.hits("/news/budget-2026") + site.hits("/news/budget-2026/")) == 1
    assert report is not None and report.added == 0
    keys = {r[0] for r in await conn.execute_fetchall("SELECT key FROM feed_keys")}
    assert len(keys) == 4  # one link key (three spellings), three GUIDs
    assert len(await outbox.unannounced(conn)) == 1  # announced once, whatever the feeds did


async def test_changed_entry_is_a_correction_and_a_gone_item_no_withdrawal(
    site: FeedSite, conn: aiosqlite.Connection, tmp_path: Path
) -> None:
    site.fixture("/news/budget-2026", "news_portal.html")
    item = Item("Бюджет", site.url("/news/budget-2026"), guid="b", date=DAY, summary="Тизер.")
    site.add("/rss", rss([item]), content_type="application/rss+xml")
    feeds = service(conn, [site.url("/rss")])
    try:
        await feeds.poll(feeds.feeds[0])
        (original,) = await all_articles(conn)
        page = site.routes["/news/budget-2026"]
        page.body = page.body.replace("дефицит — 3,2 млрд".encode(), "дефицит — 2,9 млрд".encode())
        item.summary = "Тизер (обновлено)."
        site.add("/rss", rss([item]), content_type="application/rss+xml")
        report = await feeds.poll(feeds.feeds[0])
        site.add("/rss", rss([]), content_type="application/rss+xml")
        await feeds.poll(feeds.feeds[0])
    finally:
        await feeds.http.close()
    assert report is not None and (report.added, report.updated) == (0, 1)
    (corrected,) = await all_articles(conn)
    assert corrected.id == original.id and corrected.updated_at is not None
    assert "2,9 млрд" in corrected.lead and "3,2 млрд" in original.lead
    report = await Ingestor(conn, copy_seeds(tmp_path / "seeds"), MSK).scan()
    assert report.withdrawn == 0
    assert await articles.get_article(conn, original.id) is not None  # gone from the feed: kept


async def test_first_poll_announces_only_the_newest_backlog(
    site: FeedSite, conn: aiosqlite.Connection
) -> None:
    items = [
        Item(f"Новость {i}", site.url(f"/n/{i}"), guid=str(i), date=DAY + timedelta(hours=i),
             summary=f"Тизер {i}.")
        for i in range(8)
    ]  # fmt: skip
    site.add("/rss", rss(list(reversed(items))), content_type="application/rss+xml")
    feeds = service(conn, [site.url("/rss")], backlog=3)
    try:
        await feeds.poll(feeds.feeds[0])
        pending = [aid for aid, _ in await outbox.unannounced(conn)]
        stored = await visible(conn, pending)
        assert [a.title for a in stored] == ["Новость 5", "Новость 6", "Новость 7"]
        assert len(await all_articles(conn)) == 8  # the rest are searchable
        items.append(Item("Новость 8", site.url("/n/8"), guid="8", date=DAY + timedelta(hours=8)))
        site.add("/rss", rss(list(reversed(items))), content_type="application/rss+xml")
        await feeds.poll(feeds.feeds[0])
    finally:
        await feeds.http.close()
    assert len(await outbox.unannounced(conn)) == 4  # a later poll announces every new item
    ids = [a.id for a in await all_articles(conn)]
    dates = [a.published_at for a in await all_articles(conn)]
    assert dates == sorted(dates) and ids == sorted(ids)  # ids follow publication order


async def test_admins_hear_once_after_an_hour_and_once_on_recovery(
    site: FeedSite, conn: aiosqlite.Connection
) -> None:
    site.add("/rss", "down", status=500)
    notes = Notes()
    feeds = service(conn, [site.url("/rss")], notes=notes)
    url = feeds.feeds[0]
    try:
        await feeds.poll(url)
        assert notes.sent == []  # failing, but not for an hour yet
        await conn.execute("UPDATE feeds SET failing_since = :t", {"t": time.time() - 3601})
        await feeds.poll(url)
        await feeds.poll(url)
        assert notes.sent == [("failing", f"{url} HTTP 500")]
        site.add("/rss", rss([]), content_type="application/rss+xml")
        await feeds.poll(url)
        await feeds.poll(url)
    finally:
        await feeds.http.close()
    assert notes.sent == [("failing", f"{url} HTTP 500"), ("recovered", url)]
    (state,) = await feeds.status()
    assert state.failing_since is None and not state.failure_noted
    assert state.last_error == "HTTP 500"  # the last error stays visible in /stats


async def test_the_loop_polls_every_interval_and_stops(
    site: FeedSite, conn: aiosqlite.Connection
) -> None:
    site.add("/rss", rss([]), content_type="application/rss+xml")
    feeds = service(conn, [site.url("/rss")])
    feeds.interval = 0.05
    feeds.start()
    try:
        async with asyncio.timeout(10):
            while len(site.hits("/rss")) < 3:
                await asyncio.sleep(0.02)
    finally:
        await feeds.stop()
    count = len(site.hits("/rss"))
    await asyncio.sleep(0.2)
    assert len(site.hits("/rss")) == count  # stopped


async def test_version_1_database_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    await old_database(path, 1)
    conn = await open_db(path)
    try:
        rows = await conn.execute_fetchall("PRAGMA user_version")
        assert rows[0][0] == SCHEMA_VERSION == 7
        (article,) = await all_articles(conn)
        assert (article.title, article.url, article.image_url, article.teaser) == (
            "Старая", None, None, False,
        )  # fmt: skip
        origin = await conn.execute_fetchall("SELECT origin FROM articles")
        assert origin[0][0] == "seed"
        assert await feed_store.feed_states(conn, ["https://x/rss"]) == [
            feed_store.FeedState("https://x/rss")
        ]
    finally:
        await conn.close()

"""Feed parsing (RSS 2.0, Atom, JSON Feed from tests/feeds/) and link/GUID identity keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.sources.feeds import FeedError, guid_key, link_key, parse_feed
from tests.feed_site import FIXTURES, Item, atom, json_feed, rss

BASE = "http://news.example:8080"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes().replace(b"{{BASE}}", BASE.encode())


def test_rss_fixture() -> None:
    feed = parse_feed(fixture("rss.xml"), url=f"{BASE}/rss.xml")
    assert feed.title == "Вечерний Город — новости"
    assert [e.guid for e in feed.entries] == [
        "vg-20250602-1405",
        "vg-20250521-1037",
        "vg-20250520-0900",
    ]
    tram, budget, airport = feed.entries
    assert tram.link == f"{BASE}/news/tram-monument/?utm_source=rss&utm_medium=feed"
    assert tram.published_at == datetime(2025, 6, 2, 11, 5, tzinfo=UTC)
    assert tram.summary_html == "Бронзовая скульптура стоит у бывшего трамвайного депо."
    assert tram.content_html == ""
    assert budget.image_url == f"{BASE}/img/budget-feed.jpg"
    assert budget.summary_html == "<p>Депутаты приняли бюджет с дефицитом в 3,2 млрд рублей.</p>"
    assert airport.image_url is None


def test_atom_fixture_resolves_relative_links() -> None:
    feed = parse_feed(fixture("atom.xml"), url=f"{BASE}/atom.xml")
    assert [e.link for e in feed.entries] == [
        f"{BASE}/longread/vodovod",
        f"{BASE}/agro/strawberry/",
    ]
    first = feed.entries[0]
    assert first.guid == "tag:zarvesti.example,2025:longread-vodovod"
    assert first.published_at == datetime(2025, 7, 9, 16, 30, tzinfo=UTC)
    assert first.updated_at == datetime(2025, 7, 9, 16, 30, tzinfo=UTC)


def test_json_feed_fixture() -> None:
    feed = parse_feed(fixture("feed.json"), url=f"{BASE}/feed.json")
    assert feed.title == "Вечерний Город: лонгриды"
    longread, brief = feed.entries
    assert longread.guid == "longread-42"
    assert longread.image_url == f"{BASE}/img/vodovod-feed.jpg"
    assert longread.summary_html.startswith("Авария на водоводе")
    assert brief.guid == "43"  # JSON Feed 1.0 allowed numbers
    assert brief.content_html.startswith("<p>В ближайшие пять дней")
    assert brief.published_at == datetime(2025, 7, 8, 9, 0, tzinfo=UTC)


def test_builders_round_trip_through_the_parser() -> None:
    when = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
    items = [Item("Заголовок & <кавычки>", f"{BASE}/a", guid="urn:g1", date=when, summary="Тизер")]
    for doc in (rss(items), atom(items), json_feed(items)):
        data = doc.encode() if isinstance(doc, str) else doc
        (entry,) = parse_feed(data, url=f"{BASE}/feed").entries
        assert entry.title == "Заголовок & <кавычки>"
        assert entry.link == f"{BASE}/a"
        assert entry.guid == "urn:g1"
        assert entry.published_at == when


def test_fingerprint_follows_content_not_pubdate() -> None:
    a = Item("T", f"{BASE}/a", guid="g", date=datetime(2025, 5, 1, tzinfo=UTC), summary="x")
    b = Item("T", f"{BASE}/a", guid="g", date=datetime(2025, 5, 2, tzinfo=UTC), summary="x")
    c = Item("T", f"{BASE}/a", guid="g", date=datetime(2025, 5, 1, tzinfo=UTC), summary="y")
    (ea,), (eb,), (ec,) = (parse_feed(rss([i]).encode(), url=BASE).entries for i in (a, b, c))
    assert ea.fingerprint == eb.fingerprint
    assert ea.fingerprint != ec.fingerprint


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<rss><channel><item><title>x</title></item><item><title>y</ti", "malformed XML"),
        (b"<html><body><p>Not a feed</p></body></html>", "not an RSS, Atom or JSON feed"),
        (b"", "not an RSS, Atom or JSON feed"),
        (b'{"items": []}', "not a JSON Feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": 3}', "without an items"),
        (b"{broken json", "malformed JSON"),
    ],
)
def test_bad_documents_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(FeedError, match=reason):
        parse_feed(data, url=f"{BASE}/feed")


def test_entries_without_link_and_guid_are_dropped() -> None:
    doc = rss([Item("Без ссылки", None), Item("Со ссылкой", f"{BASE}/b")])
    assert [e.title for e in parse_feed(doc.encode(), url=BASE).entries] == ["Со ссылкой"]


@pytest.mark.parametrize(
    "variant",
    [
        "https://News.Example/politics/item-1/",
        "http://news.example/politics/item-1",
        "https://news.example:443/politics/item-1?utm_source=rss&utm_campaign=x",
        "https://news.example/politics/item-1#comments",
        "https://news.example/politics/item-1?fbclid=IwAR0&gclid=1&yclid=2&ysclid=3",
        "https://NEWS.EXAMPLE./politics/item-1/?utm_medium=telegram",
    ],
)
def test_link_key_ignores_what_does_not_name_the_article(variant: str) -> None:
    assert link_key(variant) == "//news.example/politics/item-1"


def test_link_key_keeps_what_does() -> None:
    assert link_key("https://news.example/item?id=7&b=2&a=1") == "//news.example/item?a=1&b=2&id=7"
    assert link_key("https://news.example/item?id=7") != link_key("https://news.example/item?id=8")
    assert link_key("https://news.example:8443/a") == "//news.example:8443/a"
    assert link_key("https://news.example/") == "//news.example/"
    assert link_key("https://news.example/Item") != link_key("https://news.example/item")


def test_guid_key_scopes_opaque_guids_to_the_host() -> None:
    assert guid_key("123", "https://news.example/rss") == guid_key("123", "https://news.example/a")
    assert guid_key("123", "https://news.example/rss") != guid_key("123", "https://other.example/")
    url_guid = "https://news.example/item-1/?utm_source=rss"
    assert guid_key(url_guid, "https://feeds.example/x") == link_key(url_guid)

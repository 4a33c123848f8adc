"""The page extractor on the layouts in tests/feeds/, and the entry/page merge."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.extract import ExtractedPage, extract_page, html_paragraphs
from bot.feed_article import feed_article
from bot.sources.feeds import FeedEntry
from tests.feed_site import FIXTURES

BASE = "http://news.example"
MSK = ZoneInfo("Europe/Moscow")


def page(name: str, path: str = "/news/x") -> ExtractedPage:
    data = (FIXTURES / name).read_bytes().replace(b"{{BASE}}", BASE.encode())
    result = extract_page(data, url=BASE + path, tz=MSK)
    assert result is not None, name
    return result


def text_of(result: ExtractedPage) -> str:
    return "\n".join([result.title, result.lead, *result.body])


SPECS = {
    name: spec
    for name, spec in json.loads((FIXTURES / "expected.json").read_text("utf-8")).items()
    if not name.startswith("_")
}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_page_keeps_the_article_and_drops_the_site(name: str) -> None:
    """Every fragment bench/extraction.py scores: kept, dropped, and the page's metadata."""
    spec = SPECS[name]
    r = page(name)
    text = text_of(r)
    assert [f for f in spec["must"] if f not in text] == []
    assert [f for f in spec["must_not"] if f in text] == []
    assert r.title == spec["title"]
    image = spec.get("image")
    assert r.image_url == (image.replace("{{BASE}}", BASE) if image else None)
    assert r.credit == spec.get("credit")
    if "date" in spec:
        assert r.published_at == datetime.fromisoformat(spec["date"])
    assert text.count(spec["title"]) == 1  # the h1 is the title, not also a paragraph


def test_news_portal_lead_and_order() -> None:
    r = page("news_portal.html")
    assert r.lead.startswith("Депутаты городского совета на сессии во вторник")
    assert r.body[-1].startswith("«Бюджет получился")
    assert r.published_at == datetime(2025, 5, 21, 10, 37, tzinfo=MSK)


def test_figure_caption_is_the_credit_not_a_paragraph() -> None:
    r = page("figure_article.html")
    assert r.credit == "Иван Петров / «Вечерний Город»"
    assert len(r.body) == 3


def test_windows_1251_page_with_div_paragraphs() -> None:
    r = page("div_layout.html", "/agro/strawberry/")
    assert r.lead.startswith("Хозяйства Заречного района")
    assert len(r.body) == 3
    assert r.image_url == f"{BASE}/upload/iblock/strawberry.jpg"  # relative og:image resolved


def test_longread_keeps_subheadings_and_the_quote() -> None:
    r = page("longread.html")
    assert "Что случилось" in r.body
    assert any(p.startswith("«Мы работаем круглосуточно") for p in r.body)


def test_table_layout_falls_back_to_readability() -> None:
    r = page("table_layout.html")
    assert r.lead.startswith("В селе Лесном после двух лет строительства")
    assert len(r.body) == 3


def test_table_layout_keeps_the_og_image_and_the_page_date() -> None:
    """trafilatura gives up on the body of an old table layout; the page's metadata is still
    the page's: og:image and article:published_time must not be lost with it."""
    meta = (
        b'<meta property="og:image" content="/i/ambulatoria.jpg">\n'
        b'<meta property="article:published_time" content="2025-05-20T09:30:00+03:00">\n</head>'
    )
    data = (FIXTURES / "table_layout.html").read_bytes().replace(b"</head>", meta, 1)
    r = extract_page(data, url=BASE + "/news/x", tz=MSK)
    assert r is not None
    assert r.lead.startswith("В селе Лесном после двух лет строительства")
    assert r.image_url == f"{BASE}/i/ambulatoria.jpg"
    assert r.published_at == datetime(2025, 5, 20, 9, 30, tzinfo=MSK)


def test_paywall_page_has_too_little_text() -> None:
    assert page("paywall_teaser.html").text_length < 200


def test_not_html_at_all() -> None:
    assert extract_page(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", url=BASE + "/a.pdf") is None
    assert extract_page(b"", url=BASE + "/empty") is None


def test_html_paragraphs() -> None:
    assert html_paragraphs("<p>Один <b>два</b></p><p>Три<br>Четыре</p>хвост") == [
        "Один два",
        "Три",
        "Четыре",
        "хвост",
    ]
    assert html_paragraphs("текст &amp; ещё") == ["текст & ещё"]
    assert html_paragraphs("<script>x()</script><p>Поделиться</p><p>Суть</p>") == ["Суть"]
    assert html_paragraphs("  ") == []


def entry(**kw: object) -> FeedEntry:
    base: dict[str, object] = {
        "link": f"{BASE}/news/x?utm_source=rss",
        "guid": "g",
        "title": "Заголовок из ленты",
        "published_at": datetime(2025, 5, 21, 7, 37, tzinfo=UTC),
        "updated_at": None,
        "summary_html": "Короткий тизер.",
        "content_html": "",
        "image_url": f"{BASE}/img/feed.jpg",
    }
    return FeedEntry(**(base | kw))  # type: ignore[arg-type]


NOW = datetime(2025, 8, 1, tzinfo=UTC)


def test_page_text_wins_and_the_feed_link_is_kept() -> None:
    a = feed_article(entry(), page("news_portal.html"), now=NOW, tz=MSK)
    assert a is not None
    assert a.title == "Заголовок из ленты"
    assert a.lead.startswith("Депутаты городского совета")
    assert a.url == f"{BASE}/news/x?utm_source=rss"
    assert a.image_url == f"{BASE}/img/budget-large.jpg"  # the page's og:image beats the feed's
    assert a.published_at == datetime(2025, 5, 21, 10, 37, tzinfo=MSK)
    assert not a.teaser
    assert not a.date_from_mtime


def test_no_page_summary_only_is_a_teaser() -> None:
    a = feed_article(entry(), None, now=NOW, tz=MSK)
    assert a is not None
    assert (a.lead, a.body, a.teaser) == ("Короткий тизер.", (), True)
    assert a.image_url == f"{BASE}/img/feed.jpg"


def test_no_page_full_content_is_not_a_teaser() -> None:
    long = "".join(f"<p>Абзац номер {i} полного текста статьи из ленты.</p>" for i in range(8))
    a = feed_article(entry(content_html=long), page("paywall_teaser.html"), now=NOW, tz=MSK)
    assert a is not None
    assert a.lead == "Абзац номер 0 полного текста статьи из ленты."
    assert len(a.body) == 7
    assert not a.teaser


def test_paywall_page_loses_to_the_feed_teaser() -> None:
    teaser = "Редакция выяснила, какие инвесторы претендуют на контрольный пакет аэропорта."
    a = feed_article(entry(summary_html=teaser), page("paywall_teaser.html"), now=NOW, tz=MSK)
    assert a is not None
    assert (a.lead, a.teaser) == (teaser, True)


def test_no_date_anywhere_uses_now() -> None:
    a = feed_article(entry(published_at=None), None, now=NOW, tz=MSK)
    assert a is not None
    assert a.published_at == NOW
    assert a.date_from_mtime


def test_title_markup_is_dropped() -> None:
    for title, shown in (
        ("<b>Срочно</b>: новость", "Срочно: новость"),
        ("Цена < 100", "Цена < 100"),
    ):
        a = feed_article(entry(title=title), None, now=NOW, tz=MSK)
        assert a is not None and a.title == shown


def test_no_title_anywhere() -> None:
    assert feed_article(entry(title=""), None, now=NOW, tz=MSK) is None

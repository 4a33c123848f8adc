"""Links back to the site: seed URL lines, UTM parameters, post buttons, image preview, notes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import aiosqlite
import pytest

from bot.models import Article, Note
from bot.parser import parse
from bot.store import outbox
from bot.store.db import open_db
from bot.telegram.formatting import site_link, with_teaser_note
from bot.telegram.posts import channel_post, subscriber_alert
from bot.telegram.publisher import AiogramPublisher
from tests.helpers import MSK, old_database, seed_text

UTM = (("utm_source", "telegram"), ("utm_medium", "channel"))
WHEN = datetime(2025, 5, 21, 7, 37, tzinfo=UTC)


def article(**kw: object) -> Article:
    fields: dict[str, object] = {
        "id": 7,
        "source": "feed://site.example/a",
        "title": "Заголовок",
        "published_at": WHEN,
        "lead": "Лид.",
        "body": ("Абзац.",),
        "url": "https://site.example/a?utm_source=rss&id=3",
        "image_url": "https://site.example/img/a.jpg",
    }
    return Article(**(fields | kw))  # type: ignore[arg-type]


@pytest.mark.parametrize("label", ["URL", "url", "Источник", "ИСТОЧНИК"])
def test_seed_source_line_anywhere(label: str) -> None:
    text = seed_text("Новость", ["Первый абзац.", "Второй абзац."])
    for data in (
        f"{label}: https://site.example/n/1\n" + text,
        text + f"\n{label}:  https://site.example/n/1\n",
    ):
        parsed = parse(data.encode(), mtime=0, tz=MSK)
        assert parsed.url == "https://site.example/n/1"
        assert parsed.title == "Новость"
        assert all("site.example" not in p for p in (parsed.lead, *parsed.body))


def test_seed_source_line_must_be_a_web_address_on_its_own() -> None:
    text = seed_text(
        "Новость", ["Источник: ТАСС", "Адрес URL: https://x.example/1 указан в тексте."]
    )
    parsed = parse(text.encode(), mtime=0, tz=MSK)
    assert parsed.url is None
    assert "Адрес URL: https://x.example/1 указан в тексте." in parsed.body
    assert parse(("URL: ftp://x.example/f\n" + text).encode(), mtime=0, tz=MSK).url is None


def test_site_link_sets_the_medium_and_replaces_the_feeds_tracking() -> None:
    url = site_link("https://site.example/a?utm_source=rss&id=3#top", UTM, "alert")
    parts = urlsplit(url)
    assert parse_qsl(parts.query) == [
        ("id", "3"),
        ("utm_source", "telegram"),
        ("utm_medium", "alert"),
    ]
    assert parts.fragment == "top"
    assert site_link("https://site.example/a", (("utm_source", "tg"),), "inline").endswith(
        "?utm_source=tg&utm_medium=inline"
    )
    assert site_link("https://site.example/a?utm_source=rss", (), "channel") == (
        "https://site.example/a?utm_source=rss"
    )  # no UTM_PARAMS: the link exactly as the feed gave it


def test_channel_post_buttons_and_preview() -> None:
    post = channel_post(article(), MSK, "news_bot", utm=UTM)
    assert post.markup is not None
    [[site]] = post.markup.inline_keyboard  # fits one message: no deep link needed
    assert (site.text, site.url) == (
        "Читать на сайте",
        "https://site.example/a?id=3&utm_source=telegram&utm_medium=channel",
    )
    assert post.preview.url == "https://site.example/img/a.jpg"
    assert (post.preview.is_disabled, post.preview.prefer_large_media) == (False, True)
    assert post.preview.show_above_text is True
    long = article(body=tuple("Очень длинный абзац статьи. " * 40 for _ in range(6)))
    post = channel_post(long, MSK, "news_bot", utm=UTM)
    assert post.markup is not None
    assert [b.text for b in post.markup.inline_keyboard[0]] == [
        "Читать полностью",
        "Читать на сайте",
    ]


def test_without_image_or_url_previews_stay_off_and_no_site_button() -> None:
    post = channel_post(article(image_url=None, url=None), MSK, "news_bot", utm=UTM)
    assert post.markup is None
    assert post.preview.is_disabled is True
    alert = subscriber_alert(article(url=None), MSK, "news_bot", UTM)
    assert alert.markup is not None
    assert [b.text for b in alert.markup.inline_keyboard[0]] == ["Читать полностью"]
    assert alert.preview.is_disabled is True  # alerts are cards: never a preview


def test_teaser_note_only_for_teasers_with_an_address() -> None:
    full = with_teaser_note(["текст"], article(), "ru", UTM)
    assert full == ["текст"]
    [text] = with_teaser_note(["текст"], article(teaser=True), "en", UTM)
    assert "This is the article's teaser" in text
    assert "utm_medium=bot" in text


def test_note_text_renders_times_and_escapes() -> None:
    publisher = AiogramPublisher(None, tz=MSK)  # type: ignore[arg-type]  # rendering only
    text = publisher.note_text(
        Note("feed_failing", {"url": "https://a.example/rss?a=1&b=2", "since": 1747813020.0,
                              "error": "malformed XML <at> line 1"})
    )  # fmt: skip
    assert "a=1&amp;b=2" in text and "&lt;at&gt;" in text
    assert "21.05.2025 10:37" in text


async def test_version_2_outbox_rows_survive_the_rebuild(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite3"
    await old_database(path, 2)
    old = await aiosqlite.connect(path)
    await old.execute(
        "INSERT INTO deliveries (article_id, chat_id, kind, status, created_at, sent_at, "
        "message_id) VALUES (1, '@news', 'channel', 'sent', 1.0, 2.0, 55)"
    )
    await old.commit()
    await old.close()
    conn = await open_db(path)
    try:
        [row] = await outbox.all_deliveries(conn)
        assert (row.article_id, row.kind, row.status, row.message_id) == (1, "channel", "sent", 55)
        note_id = await outbox.enqueue_note(
            conn, "900", Note("feed_recovered", {"url": "u"}), now=3
        )
        [_, note] = await outbox.all_deliveries(conn)
        assert (note.id, note.article_id, note.kind, note.note) == (
            note_id, None, "note", Note("feed_recovered", {"url": "u"}),
        )  # fmt: skip
        with pytest.raises(aiosqlite.IntegrityError):  # a note never points at an article
            await conn.execute(
                "INSERT INTO deliveries (article_id, chat_id, kind, created_at) "
                "VALUES (1, '900', 'note', 1)"
            )
    finally:
        await conn.close()

"""End to end: the bot built by build_app reads a local site's feed and posts to the fake Telegram.

The channel post carries «Читать на сайте» (the feed's link plus UTM_PARAMS, utm_medium=channel)
and shows the page's main image large above the text; alerts, inline shares and /article use
their own utm_medium; /stats lists each feed; a feed failing for an hour and recovering reaches
the admins as outbox notes; a page whose text changed edits the post in place, photo and
buttons kept (issue 11's follow-ups). With POST_TEMPLATE and QUIET_HOURS (issue 13) the button
and the photo stay, the template's source_url is the button's link, and /preview shows the same
post.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.config import Settings
from bot.quiet import parse_quiet_hours
from bot.sources.http import HttpLimits
from bot.store import outbox
from bot.store.db import transaction
from tests.fake_telegram import FakeTelegram, SentMessage
from tests.feed_site import FeedSite, Item, rss
from tests.helpers import (
    ADMIN,
    FAST,
    MSK,
    BotApp,
    channel,
    say,
    seed_text,
    start_bot,
    wait_until,
)

UTM = (("utm_source", "telegram"), ("utm_medium", "channel"), ("utm_campaign", "feed"))
READER = 101
DAY = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
LIMITS = HttpLimits(total_timeout=2, connect_timeout=2, backoff_base=0.01, attempts=1)


@pytest.fixture
def cfg(settings: Settings, site: FeedSite) -> Settings:
    return replace(
        settings,
        channel_id="@news",
        admin_ids=frozenset({ADMIN}),
        post_interval=0.3,
        post_backlog=0,  # the first read of the feed is only searchable: the test adds items
        feeds=(site.url("/rss"),),
        feed_interval=0.2,
        utm_params=UTM,
    )


def publish(site: FeedSite, items: list[Item]) -> None:
    site.add("/rss", rss(list(reversed(items))), content_type="application/rss+xml")


@pytest.fixture
def items(site: FeedSite) -> list[Item]:
    site.fixture("/news/budget-2026", "news_portal.html")
    site.fixture("/premium/airport", "paywall_teaser.html")
    first = [Item("Старая новость", site.url("/n/old"), guid="old", date=DAY, summary="Тизер.")]
    publish(site, first)
    return first


@pytest.fixture
async def app(cfg: Settings, fake: FakeTelegram, items: list[Item]) -> AsyncIterator[BotApp]:
    a = await start_bot(cfg, fake, scan=False, pacing=FAST, timeout=5, feed_http=LIMITS)
    await fake.wait_for_request("getUpdates")
    await wait_until(lambda: _polled(a), timeout=10)
    yield a
    await a.stop()


async def _polled(a: BotApp) -> bool:
    rows = await a.conn.execute_fetchall("SELECT polls FROM feeds")
    return bool(rows) and rows[0][0] >= 1


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def site_button(message: SentMessage) -> str:
    [url] = [b["url"] for b in message.buttons if b["text"] == "Читать на сайте"]
    return url


async def test_new_item_reaches_the_channel_with_the_link_and_the_photo(
    app: BotApp, fake: FakeTelegram, site: FeedSite, items: list[Item]
) -> None:
    assert "Готово" in (await say(fake, READER, "/subscribe"))[0].text
    link = site.url("/news/budget-2026?utm_source=rss&id=7")
    items.append(Item("Горсовет утвердил бюджет", link, guid="b", date=DAY + timedelta(days=1)))
    publish(site, items)
    [post] = await fake.wait_for_messages(channel(fake), 1, timeout=10)
    assert post.text.startswith("Горсовет утвердил бюджет")
    assert "Депутаты городского совета на сессии во вторник" in post.text
    assert "Петрович" not in post.text and "Читайте также" not in post.text
    url = site_button(post)
    assert url.startswith(site.url("/news/budget-2026?"))
    assert query(url) == {
        "id": ["7"],
        "utm_source": ["telegram"],
        "utm_medium": ["channel"],
        "utm_campaign": ["feed"],
    }
    assert post.extra["link_preview_options"] == {
        "url": site.url("/img/budget-large.jpg"),
        "prefer_large_media": True,
        "show_above_text": True,
    }
    alert = (await fake.wait_for_messages(READER, 2))[-1]
    assert alert.buttons[0]["url"].startswith("https://t.me/fake_news_bot?start=a_")
    assert query(site_button(alert))["utm_medium"] == ["alert"]
    assert alert.extra["link_preview_options"] == {"is_disabled": True}
    await fake.settle(0.8)  # more polls: the same item is not posted again
    assert len(fake.sent_messages(channel(fake))) == 1
    assert len(fake.sent_messages(READER)) == 2
    assert len(site.hits("/news/budget-2026")) == 1
    fake.assert_clean()


async def test_a_changed_page_edits_the_post_and_keeps_the_photo_and_buttons(
    app: BotApp, fake: FakeTelegram, site: FeedSite, items: list[Item]
) -> None:
    await say(fake, READER, "/subscribe")
    items.append(Item("Горсовет утвердил бюджет", site.url("/news/budget-2026"), guid="b",
                      date=DAY + timedelta(days=1), summary="Тизер."))  # fmt: skip
    publish(site, items)
    [post] = await fake.wait_for_messages(channel(fake), 1, timeout=10)
    sent = (post.text, post.buttons, post.extra["link_preview_options"])
    assert "3,2 млрд" in post.text
    page = site.routes["/news/budget-2026"]
    page.body = page.body.replace("дефицит — 3,2 млрд".encode(), "дефицит — 2,9 млрд".encode())
    items[-1].summary = "Тизер (обновлено)."  # the entry changed: the page is read again
    publish(site, items)
    await fake.wait_for(lambda: fake.message(channel(fake), post.message_id).edit_date, 10)
    edited = fake.message(channel(fake), post.message_id)
    assert "2,9 млрд" in edited.text and "3,2 млрд" not in edited.text
    assert edited.buttons == sent[1]  # «Читать на сайте» with the channel's UTM
    assert edited.extra["link_preview_options"] == sent[2]  # the photo stays above the text
    [note] = await fake.wait_for_messages(ADMIN, 1, timeout=10)
    assert "Статья исправлена" in note.text and "Изменено: текст" in note.text
    await fake.settle(0.8)
    assert len(fake.sent_messages(channel(fake))) == 1  # a correction, never a second post
    assert len(site.hits("/news/budget-2026")) == 2


async def test_teaser_without_image_inline_share_and_article(
    app: BotApp, fake: FakeTelegram, site: FeedSite, items: list[Item]
) -> None:
    teaser = "Редакция выяснила, какие инвесторы претендуют на аэропорт."
    link = site.url("/premium/airport")
    items.append(Item("Кто купит аэропорт", link, guid="a", date=DAY + timedelta(days=2),
                      summary=teaser))  # fmt: skip
    publish(site, items)
    [post] = await fake.wait_for_messages(channel(fake), 1, timeout=10)
    assert teaser in post.text and "подписчикам" not in post.text  # the paywall line lost
    assert post.extra["link_preview_options"] == {"is_disabled": True}  # no image: no preview
    rows = await app.conn.execute_fetchall("SELECT id, teaser FROM articles WHERE url = ?", [link])
    [(article_id, is_teaser)] = rows
    assert is_teaser == 1
    [shown] = await say(fake, READER, f"/article {article_id}")
    assert "Это анонс статьи. Полностью — на сайте:" in shown.text
    [href] = [e["url"] for e in shown.entities if e["type"] == "text_link"]
    assert query(href)["utm_medium"] == ["bot"]
    answer = await fake.wait_for_inline_answer(fake.push_inline_query(READER, "аэропорт"))
    [result] = answer["results"]
    [[button]] = result["reply_markup"]["inline_keyboard"]
    assert button["text"] == "Читать на сайте"
    assert query(button["url"])["utm_medium"] == ["inline"]
    fake.assert_clean()


async def test_stats_lists_the_feed(app: BotApp, fake: FakeTelegram, site: FeedSite) -> None:
    [answer] = await say(fake, ADMIN, "/stats")
    assert "Ленты" in answer.text
    assert site.url("/rss") in answer.text
    assert "ошибка: нет · записей в ленте: 1" in answer.text
    site.add("/rss", "down", status=500)
    await wait_until(lambda: _errored(app), timeout=5)
    [answer] = await say(fake, ADMIN, "/stats")
    assert "ошибка: HTTP 500 (" in answer.text
    fake.assert_clean()


async def _errored(a: BotApp) -> bool:
    rows = await a.conn.execute_fetchall("SELECT last_error FROM feeds")
    return bool(rows) and rows[0][0] == "HTTP 500"


async def test_admins_get_one_note_after_an_hour_and_one_on_recovery(
    app: BotApp, fake: FakeTelegram, site: FeedSite, items: list[Item]
) -> None:
    site.add("/rss", "down", status=500)
    await wait_until(lambda: _errored(app), timeout=5)
    async with transaction(app.conn):  # an hour ago, as far as the store knows
        await app.conn.execute("UPDATE feeds SET failing_since = ?", [time.time() - 3601])
    [note] = await fake.wait_for_messages(ADMIN, 1, timeout=5)
    assert note.text.startswith(f"⚠️ Лента {site.url('/rss')} не читается больше часа")
    assert "Последняя ошибка: HTTP 500" in note.text
    await fake.settle(0.6)  # still failing: no second note
    assert len(fake.sent_messages(ADMIN)) == 1
    publish(site, items)
    back = (await fake.wait_for_messages(ADMIN, 2, timeout=5))[-1]
    assert back.text.startswith(f"✅ Лента {site.url('/rss')} снова читается")
    await fake.settle(0.6)
    assert len(fake.sent_messages(ADMIN)) == 2
    notes = [d for d in await outbox.all_deliveries(app.conn) if d.kind == "note"]
    assert [(d.chat_id, d.status) for d in notes] == [(str(ADMIN), "sent")] * 2
    fake.assert_clean()


async def test_seed_file_with_a_source_line_gets_the_button(
    app: BotApp, fake: FakeTelegram, cfg: Settings
) -> None:
    text = seed_text("Новость из файла", ["Текст новости из файла."])
    (cfg.seeds_dir / "src.txt").write_text(text + "\nИсточник: https://site.example/news/77\n")
    [post] = await fake.wait_for_messages(channel(fake), 1, timeout=10)
    assert post.text.startswith("Новость из файла")
    assert "Источник" not in post.text
    url = site_button(post)
    assert url.startswith("https://site.example/news/77?")
    assert query(url)["utm_medium"] == ["channel"]
    fake.assert_clean()


TEMPLATE = (
    "<b>{{ title }}</b>\n{{ lead }}\n"
    '{% if source_url %}<a href="{{ source_url }}">на сайте</a>\n{% endif %}MARKER'
)


async def test_a_template_post_keeps_the_button_and_photo_and_obeys_quiet_hours(
    cfg: Settings, fake: FakeTelegram, site: FeedSite, items: list[Item], tmp_path: Path
) -> None:
    template = tmp_path / "post.html"
    template.write_text(TEMPLATE, encoding="utf-8")
    night = datetime(2025, 6, 1, 23, 30, tzinfo=MSK).timestamp()
    quiet = parse_quiet_hours("23:00-07:00", MSK)
    editor = replace(cfg, post_template=template, quiet_hours=quiet)
    app = await start_bot(
        editor, fake, scan=False, pacing=FAST, timeout=5, feed_http=LIMITS, clock=lambda: night
    )
    try:
        await fake.wait_for_request("getUpdates")
        await wait_until(lambda: _polled(app), timeout=10)
        link = site.url("/news/budget-2026?id=7")
        tomorrow = DAY + timedelta(days=1)
        items.append(Item("Горсовет утвердил бюджет", link, guid="b", date=tomorrow))
        publish(site, items)
        [post] = await fake.wait_for_messages(channel(fake), 1, timeout=10)
        assert post.html.startswith("<b>Горсовет утвердил бюджет")
        assert post.html.endswith("MARKER") and post.silent
        assert [b["text"] for b in post.buttons] == ["Читать на сайте"]  # whole: no deep link
        [href] = [e["url"] for e in post.entities if e["type"] == "text_link"]
        assert href == site_button(post)  # source_url is the article's link, with UTM_PARAMS
        assert query(href)["id"] == ["7"] and query(href)["utm_medium"] == ["channel"]
        assert post.extra["link_preview_options"] == {
            "url": site.url("/img/budget-large.jpg"),
            "prefer_large_media": True,
            "show_above_text": True,
        }
        [(article_id,)] = await app.conn.execute_fetchall(
            "SELECT id FROM articles WHERE url = ?", (link,)
        )
        mark = fake.mark()
        fake.push_message(ADMIN, text=f"/preview {article_id}")
        [preview] = await fake.wait_for_messages(ADMIN, 1, since=mark)
        assert (preview.html, preview.buttons) == (post.html, post.buttons)
        assert preview.extra["link_preview_options"] == post.extra["link_preview_options"]
        assert not preview.silent  # a reply to the admin, not a quiet-hours post
        fake.assert_clean()
    finally:
        await app.stop()

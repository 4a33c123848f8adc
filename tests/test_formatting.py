"""Formatting on strings: escaping, UTF-16 lengths, splitting at paragraph/sentence/word bounds."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.models import MARK_END, MARK_START, Article, ArticleSummary, Page, SearchHit
from bot.telegram import formatting as fm
from tests.telegram_html import parse_html

TZ = ZoneInfo("Europe/Moscow")
WHEN = datetime(2025, 5, 21, 7, 37, tzinfo=UTC)
TAG_RE = re.compile(r'^<(/?)(b|i|a|code)(?: href="[^"<>]*")?>$')


def visible(text: str) -> str:
    """Check the HTML the way Telegram would (subset, balance, escaping); return the plain text."""
    stack: list[str] = []
    out: list[str] = []
    for token in re.split(r"(<[^<>]*>)", text):
        if token.startswith("<"):
            m = TAG_RE.match(token)
            assert m, f"unsupported tag {token!r}"
            if m.group(1):
                assert stack and stack.pop() == m.group(2), f"unbalanced {token!r}"
            else:
                stack.append(m.group(2))
        else:
            assert "<" not in token and ">" not in token, token
            assert not re.search(r"&(?!(?:lt|gt|amp|quot);)", token), f"bare & in {token!r}"
            out.append(html.unescape(token))
    assert not stack, f"unclosed {stack}"
    parsed = parse_html(text)  # and the way the fake server's port of td's parser does
    assert not parsed.nesting_errors
    assert parsed.text == "".join(out)
    return "".join(out)


def check_messages(messages: list[str]) -> str:
    """Every message valid, non-empty and ≤ 4096 UTF-16 units; return all visible text."""
    assert messages
    texts = []
    for message in messages:
        assert fm.utf16_len(message) <= fm.MAX_MESSAGE_LEN
        text = visible(message)
        assert text.strip()
        texts.append(text)
    return "\n\n".join(texts)


def squash(text: str) -> str:
    return "".join(text.split())


def article(body: tuple[str, ...], title: str = "Заголовок", lead: str = "Лид.") -> Article:
    return Article(
        id=7,
        source="x.txt",
        title=title,
        published_at=WHEN,
        lead=lead,
        body=body,
        credit="РИА Новости",
    )


def test_escape_and_lengths() -> None:
    assert fm.escape('<script>alert("x") & </script>') == (
        '&lt;script&gt;alert("x") &amp; &lt;/script&gt;'
    )
    assert fm.utf16_len("abc") == 3
    assert fm.utf16_len("партнёр") == 7
    assert fm.utf16_len("😀") == 2
    assert fm.utf16_len("a😀b") == 4


def test_fmt_date_and_deep_link() -> None:
    assert fm.fmt_date(WHEN, TZ) == "21.05.2025 10:37"
    assert fm.deep_link("news_bot", 12) == "https://t.me/news_bot?start=a_12"
    assert fm.deep_link("@news_bot", 1) == "https://t.me/news_bot?start=a_1"


def test_short_article_is_one_message_with_all_parts() -> None:
    messages = fm.article_messages(article(("Первый абзац.", "Второй абзац.")), TZ)
    assert len(messages) == 1
    text = messages[0]
    assert text.startswith("<b>Заголовок</b>\n<i>21.05.2025 10:37 · Фото: РИА Новости</i>")
    assert visible(text).endswith("Лид.\n\nПервый абзац.\n\nВторой абзац.")
    english = fm.article_messages(article(()), TZ, "en")[0]
    assert "<i>21.05.2025 10:37 · Photo: РИА Новости</i>" in english


def test_long_article_splits_at_paragraph_boundaries() -> None:
    paragraphs = tuple(f"Абзац {i}. " + "слово " * 150 for i in range(20))  # ~18,000 chars
    messages = fm.article_messages(article(paragraphs), TZ)
    assert len(messages) >= 5
    check_messages(messages)
    for p in paragraphs:  # each paragraph lies whole inside exactly one message
        assert sum(fm.escape(p.strip()) in m for m in messages) == 1
    assert squash(check_messages(messages)).endswith(squash(paragraphs[-1]))


def test_paragraph_longer_than_limit_splits_at_sentences() -> None:
    sentences = [f"Предложение номер {i} про партнёрство и сотрудничество." for i in range(200)]
    long = " ".join(sentences)
    assert len(long) > 2 * fm.MAX_MESSAGE_LEN
    messages = fm.article_messages(article((long,)), TZ)
    assert len(messages) >= 3
    full = check_messages(messages)
    assert squash(long) in squash(full)
    for message in messages[1:]:  # later parts start at a sentence
        assert visible(message).startswith("Предложение номер")


def test_word_and_char_fallbacks() -> None:
    words = "слово " * 1500  # one sentence, 9,000 chars
    no_spaces = "я" * 9000
    for text in (words, no_spaces):
        full = check_messages(fm.article_messages(article((text,)), TZ))
        assert squash(text) in squash(full)
    for message in fm.article_messages(article((words,)), TZ):
        assert "слов " not in visible(message) + " "  # no word cut in half


def test_astral_emoji_counted_as_two_units() -> None:
    emoji = "😀" * 3000  # 3,000 code points but 6,000 UTF-16 units
    messages = fm.article_messages(article((emoji,)), TZ)
    assert len(messages) == 3  # the header, then 6,000 units of emoji in two parts
    assert all(fm.utf16_len(m) > 1000 for m in messages[1:])
    assert check_messages(messages).count("😀") == 3000


def test_html_looking_and_ampersand_text_is_escaped() -> None:
    hostile = '<b>не жирный</b> & <script>alert(1)</script> &amp; "кавычки" <a href="x">'
    messages = fm.article_messages(article((hostile, "&" * 2000), title=hostile, lead=hostile), TZ)
    full = check_messages(messages)
    assert full.count(hostile) == 3
    assert "&" * 2000 in squash(full)  # 10,000 escaped units, still split within the limit


def test_no_empty_messages_from_blank_paragraphs() -> None:
    messages = fm.article_messages(article(("", "   ", "\n", "Текст.")), TZ)
    assert len(messages) == 1
    assert visible(messages[0]).endswith("Лид.\n\nТекст.")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=3000), min_size=0, max_size=8), st.text(max_size=300))
def test_any_text_gives_valid_messages(body: list[str], title: str) -> None:
    messages = fm.article_messages(article(tuple(body), title=title or "T"), TZ)
    full = check_messages(messages)
    for paragraph in body:
        assert squash(paragraph) in squash(full)


def test_snippet_marks_become_bold_and_stay_balanced() -> None:
    snippet = f"стратегическим {MARK_START}партнером{MARK_END} <i>страны</i> &"
    assert fm.snippet_html(snippet) == (
        "стратегическим <b>партнером</b> &lt;i&gt;страны&lt;/i&gt; &amp;"
    )
    assert visible(fm.snippet_html(f"a {MARK_START}b c")) == "a b c"
    assert visible(fm.snippet_html(f"{MARK_END}x{MARK_START}{MARK_END}y")) == "xy"


def summary(
    i: int, title: str = "Статья", lead: str = "Первая строка лида.\nВторая"
) -> ArticleSummary:
    return ArticleSummary(id=i, title=f"{title} {i}", published_at=WHEN, lead=lead)


def test_latest_text_lists_title_date_and_first_lead_line() -> None:
    page = Page(items=(summary(3), summary(2)), total=3, page=1, per_page=2)
    text = fm.latest_text(page, TZ, "ru")
    plain = visible(text)
    assert "Последние статьи · стр. 1 из 2" in plain
    assert "1. Статья 3\n21.05.2025 10:37 — Первая строка лида." in plain
    assert "Вторая" not in plain
    assert "Latest articles" in fm.latest_text(page, TZ, "en")
    assert fm.latest_text(Page((), 0, 1, 5), TZ, "ru") == "Статей пока нет."


def test_lists_stay_within_limit_with_huge_items() -> None:
    big = "<&>" * 3000
    page = Page(
        items=tuple(summary(i, big, big) for i in range(20)), total=40, page=2, per_page=20
    )
    text = fm.latest_text(page, TZ, "ru")
    assert fm.utf16_len(text) <= fm.MAX_MESSAGE_LEN
    assert visible(text).count("21.05.2025") == 20
    hits = tuple(
        SearchHit(id=i, title=big, published_at=WHEN, snippet=MARK_START + big + MARK_END, score=1)
        for i in range(20)
    )
    text = fm.search_text(Page(hits, 20, 1, 20), big, TZ, "ru")
    assert fm.utf16_len(text) <= fm.MAX_MESSAGE_LEN
    visible(text)


def test_search_text_shows_count_query_and_snippets() -> None:
    hit = SearchHit(
        id=1,
        title="В России назвали Беларусь",
        published_at=WHEN,
        snippet=f"стратегическим {MARK_START}партнером{MARK_END}",
        score=1.0,
    )
    text = fm.search_text(Page((hit,), 1, 1, 5), "партнёр <x>", TZ, "ru")
    assert "Найдено: 1 · запрос «партнёр &lt;x&gt;»" in text
    assert "<b>партнером</b>" in text
    visible(text)
    empty = fm.search_text(Page((), 0, 1, 5), "<script>", TZ, "en")
    assert visible(empty) == "Nothing found for “<script>”."


def test_article_card_has_deep_link() -> None:
    card = fm.article_card(summary(5, lead="Лид <b>"), TZ, "news_bot", "ru")
    assert '<a href="https://t.me/news_bot?start=a_5">Читать полностью в боте</a>' in card
    assert "Лид &lt;b&gt;" in card
    visible(card)
    assert "href" not in fm.article_card(summary(5), TZ, None, "en")


def test_clip_and_labels() -> None:
    assert fm.clip("короткий", 100) == "короткий"
    clipped = fm.clip("слово " * 100, 50)
    assert fm.utf16_len(clipped) <= 50 and clipped.endswith("слово…")
    assert fm.utf16_len(fm.clip("&" * 100, 21)) <= 21
    assert fm.button_label(3, "Очень " * 30).endswith("…")
    assert len(fm.button_label(3, "Очень " * 30)) <= 60
    assert fm.shorten("ab cd", 5) == "ab cd" and fm.shorten("ab cd", 4) == "ab…"


def test_meta_line_names_the_photo_credit_in_the_readers_language() -> None:
    credited = article(())
    assert fm.meta_line(credited, TZ, "ru") == "21.05.2025 10:37 · Фото: РИА Новости"
    assert fm.meta_line(credited, TZ, "en") == "21.05.2025 10:37 · Photo: РИА Новости"
    assert fm.meta_line(replace(credited, credit=None), TZ, "en") == "21.05.2025 10:37"

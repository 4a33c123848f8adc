"""Callback data stays within 64 bytes; long or odd queries go through the bounded LRU."""

from __future__ import annotations

from bot.models import Page
from bot.telegram.callbacks import (
    LatestPage,
    OpenArticle,
    QueryCache,
    SearchPage,
    list_keyboard,
    resolve_query,
    search_page_data,
)
from bot.telegram.commands import menu


def nbytes(data: str) -> int:
    return len(data.encode())


def test_short_query_rides_inline() -> None:
    cache = QueryCache()
    data = search_page_data(2, "партнёр", cache)
    assert data == "s:2:партнёр"
    assert resolve_query(SearchPage.unpack(data), cache) == "партнёр"
    assert len(cache) == 0


def test_long_or_odd_queries_use_a_key() -> None:
    cache = QueryCache()
    for query in ("партнёр " * 10, "a:b", "#hashtag", "😀" * 20, "x" * 5000, 'NEAR(" OR 1=1'):
        data = search_page_data(9999, query, cache)
        assert nbytes(data) <= 64
        assert resolve_query(SearchPage.unpack(data), cache) == query


def test_cache_is_bounded_and_expired_keys_resolve_to_none() -> None:
    cache = QueryCache(maxsize=3)
    first = search_page_data(1, "a:1", cache)
    for i in range(2, 6):
        search_page_data(1, f"a:{i}", cache)
    assert len(cache) == 3
    assert resolve_query(SearchPage.unpack(first), cache) is None


def test_keyboard_buttons_and_pager_fit_limits() -> None:
    page = Page(items=(1, 2, 3), total=30, page=2, per_page=3)
    markup = list_keyboard(
        page, [10, 11, 12], ["Заголовок " * 20] * 3, "ru", lambda p: LatestPage(page=p, n=3).pack()
    )
    assert markup is not None
    rows = markup.inline_keyboard
    assert [b.callback_data for b in rows[0]] == ["a:10"]
    assert rows[0][0].text.startswith("4. Заголовок")
    assert [b.callback_data for b in rows[-1]] == ["l:1:3", "l:3:3"]
    assert OpenArticle.unpack("a:10").id == 10
    for row in rows:
        for button in row:
            assert button.callback_data and nbytes(button.callback_data) <= 64


def test_menus_follow_botcommand_rules() -> None:
    for lang in ("ru", "en"):
        for admin in (False, True):
            commands = menu(lang, admin)
            assert len(commands) <= 100
            for c in commands:
                assert c.command.isascii() and c.command.islower() and len(c.command) <= 32
                assert 1 <= len(c.description) <= 256
    assert [c.command for c in menu("ru", True)][-6:] == [
        "reload",
        "stats",
        "pause",
        "resume",
        "post",
        "preview",
    ]
    assert "preview" not in [c.command for c in menu("ru", False)]

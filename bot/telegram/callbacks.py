"""Callback data for inline buttons (≤ 64 bytes each) and the LRU for long search queries."""

from __future__ import annotations

import base64
import hashlib
from collections import OrderedDict
from collections.abc import Callable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.models import Page
from bot.telegram.formatting import button_label
from bot.telegram.texts import Lang, t

KEY_MARK = "#"
PageData = Callable[[int], str]


class OpenArticle(CallbackData, prefix="a"):
    """``a:<id>``: send the whole article."""

    id: int


class LatestPage(CallbackData, prefix="l"):
    """``l:<page>:<n>``: show page ``page`` of /latest with ``n`` articles per page."""

    page: int
    n: int


class SearchPage(CallbackData, prefix="s"):
    """``s:<page>:<q>``: ``q`` is the query itself, or ``#key`` into the QueryCache."""

    page: int
    q: str


class QueryCache:
    """Bounded LRU of search queries too long (or too odd) to ride inside callback_data."""

    def __init__(self, maxsize: int = 2048) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[str, str] = OrderedDict()

    def put(self, query: str) -> str:
        """Remember ``query`` and return its short key (``#`` + 10 url-safe characters)."""
        digest = hashlib.blake2b(query.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        key = KEY_MARK + base64.urlsafe_b64encode(digest).decode()[:10]
        self._items[key] = query
        self._items.move_to_end(key)
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)
        return key

    def get(self, key: str) -> str | None:
        """The query behind ``key``, or None once it has been evicted (or after a restart)."""
        query = self._items.get(key)
        if query is not None:
            self._items.move_to_end(key)
        return query

    def __len__(self) -> int:
        return len(self._items)


def search_page_data(page: int, query: str, cache: QueryCache) -> str:
    """Packed ``s:`` callback data: the query inline when it fits, else a cache key."""
    if query and not query.startswith(KEY_MARK):
        try:
            return SearchPage(page=page, q=query).pack()  # raises if too long or has ':'
        except (ValueError, UnicodeError):
            pass
    return SearchPage(page=page, q=cache.put(query)).pack()


def resolve_query(data: SearchPage, cache: QueryCache) -> str | None:
    """The query a paging button refers to; None when its cache key has expired."""
    return cache.get(data.q) if data.q.startswith(KEY_MARK) else data.q


def pager_row(page: Page, lang: Lang, data_for: PageData) -> list[InlineKeyboardButton]:
    """◀ ▶ buttons for a page; ``data_for(page_number)`` gives each button's callback_data."""
    row = []
    if page.has_prev:
        row.append(
            InlineKeyboardButton(text=t(lang, "prev"), callback_data=data_for(page.page - 1))
        )
    if page.has_next:
        row.append(
            InlineKeyboardButton(text=t(lang, "next"), callback_data=data_for(page.page + 1))
        )
    return row


def list_keyboard(
    page: Page, ids: list[int], titles: list[str], lang: Lang, data_for: PageData
) -> InlineKeyboardMarkup | None:
    """One "open" button per article (numbered like the text) plus the pager row."""
    first = (page.page - 1) * page.per_page + 1
    rows = [
        [
            InlineKeyboardButton(
                text=button_label(first + i, title), callback_data=OpenArticle(id=aid).pack()
            )
        ]
        for i, (aid, title) in enumerate(zip(ids, titles, strict=True))
    ]
    if pager := pager_row(page, lang, data_for):
        rows.append(pager)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None

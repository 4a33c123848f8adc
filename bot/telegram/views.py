"""What readers are shown: list pages (text + keyboard, rendered once per page) and articles.

SearchService hands back the very same Page object while the database is unchanged, so a page
that many readers ask for (the first page of /latest, a popular query, ◀ ▶ back and forth) is
formatted and its keyboard built once: rendering was a fifth of the bot's CPU per update in
bench/dispatch.py. Readers who ask for a page while it is being fetched and rendered wait for
that one build instead of starting their own: a burst of readers (a channel post's button)
asks for the same few pages at once, before the first answer is cached, and each of them
running the search SQL and rendering was two thirds of the bot's CPU in bench/burst.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.models import ArticleSummary, Page, SearchHit
from bot.telegram import formatting as fmt
from bot.telegram.callbacks import (
    KEY_MARK,
    LatestPage,
    QueryCache,
    SearchPage,
    list_keyboard,
    search_page_data,
)
from bot.telegram.texts import Lang, t

if TYPE_CHECKING:
    from bot.services.search import SearchService

log = logging.getLogger(__name__)

View = tuple[str, InlineKeyboardMarkup | None]
Key = tuple[object, ...]
SEARCH_PER_PAGE = 5
MEMO_SIZE = 256


def _keyed(markup: InlineKeyboardMarkup | None) -> bool:
    """Does a pager button refer to its query by a QueryCache key (query too long to inline)?"""
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            kind, _, rest = (button.callback_data or "").partition(SearchPage.__separator__)
            if kind == SearchPage.__prefix__ and rest.partition(":")[2].startswith(KEY_MARK):
                return True
    return False


class Views:
    """Renders /latest and /search pages; reuses a rendering while its Page object is current."""

    def __init__(
        self,
        search: SearchService,
        tz: ZoneInfo,
        queries: QueryCache,
        size: int = MEMO_SIZE,
        *,
        utm: fmt.UtmParams = (),
    ) -> None:
        self.search = search
        self.utm = utm
        self.tz = tz
        self.queries = queries
        self.size = size
        self._memo: OrderedDict[Key, tuple[object, View, tuple[str, ...]]]
        self._memo = OrderedDict()
        self._building: dict[Key, asyncio.Future[View]] = {}

    async def _shared(self, key: Key, build: Callable[[], Awaitable[View]]) -> View:
        """``build()``, run once for all the readers who ask for ``key`` while it runs.

        Each waiter is shielded: a reader's cancelled handler does not cancel the others' page.
        """
        task = self._building.get(key)
        if task is None:
            task = self._building[key] = asyncio.ensure_future(build())
            task.add_done_callback(lambda done: self._built(key, done))
        return await asyncio.shield(task)

    def _built(self, key: Key, task: asyncio.Future[View]) -> None:
        if self._building.get(key) is task:
            del self._building[key]
        if not task.cancelled() and task.exception() is not None:  # the waiters raise it
            log.debug("building %r failed: %r", key, task.exception())

    def _recall(self, key: Key, page: object) -> View | None:
        entry = self._memo.get(key)
        if entry is None or entry[0] is not page:
            return None
        self._memo.move_to_end(key)
        for query in entry[2]:  # keep the buttons' query keys alive, as a fresh render would
            self.queries.put(query)
        return entry[1]

    def _keep(self, key: Key, page: object, view: View, queries: tuple[str, ...]) -> View:
        self._memo[key] = (page, view, queries if _keyed(view[1]) else ())
        if len(self._memo) > self.size:
            self._memo.popitem(last=False)
        return view

    def _render(
        self,
        key: Key,
        lang: Lang,
        query: str | None,
        result: Page[ArticleSummary] | Page[SearchHit],
        text: Callable[[], str],
        data_for: Callable[[int], str],
    ) -> View:
        """The page's text and keyboard: remembered, or built now (one button per article)."""
        if (view := self._recall(key, result)) is not None:
            return view
        ids = [item.id for item in result.items]
        titles = [item.title for item in result.items]
        markup = list_keyboard(result, ids, titles, lang, data_for)
        if result.as_typed and result.total:  # "search exactly as typed" under the list
            label = t(lang, "search_as_typed", query=" ".join(result.as_typed.split()))
            label = label if len(label) <= 60 else label[:59] + fmt.ELLIPSIS
            data = search_page_data(1, result.as_typed, self.queries)
            rows = [*(markup.inline_keyboard if markup else []), []]
            rows[-1].append(InlineKeyboardButton(text=label, callback_data=data))
            markup = InlineKeyboardMarkup(inline_keyboard=rows)
        keyed = tuple(q for q in (query, result.as_typed) if q)
        return self._keep(key, result, (text(), markup), keyed)

    async def latest(self, page: int, n: int, lang: Lang) -> View:
        """Page ``page`` of /latest with ``n`` per page (the service clamps it to the last)."""
        key = ("latest", n, page, lang)
        return await self._shared(key, lambda: self._latest(key, page, n, lang))

    async def _latest(self, key: Key, page: int, n: int, lang: Lang) -> View:
        result = await self.search.latest(page=page, per_page=n)
        return self._render(
            key,
            lang,
            None,
            result,
            lambda: fmt.latest_text(result, self.tz, lang),
            lambda p: LatestPage(page=p, n=n).pack(),
        )

    async def article(self, article_id: int | None, lang: Lang) -> list[str]:
        """The whole article as ≤ 4096-unit messages, or the "no such article" answer."""
        article = await self.search.article(article_id) if article_id is not None else None
        if article is None:
            shown = fmt.escape(str(article_id)) if article_id is not None else "?"
            return [t(lang, "article_missing", id=shown)]
        return fmt.with_teaser_note(
            fmt.article_messages(article, self.tz, lang), article, lang, self.utm
        )

    async def search_page(self, query: str, page: int, lang: Lang) -> View:
        """One page of results for ``query``, or the "nothing to search for" answer."""
        key = ("search", query, page, lang)
        return await self._shared(key, lambda: self._search_page(key, query, page, lang))

    async def _search_page(self, key: Key, query: str, page: int, lang: Lang) -> View:
        result = await self.search.search(query, page=page, per_page=SEARCH_PER_PAGE)
        if result is None:
            return t(lang, "search_nothing"), None
        return self._render(
            key,
            lang,
            query,
            result,
            lambda: fmt.search_text(result, query, self.tz, lang),
            lambda p: search_page_data(p, query, self.queries),
        )

"""Search use cases for all front ends: latest, ranked pages with snippets, keyword match.

Caches on a reader's path, outermost first; each skips different work, none repeats another's:

1. Telegram keeps inline answers for ``CACHE_TIME`` s (telegram/handlers/inline.py).
2. ``Views`` (telegram/views.py) keeps the rendered text and keyboard of a list page while this
   service hands back the very same ``Page`` object: it skips formatting, not SQL.
3. ``SearchService._results`` here: the ``Page`` of every recent /search and /latest request
   (``RESULT_CACHE`` in all), reused while the stamp is unchanged: this connection's article
   writes and rollbacks (``db.content_generation``) at once, other processes' commits
   (``PRAGMA data_version``) within ``EXTERNAL_CHECK`` s. It skips the counting and ranking SQL.
4. ``SearchService._df``: document frequencies that choose stem variants, kept ``DF_TTL`` s (a
   statistic, so a slightly old figure does no harm).
5. ``functools.lru_cache`` on pure functions: ``text.stem`` per word, ``query._title_stems``
   per title.
``QueryCache`` (telegram/callbacks.py) is not a cache of work but the store of queries too long
for a button's callback_data: an evicted one makes that pager button say it has expired.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TypeVar, cast

import aiosqlite

from bot.models import Article, ArticleSummary, Page, SearchHit
from bot.observe import NO_OBSERVER, Observer
from bot.query import Query, Tier, parse
from bot.services.spelling import WEAK, Speller, shown
from bot.snippets import snippet
from bot.store import articles, fts
from bot.store.db import content_generation, data_version
from bot.synonyms import Synonyms, load
from bot.text import irregular

log = logging.getLogger(__name__)
T = TypeVar("T")

WEIGHTS: fts.Weights = (10.0, 3.0, 1.0)
"""bm25 weights of title, lead and body (tuned with bench/search_quality.py)."""
RANK_CAP = 500
"""Match sets larger than this rank only their newest RANK_CAP rows by bm25 (bounds latency)."""
VARIANT_RATIO = 10.0
"""A stem variant is kept only if at most this many times as common as the word's own stem …"""
VARIANT_SHARE = 0.02
"""… or, whatever the stem, in at most this share of all articles (keeps «посол» off «после»)."""
DF_TTL = 3600.0
"""Seconds the document frequencies used to pick variants are cached."""
COMPLETED_CAP_DIVISOR = 4
"""… and only a quarter of that when the last word is completed (bm25 costs more per row)."""
RERANK_MAX = 100
"""Title matches of a tier are re-ranked by query.title_key when there are at most this many."""
MAX_PER_PAGE = 50
RESULT_CACHE = 256
"""Search and /latest pages kept for reuse while the database is unchanged."""
EXTERNAL_CHECK = 0.5
"""Seconds between checks for writes by other processes (``python -m bot ingest``): asking
SQLite costs a trip to aiosqlite's thread (~0.13 ms of CPU), too much to pay on every update."""
MAX_ID = 2**63 - 1


@functools.cache
def builtin_synonyms() -> Synonyms:
    """The project's own list of equivalent names (bot/data/synonyms.txt), read once."""
    return load()


def synonyms_for(extra: Path | None) -> Synonyms:
    """The project's names plus a deployment's SYNONYMS_FILE (checked by Settings at start)."""
    return builtin_synonyms() if extra is None else load(extra)


def title_score(key: tuple[int, bool, float, int]) -> float:
    """A score for a title match from its query.title_key: terms found, typed order, coverage."""
    found, unordered, coverage, _whole = key
    return 10.0 * -found + (0.0 if unordered else 5.0) + 10.0 * -coverage


def _title_order(q: Query, group: list[fts.Titled]) -> list[tuple[int, float]]:
    """A small group of title matches, closest title first, then newest, with scores."""
    if len(group) == 1:
        return [(group[0].id, title_score(q.title_key(group[0].title)))]
    keyed = sorted((q.title_key(g.title), -g.published_at, -g.id, g.id) for g in group)
    return [(k[3], title_score(k[0])) for k in keyed]


def _pair_corrections(tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
    """Every word as typed, then with a rare word corrected: taken as a pair (title matches of
    both before the other matches of either; as typed first within each), because a rare word
    the archive knows is as often a slip that made another word («росию» → рос) as meant."""
    if len(tiers) < 2 or not tiers[1].forgiven or tiers[1].paired:
        return tiers
    return (tiers[0], replace(tiers[1], paired=True), *tiers[2:])


def _cheaper_titles(q: Query, tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
    """Each tier's title matches as its title expression less the tiers before it (``titled``;
    ``retitled``: less those before the tier before it): the same sets, since a title match of
    a tier's terms is a match of its union, but FTS5 no longer evaluates that union (every
    earlier tier's terms) once more. With exclusions: as they were."""
    if q.exclude:
        return tiers
    out = [tiers[0]]
    for i, t in enumerate(tiers[1:], 1):
        retitled = t.title if i == 1 else f"({t.title}) NOT ({tiers[i - 2].upto})"
        titled = f"({t.title}) NOT ({tiers[i - 1].upto})"
        out.append(replace(t, titled=titled, retitled=retitled))
    return tuple(out)


def _page_bounds(page: int, per_page: int, total: int) -> tuple[int, int]:
    """Clamp a requested page (1-based) and page size to what exists."""
    per_page = max(1, min(MAX_PER_PAGE, int(per_page)))
    pages = max(1, -(-total // per_page))
    return max(1, min(int(page), pages)), per_page


class SearchService:
    """Read side of the archive: what /latest, /search, /article, inline mode and alerts use."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        *,
        weights: fts.Weights = WEIGHTS,
        rank_cap: int = RANK_CAP,
        result_cache: int = RESULT_CACHE,
        external_check: float = EXTERNAL_CHECK,
        clock: Callable[[], float] = time.monotonic,
        observer: Observer = NO_OBSERVER,
        synonyms: Synonyms | None = None,
        forgiving: bool = True,
    ) -> None:
        self.conn = conn
        self.observer = observer
        self.synonyms = builtin_synonyms() if synonyms is None else synonyms
        self.forgiving = forgiving
        """Correct, complete, add synonyms (off: the engine before issue 12, for benches)."""
        self.speller = Speller(conn, self._stamp)
        self.weights = weights
        self.rank_cap = rank_cap
        self._df: dict[str, int] = {}
        self._df_n = 0
        self._df_at = -DF_TTL
        self._results: OrderedDict[tuple[object, ...], tuple[object, object]] = OrderedDict()
        self._result_cache = result_cache
        self._external_check = external_check
        self._clock = clock
        self._version = 0
        self._version_at = -math.inf

    async def _prepare(self, query: object, *, forgiving: bool = False) -> Query | None:
        """Parse reader text and keep only the stem variants that belong to the same word;
        ``forgiving`` (reader searches, never alerts) adds synonyms, corrections, completions."""
        parsed = parse(query)
        if parsed is None:
            return None
        forgiving = forgiving and self.forgiving
        if parsed.variants():
            parsed = await self._keep_variants(parsed, forgiving)
        if forgiving:
            parsed = await self.speller.forgive(self._with_synonyms(parsed))
        return parsed

    def _with_synonyms(self, q: Query) -> Query:
        """Each word also matches the other names of its group (ranked as typed)."""
        for i, term in enumerate(q.include):
            if term.word and (others := self.synonyms.of(term.stems[0])):
                alts = tuple(dict.fromkeys((*term.alts, *others)))
                q = q.replace(i, replace(term, alts=alts))
        return q

    async def _keep_variants(self, parsed: Query, forgiving: bool) -> Query:
        """Drop stem variants the index lacks or that belong to a far more common word."""
        vocab = await self.speller.vocabulary() if forgiving else None
        if vocab is not None:  # in memory already, and as of the last change
            df, n = vocab.docs, self.speller.articles
        else:
            df, n = await self._doc_freqs(parsed), self._df_n
        keep = set()
        for term in parsed.include:
            if term.prefix:  # a prefix's shorter stem: keep it if the index has it
                keep.update(a for a in term.alts if df(a) > 0)
            elif term.alts:
                own_df, same = df(term.stems[0]), irregular(term.stems[0])
                limit = max(VARIANT_RATIO * own_df, VARIANT_SHARE * n)
                keep.update(a for a in term.alts if df(a) > 0 and (a in same or df(a) <= limit))
        return parsed.keep_variants(frozenset(keep))

    async def _doc_freqs(self, parsed: Query) -> Callable[[str], int]:
        """Article counts of the query's stems and variants, from a cache kept DF_TTL seconds."""
        now = self._clock()
        if now - self._df_at > DF_TTL or len(self._df) > 100_000:
            self._df.clear()
            self._df_n = await articles.count_visible(self.conn)
            self._df_at = now
        own = {t.stems[0] for t in parsed.include if t.alts}
        missing = [s for s in (parsed.variants() | own) if s not in self._df]
        if missing:
            found = await fts.doc_freqs(self.conn, missing)
            self._df.update({s: found.get(s, 0) for s in missing})
        return self._df.__getitem__

    async def _stamp(self) -> tuple[int, int]:
        """Equal stamps mean no article changed: this connection's own article writes count at
        once, other processes' commits are noticed within ``external_check`` seconds."""
        now = self._clock()
        if now - self._version_at >= self._external_check:
            self._version, self._version_at = await data_version(self.conn), now
        return content_generation(self.conn), self._version

    async def latest(self, page: int = 1, per_page: int = 5) -> Page[ArticleSummary]:
        """Newest articles first, a page at a time (reused while the database is unchanged).

        Counting the visible articles walks an index (~0.5 ms at 10k articles), so every reader
        asking for the same page between two changes shares one answer.
        """
        key = ("latest", int(page), int(per_page))
        return await self._cached(key, lambda: self._latest_uncached(page, per_page))

    async def _latest_uncached(self, page: int, per_page: int) -> Page[ArticleSummary]:
        total = await articles.count_visible(self.conn)
        page, per_page = _page_bounds(page, per_page, total)
        items = await articles.latest(self.conn, offset=(page - 1) * per_page, limit=per_page)
        return Page(tuple(items), total, page, per_page)

    async def article(self, article_id: int) -> Article | None:
        """One visible article, or None (missing, withdrawn, or an id no article can have)."""
        if not isinstance(article_id, int) or not 0 < article_id <= MAX_ID:
            return None
        return await articles.get_article(self.conn, article_id)

    async def summaries(self, ids: list[int]) -> list[ArticleSummary]:
        """Cards (no body) for these ids in one query, in their order; missing ones left out."""
        return await articles.summaries(self.conn, ids)

    async def search(self, query: str, page: int = 1, per_page: int = 5) -> Page[SearchHit] | None:
        """Ranked matches for reader text; None when it holds nothing to search for.

        Recent answers are reused while the database is unchanged: paging back and forth and
        popular queries skip the ranking queries.
        """
        key = ("search", query if isinstance(query, str) else repr(query), page, per_page)
        started = time.perf_counter()
        try:
            return await self._cached(key, lambda: self._search_uncached(query, page, per_page))
        finally:
            self.observer.search_done(time.perf_counter() - started)

    async def _cached(self, key: tuple[object, ...], compute: Callable[[], Awaitable[T]]) -> T:
        """``compute()``, or the answer it gave for ``key`` if nothing has changed since.

        A hit returns the very same object, so front ends can memoise what they render from it.
        """
        if self._result_cache <= 0:
            return await compute()
        stamp = await self._stamp()
        cached = self._results.get(key)
        if cached is not None and cached[0] == stamp:
            self._results.move_to_end(key)
            return cast(T, cached[1])
        result = await compute()
        self._results[key] = (stamp, result)
        if len(self._results) > self._result_cache:
            self._results.popitem(last=False)
        return result

    async def _search_uncached(
        self, query: str, page: int, per_page: int
    ) -> Page[SearchHit] | None:
        try:
            parsed = await self._prepare(query, forgiving=True)
            if parsed is None:
                return None
            return await self._search(parsed, page, per_page)
        except fts.QueryRejected as exc:
            log.warning("search expression rejected (%s) for %r", exc, query)
            return None

    async def _search(
        self, q: Query, page: int, per_page: int, *, further: bool = True
    ) -> Page[SearchHit]:
        tiers = _cheaper_titles(q, q.tiers())
        last = len(tiers) - 1
        # Counting a tier stops past its rows this page could reach and that bm25 ranks:
        # beyond that its size changes nothing (a forgiving search's tiers can be large).
        reach = max(self.rank_cap, max(1, int(page)) * max(1, min(MAX_PER_PAGE, int(per_page))))
        paired = {i for i, t in enumerate(tiers) if t.paired} | {
            i - 1 for i, t in enumerate(tiers) if t.paired
        }

        cuts: dict[str, int] = {}  # where ranking starts, found while counting (no rescan)

        async def count(i: int) -> int:
            exact = i == last or i in paired or not self.forgiving
            if exact:
                return await fts.count(self.conn, tiers[i].upto)
            expr, cap = tiers[i].upto, self._cap(q)
            n, cuts[expr] = await fts.count_and_cutoff(self.conn, expr, reach + 1, cap)
            return n

        # upto[i]: matches in tiers 0..i. The first and the last (= total) are always needed;
        # a middle one only when the page reaches past the first tier.
        upto = {0: await count(0)}
        if 0 < upto[0] <= reach:  # (none as typed: the corrected ones lead anyway)
            tiers = _pair_corrections(tiers)
            paired |= {0, 1} if last and tiers[1].paired else set()
        if further and len(q.include) > 1 and q.include[-1].more:
            if last and tiers[1].paired:  # every word: as typed and completed (or corrected)
                upto[1] = await count(1)
            pair = 1 in upto
            if upto[1 if pair else 0] < WEAK or not await self._titled(tiers, pair):
                # a weak query (few matches, or none with every word in the title): complete
                # its last word further
                wider = await self.speller.complete_further(q)
                if wider is not q:
                    return await self._search(wider, page, per_page, further=False)
        if last:
            upto[last] = await count(last)
        total = upto[last]
        said = None
        if total and q.forgiven:
            said = await self._said(q, tiers, upto, count)
        page, per_page = _page_bounds(page, per_page, total)
        offset, found, before = (page - 1) * per_page, [], 0
        for i, tier in enumerate(tiers):
            if len(found) >= per_page or offset + len(found) >= total:
                break
            if tier.paired:  # taken with the tier before it
                continue
            pair = i + 1 < len(tiers) and tiers[i + 1].paired
            for j in (i, i + 1) if pair else (i,):
                if j not in upto:
                    upto[j] = await count(j)
            end = upto[i + 1] if pair else upto[i]
            if offset + len(found) < end:
                start, limit = offset + len(found) - before, per_page - len(found)
                if pair:
                    sizes = (upto[i] - before, upto[i + 1] - upto[i])
                    found += await self._pair_page(
                        q, tier, tiers[i + 1], sizes, start, limit, cuts
                    )
                else:
                    found += await self._tier_page(q, tier, end - before, start, limit, cuts)
            before = end
        rows = await fts.texts(self.conn, [i for i, _ in found])
        exact, prefixes = q.marks()
        hits = []
        for article_id, score in found:
            row = rows.get(article_id)
            if row is None:  # withdrawn between the two queries
                continue
            text = f"{row.lead}\n{row.body}" if row.body else row.lead
            marked = snippet(text, exact, prefixes)
            hits.append(SearchHit(row.id, row.title, row.published_at, marked, score))
        if said is None:
            return Page(tuple(hits), total, page, per_page)
        texts = [t for h in hits for t in (h.title, rows[h.id].lead, rows[h.id].body)]
        said = shown(q, texts).said()
        return Page(tuple(hits), total, page, per_page, searched=said, as_typed=q.as_typed())

    async def _titled(self, tiers: tuple[Tier, ...], pair: bool) -> bool:
        """Whether some title has every word (as typed, or with the last one completed)."""
        if await fts.title_group(self.conn, tiers[0].titled, limit=1):
            return True
        return pair and bool(await fts.title_group(self.conn, tiers[1].retitled, limit=1))

    async def _said(
        self,
        q: Query,
        tiers: tuple[Tier, ...],
        upto: dict[int, int],
        count: Callable[[int], Awaitable[int]],
    ) -> str | None:
        """The query as searched, when its best results come only from forgiven words."""
        for i, tier in enumerate(tiers):
            if i not in upto:
                upto[i] = await count(i)
            if upto[i]:
                return q.said() if tier.forgiven else None
        return None

    async def _tier_page(
        self, q: Query, tier: Tier, total: int, offset: int, limit: int, cuts: Mapping[str, int]
    ) -> list[tuple[int, float]]:
        """Rows [offset, offset+limit) of one tier: title matches first, then the rest.

        A small group of title matches (the usual case) is ordered here by how closely the
        title matches the query, then newest first; a large one by bm25 in SQL. Prefix queries
        skip bm25 (its statistics would merge every word with the prefix): newest first.
        """
        weights, cap = None if q.has_prefix else self.weights, self._cap(q)
        group = await fts.title_group(self.conn, tier.titled, limit=RERANK_MAX + 1)
        if len(group) > RERANK_MAX:  # too many to re-rank here: title matches first in SQL
            return await self._ranked(
                tier.match, total, (weights, cap), offset, limit, title=tier.title, cuts=cuts
            )
        out = _title_order(q, group)[offset : offset + limit]
        if offset + limit > len(group) and total > len(group):
            skip = max(0, offset - len(group))
            n = offset + limit - len(group) - skip
            out += await self._rest(tier, total, group, (weights, cap), skip, n, cuts)
        return out

    def _cap(self, q: Query) -> int:
        """Rows ranked by bm25 in a tier: fewer with completions, whose every posting list
        bm25 reads for each row it scores."""
        return self.rank_cap // COMPLETED_CAP_DIVISOR if q.completes else self.rank_cap

    async def _rest(
        self,
        tier: Tier,
        total: int,
        group: list[fts.Titled],
        ranking: tuple[fts.Weights | None, int],
        skip: int,
        n: int,
        cuts: Mapping[str, int],
    ) -> list[tuple[int, float]]:
        """Rows [skip, skip+n) of the tier's matches after its title ``group``, in bm25 order,
        skipping the title matches already placed (cheaper than asking FTS5 for "tier NOT
        title", which needs every row's positions)."""
        ranked = await self._ranked(
            tier.match, total, ranking, 0, skip + n + len(group), cuts=cuts
        )
        placed = {g.id for g in group}
        return [r for r in ranked if r[0] not in placed][skip : skip + n]

    async def _pair_page(
        self,
        q: Query,
        a: Tier,
        b: Tier,
        sizes: tuple[int, int],
        offset: int,
        limit: int,
        cuts: Mapping[str, int],
    ) -> list[tuple[int, float]]:
        """Rows of a tier ``a`` (words as typed) and its completed tier ``b`` together: the
        title matches of ``a``, of ``b`` (with those of ``a`` whose title has only the
        completed word), then the other matches of ``a``, of ``b`` — a word being typed may
        end in any of its completions, but the title still says most."""

        async def title_matches(tier: Tier, size: int) -> list[fts.Titled]:
            if not size:  # an empty tier has no title matches
                return []
            return await fts.title_group(self.conn, tier.titled, limit=RERANK_MAX + 1)

        ga = await title_matches(a, sizes[0])
        if len(ga) <= RERANK_MAX and offset + limit <= len(ga):
            return _title_order(q, ga)[offset : offset + limit]  # the page is a's
        gb = await title_matches(b, sizes[1])
        if len(ga) > RERANK_MAX or len(gb) > RERANK_MAX:  # one after the other
            out: list[tuple[int, float]] = []
            if offset < sizes[0]:
                out = await self._tier_page(q, a, sizes[0], offset, limit, cuts)
            if offset + limit > sizes[0]:
                start = max(0, offset - sizes[0])
                out += await self._tier_page(q, b, sizes[1], start, limit - len(out), cuts)
            return out
        moved: list[fts.Titled] = []  # a's articles with the completed word only in the title
        if sizes[0]:
            placed = {g.id for g in (*ga, *gb)}
            both = await fts.title_group(self.conn, b.retitled, limit=RERANK_MAX + 1)
            moved = [g for g in both if g.id not in placed]
        titles = _title_order(q, ga) + _title_order(q, gb + moved)
        groups = (ga + moved, gb)  # the moved rows are a's: its other matches skip them
        out = titles[offset : offset + limit]
        weights = None if q.has_prefix else self.weights
        skip = max(0, offset - len(titles))
        for tier, size, group in zip((a, b), sizes, groups, strict=True):
            rest = size - len(group)
            if len(out) < limit and skip < rest:
                ranking = (weights, self._cap(q))
                n = limit - len(out)
                out += await self._rest(tier, size, group, ranking, skip, n, cuts)
            skip = max(0, skip - rest)
        return out

    async def _ranked(
        self,
        expr: str,
        total: int,
        ranking: tuple[fts.Weights | None, int],
        offset: int,
        limit: int,
        *,
        title: str | None = None,
        cuts: Mapping[str, int],
    ) -> list[tuple[int, float]]:
        """``fts.ranked`` with these bm25 weights (None: newest first) and cap, and the cutoff
        if counting found it (``cuts``: by expression)."""
        weights, cap = ranking
        return await fts.ranked(
            self.conn,
            expr,
            total=total,
            weights=weights,
            offset=offset,
            limit=limit,
            cap=cap,
            title=title,
            cut=cuts.get(expr),
        )

    async def matches(self, article_id: int, query: str) -> bool:
        """Does this article have every word of the query (same morphology rules as search)?"""
        if not isinstance(article_id, int) or not 0 < article_id <= MAX_ID:
            return False
        try:
            parsed = await self._prepare(query)
            if parsed is None:
                return False
            return await fts.matches(self.conn, parsed.match_all(), article_id)
        except fts.QueryRejected as exc:
            log.warning("match expression rejected (%s) for %r", exc, query)
            return False

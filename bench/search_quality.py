"""Known-item search quality on the shared corpus: this engine against a plain FTS5 index.

The corpus is written as seed files and ingested with the project's own Ingestor. For a fixed
random sample of articles, a query is made of 2–3 content words (nouns, adjectives) of the
title put into a different grammatical case with pymorphy3 (bench-only dependency), e.g.
«Стратегический партнер подводит Россию» → «стратегическому партнёру». Each query should find
its own article: recall@1, recall@5 and MRR@10 are reported for SearchService and, in the same
run, for a plain FTS5 ``unicode61`` index of the same texts queried with the same words.

    .venv/bin/python bench/search_quality.py              # 1,000 queries, JSON summary last
    .venv/bin/python bench/search_quality.py --tune       # also try a grid of bm25 weights
    .venv/bin/python bench/search_quality.py --misses 20  # print queries that missed the top 5
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import common

from bot.services.search import WEIGHTS, SearchService

log = logging.getLogger("bench.search_quality")

WORK = common.WORK / "search"
SEED = 20250521
CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct")
CONTENT_POS = frozenset({"NOUN", "ADJF"})
_CYR_WORD = re.compile(r"[А-Яа-яЁё]+(?:-[А-Яа-яЁё]+)*")
TUNE_GRID = [(t, lead, 1.0) for t in (2.0, 5.0, 10.0, 20.0, 40.0) for lead in (1.0, 2.0, 4.0)]


def _fold(word: str) -> str:
    return word.lower().replace("ё", "е")


def make_query(title: str, morph: Any, rng: random.Random) -> str | None:
    """2–3 content words of the title, each in another case; None when the title has too few."""
    from bot.text import is_stop

    candidates = []
    for word in _CYR_WORD.findall(title):
        parse = morph.parse(word)[0]
        tag = parse.tag
        content = tag.POS in CONTENT_POS and tag.case and "Apro" not in tag
        if content and len(word) > 2 and not is_stop(_fold(word)):
            candidates.append((word, parse))
    if len(candidates) < 2:
        return None
    k = min(len(candidates), rng.choice((2, 3)))
    chosen = sorted(rng.sample(range(len(candidates)), k))
    target = rng.choice([c for c in CASES if c != candidates[chosen[0]][1].tag.case])
    out = []
    for i in chosen:
        word, parse = candidates[i]
        for case in (target, *rng.sample(CASES, len(CASES))):
            form = parse.inflect({case})
            if form is not None and _fold(form.word) != _fold(word):
                out.append(form.word)
                break
    return " ".join(out) if len(out) >= 2 else None


def build_plain(db_path: Path, src: Path) -> sqlite3.Connection:
    """The floor: the same title/lead/body texts in a stock FTS5 unicode61 table."""
    db_path.unlink(missing_ok=True)
    plain = sqlite3.connect(db_path)
    plain.execute("CREATE VIRTUAL TABLE plain USING fts5(title, lead, body, tokenize='unicode61')")
    plain.execute("ATTACH DATABASE ? AS src", (str(src),))
    plain.execute(
        "INSERT INTO plain (rowid, title, lead, body) "
        "SELECT id, title, lead, body FROM src.articles WHERE withdrawn = 0"
    )
    plain.commit()
    plain.execute("DETACH DATABASE src")
    return plain


def plain_ids(plain: sqlite3.Connection, query: str, k: int) -> list[int]:
    """Top k of the plain index for the query's words (implicit AND, default bm25)."""
    expr = " ".join('"' + w.replace('"', '""') + '"' for w in query.split())
    rows = plain.execute(
        "SELECT rowid FROM plain WHERE plain MATCH ? ORDER BY rank LIMIT ?", (expr, k)
    )
    return [int(r[0]) for r in rows]


def score(ranks: list[int | None]) -> dict[str, float]:
    """recall@1, recall@5 and MRR@10 from 1-based ranks (None = not in the top 10)."""
    n = len(ranks) or 1
    return {
        "recall@1": round(sum(r == 1 for r in ranks) / n, 4),
        "recall@5": round(sum(r is not None and r <= 5 for r in ranks) / n, 4),
        "mrr": round(sum(1 / r for r in ranks if r is not None) / n, 4),
    }


def rank_of(target: int, ids: list[int]) -> int | None:
    return ids.index(target) + 1 if target in ids else None


async def engine_ranks(
    service: SearchService, queries: list[tuple[int, str, str]]
) -> list[int | None]:
    ranks = []
    for target, _title, query in queries:
        page = await service.search(query, page=1, per_page=10)
        ranks.append(rank_of(target, [h.id for h in page.items] if page else []))
    return ranks


async def run(args: argparse.Namespace) -> dict[str, Any]:
    import pymorphy3

    started = time.perf_counter()
    records = common.read_corpus(args.limit)
    seeds = WORK / "seeds"
    written = common.write_seeds(records, seeds)
    log.info("%d corpus records, %d seed files written to %s", len(records), written, seeds)
    db_path = WORK / "quality.sqlite3"
    if args.reuse and db_path.exists():
        from bot.store.db import open_db

        conn = await open_db(db_path)
    else:
        conn = await common.ingest_fresh(db_path, seeds)
    try:
        async with conn.execute(
            "SELECT id, title FROM articles WHERE withdrawn = 0 ORDER BY id"
        ) as cur:
            articles = [(int(r[0]), str(r[1])) for r in await cur.fetchall()]
        plain = build_plain(WORK / "plain.sqlite3", db_path)
        morph, rng = pymorphy3.MorphAnalyzer(), random.Random(args.seed)
        queries: list[tuple[int, str, str]] = []
        for article_id, title in rng.sample(articles, len(articles)):
            query = make_query(title, morph, rng)
            if query:
                queries.append((article_id, title, query))
            if len(queries) >= args.queries:
                break
        service = SearchService(conn, weights=args.weights)
        ours = await engine_ranks(service, queries)
        floor = [rank_of(t, plain_ids(plain, q, 10)) for t, _, q in queries]
        # The same words in a random order: the engine rewards titles in the order typed, and
        # the generated queries keep the title's order, so show that this is not all it uses.
        shuffled = [
            (t, title, " ".join(rng.sample(q.split(), len(q.split())))) for t, title, q in queries
        ]
        mixed = await engine_ranks(service, shuffled)
        summary: dict[str, Any] = {
            "bench": "search_quality",
            "articles": len(articles),
            "queries": len(queries),
            "seed": args.seed,
            "weights": list(args.weights),
            "engine": score(ours),
            "engine_shuffled_words": score(mixed),
            "plain_fts5": score(floor),
        }
        print(f"articles {len(articles)}, known-item queries {len(queries)} (seed {args.seed})")
        runs = (
            ("engine (stems, tiers, bm25)", ours),
            ("engine, words shuffled", mixed),
            ("plain FTS5 unicode61", floor),
        )
        for name, ranks in runs:
            s = score(ranks)
            print(
                f"  {name:30} recall@1 {s['recall@1']:.3f}  recall@5 {s['recall@5']:.3f}  "
                f"MRR@10 {s['mrr']:.3f}"
            )
        misses = [(q, r) for q, r in zip(queries, ours, strict=True) if r is None or r > 5]
        for (target, title, query), r in misses[: args.misses]:
            print(f"  miss (rank {r}): {query!r} → #{target} {title}")
        if args.tune:
            summary["tune"] = await tune(conn, queries)
        summary["seconds"] = round(time.perf_counter() - started, 1)
        plain.close()
        return summary
    finally:
        await conn.close()


async def tune(conn: Any, queries: list[tuple[int, str, str]]) -> list[dict[str, Any]]:
    """MRR for each bm25 weight triple in the grid, best first."""
    results = []
    for weights in TUNE_GRID:
        s = score(await engine_ranks(SearchService(conn, weights=weights), queries))
        results.append({"weights": list(weights), **s})
        print(f"  weights {weights}: {s}")
    return sorted(results, key=lambda r: (-r["mrr"], -r["recall@5"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=1000, help="known-item queries (≥ 500)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--limit", type=int, default=None, help="corpus records to use")
    parser.add_argument(
        "--weights",
        type=lambda s: tuple(float(x) for x in s.split(",")),
        default=WEIGHTS,
        help="bm25 title,lead,body weights",
    )
    parser.add_argument("--tune", action="store_true", help="evaluate a grid of weights")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the last run's database (only if bot/text.py is unchanged)",
    )
    parser.add_argument("--misses", type=int, default=0, help="print this many misses")
    args = parser.parse_args()
    common.run_and_emit(run(args))


if __name__ == "__main__":
    main()

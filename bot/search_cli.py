"""``python -m bot search QUERY [--limit N] [--page P] [--json]``: ranked results in a terminal.

QUERY ``-`` reads one query per line from standard input and answers each with exactly one line
(a JSON array with ``--json``), opening the database once — so scripts can pipe queries through.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import TextIO

from bot.app import build_core
from bot.config import Settings
from bot.models import MARK_END, MARK_START, Page, SearchHit
from bot.store.db import StoreError

log = logging.getLogger(__name__)

NOTHING = "nothing to search for"
_BOLD, _RESET = "\x1b[1m", "\x1b[0m"


def plain(snippet: str) -> tuple[str, list[list[int]]]:
    """The snippet without marks, and the [start, end) offsets of the marked words in it."""
    text: list[str] = []
    spans: list[list[int]] = []
    size = 0
    for ch in snippet:
        if ch == MARK_START:
            spans.append([size, size])
        elif ch == MARK_END:
            if spans:
                spans[-1][1] = size
        else:
            text.append(ch)
            size += 1
    return "".join(text), spans


def hit_json(hit: SearchHit, settings: Settings) -> dict[str, object]:
    """One result as a JSON object for scripts."""
    snippet, highlights = plain(hit.snippet)
    return {
        "id": hit.id,
        "title": hit.title,
        "published_at": hit.published_at.astimezone(settings.source_tz).isoformat(),
        "snippet": snippet,
        "highlights": highlights,
        "score": round(hit.score, 4),
    }


def _date(hit: SearchHit, settings: Settings) -> str:
    return hit.published_at.astimezone(settings.source_tz).strftime("%d.%m.%Y %H:%M")


def render(page: Page[SearchHit] | None, query: str, settings: Settings, tty: bool) -> str:
    """A page of results for a person at a terminal (matched words bold, or *starred*)."""
    if page is None:
        return NOTHING
    head = f"{page.total} results for «{query}» (page {page.page} of {page.pages})"
    if page.searched:
        head += f"\nshowing results for «{page.searched}»; as typed: {page.as_typed}"
    lines = [head]
    start, end = (_BOLD, _RESET) if tty else ("*", "*")
    for hit in page.items:
        snippet = hit.snippet.replace(MARK_START, start).replace(MARK_END, end)
        lines += [f"#{hit.id}  {_date(hit, settings)}  {hit.title}", f"    {snippet}"]
    return "\n".join(lines)


def one_line(page: Page[SearchHit] | None) -> str:
    """A page of results on one line (for ``-``: one answer line per query line)."""
    if page is None:
        return NOTHING
    found = "; ".join(f"#{h.id} {' '.join(h.title.split())}" for h in page.items)
    return f"{page.total} results" + (f": {found}" if found else "")


async def main(settings: Settings, query: str, *, limit: int, page: int, as_json: bool) -> int:
    """Run one query (or one per stdin line for ``-``) and print the answers; exit code."""
    path = settings.db_path
    if str(path) != ":memory:" and not path.exists():
        print(f"error: no database at {path}; run `python -m bot ingest` first", file=sys.stderr)
        return 1
    try:
        core = await build_core(settings)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        service = core.search
        out: TextIO = sys.stdout
        queries = (line.rstrip("\r\n") for line in sys.stdin) if query == "-" else iter([query])
        for text in queries:
            result = await service.search(text, page=page, per_page=limit)
            if as_json:
                items = [hit_json(h, settings) for h in result.items] if result else []
                out.write(json.dumps(items, ensure_ascii=False) + "\n")
            elif query == "-":
                out.write(one_line(result) + "\n")
            else:
                out.write(render(result, text, settings, out.isatty()) + "\n")
            out.flush()
    finally:
        await core.close()
    return 0

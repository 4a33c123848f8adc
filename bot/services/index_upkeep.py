"""Upkeep of the full-text index, shared by seed scans and feeds.

Every write adds a segment to the FTS5 index and a search looks each word up once per
segment; FTS5's own merging keeps dozens of them after a bulk load or months of single
articles. So every MERGE_EVERY articles written, the index is merged into one segment.
"""

from __future__ import annotations

import logging
import time

import aiosqlite

from bot.models import IngestReport
from bot.store import fts
from bot.store.db import transaction

log = logging.getLogger(__name__)

MERGE_EVERY = 1000
"""Articles written between merges: a first load of the archive merges at once, a steady
flow of new articles every few days (about 2 s of work at 50,000 articles)."""


async def merge_index(
    conn: aiosqlite.Connection, report: IngestReport, every: int = MERGE_EVERY
) -> bool:
    """Count what ``report`` wrote towards the next merge; merge once ``every`` articles have
    been written since the last one. True if it merged."""
    written = report.added + report.updated + report.withdrawn + report.restored
    if not written:
        return False
    started = time.perf_counter()
    async with transaction(conn):
        merged = await fts.merge_after(conn, written, every)
    if merged:
        log.info("search index merged into one segment in %.1f s", time.perf_counter() - started)
    return merged

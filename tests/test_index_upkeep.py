"""The full-text index is merged into one segment every MERGE_EVERY articles written (seed
scans and feeds alike), because a search looks each word up once per segment."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.models import IngestReport
from bot.services.index_upkeep import merge_index
from bot.services.ingest import Ingestor
from bot.services.search import SearchService
from bot.store import state
from bot.store.db import open_db
from tests.helpers import MSK, write_seed


def segments(db: Path) -> int:
    """Segments of the index, from FTS5's structure record (4-byte cookie, varint levels,
    varint segments)."""
    with sqlite3.connect(db) as conn:
        block = conn.execute("SELECT block FROM articles_fts_data WHERE id = 10").fetchone()[0]
    values, value = [], 0
    for byte in block[4:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            values.append(value)
            value = 0
            if len(values) == 2:
                return values[1]
    raise AssertionError("no structure record")


def _write(seeds: Path, start: int, n: int) -> None:
    for i in range(start, start + n):
        write_seed(seeds, f"n{i:03}.txt", f"Новость номер {i}", [f"Текст заметки {i} о погоде."])


async def test_scans_merge_the_index_every_so_many_articles(tmp_path: Path) -> None:
    seeds, db = tmp_path / "seeds", tmp_path / "bot.sqlite3"
    conn = await open_db(db)
    ingestor = Ingestor(conn, seeds, MSK, merge_every=5)
    try:
        for i in range(3):  # three scans of one article each: three segments, no merge yet
            _write(seeds, i, 1)
            await ingestor.scan()
        assert segments(db) == 3 and await state.get(conn, state.INDEX_WRITES) == "3"
        _write(seeds, 3, 2)  # the fifth article written: merged
        assert (await ingestor.scan()).added == 2
        assert segments(db) == 1 and await state.get(conn, state.INDEX_WRITES) == "0"
        await conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
        page = await SearchService(conn).search("новость погоде", per_page=10)
        assert page is not None and page.total == 5
        assert (await ingestor.scan()).added == 0  # nothing written: nothing counted
        assert await state.get(conn, state.INDEX_WRITES) == "0"
    finally:
        await conn.close()


async def test_a_first_load_merges_at_once(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    _write(seeds, 0, 600)  # FTS5 flushes a segment every few dozen articles of a batch
    for every, merged in ((10**6, False), (600, True)):
        db = tmp_path / f"every-{every}.sqlite3"
        conn = await open_db(db)
        try:
            assert (await Ingestor(conn, seeds, MSK, merge_every=every).scan()).added == 600
            assert (segments(db) == 1) is merged, segments(db)
            assert not await merge_index(conn, IngestReport())  # nothing written: no work
        finally:
            await conn.close()

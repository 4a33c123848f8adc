"""Shared bench helpers: read the shared news corpus, write it as seed files, ingest, summarise."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
import sys
import zlib
from collections.abc import Coroutine, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import aiosqlite

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/x.py` from anywhere imports the project's `bot`
    sys.path.insert(0, str(ROOT))

log = logging.getLogger(__name__)

CORPUS_DIR = Path(__file__).resolve().parents[2] / "shared" / "corpus"
CORPUS_NAME = "ru_news.jsonl.gz"
WORK = ROOT / "bench" / ".work"
TZ = ZoneInfo("Europe/Moscow")

_MONTHS = "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
MONTHS = tuple(_MONTHS.split())
# RT articles carry no date; their numbers run 300140…494590 over roughly April 2016 – March 2018.
_RT_FIRST, _RT_LAST = 300140, 494590
_RT_START, _RT_END = datetime(2016, 4, 1, 8, 0), datetime(2018, 3, 31, 20, 0)


def corpus_path() -> Path:
    """The corpus file: $CORPUS_PATH (a file or its folder) or ../shared/corpus beside the repo."""
    env = os.environ.get("CORPUS_PATH")
    path = Path(env) if env else CORPUS_DIR
    return path / CORPUS_NAME if path.is_dir() else path


def read_corpus(limit: int | None = None) -> list[dict[str, Any]]:
    """The corpus records in file order (``limit`` first ones); exits with a hint if missing."""
    path = corpus_path()
    if not path.exists():
        sys.exit(f"corpus not found at {path}; set CORPUS_PATH to ru_news.jsonl.gz")
    records: list[dict[str, Any]] = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            records.append(json.loads(line))
            if limit is not None and len(records) >= limit:
                break
    return records


def record_date(record: dict[str, Any]) -> datetime:
    """The record's date, or a deterministic stand-in for undated ones (RT by article number)."""
    if record.get("date"):
        return datetime.fromisoformat(record["date"])
    rid = str(record["id"])
    if rid.startswith("rt-") and rid[3:].isdigit():
        share = (int(rid[3:]) - _RT_FIRST) / (_RT_LAST - _RT_FIRST)
        share = min(1.0, max(0.0, share))
        return _RT_START + (_RT_END - _RT_START) * share
    minutes = zlib.crc32(rid.encode()) % (8 * 365 * 24 * 60)
    return datetime(2010, 1, 1) + timedelta(minutes=minutes)


def format_date(when: datetime) -> str:
    """A date line as the publisher writes it: ``21 мая 2025 г. 10:37``."""
    return f"{when.day} {MONTHS[when.month - 1]} {when.year} г. {when:%H:%M}"


def seed_text(title: str, text: str, when: datetime) -> str:
    """One article in seed format: date line, title, paragraphs separated by blank lines."""
    paragraphs = [line.strip() for line in text.split("\n") if line.strip()]
    return "\n\n".join([format_date(when), " ".join(title.split()), *paragraphs]) + "\n"


def seed_name(index: int, record: dict[str, Any]) -> str:
    """A stable, safe file name for a record."""
    safe = "".join(c if c.isalnum() or c == "-" else "_" for c in str(record["id"]))
    return f"{index:05d}_{safe}.txt"


def write_seeds(records: list[dict[str, Any]], folder: Path) -> int:
    """Write each record as a seed file (unchanged files are left alone); returns files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    wanted = set()
    for i, record in enumerate(records):
        name = seed_name(i, record)
        wanted.add(name)
        data = seed_text(record["title"], record["text"], record_date(record)).encode("utf-8")
        path = folder / name
        if path.exists() and path.stat().st_size == len(data) and path.read_bytes() == data:
            continue
        path.write_bytes(data)
        written += 1
    for stale in folder.glob("*.txt"):
        if stale.name not in wanted:
            stale.unlink()
    return written


async def ingest_fresh(db_path: Path, seeds_dir: Path) -> aiosqlite.Connection:
    """A new database at ``db_path`` filled by the project's own Ingestor; returns the conn."""
    from bot.services.ingest import Ingestor
    from bot.store.db import open_db

    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    conn = await open_db(db_path)
    report = await Ingestor(conn, seeds_dir, TZ).scan()
    log.info("ingested: %s", report.summary())
    if report.failed:
        log.warning("%d seed files failed, e.g. %s", len(report.failed), report.failed[:3])
    return conn


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0–100) by nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def run_and_emit(main: Coroutine[Any, Any, dict[str, Any]]) -> None:
    """Run a bench's async main with readable progress logs (the bot's own kept quiet), then
    emit its summary."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("bot").setLevel(logging.WARNING)
    emit(asyncio.run(main))


def emit(summary: dict[str, Any]) -> None:
    """Print the JSON summary line that `make bench` collects (always the last line)."""
    print(json.dumps(summary, ensure_ascii=False, sort_keys=False), flush=True)


def batched(items: list[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive chunks of ``items``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]

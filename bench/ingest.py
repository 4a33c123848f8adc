"""Ingest benchmark: `python -m bot ingest` cold and warm against a bare FTS5 insert floor.

Writes N corpus articles as seed-format files under bench/.work/, ingests them with the real CLI
in a subprocess (cold: fresh database; warm: nothing changed), and compares the cold rate with the
floor measured in the same run: the same texts' stems (bot.text.index_text) inserted straight into
an FTS5 table in one transaction. Also the helpers the other bench scripts use to get a database of
N articles (`ensure_db`).

    .venv/bin/python bench/ingest.py            # 5,000 articles
    .venv/bin/python bench/ingest.py --quick    # 1,000 articles, smoke run
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
import hashlib
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import common  # bench/common.py (the search engineer's): corpus, seed format, JSON summary

ROOT = common.ROOT
WORK = common.WORK
PYTHON = sys.executable
SEED_FORMAT = 3  # bump when the seed writer changes, so cached seed folders are rebuilt


def iter_corpus(n: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """N (index, record) pairs: the corpus, repeated with distinct titles and dates past its size.

    Records are taken in a fixed pseudo-random order (a stride coprime with the corpus size), so
    a sample smaller than the corpus mixes its sources instead of taking the first source only.
    """
    records = common.read_corpus()
    size = len(records)
    stride = next(s for s in range(7919, 10**6) if math.gcd(s, size) == 1)
    for i in range(n):
        record = records[(i * stride) % size]
        copy = i // size
        if copy:
            title = f"{record['title']} ({copy})"
            record = dict(record, id=f"{record['id']}-c{copy}", title=title, copy=copy)
        yield i, record


def record_when(i: int, record: dict[str, Any]) -> datetime:
    """common.record_date, shifted by minutes for each repeated copy so dates stay distinct."""
    return common.record_date(record) + timedelta(minutes=7 * record.get("copy", 0))


def seed_date_now() -> datetime:
    """Now, as a seed file's date line would give it (the source time zone, whole minutes)."""
    return datetime.now(common.TZ).replace(tzinfo=None, second=0, microsecond=0)


def split_text(record: dict[str, Any]) -> tuple[str, str, str]:
    """(title, lead, body) as the parser sees a seed file: the lead is the first paragraph."""
    paras = [p.strip() for p in record["text"].split("\n") if p.strip()]
    return " ".join(record["title"].split()), paras[0], "\n".join(paras[1:])


def run_dir() -> Path:
    """This process's own scratch folder under bench/.work (two bench runs never share files).

    Databases in it are deleted when the process exits; logs stay. Folders of processes that
    are gone are pruned the next time.
    """
    global _RUN
    if _RUN is None:
        for old in WORK.glob("run-*"):
            pid = old.name.removeprefix("run-")
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                shutil.rmtree(old, ignore_errors=True)
        _RUN = WORK / f"run-{os.getpid()}"
        _RUN.mkdir(parents=True, exist_ok=True)
        atexit.register(_drop_databases, _RUN)
    return _RUN


_RUN: Path | None = None


def _drop_databases(folder: Path) -> None:
    for f in folder.glob("*.sqlite3*"):
        f.unlink(missing_ok=True)


@contextlib.contextmanager
def cache_lock(name: str) -> Iterator[None]:
    """Serialise building one cached item across concurrent bench processes."""
    WORK.mkdir(parents=True, exist_ok=True)
    with (WORK / f".{name}.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_seeds(n: int) -> tuple[Path, int]:
    """bench/.work/seeds-N with N seed files (cached between runs); returns (folder, bytes)."""
    with cache_lock(f"seeds-{n}"):
        return _ensure_seeds(n)


def _ensure_seeds(n: int) -> tuple[Path, int]:
    folder = WORK / f"seeds-{n}"
    marker = WORK / f"seeds-{n}.done"
    if marker.exists() and marker.read_text().split()[0] == str(SEED_FORMAT):
        return folder, int(marker.read_text().split()[1])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    total = 0
    for i, record in iter_corpus(n):
        text = common.seed_text(record["title"], record["text"], record_when(i, record))
        data = text.encode("utf-8")
        (folder / common.seed_name(i, record)).write_bytes(data)
        total += len(data)
    marker.write_text(f"{SEED_FORMAT} {total}\n")
    return folder, total


def bot_env(**extra: str) -> dict[str, str]:
    """Environment for a bot subprocess: no .env surprises, quiet logs, repo root importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_"))}
    # SETTLE_SECONDS 0: the benches measure throughput, not the wait for just-written files
    # (bench/publish_latency.py sets its own and measures that)
    env.update(
        PYTHONPATH=str(ROOT), LOG_LEVEL="WARNING", CHANNEL_ID="", ADMIN_IDS="", SETTLE_SECONDS="0"
    )
    env.update(extra)
    return env


def peak_rss_kib(pid: int) -> int:
    """VmHWM (peak resident set) of a live process from /proc, 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_child(
    cmd: list[str], env: dict[str, str], timeout: float, log: Path
) -> tuple[int, float, int, str]:
    """Run to completion: (exit code, wall seconds, peak RSS KiB, output text).

    Peak RSS is the child's VmHWM sampled every few ms (wait4's ru_maxrss would count this
    process's own memory, which the forked child inherits before exec).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    peak = 0
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        deadline = started + timeout
        while proc.poll() is None:
            if time.perf_counter() > deadline:
                proc.kill()
                proc.wait()
                break
            peak = max(peak, peak_rss_kib(proc.pid))
            time.sleep(0.003)
        wall = time.perf_counter() - started
    return proc.returncode, wall, peak, log.read_text(errors="replace")


def db_files(db: Path) -> list[Path]:
    return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]


def remove_db(db: Path) -> None:
    for f in db_files(db):
        f.unlink(missing_ok=True)


def ingest_cli(seeds: Path, db: Path, timeout: float = 1800) -> tuple[float, int, str]:
    """`python -m bot ingest` once; (wall seconds, peak RSS KiB, output); raises on failure."""
    code, wall, rss, out = run_child(
        [PYTHON, "-m", "bot", "ingest", "--seeds", str(seeds), "--db", str(db)],
        bot_env(), timeout, run_dir() / "ingest.log",
    )  # fmt: skip
    if code != 0:
        raise RuntimeError(f"python -m bot ingest exited {code}:\n{out[-2000:]}")
    return wall, rss, out


def ensure_db(n: int) -> tuple[Path, Path]:
    """(seeds folder, database) holding N corpus articles, built by the real CLI and cached."""
    seeds, _ = ensure_seeds(n)
    with cache_lock(f"db-{n}"):
        return seeds, _ensure_db(n, seeds)


def _code_version() -> str:
    """Hash of the code that decides what a database holds (parser, stems, schema)."""
    digest = hashlib.sha256()
    for rel in ("bot/parser.py", "bot/text.py", "bot/store/schema.sql", "bot/store/articles.py"):
        path = ROOT / rel
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:16]


def _ensure_db(n: int, seeds: Path) -> Path:
    """Rebuilt when missing or when the parser, text, schema or article store changed."""
    db = WORK / f"db-{n}.sqlite3"
    marker = WORK / f"db-{n}.done"
    version = _code_version()
    current = marker.read_text().strip() if marker.exists() else ""
    if current != version or not db.exists():
        remove_db(db)
        print(f"building {db.name}: python -m bot ingest of {n:,} files …", flush=True)
        wall, _, _ = ingest_cli(seeds, db)
        print(f"  built in {wall:.1f} s", flush=True)
        marker.write_text(version + "\n")
    return db


def copy_db(src: Path, dest: Path) -> Path:
    """A private copy of a cached database (the bot writes state into the one it runs on)."""
    remove_db(dest)
    for s, d in zip(db_files(src), db_files(dest), strict=True):
        if s.exists():
            shutil.copyfile(s, d)
    return dest


def floor(n: int, db: Path) -> float:
    """Seconds to stem the same N texts and insert them into a bare FTS5 table, one transaction."""
    from bot.text import index_text

    texts = [split_text(record) for _, record in iter_corpus(n)]
    remove_db(db)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        "CREATE VIRTUAL TABLE fts USING fts5 (title, lead, body,"
        " tokenize = 'unicode61 remove_diacritics 0')"
    )
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO fts (title, lead, body) VALUES (?, ?, ?)",
        ((index_text(t), index_text(lead), index_text(b)) for t, lead, b in texts),
    )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def _count(out: str, label: str) -> int:
    """A number from the ingest report (`  added      5`), -1 when missing."""
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == label and parts[1].isdigit():
            return int(parts[1])
    return -1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=5000, help="articles to ingest (5000)")
    ap.add_argument("--quick", action="store_true", help="1,000 articles, a smoke run")
    args = ap.parse_args()
    n = 1000 if args.quick else max(1, args.articles)
    seeds, size = ensure_seeds(n)
    print(f"ingest: {n:,} seed files, {size / 1e6:.1f} MB, in {seeds.relative_to(ROOT)}")

    floor_s = floor(n, run_dir() / "floor.sqlite3")
    floor_rate = n / floor_s
    print(f"floor (index_text + FTS5 insert, one transaction): {floor_s:.2f} s, "
          f"{floor_rate:,.0f} articles/s")  # fmt: skip

    db = run_dir() / "ingest.sqlite3"
    remove_db(db)
    cold_s, cold_rss, out = ingest_cli(seeds, db)
    cold_rate = n / cold_s
    added = _count(out, "added")
    inner = next((ln for ln in out.splitlines() if ln.startswith("Ingested")), "").split(" in ")
    print(
        f"  the CLI's own report: {inner[-1] if len(inner) > 1 else '?'}; failed "
        f"{_count(out, 'failed')}"
    )
    db_mb = sum(f.stat().st_size for f in db_files(db) if f.exists()) / 1e6
    mb_s = size / 1e6 / cold_s
    print(f"cold: {cold_s:.2f} s wall, {cold_rate:,.0f} articles/s, {mb_s:.1f} MB/s, "
          f"added {added}, DB {db_mb:.1f} MB, peak RSS {cold_rss / 1024:.0f} MB")  # fmt: skip
    warm_s, warm_rss, out = ingest_cli(seeds, db)
    unchanged = _count(out, "unchanged")
    print(f"warm: {warm_s:.2f} s wall over {unchanged:,} unchanged files, "
          f"peak RSS {warm_rss / 1024:.0f} MB")  # fmt: skip
    ratio = cold_rate / floor_rate
    ok_cold, ok_warm = ratio >= 0.6, warm_s <= 1.0
    verdict = {True: "PASS", False: "FAIL"}
    print(
        f"cold/floor = {ratio:.2f} (target ≥ 0.60): {verdict[ok_cold]}; "
        f"warm {warm_s:.2f} s (target ≤ 1 s): {verdict[ok_warm]}"
    )
    summary = {
        "bench": "ingest", "articles": n, "seed_mb": round(size / 1e6, 2),
        "floor_s": round(floor_s, 3), "floor_articles_per_s": round(floor_rate, 1),
        "cold_s": round(cold_s, 3), "cold_articles_per_s": round(cold_rate, 1),
        "cold_mb_per_s": round(mb_s, 2), "cold_ratio": round(ratio, 3),
        "cold_added": added, "db_mb": round(db_mb, 1),
        "cold_peak_rss_mb": round(cold_rss / 1024, 1),
        "warm_s": round(warm_s, 3), "warm_unchanged": unchanged,
        "warm_peak_rss_mb": round(warm_rss / 1024, 1),
        "pass": {"cold": ok_cold, "warm": ok_warm},
        "rows": [
            {"figure": f"ingest cold, {n:,} articles (`python -m bot ingest`)",
             "value": f"{cold_rate:,.0f} articles/s, {mb_s:.1f} MB/s",
             "floor": f"{floor_rate:,.0f} articles/s", "ratio": round(ratio, 2),
             "target": "≥ 0.6× floor", "pass": ok_cold,
             "floor_name": "index_text + FTS5 insert, 1 transaction"},
            {"figure": f"ingest warm, {unchanged:,} unchanged files", "value": f"{warm_s:.2f} s",
             "target": "≤ 1 s", "pass": ok_warm},
            {"figure": "ingest DB size / peak RSS (cold)",
             "value": f"{db_mb:.0f} MB / {cold_rss / 1024:.0f} MB", "target": "", "pass": None},
        ],
    }  # fmt: skip
    common.emit(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())

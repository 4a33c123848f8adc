"""``python -m bot ingest``: scan the seeds folder once and print what changed."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

from bot.app import build_core
from bot.config import Settings
from bot.services.ingest import IngestError
from bot.store.db import StoreError


async def main(settings: Settings) -> int:
    """Scan once and print the report; 1 when the scan cannot run."""
    started = time.perf_counter()
    try:
        core = await build_core(settings)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    bar = ProgressBar()
    try:
        report = await core.ingestor.scan(bar.update)
    except (IngestError, StoreError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # e.g. the disk filled up mid-scan: say so, don't dump a traceback
        print(f"error: ingest failed: {exc}", file=sys.stderr)
        return 1
    finally:
        bar.close()
        await core.close()
    elapsed = time.perf_counter() - started
    print(f"Ingested {settings.seeds_dir} into {settings.db_path} in {elapsed:.2f} s")
    for label, value in (
        ("added", report.added),
        ("updated", report.updated + report.restored),
        ("unchanged", report.unchanged),
        ("withdrawn", report.withdrawn),
        ("failed", len(report.failed)),
    ):
        print(f"  {label:<10} {value}")
    for failed in report.failed:
        print(f"  failed: {failed.name}: {failed.reason}")
    return 0


class ProgressBar:
    """tqdm on a terminal for folders of more than a few hundred files; silent otherwise."""

    THRESHOLD = 300

    def __init__(self) -> None:
        self._bar: tqdm[None] | None = None

    def update(self, done: int, total: int) -> None:
        if self._bar is None:
            if total <= self.THRESHOLD or not sys.stderr.isatty():
                return
            self._bar = tqdm(total=total, unit="file", desc="ingest", file=sys.stderr)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

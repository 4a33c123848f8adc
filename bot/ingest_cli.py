"""``python -m bot ingest``: scan the seeds folder once and print what changed."""

from __future__ import annotations

import asyncio
import sys
import time

from tqdm import tqdm

from bot.app import build_core
from bot.config import Settings
from bot.models import IngestReport
from bot.services.ingest import IngestError, Ingestor, Progress
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
        report = await scan_settled(core.ingestor, settings.settle_seconds, bar.update)
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
        ("duplicate", len(report.duplicates)),
    ):
        print(f"  {label:<10} {value}")
    if report.settling:
        print(
            f"  {'settling':<10} {report.settling}  (still being written: a later run takes them)"
        )
    for failed in report.failed:
        print(f"  failed: {failed.name}: {failed.reason}")
    for name in report.duplicates:
        print(f"  duplicate: {name}")
    return 0


async def scan_settled(
    ingestor: Ingestor, settle_seconds: float, progress: Progress
) -> IngestReport:
    """Scan, and while files are still settling wait for them and scan again (at most about
    twice SETTLE_SECONDS): a one-shot import should not leave just-written files behind."""
    report = await ingestor.scan(progress)
    give_up = time.time() + 2 * settle_seconds + 1
    while report.settle_at is not None and report.settle_at < give_up:
        wait = max(0.0, report.settle_at - time.time()) + 0.05
        print(f"waiting {wait:.1f} s for {report.settling} file(s) to settle", file=sys.stderr)
        await asyncio.sleep(wait)
        report = _then(report, await ingestor.scan(progress))
    return report


def _then(first: IngestReport, later: IngestReport) -> IngestReport:
    """Two scans as one report: changes add up, failures and what is pending are the later's;
    files the first scan changed are not counted again as unchanged."""
    changed = first.added + first.updated + first.restored + first.moved + len(first.duplicates)
    return IngestReport(
        added=first.added + later.added,
        updated=first.updated + later.updated,
        unchanged=max(0, later.unchanged - changed),
        withdrawn=first.withdrawn + later.withdrawn,
        failed=later.failed,
        added_ids=first.added_ids + later.added_ids,
        restored=first.restored + later.restored,
        duplicates=first.duplicates + later.duplicates,
        moved=first.moved + later.moved,
        settling=later.settling,
        settle_at=later.settle_at,
    )


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

"""When scans run: the tick loop (scan → queue) every POST_INTERVAL, sooner when woken.

Filesystem notifications (bot.services.watch) call ``wake()`` so a new file is scanned within
about a second; the scan's report says when its earliest unsettled file settles
(``IngestReport.settle_at``), and the loop runs again then. The interval stays the safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Protocol

from bot.observe import NO_OBSERVER, Observer
from bot.services.ingest import IngestError
from bot.services.publishing import PublishingService

log = logging.getLogger(__name__)


class Loop(Protocol):
    """A background loop the scheduler runs beside the ticks (the deliverer, the watcher)."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


class Expirer(Protocol):
    """Approvals past APPROVAL_TIMEOUT, decided on each tick (ApprovalService.expire)."""

    async def expire(self) -> int: ...


class Scheduler:
    """Runs the tick loop every ``interval`` seconds (or when woken) and its loops beside it."""

    def __init__(
        self,
        publishing: PublishingService,
        deliverer: Loop | None,
        *,
        interval: float,
        observer: Observer = NO_OBSERVER,
        approvals: Expirer | None = None,
    ) -> None:
        self.publishing = publishing
        self.approvals = approvals
        self.observer = observer
        self.deliverer = deliverer
        self.interval = interval
        self.loops: list[Loop] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()

    def also_run(self, loop: Loop) -> None:
        """Run ``loop`` beside the ticks from start to stop (the seeds watcher)."""
        self.loops.append(loop)

    def wake(self) -> None:
        """Run the next tick now (a file changed); safe to call from the event loop only."""
        self._wake.set()

    def start(self) -> None:
        """Start the background tasks (idempotent)."""
        if self._tasks:
            return
        self._tasks.append(asyncio.create_task(self._ticks(), name="scheduler-ticks"))
        if self.deliverer is not None:
            self._tasks.append(asyncio.create_task(self.deliverer.run(), name="deliverer"))
        for i, loop in enumerate(self.loops):
            self._tasks.append(asyncio.create_task(loop.run(), name=f"scheduler-loop-{i}"))

    async def _ticks(self) -> None:
        first = True
        while not self._stop.is_set():
            self._wake.clear()
            settle_at: float | None = None
            try:
                result = await self.publishing.tick()
                if self.approvals is not None:
                    await self.approvals.expire()
                settle_at = result.report.settle_at
                self.observer.ticked(result.report)
                if first or result.report.changed or result.queued.total:
                    log.info("tick: %s; queued %d", result.report.summary(), result.queued.total)
                if first:  # the startup scan: say once which seed files are broken
                    for failed in result.report.failed:
                        log.warning("seed file %s skipped: %s", failed.name, failed.reason)
                    first = False
            except Exception as exc:
                self.observer.ticked(None)
                log.error(
                    "scheduler tick failed (%s: %s); the next tick runs in %g s",
                    type(exc).__name__,
                    exc,
                    self.interval,
                    exc_info=not isinstance(exc, (OSError, IngestError)),
                )
            await self._sleep(settle_at)

    async def _sleep(self, settle_at: float | None) -> None:
        """Until the interval ends, a file settles (plus a little) or someone wakes us."""
        delay = self.interval
        if settle_at is not None:
            delay = min(delay, max(0.05, settle_at - time.time() + 0.05))
        stop, wake = (
            asyncio.ensure_future(self._stop.wait()),
            asyncio.ensure_future(self._wake.wait()),
        )
        try:
            await asyncio.wait((stop, wake), timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for fut in (stop, wake):
                fut.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(stop, wake, return_exceptions=True)

    async def stop(self, timeout: float = 10.0) -> None:
        """Let the current send finish (so its 'sent' is recorded), then stop everything."""
        self._stop.set()
        if self.deliverer is not None:
            self.deliverer.stop()
        for loop in self.loops:
            loop.stop()
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(self._tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._tasks.clear()

"""Notice seed files at once: filesystem notifications (watchfiles) wake the tick loop.

Without this a new file waits for the next POST_INTERVAL scan. The watcher only says "look
now"; the scan decides what changed, so a missed or spurious event costs nothing but a scan.
Where notifications are unavailable (no inotify, a watch limit, the folder missing at start)
it says so once in the log and the periodic scan remains the only mechanism. watchfiles (and
anyio) are imported when the watch starts, after the first getUpdates, and never by the CLI.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watchfiles import Change

log = logging.getLogger(__name__)


class Watcher:
    """Calls ``on_change`` within about a second of a seed file appearing, changing or going."""

    def __init__(
        self, folder: Path, on_change: Callable[[], None], *, debounce_ms: int = 300
    ) -> None:
        self.folder = Path(folder)
        self.on_change = on_change
        self.debounce_ms = debounce_ms
        self._stop = asyncio.Event()
        self.active = False
        """True while notifications are being received (tests and the log read it)."""

    def stop(self) -> None:
        """Leave the watch loop."""
        self._stop.set()

    def relevant(self, _change: Change, path: str) -> bool:
        """Seed files and folders (a moved folder moves its files); hidden names never."""
        try:
            rel = os.path.relpath(path, self.folder)
        except ValueError:
            return False
        parts = rel.split(os.sep)
        if any(p.startswith(".") for p in parts if p not in (".", "..")):
            return False
        name = parts[-1]
        return name.lower().endswith(".txt") or "." not in name

    async def run(self) -> None:
        """Watch until stopped; on failure log once and return (the interval scan goes on)."""
        if not log.isEnabledFor(logging.DEBUG):  # "1 change detected" on every write otherwise
            logging.getLogger("watchfiles").setLevel(logging.WARNING)
        try:
            from watchfiles import awatch

            self.active = True
            log.info("watching %s for new and changed seed files", self.folder)
            async for _changes in awatch(
                self.folder,
                watch_filter=self.relevant,
                debounce=self.debounce_ms,
                step=50,
                stop_event=self._stop,
                recursive=True,
            ):
                self.on_change()
        except Exception as exc:  # FileNotFoundError, OSError (watch limit), notify errors
            log.warning(
                "file notifications for %s unavailable (%s: %s); new files are noticed by "
                "the POST_INTERVAL scan only",
                self.folder,
                type(exc).__name__,
                exc,
            )
        finally:
            self.active = False

"""Read the seeds folder: walk it cheaply, sort files into unchanged and to-do, read and parse.

This is the file-system side of ingest (bot.services.ingest writes what it prepares); it never
touches the database itself (``compare`` asks a lookup for each chunk's stamps) and its blocking
work runs in a thread or worker processes.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import os
from array import array
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.identity import identity_key
from bot.models import FailedFile, ParsedArticle
from bot.parser import MAX_FILE_SIZE, ParseError, parse
from bot.store import articles
from bot.store.articles import FileState

log = logging.getLogger(__name__)


class IngestError(Exception):
    """The scan could not run at all (folder missing, not a folder, unreadable)."""


@dataclass(frozen=True, slots=True)
class SeedFile:
    source: str
    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Prepared:
    file: SeedFile
    digest: str = ""
    parsed: ParsedArticle | None = None
    fts: dict[str, str] | None = None
    error: str | None = None
    key: str | None = None
    """The article's identity key (bot/identity.py), None when the file did not parse."""


@dataclass(slots=True)
class Listing:
    """What a walk of the seeds folder found, compared with the store's stamps."""

    total: int = 0
    unchanged: int = 0
    todo: list[SeedFile] = field(default_factory=list)
    failed: list[FailedFile] = field(default_factory=list)
    """Files that failed before and have not changed since: reported again, not re-read."""
    failures_seen: set[str] = field(default_factory=set)
    known: int = 0
    """Files found that the store had as present at the last scan (their stamps were asked)."""
    seen: array[int] = field(default_factory=lambda: array("q"))
    """``hash()`` of every source found: 8 bytes a file instead of its name."""
    _sorted: array[int] | None = None

    def saw(self, source: str) -> bool:
        """Whether the walk found ``source`` (up to a 64-bit hash collision; ingest checks).

        Asked only when files have gone; the first call sorts the hashes."""
        if self._sorted is None:
            self._sorted = array("q", sorted(self.seen))
        h = hash(source)
        i = bisect_left(self._sorted, h)
        return i < len(self._sorted) and self._sorted[i] == h


WALK_CHUNK = 500
"""Directory entries taken per trip to the walking thread and looked up in the store at once."""
StampLookup = Callable[[list[str]], Awaitable[dict[str, int]]]
"""Source -> stamp of those of the given sources the store had as present at the last scan."""


def walk_seeds(seeds_dir: Path) -> Iterator[tuple[str, str, int, int]]:
    """(source, path, size, mtime_ns) of every ``*.txt`` below the folder, hidden ones skipped.

    ``source`` is the path relative to the folder with ``/`` separators. os.scandir and plain
    strings, not Path objects: a walk over 50k files should cost a few MB, not tens.
    """
    if not seeds_dir.exists():
        raise IngestError(f"seeds folder {seeds_dir} does not exist")
    if not seeds_dir.is_dir():
        raise IngestError(f"seeds folder {seeds_dir} is not a folder")
    stack = [(str(seeds_dir), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            # Lazily: a list of 50k DirEntry objects alone would be ~45 MB at its peak.
            with os.scandir(folder) as entries:
                for entry in entries:
                    found = _seed_entry(entry, prefix, stack)
                    if found is not None:
                        yield found
        except OSError as exc:
            if not prefix:
                raise IngestError(f"cannot read seeds folder {seeds_dir}: {exc}") from exc
            log.warning("cannot read seed subfolder %s: %s", prefix.rstrip("/"), exc)


def _seed_entry(
    entry: os.DirEntry[str], prefix: str, folders: list[tuple[str, str]]
) -> tuple[str, str, int, int] | None:
    """The seed file behind a directory entry, or None (subfolders go onto ``folders``)."""
    name = entry.name
    if name.startswith("."):
        return None
    try:
        if entry.is_dir():
            folders.append((entry.path, f"{prefix}{name}/"))
            return None
        if not name.lower().endswith(".txt") or not entry.is_file():
            return None
        st = entry.stat()
    except OSError:
        return None  # vanished between listing and stat: the next scan sees the truth
    return f"{prefix}{name}", entry.path, st.st_size, st.st_mtime_ns


async def compare(
    seeds_dir: Path, stamps_of: StampLookup, failures: dict[str, FileState]
) -> Listing:
    """Walk the folder and sort its files into unchanged, failed-and-unchanged and to-do.

    The walk runs in a thread, WALK_CHUNK entries at a time, and the store is asked for each
    chunk's stamps: a scan of 50,000 unchanged files holds one chunk, not a dict of every
    known file. ``Listing.known`` and ``Listing.saw`` let the caller find the files gone.
    """
    out = Listing()
    walk = walk_seeds(seeds_dir)
    while chunk := await asyncio.to_thread(_take, walk, WALK_CHUNK):
        stamps = await stamps_of([found[0] for found in chunk])
        out.known += len(stamps)
        for source, path, size, mtime_ns in chunk:
            out.seen.append(hash(source))
            _sort(out, SeedFile(source, path, size, mtime_ns), stamps.get(source), failures)
    out.total = len(out.seen)
    out.todo.sort(key=lambda f: f.source)
    return out


def _take(walk: Iterator[tuple[str, str, int, int]], n: int) -> list[tuple[str, str, int, int]]:
    """The walk's next ``n`` entries (fewer at its end); runs in a thread."""
    return list(itertools.islice(walk, n))


def _sort(out: Listing, file: SeedFile, known: int | None, failures: dict[str, FileState]) -> None:
    """Put one file found into unchanged, failed-and-unchanged or to-do."""
    failure = failures.get(file.source)
    if failure is not None:
        out.failures_seen.add(file.source)
        if (failure.size, failure.mtime_ns) == (file.size, file.mtime_ns):
            out.failed.append(FailedFile(file.source, failure.failure or "unknown error"))
            return
    elif known == articles.stamp(file.size, file.mtime_ns):
        out.unchanged += 1
        return
    out.todo.append(file)


def prepare(file: SeedFile, tz: ZoneInfo) -> Prepared:
    """Read, hash and parse one file; runs in a worker thread, never raises."""
    try:
        with open(file.path, "rb") as fh:
            data = fh.read(MAX_FILE_SIZE + 1)
    except OSError as exc:
        return Prepared(file, error=f"cannot read file: {exc.strerror or exc}")
    digest = hashlib.sha256(data).hexdigest()
    try:
        parsed = parse(data, mtime=file.mtime_ns / 1e9, tz=tz)
    except ParseError as exc:
        return Prepared(file, digest, error=str(exc))
    except Exception as exc:  # a parser bug must not stop the scan; report it by name
        log.exception("parser crashed on %s", file.source)
        return Prepared(file, digest, error=f"internal parser error: {exc!r}")
    return Prepared(file, digest, parsed, articles.fts_values(parsed), key=identity_key(parsed))


def prepare_batch(batch: list[SeedFile], tz: ZoneInfo) -> list[Prepared]:
    """``prepare`` over a batch; the unit of work sent to a thread or worker process."""
    return [prepare(f, tz) for f in batch]

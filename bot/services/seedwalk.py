"""Read the seeds folder: walk it cheaply, sort files into unchanged and to-do, read and parse.

This is the file-system side of ingest (bot.services.ingest writes what it prepares); it never
touches the database and runs in a thread or worker processes.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
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


def compare(seeds_dir: Path, stamps: dict[str, int], failures: dict[str, FileState]) -> Listing:
    """Walk the folder and sort its files into unchanged, failed-and-unchanged and to-do.

    Runs in a thread. Each file found is removed from ``stamps``: what is left afterwards are
    the visible articles whose files are gone.
    """
    out = Listing()
    for source, path, size, mtime_ns in walk_seeds(seeds_dir):
        out.total += 1
        known = stamps.pop(source, None)
        failure = failures.get(source)
        if failure is not None:
            out.failures_seen.add(source)
            if (failure.size, failure.mtime_ns) == (size, mtime_ns):
                out.failed.append(FailedFile(source, failure.failure or "unknown error"))
                continue
        elif known == articles.stamp(size, mtime_ns):
            out.unchanged += 1
            continue
        out.todo.append(SeedFile(source, path, size, mtime_ns))
    out.todo.sort(key=lambda f: f.source)
    return out


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

"""Frozen dataclasses shared by every layer (parser, store, services, telegram)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Generic, Literal, TypeVar

T = TypeVar("T")

Kind = Literal["channel", "subscriber", "note", "preview"]
"""What an outbox delivery is: a channel (target) post, a subscriber's alert, a note to an admin,
or an approval preview sent to one admin."""


@dataclass(frozen=True, slots=True)
class Note:
    """A private note to an admin (a feed failing, recovering): a text catalogue key and its
    values, rendered by the telegram layer when the outbox sends it."""

    key: str
    values: dict[str, str | float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ParsedArticle:
    """One seed file's clean content, as the parser extracts it (before it gets an id).

    ``published_at`` is timezone-aware; ``date_from_mtime`` flags that the file had no usable date
    line and the file's modification time was used instead.
    """

    title: str
    published_at: datetime
    lead: str
    body: tuple[str, ...] = ()
    credit: str | None = None
    promo: tuple[str, ...] = ()
    date_from_mtime: bool = False
    url: str | None = None
    """The original address on the publisher's site (a feed item's link as the feed gave it)."""
    image_url: str | None = None
    """The article's main image, shown large above its channel post."""
    teaser: bool = False
    """Only the feed's teaser could be had, not the article's text."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Article(ParsedArticle):
    """An article as stored: the parsed content plus its stable id and bookkeeping."""

    id: int
    source: str
    added_at: datetime | None = None
    updated_at: datetime | None = None
    withdrawn: bool = False
    revision: int = 1
    """Bumped whenever what readers see changes: a correction, a withdrawal, a return."""


@dataclass(frozen=True, slots=True)
class Correction:
    """A visible change of an announced article; ``fields`` ⊆ title, text, date, credit."""

    id: int
    article_id: int
    revision: int
    fields: tuple[str, ...]
    created_at: float


@dataclass(frozen=True, slots=True)
class ArticleSummary:
    """What lists (``/latest``, inline results) need: no body."""

    id: int
    title: str
    published_at: datetime
    lead: str
    credit: str | None = None
    url: str | None = None


MARK_START = "\ue000"
"""Private-use character that opens a matched word in a snippet (formatting turns it into <b>)."""
MARK_END = "\ue001"
"""Private-use character that closes a matched word in a snippet."""


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result; ``snippet`` is plain text with MARK_START/MARK_END around matches."""

    id: int
    title: str
    published_at: datetime
    snippet: str
    score: float


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a longer result list; ``page`` counts from 1."""

    items: tuple[T, ...]
    total: int
    page: int
    per_page: int
    searched: str | None = None
    """The query as searched, when the best results come only from corrected or completed
    words (search pages only)."""
    as_typed: str | None = None
    """With ``searched``: the query that searches the words exactly as typed."""

    @property
    def pages(self) -> int:
        """Number of pages the whole result spans (at least 1)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass(frozen=True, slots=True)
class FailedFile:
    """A seed file that could not be parsed, with the reason a human can act on."""

    name: str
    reason: str


@dataclass(slots=True)
class IngestReport:
    """What one scan of the seeds folder did; ``added_ids`` are the new articles, oldest first."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    failed: list[FailedFile] = field(default_factory=list)
    added_ids: list[int] = field(default_factory=list)
    restored: int = 0
    duplicates: list[str] = field(default_factory=list)
    """New files that hold an article already known (by its identity key): linked, not added."""
    moved: int = 0
    """Files that are a known article under a new name whose old name is gone (a rename)."""
    settling: int = 0
    """Files new, changed or gone but not settled yet: left for a later scan."""
    settle_at: float | None = None
    """Wall-clock time the earliest file still settling settles (None: nothing pending)."""

    @property
    def changed(self) -> bool:
        return bool(
            self.added or self.updated or self.withdrawn or self.restored or self.duplicates
        )

    def summary(self) -> str:
        """One line, e.g. ``added 1, updated 0, unchanged 3, withdrawn 0, failed 0``."""
        line = (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"withdrawn {self.withdrawn}, failed {len(self.failed)}"
        )
        if self.duplicates:
            line += f", duplicates {len(self.duplicates)}"
        if self.moved:
            line += f", moved {self.moved}"
        if self.settling:
            line += f", settling {self.settling}"
        return line


@dataclass(frozen=True, slots=True)
class Subscription:
    """One subscription of one private chat; ``query`` '' means every new article."""

    id: int
    chat_id: int
    query: str
    created_at: float


@dataclass(frozen=True, slots=True)
class Target:
    """One chat (and forum topic) that gets channel posts: TARGETS_FILE, or CHANNEL_ID alone.

    ``chat`` is '@name' or a numeric id as text (as CHANNEL_ID); ``keywords`` empty means every
    article, else an article matching any of them (the stemmed matching of subscriptions).
    """

    chat: str
    topic: int | None = None
    keywords: tuple[str, ...] = ()
    silent: bool = False
    template: Path | None = None

    @property
    def key(self) -> tuple[str, int | None]:
        """What makes two targets the same: the chat (a '@name' in any case) and the topic."""
        return (self.chat.lower(), self.topic)

    def __str__(self) -> str:
        return self.chat if self.topic is None else f"{self.chat} topic {self.topic}"

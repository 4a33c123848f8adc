"""Best passage of an article's original text with the matched words marked (pure, plain text).

A word matches when the stem of that word (as the index sees it) is one of the query's stems or
starts with one of its prefixes. The snippet stays plain text: the formatter escapes it and turns
MARK_START/MARK_END into bold.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from bot.models import MARK_END, MARK_START
from bot.text import PART_RE, fold, stem, word_spans

log = logging.getLogger(__name__)

WIDTH = 200
"""Target snippet length in characters (words are never cut)."""
ELLIPSIS = "…"
"""Marks cut text everywhere (snippets here, clipped titles and leads in bot.telegram)."""
_LOOKBACK = 80
_SENTENCE_END = re.compile(r"[.!?…]\s+|\n")
_SPACE = re.compile(r"\s+")
_MARKS = str.maketrans({MARK_START: None, MARK_END: None})

Hit = tuple[int, int, str]
"""(start, end, term key) of one matched word in the original text."""


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "\u0300\u0301"


def _key(word: str, exact: frozenset[str], prefixes: tuple[str, ...]) -> str | None:
    """The term this folded word matches, or None."""
    s = stem(word)
    if s in exact:
        return s
    return next((p for p in prefixes if s.startswith(p)), None)


def find_hits(text: str, exact: frozenset[str], prefixes: tuple[str, ...] = ()) -> list[Hit]:
    """Every word of ``text`` that the query terms match, in order."""
    keys = tuple(sorted(exact | set(prefixes)))
    if not keys or not text:
        return []
    lowered = text.lower().replace("ё", "е")
    if len(lowered) != len(text):  # a character whose lower case is longer: go word by word
        hits = []
        for start, end, word in word_spans(text):
            key = _key(word, exact, prefixes)
            if key is not None:
                hits.append((start, end, key))
        return hits
    starts: set[int] = set()
    for k in keys:  # str.find runs in C: far cheaper than tokenising the whole article
        i = lowered.find(k)
        while i >= 0:
            if i == 0 or not _word_char(lowered[i - 1]):
                starts.add(i)
            i = lowered.find(k, i + 1)
    hits = []
    for i in sorted(starts):
        part = PART_RE.match(lowered, i)
        if part is None:
            continue
        key = _key(fold(part.group()), exact, prefixes)
        if key is not None:
            hits.append((part.start(), part.end(), key))
    return hits


def _best_window(hits: list[Hit], width: int) -> tuple[int, int]:
    """Indexes (i, j) of the run of hits within ``width`` with most distinct terms, then hits."""
    best = (-1, -1, 0, 0)
    j = 0
    counts: dict[str, int] = {}
    for i in range(len(hits)):
        while j < len(hits) and hits[j][1] - hits[i][0] <= width:
            counts[hits[j][2]] = counts.get(hits[j][2], 0) + 1
            j += 1
        if j > i:
            score = (len(counts), j - i)
            if score > best[:2]:
                best = (*score, i, j - 1)
        key = hits[i][2]
        counts[key] -= 1
        if not counts[key]:
            del counts[key]
    return best[2], best[3]


def _last_space(text: str, lo: int, hi: int) -> int:
    """Index of the last whitespace in text[lo:hi], or -1."""
    return max(text.rfind(" ", lo, hi), text.rfind("\n", lo, hi))


def _bounds(text: str, first: int, last: int, width: int) -> tuple[int, int]:
    """Snippet [start, end) covering [first, last), starting at a sentence when one is near."""
    if last <= width:
        start = 0
    else:
        start = max(0, first - max(0, width - (last - first)) // 3)
        back = max(0, first - _LOOKBACK)
        sentences = [m.end() for m in _SENTENCE_END.finditer(text, back, first)]
        if sentences and last - sentences[-1] <= width:
            start = sentences[-1]
        while 0 < start < first and not text[start - 1].isspace():
            start += 1  # never begin inside a word
    end = min(len(text), max(start + width, last))
    if end < len(text) and not text[end].isspace():
        cut = _last_space(text, last, end)
        end = cut if cut > 0 else end
    return start, end


def _render(text: str, start: int, end: int, hits: Iterable[Hit]) -> str:
    pieces: list[str] = []
    pos = start
    for h_start, h_end, _ in hits:
        if h_start < pos or h_end > end:
            continue
        pieces += [text[pos:h_start], MARK_START, text[h_start:h_end], MARK_END]
        pos = h_end
    pieces.append(text[pos:end])
    clean = (p if p in (MARK_START, MARK_END) else p.translate(_MARKS) for p in pieces)
    body = _SPACE.sub(" ", "".join(clean)).strip()
    return (ELLIPSIS if start > 0 else "") + body + (ELLIPSIS if end < len(text) else "")


def snippet(
    text: str, exact: frozenset[str], prefixes: tuple[str, ...] = (), *, width: int = WIDTH
) -> str:
    """About ``width`` characters of ``text`` around its best match, matched words marked."""
    hits = find_hits(text, exact, prefixes)
    if not hits:
        end = len(text)
        if end > width:
            cut = _last_space(text, 0, width + 1)
            end = cut if cut > 0 else width
        return _render(text, 0, end, ())
    i, j = _best_window(hits, width)
    start, end = _bounds(text, hits[i][0], hits[j][1], width)
    return _render(text, start, end, hits)

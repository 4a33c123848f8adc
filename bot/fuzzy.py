"""The search index's vocabulary, kept compact in memory, for typo corrections and completions.

Terms are the index's own (Snowball stems, read from FTS5's ``fts5vocab``). Only words of
Latin or Russian letters are kept (numbers and other scripts are never corrected or completed),
one cp1251 byte per letter, all in one ``bytes`` with offset and document-frequency arrays:
about 16 bytes a term where a Python str and int would take ~110. Distances are computed by
rapidfuzz (C++); Python only picks which terms to compare: those of a similar length that share
the first or the last two letters with the word (one edit can't change both ends of a word of
4+ letters, so nothing within distance 1 is missed; of two edits, only one at each end is).
"""

from __future__ import annotations

import heapq
import re
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

_TERM = re.compile("[a-zа-я]{2,40}")
"""What the vocabulary keeps (terms are already folded: lower case, ё → е)."""
_LETTERS = b"abcdefghijklmnopqrstuvwxyz" + "абвгдежзийклмнопрстуфхцчшщъыьэюя".encode("cp1251")
_CODE = bytes(_LETTERS.index(c) if c in _LETTERS else 0 for c in range(256))
"""Each kept letter's byte → 0..57, in the same order (sort keys: two letters, then length)."""
_KEY = 2
"""Letters at each end that pick a term's buckets."""
MAX_CANDIDATES = 20_000
"""A word of a common shape is compared with at most this many terms (bounds the work)."""
FILTER_BITS_PER_TERM = 16
"""Bits per term of the filter that rules most unknown strings out before a look-up (one
hash: about 6 % pass it wrongly; 100,000 terms take 256 KiB)."""
_RUSSIAN = "абвгдежзийклмнопрстуфхцчшщъыьэюя"
_LATIN = "abcdefghijklmnopqrstuvwxyz"


def one_typo_away(word: str) -> set[str]:
    """Every string one typo from ``word``: a letter dropped, two neighbours swapped, one
    replaced or one added (about 65 per letter; generated for one typed word, never a pass
    over the vocabulary)."""
    letters = _RUSSIAN if any(c in _RUSSIAN for c in word) else _LATIN
    out = set()
    for i in range(len(word) + 1):
        head, tail = word[:i], word[i:]
        out.update(head + c + tail for c in letters)
        if tail:
            out.add(head + tail[1:])
            out.update(head + c + tail[1:] for c in letters)
            if len(tail) > 1:
                out.add(head + tail[1] + tail[0] + tail[2:])
    out.discard(word)
    return out


def max_distance(word: str) -> int:
    """Edits forgiven in a typed word: 1 from 5 letters, 2 from 9 (the issue's rule)."""
    n = len(word)
    return 2 if n >= 9 else 1 if n >= 5 else 0


def _enc(term: str) -> bytes | None:
    return term.encode("cp1251") if _TERM.fullmatch(term) else None


@dataclass(frozen=True, slots=True)
class Candidate:
    """An indexed term near (or starting with) what was typed."""

    term: str
    distance: int
    docs: int


class Vocabulary:
    """Sorted index terms with their document counts; lookups, near terms, completions."""

    __slots__ = ("_bits", "_blob", "_by_end", "_by_start", "_docs", "_filter", "_off")

    def __init__(self, rows: Iterable[tuple[str, int]]) -> None:
        blob, off, docs = bytearray(), array("I", [0]), array("I")
        last, ordered = b"", True
        for term, n in rows:
            raw = _enc(term)
            if raw is None or n <= 0:
                continue
            ordered = ordered and raw > last
            blob += raw
            off.append(len(blob))
            docs.append(n)
            last = raw
        self._blob, self._off, self._docs = bytes(blob), off, docs
        if not ordered:  # fts5vocab lists terms in order; anything else is sorted here once
            pairs = sorted({self._term(i): docs[i] for i in range(len(docs))}.items())
            self._blob = b"".join(raw for raw, _ in pairs)
            self._off = array("I", [0])
            for raw, _ in pairs:
                self._off.append(self._off[-1] + len(raw))
            self._docs = array("I", [n for _, n in pairs])
        self._by_start = self._order(end=False)
        self._by_end = self._order(end=True)
        self._bits = 1 << max(10, (FILTER_BITS_PER_TERM * len(self._docs)).bit_length())
        self._filter = bytearray(self._bits // 8)
        for i in range(len(self._docs)):
            h = hash(self._term(i)) % self._bits
            self._filter[h >> 3] |= 1 << (h & 7)

    def _order(self, *, end: bool) -> array:
        """Term numbers by their first (or last) two letters, then length, shortest first: a
        counting sort over arrays, so that building it allocates no object per term."""
        blob, off, n = self._blob, self._off, len(self._docs)
        keys = array("I", bytes(4 * n))
        for i in range(n):
            a, b = off[i], off[i + 1]
            j = b - _KEY if end else a
            keys[i] = (_CODE[blob[j]] * len(_LETTERS) + _CODE[blob[j + 1]]) * 41 + (b - a)
        starts = array("I", bytes(4 * len(_LETTERS) ** 2 * 41))
        for k in keys:
            starts[k] += 1
        total = 0
        for k, count in enumerate(starts):
            starts[k], total = total, total + count
        order = array("I", bytes(4 * n))
        for i, k in enumerate(keys):
            order[starts[k]] = i
            starts[k] += 1
        return order

    def _term(self, i: int) -> bytes:
        return self._blob[self._off[i] : self._off[i + 1]]

    def _start_key(self, i: int) -> bytes:
        """First two letters, then length: terms sharing a start, shortest first."""
        a, b = self._off[i], self._off[i + 1]
        return self._blob[a : a + _KEY] + bytes((b - a,))

    def _end_key(self, i: int) -> bytes:
        a, b = self._off[i], self._off[i + 1]
        return self._blob[b - _KEY : b] + bytes((b - a,))

    def __len__(self) -> int:
        return len(self._docs)

    def nbytes(self) -> int:
        """Bytes held by the term data and its arrays (what the vocabulary costs in memory)."""
        arrays = (self._off, self._docs, self._by_start, self._by_end)
        return len(self._blob) + len(self._filter) + sum(a.itemsize * len(a) for a in arrays)

    def _find(self, raw: bytes) -> int:
        return bisect_left(range(len(self._docs)), raw, key=self._term)

    def docs(self, term: str) -> int:
        """Articles holding this term (0 when the index doesn't have it)."""
        raw = _enc(term)
        if raw is None:
            return 0
        i = self._find(raw)
        return self._docs[i] if i < len(self._docs) and self._term(i) == raw else 0

    def known(self, terms: Iterable[str]) -> list[Candidate]:
        """Those of ``terms`` the index has, with their counts (distance 1: meant for terms
        one typo away). A bit filter rules most others out without a look-up."""
        out, bits, size = [], self._filter, self._bits
        for term in terms:
            try:
                raw = term.encode("cp1251")
            except UnicodeEncodeError:
                continue
            h = hash(raw) % size
            if bits[h >> 3] & (1 << (h & 7)) and (n := self.docs(term)):
                out.append(Candidate(term, 1, n))
        return out

    def near(self, stem: str, distance: int, limit: int) -> list[Candidate]:
        """Up to ``limit`` other terms within Damerau–Levenshtein ``distance`` of ``stem``,
        nearest and then most common first."""
        raw = _enc(stem)
        if raw is None or distance <= 0 or len(raw) <= _KEY:
            return []
        lo, hi = bytes((max(1, len(raw) - distance),)), bytes((len(raw) + distance + 1,))
        found: set[int] = set()
        for order, key, end in (
            (self._by_start, self._start_key, raw[:_KEY]),
            (self._by_end, self._end_key, raw[-_KEY:]),
        ):
            a = bisect_left(order, end + lo, key=key)
            b = bisect_left(order, end + hi, key=key)
            found.update(order[a : min(b, a + MAX_CANDIDATES)])
        own = self._find(raw)
        found.discard(own if own < len(self._docs) and self._term(own) == raw else -1)
        numbers = list(found)
        choices = [self._term(i) for i in numbers]
        # Levenshtein (bit-parallel, fast) within twice the distance keeps every term within
        # Damerau–Levenshtein ``distance`` (a transposition is two Levenshtein edits).
        rough = process.extract(
            raw, choices, scorer=Levenshtein.distance, score_cutoff=2 * distance, limit=None
        )
        out = []
        for choice, _, k in rough:
            d = DamerauLevenshtein.distance(raw, choice, score_cutoff=distance)
            if d <= distance:
                out.append(Candidate(choice.decode("cp1251"), d, self._docs[numbers[k]]))
        out.sort(key=lambda c: (c.distance, -c.docs, c.term))
        return out[:limit]

    def completions(self, prefix: str, limit: int) -> list[Candidate]:
        """Up to ``limit`` terms that start with ``prefix`` (longer than it), most common first."""
        raw = _enc(prefix)
        if raw is None:
            return []
        lo = self._find(raw)
        hi = self._find(raw + b"\xff")
        if lo < len(self._docs) and self._term(lo) == raw:
            lo += 1
        best = heapq.nlargest(limit, range(lo, hi), key=self._docs.__getitem__)
        return [
            Candidate(self._term(i).decode("cp1251"), len(self._term(i)) - len(raw), self._docs[i])
            for i in best
        ]

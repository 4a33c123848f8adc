"""Reader query language → safe FTS5 MATCH expressions over stems (pure; never raises).

Plain words, ``"exact phrase"`` (also «…»), ``-word`` / ``-"phrase"`` to exclude, ``word*`` for a
prefix. Everything else is text: every term reaches MATCH double-quoted, so FTS5 operators and
syntax typed by a reader (``NEAR(``, ``AND``, ``*``, an open quote) are never interpreted.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from bot.text import WORD_RE, fold, is_stop, stem, words

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 500
"""Longer input is cut here (a query is a few words; this bounds the work per request)."""
MAX_TERMS = 32
"""Terms (words, phrases, exclusions) beyond this are ignored."""
MAX_PHRASE_WORDS = 16
"""Words kept from one quoted phrase."""
MAX_COORD_TERMS = 6
"""Up to this many terms, articles missing only one term rank above those missing more."""
MIN_PREFIX = 2
"""A ``word*`` whose prefix folds to fewer characters is searched as a plain word."""

_OPEN = "\"«“„"
_CLOSE = "\"»”“"
_TOKEN_RE = re.compile(
    rf"(?P<neg>-)?(?:[{_OPEN}](?P<phrase>[^{_CLOSE}]*)[{_CLOSE}]"
    rf"|(?P<word>{WORD_RE.pattern})(?P<star>\*)?)"
)


@dataclass(frozen=True, slots=True)
class Term:
    """One searchable unit: a word's stem, a phrase of stems, or a stem prefix (last part)."""

    stems: tuple[str, ...]
    prefix: bool = False

    def fts(self) -> str:
        """This term as an FTS5 string: always double-quoted (quotes doubled), ``*`` if prefix."""
        quoted = '"' + " ".join(self.stems).replace('"', '""') + '"'
        return f"{quoted} *" if self.prefix else quoted


def _and(terms: tuple[Term, ...]) -> str:
    return " AND ".join(t.fts() for t in terms)


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: terms every result should have, and terms no result may have."""

    include: tuple[Term, ...]
    exclude: tuple[Term, ...] = ()

    def _not(self, expr: str) -> str:
        if not self.exclude:
            return expr
        return f"({expr}) NOT ({' OR '.join(t.fts() for t in self.exclude)})"

    def match_all(self) -> str:
        """Articles with every term (and none of the excluded ones): search's first tier."""
        return self._not(_and(self.include))

    def tiers(self) -> tuple[str, ...]:
        """Disjoint expressions, best first: every term; all terms but one; any term."""
        terms = self.include
        if len(terms) < 2:
            return (self.match_all(),)
        every, some = _and(terms), " OR ".join(t.fts() for t in terms)
        if not 3 <= len(terms) <= MAX_COORD_TERMS:
            return self.match_all(), self._not(f"({some}) NOT ({every})")
        but_one = " OR ".join(
            f"({_and(terms[:i] + terms[i + 1 :])})" for i in range(len(terms))
        )
        return (
            self.match_all(),
            self._not(f"({but_one}) NOT ({every})"),
            self._not(f"({some}) NOT ({but_one})"),
        )

    def marks(self) -> tuple[frozenset[str], tuple[str, ...]]:
        """Stems and stem prefixes whose words a snippet should mark."""
        exact: set[str] = set()
        prefixes: set[str] = set()
        for term in self.include:
            exact.update(term.stems[:-1] if term.prefix else term.stems)
            if term.prefix:
                prefixes.add(term.stems[-1])
        return frozenset(exact), tuple(sorted(prefixes))


def _word_term(word: str, star: bool) -> Term | None:
    folded = list(words(word))[:MAX_PHRASE_WORDS]
    if not folded:
        return None
    parts = tuple(stem(p) for p in folded)
    if star:
        # The prefix is matched against stems: cut it back to where it and its own stem agree
        # ("партнеро*" → "партнер*"), so a prefix longer than the indexed stem still matches.
        last, cut = folded[-1], parts[-1]
        n = 0
        while n < min(len(last), len(cut)) and last[n] == cut[n]:
            n += 1
        if n >= MIN_PREFIX:
            return Term((*parts[:-1], last[:n]), prefix=True)
    return Term(parts)


def _phrase_term(text: str) -> Term | None:
    parts = tuple(stem(w) for w in words(text))[:MAX_PHRASE_WORDS]
    return Term(parts) if parts else None


def _is_stop(term: Term, raw: str) -> bool:
    return len(term.stems) == 1 and not term.prefix and is_stop(fold(raw))


def parse(text: object) -> Query | None:
    """Parse reader input; None when there is nothing to search for (no words, only exclusions)."""
    if not isinstance(text, str):
        return None
    text = text[:MAX_QUERY_CHARS]
    include: list[Term] = []
    stop: list[Term] = []
    exclude: list[Term] = []
    seen: set[Term] = set()
    for m in _TOKEN_RE.finditer(text):
        if len(seen) >= MAX_TERMS:
            break
        start = m.start()
        negative = bool(m.group("neg")) and (start == 0 or not text[start - 1].isalnum())
        if m.group("phrase") is not None:
            term = _phrase_term(m.group("phrase"))
            raw = m.group("phrase")
        else:
            raw = m.group("word")
            term = _word_term(raw, bool(m.group("star")))
        if term is None or term in seen:
            continue
        seen.add(term)
        if negative:
            exclude.append(term)
        elif _is_stop(term, raw.strip()):
            stop.append(term)
        else:
            include.append(term)
    terms = include or stop
    if not terms:
        return None
    return Query(tuple(terms), tuple(e for e in exclude if e not in terms))

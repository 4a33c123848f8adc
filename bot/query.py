"""Reader query language → safe FTS5 MATCH expressions over stems (pure; never raises).

Plain words, ``"exact phrase"`` (also «…»), ``-word`` / ``-"phrase"`` to exclude, ``word*`` for a
prefix. Everything else is text: every term reaches MATCH double-quoted, so FTS5 operators and
syntax typed by a reader (``NEAR(``, ``AND``, ``*``, an open quote) are never interpreted.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from bot.text import WORD_RE, fold, is_stop, stem, stems, variants, words

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 500
"""Longer input is cut here (a query is a few words; this bounds the work per request)."""
MAX_TERMS = 32
"""Terms (words, phrases, exclusions) beyond this are ignored."""
MAX_PHRASE_WORDS = 16
"""Words kept from one quoted phrase."""
MAX_COORD_TERMS = 6
"""Up to this many terms, articles missing only one term rank above those missing more."""
MIN_PREFIX = 3
"""A ``word*`` whose prefix folds to fewer characters is searched as a plain word."""

_CYRILLIC = re.compile("[а-я]")
_OPEN = '"«“„'
_CLOSE = '"»”“'
_TOKEN_RE = re.compile(
    rf"(?P<neg>-)?(?:[{_OPEN}](?P<phrase>[^{_CLOSE}]*)[{_CLOSE}]"
    rf"|(?P<word>{WORD_RE.pattern})(?P<star>\*)?)"
)


@dataclass(frozen=True, slots=True)
class Term:
    """One searchable unit: a word (its stem, or any of a few stem variants), a phrase of stems,
    or a stem prefix (the last part)."""

    stems: tuple[str, ...]
    prefix: bool = False
    alts: tuple[str, ...] = ()
    """Other stems the same word may be indexed under (one-word terms only; see text.variants)."""

    def fts(self) -> str:
        """This term as an FTS5 string: always double-quoted (quotes doubled), ``*`` if prefix."""
        quoted = _quote(" ".join(self.stems))
        if self.prefix:
            quoted = f"{quoted} *"
        if self.alts:
            return "(" + " OR ".join([quoted, *map(_quote, self.alts)]) + ")"
        return quoted

    def match_keys(self) -> Callable[[str], bool]:
        """Does one indexed stem belong to this term (any of its words, variants, prefix)?"""
        exact = frozenset((*self.stems, *self.alts))
        if self.prefix:
            head, last = frozenset((*self.stems[:-1], *self.alts)), self.stems[-1]
            return lambda s: s in head or s.startswith(last)
        return exact.__contains__

    def with_alts(self, alts: tuple[str, ...]) -> Term:
        """The same term with only these alternative stems."""
        return Term(self.stems, self.prefix, alts)


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@dataclass(frozen=True, slots=True)
class Tier:
    """One rank tier of a query's results (tiers are disjoint, best first)."""

    match: str
    """The tier's articles."""
    title: str
    """The tier's positive terms restricted to the title column (title matches rank first)."""
    titled: str
    """The tier's articles whose title matches (``match`` and ``title``)."""
    upto: str
    """This tier and every earlier one: counted instead of ``match`` (positive, cheaper)."""


@lru_cache(maxsize=20_000)
def _title_stems(title: str) -> tuple[str, ...]:
    return tuple(stems(title))


def _and(terms: tuple[Term, ...]) -> str:
    return " AND ".join(t.fts() for t in terms)


def _or(parts: list[str]) -> str:
    return " OR ".join(parts)


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: terms every result should have, and terms no result may have."""

    include: tuple[Term, ...]
    exclude: tuple[Term, ...] = ()

    def _not(self, expr: str) -> str:
        if not self.exclude:
            return expr
        return f"({expr}) NOT ({_or([t.fts() for t in self.exclude])})"

    @property
    def has_prefix(self) -> bool:
        """Whether a ``word*`` term is included (bm25 is too costly to rank such matches)."""
        return any(t.prefix for t in self.include)

    def match_all(self) -> str:
        """Articles with every term (and none of the excluded ones): search's first tier."""
        return self._not(_and(self.include))

    def tiers(self) -> tuple[Tier, ...]:
        """Disjoint tiers, best first: every term; all terms but one (3–6 terms); any term."""
        terms = self.include
        every = _and(terms)
        title = f"{{title}} : ({every})"
        tiers = [Tier(self.match_all(), title, self._not(title), self.match_all())]
        if len(terms) < 2:
            return tuple(tiers)
        levels = []
        if 3 <= len(terms) <= MAX_COORD_TERMS:
            but_one = [f"({_and(terms[:i] + terms[i + 1 :])})" for i in range(len(terms))]
            levels.append(_or(but_one))
        levels.append(_or([t.fts() for t in terms]))
        for core in levels:
            match = self._not(f"({core}) NOT ({every})")
            title = f"{{title}} : ({core})"
            tiers.append(Tier(match, title, f"({title}) AND ({match})", self._not(core)))
            every = core
        return tuple(tiers)

    def variants(self) -> frozenset[str]:
        """Every alternative stem of the included words (for the service to check in the index)."""
        return frozenset(a for t in self.include for a in t.alts)

    def keep_variants(self, keep: frozenset[str]) -> Query:
        """This query with only the alternative stems in ``keep``."""
        include = tuple(t.with_alts(tuple(a for a in t.alts if a in keep)) for t in self.include)
        return Query(include, self.exclude)

    def title_key(self, title: str) -> tuple[int, bool, float]:
        """Sort key among articles whose title matches: more of the terms, in the order typed,
        covering more of the title first ("the title is what was asked for")."""
        title_stems = _title_stems(title)
        if not title_stems:
            return (0, True, 0.0)
        keys = [term.match_keys() for term in self.include]
        found = [next((i for i, s in enumerate(title_stems) if m(s)), -1) for m in keys]
        positions = [i for i in found if i >= 0]
        ordered = all(a < b for a, b in itertools.pairwise(positions))
        covered = sum(1 for s in title_stems if any(m(s) for m in keys))
        return (-len(positions), not ordered, -covered / len(title_stems))

    def marks(self) -> tuple[frozenset[str], tuple[str, ...]]:
        """Stems and stem prefixes whose words a snippet should mark."""
        exact: set[str] = set()
        prefixes: set[str] = set()
        for term in self.include:
            exact.update(term.stems[:-1] if term.prefix else term.stems)
            exact.update(term.alts)
            if term.prefix:
                prefixes.add(term.stems[-1])
        return frozenset(exact), tuple(sorted(prefixes))


def _word_term(word: str, star: bool) -> Term | None:
    folded = list(words(word))[:MAX_PHRASE_WORDS]
    if not folded:
        return None
    parts = tuple(stem(p) for p in folded)
    if star and len(folded[-1]) >= MIN_PREFIX:
        return _prefix_term(folded, parts)
    if len(parts) == 1:
        return Term(parts, alts=variants(folded[0])[1:])
    return Term(parts)


def _prefix_term(folded: list[str], parts: tuple[str, ...]) -> Term:
    """``word*``: stems starting with the typed prefix, plus the prefix one or two letters
    shorter as a whole stem («партнеро*» also finds партнер ← «партнером»; the service keeps
    such a stem only if the index has it)."""
    last = folded[-1]
    if not _CYRILLIC.search(last):  # Snowball English may rewrite the end: happiness → happi
        cut = stem(last)
        n = next((i for i, (a, b) in enumerate(zip(last, cut, strict=False)) if a != b), None)
        last = last[: min(len(last), len(cut)) if n is None else n]
        return Term((*parts[:-1], last), prefix=True)
    shorter = [last[:-1]] + ([last[:-2]] if len(last) >= 7 else [])
    alts = tuple(s for s in shorter if len(s) >= 4) if len(folded) == 1 else ()
    return Term((*parts[:-1], last), prefix=True, alts=alts)


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
        if negative:  # excluded as typed: no stem variants that could hit unrelated words
            exclude.append(Term(term.stems, term.prefix))
        elif _is_stop(term, raw.strip()):
            stop.append(term)
        else:
            include.append(term)
    terms = include or stop
    if not terms:
        return None
    return Query(tuple(terms), tuple(e for e in exclude if e not in terms))

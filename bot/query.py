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
from dataclasses import dataclass, field, replace
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
TYPED, COMPLETED, CORRECTED = 0, 1, 2
"""How much of a forgiving search's additions a match expression takes in."""

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
    or a stem prefix (the last part). A forgiving search adds ``more`` (completions of the last
    word) and ``extra`` (corrections of a misspelled word), each ranked after the term's own."""

    stems: tuple[str, ...]
    prefix: bool = False
    alts: tuple[str, ...] = ()
    """Other stems the same word may be indexed under (one-word terms only; see text.variants)."""
    more: tuple[str, ...] = ()
    """Stems that start with the typed word (its completions; only the last word has them)."""
    extra: tuple[str, ...] = ()
    """Stems within a few edits of the typed word (its corrections)."""
    merged: bool = False
    """Its completions rank alongside it (a word still being typed: see services.spelling)."""
    optional: bool = False
    """A function word typed last, completed: it matches nothing itself, but titles with one
    of its completions rank first among the title matches (see Query.tail)."""
    word: str = field(default="", compare=False)
    """The folded word as typed, for a plain one-word term ('' otherwise)."""
    hyphenated: tuple[str, ...] = field(default=(), compare=False)
    """The folded parts of a hyphenated word as typed («пресс», «конференции»), else ()."""
    span: tuple[int, int] = field(default=(0, 0), compare=False)
    """Where the term is in the reader's text."""
    last: bool = field(default=False, compare=False)
    """The query's last word, typed as a plain word: a forgiving search completes it."""
    said: str = field(default="", compare=False)
    """How the word reads once corrected or completed (set with ``more`` or ``extra``)."""

    @property
    def forgiven(self) -> bool:
        return bool(self.more or self.extra)

    def fts(self, level: int = TYPED, complete: bool = True) -> str:
        """This term as an FTS5 string: always double-quoted (quotes doubled), ``*`` if prefix;
        from level COMPLETED with its completions (unless not ``complete``), at CORRECTED with
        its corrections too."""
        if self.optional:
            return "(" + " OR ".join(map(_quote, self.more)) + ")"
        quoted = _quote(" ".join(self.stems))
        if self.prefix:
            quoted = f"{quoted} *"
        others = self.alts
        if complete and (self.merged or level >= COMPLETED):
            others = (*others, *self.more)
        if level >= CORRECTED:
            others = (*others, *self.extra)
        if others:
            return "(" + " OR ".join([quoted, *map(_quote, others)]) + ")"
        return quoted

    def match_keys(self) -> Callable[[str], bool]:
        """Does one indexed stem belong to this term (any of its words, variants, prefix)?"""
        if self.optional:
            return frozenset(self.more).__contains__
        exact = frozenset((*self.stems, *self.alts, *self.forgiven_stems()))
        if self.prefix:
            head = frozenset((*self.stems[:-1], *self.alts, *self.forgiven_stems()))
            last = self.stems[-1]
            return lambda s: s in head or s.startswith(last)
        return exact.__contains__

    def forgiven_stems(self) -> tuple[str, ...]:
        """The stems its completions and corrections hold (those of a hyphenated word are
        phrases of its parts: «пресс конференц»)."""
        return tuple(s for x in (*self.more, *self.extra) for s in x.split())

    def with_alts(self, alts: tuple[str, ...]) -> Term:
        """The same term with only these alternative stems."""
        return replace(self, alts=alts)


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
    forgiven: bool = False
    """Its articles match only through corrected or completed words."""
    paired: bool = False
    """It holds the completed matches of the tier before it: the title matches of both rank
    before the other matches of either (whole words first within each part)."""
    retitled: str = ""
    """Its articles and the tier before it's whose title matches this tier's terms: a paired
    tier's title matches include those of the tier before that have only the completed (or
    corrected) word in the title («Лавров о боевиках» for «лаврову боев»)."""


@lru_cache(maxsize=20_000)
def _title_stems(title: str) -> tuple[str, ...]:
    return tuple(stems(title))


def _and(terms: tuple[Term, ...], level: int = TYPED) -> str:
    return " AND ".join(t.fts(level) for t in terms)


def _or(parts: list[str]) -> str:
    return " OR ".join(parts)


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: terms every result should have, and terms no result may have."""

    include: tuple[Term, ...]
    exclude: tuple[Term, ...] = ()
    text: str = ""
    """The reader's text (cut to MAX_QUERY_CHARS), which the terms' spans point into."""
    tail: Term | None = None
    """A function word of 3+ letters typed last after other words: left out of the search,
    but perhaps the start of a word still being typed, which a forgiving search completes."""

    def _not(self, expr: str) -> str:
        if not self.exclude:
            return expr
        return f"({expr}) NOT ({_or([t.fts() for t in self.exclude])})"

    @property
    def has_prefix(self) -> bool:
        """Whether a ``word*`` term is included (bm25 is too costly to rank such matches)."""
        return any(t.prefix for t in self.include)

    @property
    def completes(self) -> bool:
        """Whether the last word brings completions."""
        return any(t.more for t in self.include)

    @property
    def forgiven(self) -> bool:
        """Whether some word was corrected or completed."""
        return any(t.forgiven for t in self.include)

    def match_all(self) -> str:
        """Articles with every term as typed (and none of the excluded ones): the first tier,
        and what keyword alerts match (never corrections or completions)."""
        return self._not(_and(self.include))

    def _cores(self, level: int) -> list[str]:
        """Nested match sets, best first: every term; all terms but one (3–6 terms); any term."""
        terms = tuple(t for t in self.include if not t.optional)  # those only rank titles
        cores = [_and(terms, level)]
        if len(terms) < 2:
            return cores
        if 3 <= len(terms) <= MAX_COORD_TERMS:
            but_one = [f"({_and(terms[:i] + terms[i + 1 :], level)})" for i in range(len(terms))]
            cores.append(_or(but_one))
        # "Any term" without completions: the union of many long posting lists costs more
        # than the few articles it would add to the end of the list are worth.
        cores.append(_or([t.fts(level, complete=False) for t in terms]))
        return cores

    def tiers(self) -> tuple[Tier, ...]:
        """Disjoint tiers, best first: every term; all terms but one (3–6 terms); any term.

        A forgiving search splits each level in up to three: as typed; with the last word's
        completions (paired with the first: title matches of both first); with corrections.
        So an article with every word, one of them corrected, ranks below those with every
        word as typed, but above those missing a word.
        """
        levels = [self._cores(TYPED)]
        completes = any(t.more and not t.merged for t in self.include)
        if completes:
            levels.append(self._cores(COMPLETED))
        if any(t.extra for t in self.include):
            levels.append(self._cores(CORRECTED))
        steps: list[tuple[str, str, bool, bool]] = []  # (core, union so far, forgiven, paired)
        for cores in zip(*levels, strict=True):
            for k, core in enumerate(cores):
                if k > 0 and core == cores[k - 1]:
                    continue
                # The last level holds every earlier match; otherwise add what came before.
                whole = not steps or k == len(cores) - 1
                union = core if whole else f"({steps[-1][1]}) OR ({core})"
                steps.append((core, union, k > 0, k == 1 and completes))
        tiers: list[Tier] = []
        for i, (core, union, forgiven, paired) in enumerate(steps):
            title = f"{{title}} : ({core})"
            if i == 0:
                tiers.append(Tier(self._not(union), title, self._not(title), self._not(union)))
                continue
            match = self._not(f"({union}) NOT ({steps[i - 1][1]})")
            titled = f"({title}) AND ({match})"
            both = f"({union}) NOT ({steps[i - 2][1]})" if i >= 2 else union
            retitled = f"({title}) AND ({self._not(both)})"
            tier = Tier(match, title, titled, self._not(union), forgiven, paired, retitled)
            tiers.append(tier)
        return tuple(tiers)

    def _rewrite(self, part: Callable[[Term], str]) -> str:
        """The reader's text with each forgiven word replaced by ``part(term)``."""
        out, at = [], 0
        for term in sorted((t for t in self.include if t.forgiven), key=lambda t: t.span):
            out += [self.text[at : term.span[0]], part(term)]
            at = term.span[1]
        return "".join([*out, self.text[at:]]).strip()

    def said(self) -> str:
        """The query as searched: corrected words spelled right, completed ones with "…"."""
        return self._rewrite(lambda t: t.said)

    def as_typed(self) -> str:
        """The same query searched exactly as typed (forgiven words in quotes)."""
        return self._rewrite(lambda t: '"' + self.text[t.span[0] : t.span[1]] + '"')

    def replace(self, index: int, term: Term) -> Query:
        """This query with included term ``index`` replaced."""
        include = (*self.include[:index], term, *self.include[index + 1 :])
        return replace(self, include=include)

    def variants(self) -> frozenset[str]:
        """Every alternative stem of the included words (for the service to check in the index)."""
        return frozenset(a for t in self.include for a in t.alts)

    def keep_variants(self, keep: frozenset[str]) -> Query:
        """This query with only the alternative stems in ``keep``."""
        include = tuple(t.with_alts(tuple(a for a in t.alts if a in keep)) for t in self.include)
        return replace(self, include=include)

    def title_key(self, title: str) -> tuple[int, bool, float, int]:
        """Sort key among articles whose title matches: more of the terms, in the order typed,
        covering more of the title first ("the title is what was asked for"); then more of
        them as whole words rather than completions."""
        title_stems = _title_stems(title)
        if not title_stems:
            return (0, True, 0.0, 0)
        keys = [term.match_keys() for term in self.include]
        found = [next((i for i, s in enumerate(title_stems) if m(s)), -1) for m in keys]
        positions = [i for i in found if i >= 0]
        ordered = all(a < b for a, b in itertools.pairwise(positions))
        covered = sum(1 for s in title_stems if any(m(s) for m in keys))
        whole = sum(
            1
            for t in self.include
            if t.more and not t.optional and set(title_stems) & {*t.stems, *t.alts}
        )
        return (-len(positions), not ordered, -covered / len(title_stems), -whole)

    def marks(self) -> tuple[frozenset[str], tuple[str, ...]]:
        """Stems and stem prefixes whose words a snippet should mark."""
        exact: set[str] = set()
        prefixes: set[str] = set()
        for term in self.include:
            if not term.optional:
                exact.update(term.stems[:-1] if term.prefix else term.stems)
            exact.update(term.alts)
            exact.update(term.forgiven_stems())
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
        return Term(parts, alts=variants(folded[0])[1:], word=folded[0])
    return Term(parts, hyphenated=tuple(folded))


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
    last: Term | None = None  # the term of the final token, if it is a plain word
    for m in _TOKEN_RE.finditer(text):
        if len(seen) >= MAX_TERMS:
            break
        start = m.start()
        negative = bool(m.group("neg")) and (start == 0 or not text[start - 1].isalnum())
        last = None
        if m.group("phrase") is not None:
            term = _phrase_term(m.group("phrase"))
            raw = m.group("phrase")
        else:
            raw = m.group("word")
            term = _word_term(raw, bool(m.group("star")))
        if term is None or term in seen:
            continue
        seen.add(term)
        term = replace(term, span=(m.start(), m.end()))
        if negative:  # excluded as typed: no stem variants that could hit unrelated words
            exclude.append(Term(term.stems, term.prefix))
        elif _is_stop(term, raw.strip()):
            stop.append(term)
            if not m.group("star") and len(term.word) >= MIN_PREFIX:
                last = term
        else:
            include.append(term)
            if (term.word or term.hyphenated) and not m.group("star"):
                last = term
    terms = include or stop
    if not terms:
        return None
    tail = None
    if last is not None and terms[-1] is last:
        terms[-1] = replace(last, last=True)
    elif last is not None and stop and stop[-1] is last:
        tail = replace(last, last=True)  # «медалями эта»: perhaps «этап» being typed
    return Query(tuple(terms), tuple(e for e in exclude if e not in terms), text, tail)

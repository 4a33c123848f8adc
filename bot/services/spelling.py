"""Forgiving search: correct misspelled query words and complete the last one, from the index's
own vocabulary (bot.fuzzy), reloaded whenever the archive changes.

Which words are corrected (the rule docs/search.md states): a plain word of 5+ letters (1 edit;
9+ letters: 2) that the index does not have, or has in at most 1 % of the articles (or in at most
two), then only towards words RARE_RATIO times as common as it. Exact matches keep ranking first
(see bot.query.Query.tiers). The last word of 3+ letters also matches the most common words that
start with it. Keyword alerts never come here: SearchService.matches uses the words as typed.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import replace

import aiosqlite
from rapidfuzz.distance import DamerauLevenshtein

from bot.fuzzy import Candidate, Vocabulary, max_distance, one_typo_away
from bot.query import CORRECTED, Query, Term
from bot.snippets import find_hits
from bot.store import articles
from bot.store import fts as store
from bot.text import WORD_RE, fold, irregular, stems, stems_of, variants

log = logging.getLogger(__name__)

RARE_SHARE = 0.01
"""A word in at most this share of the articles (or in RARE_MIN) is also corrected …"""
RARE_MIN = 2
"""(In a small archive every word is in more than 1 %: a word in at most two is rare too.)"""
RARE_RATIO = 20
"""… towards words at least this many times as common (a word the index lacks: any)."""
MAX_CORRECTIONS = 6
"""Corrections kept per word (nearest, then most common)."""
MAX_CORRECTED = 3
"""Words corrected per query (bounds the work a hostile query of 32 misspellings can cause)."""
MAX_COMPLETIONS = 16
"""Completions of the last word (most common first)."""
MERGE_ENDING = 1
"""A last word whose stem is at most this many letters shorter counts as being typed."""
COMPLETE_POSTINGS = 3.0
"""Completions stop once their article counts add up to this many times the archive's size."""
COMPLETE_SHARE = 0.005
"""A one-word query found as typed in this share of the articles is not completed: there is
plenty to show, and the completions' long posting lists would cost more than they add."""
VARIANT_RATIO = 10
"""A corrected word's stem variant is kept if at most this many times as common as the stem."""
SHORT_STEM = 4
"""A typed word whose stem is this short is also corrected through the words one typo away
(as is one whose stem the index lacks, with none near it)."""
MAX_TYPED_EDITS = 20
"""… if it has at most this many letters (about 65 strings to stem per letter)."""
COMPOUND_CHOICES = 3
"""Corrections tried per part of a hyphenated word (the phrases are every combination)."""
MIN_COMPLETE = 3
"""The last word is completed from this many letters on."""
WEAK = 20
"""A query of two or more words whose words together (as corrected and completed so far) are
in fewer than this many articles is weak: its last word gets more completions."""
TITLES = 5
"""Titles read to pick a weak query's further completions."""
MORE_COMPLETIONS = 128
"""A weak query's last word is looked up among this many more of its completions, rarer ones
too; those sharing a title with the other words join it («евгению прим» → примаков)."""


def _shared_start(a: str, b: str) -> int:
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


def spelled(term: Term, stem: str) -> str:
    """How the word reads with its stem corrected, typed ending kept (белорусия → белоруссия)."""
    own = term.stems[0]
    return stem + term.word[len(own) :] if term.word.startswith(own) else stem


def archive_form(term: Term, texts: list[str]) -> str | None:
    """The corrected or completed word as the archive writes it: of the words in ``texts``
    (the results' titles and texts) that its forgiven stems match, a completion of what was
    typed, else the nearest to it; then the most frequent (белорусия → белоруссия, сюзного →
    союзного, not the stem-like «союзна»)."""
    keys = frozenset(term.forgiven_stems())
    seen: dict[str, int] = {}
    for text in texts:
        for a, b, _ in find_hits(text, keys):
            form = text[a:b].lower()
            seen[form] = seen.get(form, 0) + 1
    if not seen:
        return None

    def key(form: str) -> tuple[int, int]:
        folded = fold(form)
        if folded.startswith(term.word):
            return 0, -seen[form]
        return DamerauLevenshtein.distance(term.word, folded), -seen[form]

    return min(seen, key=key)


def compound_form(term: Term, texts: list[str]) -> str | None:
    """A corrected or completed hyphenated word as the archive writes it: of the hyphenated
    words in ``texts`` whose parts' stems are one of its phrases, the nearest to what was
    typed («пресс-слжбе» → пресс-службе, not the stem-like «пресс-служб»)."""
    phrases = {tuple(x.split()) for x in (*term.extra, *term.more)}
    typed = "-".join(term.hyphenated)
    seen = {
        form
        for text in texts
        for match in WORD_RE.finditer(text)
        if "-" in (form := match.group().lower()) and tuple(stems(form)) in phrases
    }
    return min(seen, key=lambda f: (DamerauLevenshtein.distance(typed, fold(f)), f), default=None)


def shown(q: Query, texts: list[str]) -> Query:
    """``q`` with each forgiven word's ``said`` spelled as the archive writes it (kept as it
    was where ``texts`` hold no such word)."""
    for i, term in enumerate(q.include):
        if not term.forgiven:
            continue
        form = archive_form(term, texts) if term.word else None
        if form is None and term.hyphenated:
            form = compound_form(term, texts)
        if form:
            q = q.replace(i, replace(term, said=form))
    return q


class Speller:
    """Corrections and completions for one archive; the vocabulary is shared by all queries."""

    def __init__(self, conn: aiosqlite.Connection, stamp: Callable[[], Awaitable[object]]) -> None:
        self.conn = conn
        self._stamp = stamp
        self._vocab: Vocabulary | None = None
        self._loaded: object = None
        self._loading: tuple[object, asyncio.Task[Vocabulary]] | None = None
        self.articles = 0
        """Visible articles when the vocabulary was read (what "rare" is a share of)."""

    async def vocabulary(self) -> Vocabulary | None:
        """The vocabulary as of the archive's current state (reloaded once after a change)."""
        stamp = await self._stamp()
        if self._vocab is not None and stamp == self._loaded:
            return self._vocab
        if self._loading is None or self._loading[0] != stamp:
            self._vocab = None  # every query waits for the new one: the old one only costs memory
            self._loading = (stamp, asyncio.ensure_future(self._load(stamp)))
        task = self._loading[1]
        try:
            return await asyncio.shield(task)
        except (sqlite3.Error, OSError) as exc:  # searched as typed until the next try
            log.warning("search vocabulary could not be read: %s", exc)
            return None
        finally:
            if task.done() and self._loading is not None and self._loading[1] is task:
                self._loading = None

    async def _load(self, stamp: object) -> Vocabulary:
        path = await store.db_file(self.conn)
        if path:
            vocab = await asyncio.to_thread(lambda: Vocabulary(store.read_vocabulary(path)))
        else:
            vocab = Vocabulary(await store.vocabulary_rows(self.conn))
        self.articles = await articles.count_visible(self.conn)
        self._vocab, self._loaded = vocab, stamp
        log.debug("search vocabulary: %d terms, %d bytes", len(vocab), vocab.nbytes())
        return vocab

    async def forgive(self, q: Query) -> Query:
        """``q`` with corrections of its rare or unknown words and completions of its last."""
        typed = (*q.include, q.tail) if q.tail else q.include
        if not any(t.hyphenated or self._forgivable(t) for t in typed):
            return q
        vocab = await self.vocabulary()
        if vocab is None:
            return q
        corrected = 0
        for i, term in enumerate(q.include):
            if term.hyphenated:
                forgiven = self._compound(vocab, term, corrected < MAX_CORRECTED)
                corrected += bool(forgiven.extra)
                q = q.replace(i, forgiven)
                continue
            if not term.word:
                continue
            own = (*term.stems, *term.alts)
            extra: tuple[str, ...] = ()
            said = ""
            if max_distance(term.word) and corrected < MAX_CORRECTED:
                extra, said = self._corrections(vocab, term, own)
                corrected += bool(extra)
            more: tuple[str, ...] = ()
            if term.last and len(term.word) >= MIN_COMPLETE and not self._plenty(vocab, q, own):
                more = self._completions(vocab, term.word, {*own, *extra})
            if more and len(term.word) - len(term.stems[0]) <= MERGE_ENDING:
                # No inflection, or one letter of one («парт», «сообщ», «росси»): as likely a
                # word still being typed as a whole one, so its completions rank alongside it.
                term = replace(term, merged=True)
            if extra or more:
                said = said if extra else term.word + "…"
                term = replace(term, more=more, extra=extra, said=said)
            q = q.replace(i, term)
        return self._complete_tail(vocab, q)

    def _complete_tail(self, vocab: Vocabulary, q: Query) -> Query:
        """A function word typed last may be a word still being typed («медалями эта» →
        этап, «вероятных при» → причин): titles with one of its completions rank first, and
        what is found stays what the other words find (see Term.optional)."""
        tail = q.tail
        if tail is None:
            return q
        more = self._completions(vocab, tail.word, {*tail.stems, *tail.alts})
        if not more:
            return replace(q, tail=None)
        term = replace(tail, alts=(), more=more, optional=True, said=tail.word + "…")
        return replace(q, include=(*q.include, term), tail=None)

    @staticmethod
    def _forgivable(term: Term) -> bool:
        """A plain word that may be completed (the last) or corrected (5+ letters)."""
        return bool(term.word) and (term.last or max_distance(term.word) > 0)

    def _compound(self, vocab: Vocabulary, term: Term, correct: bool) -> Term:
        """A hyphenated word («пресс-конференнции», «по-новос»): a part of 3+ letters the
        index lacks or has rarely is corrected as a word would be (one edit, two in a part of
        9+ letters, if the whole word is long enough for them), and the last part of the
        query's last word is completed; the alternatives stay phrases of the parts."""
        parts, own = term.hyphenated, term.stems
        budget = max_distance("".join(parts)) if correct else 0
        options: list[tuple[str, ...]] = []
        said: list[str] = []
        for part, stem in zip(parts, own, strict=True):
            fixes: tuple[str, ...] = ()
            if budget and len(part) >= MIN_COMPLETE:
                piece = Term((stem,), word=part)
                distance = min(budget, max(1, max_distance(part)))
                fixes, spelt = self._corrections(vocab, piece, (stem,), distance)
                said.append(spelt if fixes else part)
            else:
                said.append(part)
            options.append((stem, *fixes[:COMPOUND_CHOICES]))
        combos = itertools.islice(itertools.product(*options), 1, MAX_CORRECTIONS + 1)
        extra = tuple(" ".join(c) for c in combos)
        more: tuple[str, ...] = ()
        if term.last and len(parts[-1]) >= MIN_COMPLETE:
            head = " ".join(own[:-1])
            more = tuple(f"{head} {c}" for c in self._completions(vocab, parts[-1], {own[-1]}))
        if not (extra or more):
            return term
        typed = "-".join(said) if extra else "-".join(parts) + "…"
        merged = bool(more) and len(parts[-1]) - len(own[-1]) <= MERGE_ENDING
        return replace(term, extra=extra, more=more, merged=merged, said=typed)

    async def complete_further(self, q: Query) -> Query:
        """A weak query's last word (the search found its words together in fewer than WEAK
        articles) also gets those of its rarer completions (up to MORE_COMPLETIONS, no
        postings budget) that share a title with the other words: one bounded look-up picks
        them, so the search itself stays small («евгению прим» → примаков)."""
        vocab = await self.vocabulary()
        i, term = len(q.include) - 1, q.include[-1]
        if vocab is None or i < 1 or not term.more or not term.word:
            return q
        taken = {*term.stems, *term.alts, *term.extra, *term.more}
        rare = self._completions(vocab, term.word, taken, MORE_COMPLETIONS, budget=False)
        if not rare:
            return q
        others = " AND ".join(t.fts(CORRECTED) for t in q.include[:-1] if not t.optional)
        titled = f"{{title}} : ({others})"
        if not others or not await store.title_group(self.conn, titled, limit=1):
            return q  # no title has the other words: none can share one with a completion
        anyof = " OR ".join(f'"{r}"' for r in rare)  # vocabulary terms are letters only
        expr = f"{{title}} : ({others} AND ({anyof}))"
        found = await store.title_group(self.conn, expr, limit=TITLES)
        titled = {s for g in found for s in stems(g.title)}
        more = (*term.more, *(r for r in rare if r in titled))
        return q.replace(i, replace(term, more=more)) if len(more) > len(term.more) else q

    @staticmethod
    def _near(
        vocab: Vocabulary, term: Term, distance: int, floor: int, own: tuple[str, ...]
    ) -> list[str]:
        """Indexed stems the word may have been meant as, most likely first: near its stem or
        the word itself, or (no ending Snowball knows) the word less a mistyped ending
        («пожеланияхх» → пожелан); if none, near the word less its last two or three letters
        (Snowball leaves «трвдным» whole)."""
        word, limit = term.word, 4 * MAX_CORRECTIONS
        found = vocab.near(term.stems[0], distance, limit)
        if word != term.stems[0]:
            found += vocab.near(word, distance, limit)
        # Two edits only with the start kept: a word that far off at its start is more often
        # another word («наихорошего» is not «нехорошего») than a slip.
        found = [c for c in found if c.distance < 2 or c.term[:2] == word[:2]]
        heads = [word[:n] for n in range(len(word) - 1, max(3, len(word) - 5), -1)]
        if word == term.stems[0]:  # no ending Snowball knows: perhaps a mistyped one
            head = next((h for h in heads if vocab.docs(h) >= floor and h not in own), None)
            if head is not None:
                found.append(Candidate(head, 1, vocab.docs(head)))
        # A slip often makes Snowball cut the word elsewhere: short («сорией» → сор, «сирией»
        # → сир: one slip changed both ends of the stem), or not at all («подлинносбь» →
        # подлинносб, «подлинность» → подлин). So for a stem of 4 letters or fewer, or one the
        # index lacks with no stem nearby that will do, the stems of the words one typo from
        # the word as typed are looked up (about 1 ms a word, so not for every word).
        typed: dict[str, Candidate] = {}
        short = len(term.stems[0]) <= SHORT_STEM
        lost = not any(c.docs >= floor for c in found) and not vocab.docs(term.stems[0])
        if (short or lost) and len(word) <= MAX_TYPED_EDITS:
            typed = {c.term: c for c in vocab.known(stems_of(one_typo_away(word)) - set(own))}
            found += typed.values()
        if not found:
            found = [c for h in heads[1:3] if len(h) >= 4 for c in vocab.near(h, 1, limit)]
        # Nearest; a stem no shorter than the typed one (a slip rarely makes a longer word:
        # «партенр» is «партнер», not «парт» ← «партен»); a whole word one typo away before a
        # stem that is; then most common, then sharing the longest start (typos rarely come
        # first); only the nearest: a slip is one edit far more often than two. Never a
        # two-letter stem (со, на) for a longer word.
        found = [c for c in found if c.docs >= floor and c.term not in own and len(c.term) > 2]
        size = len(term.stems[0])
        found.sort(
            key=lambda c: (
                c.distance,
                len(c.term) < size,
                c.term not in typed,
                -c.docs,
                -_shared_start(word, c.term),
            )
        )
        return list(dict.fromkeys(c.term for c in found if c.distance == found[0].distance))

    def _completions(
        self,
        vocab: Vocabulary,
        word: str,
        taken: set[str],
        limit: int = MAX_COMPLETIONS,
        *,
        budget: bool = True,
    ) -> tuple[str, ...]:
        """The most common words that start with ``word``, until their articles add up to
        COMPLETE_POSTINGS times the archive (each completion's posting list is read)."""
        left, out = COMPLETE_POSTINGS * self.articles, []
        for c in vocab.completions(word, limit + len(taken)):
            if c.term in taken:
                continue
            if out and budget and left < c.docs:
                break
            out.append(c.term)
            left -= c.docs
        return tuple(out[:limit])

    def _plenty(self, vocab: Vocabulary, q: Query, own: tuple[str, ...]) -> bool:
        """A one-word query whose word as typed is in COMPLETE_SHARE of the articles."""
        if len(q.include) > 1:
            return False
        return max(vocab.docs(s) for s in own) >= COMPLETE_SHARE * self.articles

    def _corrections(
        self, vocab: Vocabulary, term: Term, own: tuple[str, ...], distance: int = 0
    ) -> tuple[tuple[str, ...], str]:
        """Stems near the word (its stem, or the word itself: «возду» → воздух) that are far
        more common than it, and how the word reads with the best of them (``distance``:
        edits allowed, else by the word's length)."""
        if not term.word.isalpha():
            return (), ""
        exact = vocab.docs(term.stems[0])  # its stem variants may belong to other words
        if exact > max(RARE_MIN, RARE_SHARE * self.articles):
            return (), ""
        distance, floor = distance or max_distance(term.word), max(1, RARE_RATIO * exact)
        best = self._near(vocab, term, distance, floor, own)[:MAX_CORRECTIONS]
        if not best:
            return (), ""
        said = spelled(term, best[0])
        # The corrected word's other stems, as a typed word gets them (уркаинцем → украинц,
        # украинец; ужкову → лужков, лужк): those the index has and not far more common.
        more: list[str] = []
        for stem in best:
            cap = VARIANT_RATIO * vocab.docs(stem)
            more += [v for v in variants(spelled(term, stem)) if 0 < vocab.docs(v) <= cap]
            more += irregular(stem)
        best += [v for v in dict.fromkeys(more) if v not in best and v not in own]
        return tuple(best), said

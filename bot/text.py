"""Russian normalisation for search: casefold, ё→е, Snowball stems; shared by index and queries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import Stemmer

# A word is a run of letters/digits, optionally joined by inner hyphens or apostrophes
# ("военно-технический", "MILEX-2025"); hyphenated words are indexed as their parts. Stress
# accents (U+0300/U+0301) inside a word are part of it and folded away.
_SEP = r"(?:[\u0300\u0301]+[-'’]?|[-'’])"
WORD_RE = re.compile(rf"[^\W_]+(?:{_SEP}[^\W_]+)*[\u0300\u0301]*", re.UNICODE)
PART_RE = re.compile(r"[^\W_]+(?:[\u0300\u0301]+[^\W_]+)*[\u0300\u0301]*", re.UNICODE)

_russian = Stemmer.Stemmer("russian")
_english = Stemmer.Stemmer("english")
_CYRILLIC = re.compile(r"[а-я]")
_STRESS = str.maketrans({"ё": "е", "\u0300": None, "\u0301": None})

# Function words that say nothing about the topic: left out of a query that has other words
# (a query made only of them is searched as typed). Folded (ё→е).
_STOP_TEXT = """
    а без более бы был была были было быть в вам вас весь во вот все всего всех вы где да даже
    для до его ее ей если есть еще же за здесь и из или им их к как ко когда кто ли либо между
    меня мне мы на над нам нас не него нее нет ни них но ну о об однако он она они оно от очень
    по под при с со так также такой там те тем то того тоже той только том ты у уже хотя чего
    чем что чтобы эта эти это этого этой этом этот я
    a an and are as at be by for from in is it of on or that the this to was with
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())


def fold(word: str) -> str:
    """Case-fold and fold ё to е, the way both the index and the queries see a word."""
    return word.casefold().translate(_STRESS)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball stem of one already folded word (Russian for Cyrillic, English for Latin)."""
    if _CYRILLIC.search(word):
        return _russian.stemWord(word)
    if word.isascii() and word.isalpha():
        return _english.stemWord(word)
    return word


def stems_of(words: set[str]) -> set[str]:
    """Stems of many folded words of one script at once, uncached (one-off candidates that
    would only push real words out of ``stem``'s cache)."""
    if not words:
        return set()
    stemmer = _russian if _CYRILLIC.search(next(iter(words))) else _english
    return set(stemmer.stemWords(list(words)))


_VOWELS = frozenset("аеиоуыэюяйь")
_FLEETING = frozenset("кцнлрг")
# Words whose forms Snowball splits over unrelated-looking stems (suppletion, stem alternation).
_IRREGULAR = (
    "день дня дню днем дне дни дней дням днями днях",
    "год года году годом годы годов годам годами годах лет",
    "время времени временем времена времен временам временами временах",
    "человек человека люди людей людям людьми людях",
    "ребенок ребенка дети детей детям детьми детях",
    "мать матери матерью",
    "дочь дочери дочерью дочерей",
    "церковь церкви церковью",
    "любовь любви любовью",
    "сын сына сыновья сыновей",
    "лед льда льдом",
    "деньги денег деньгам деньгами",
)


def _irregular() -> dict[str, tuple[str, ...]]:
    groups: dict[str, tuple[str, ...]] = {}
    for line in _IRREGULAR:
        group = tuple(dict.fromkeys(stem(w) for w in line.split()))
        groups.update(dict.fromkeys(group, group))
    return groups


def variants(word: str) -> tuple[str, ...]:
    """Stems the forms of a folded word may be indexed under, its own stem first.

    Snowball is not consistent across a paradigm: «саммита» → саммит but «саммите» → самм,
    «Михаилу» → михаил but «Михаил» → миха, «рынок» → рынок but «рынка» → рынк, «Киеву» → киев
    but «Киев» → ки, «лет» for «год». So a query word also tries its own prefixes from two
    letters short of its stem up to the whole word, its stem with a fleeting vowel dropped or
    restored or a possessive -ов/-ев cut, and a small table of irregular words. The caller drops
    variants the index does not have or that belong to a far more common word.
    """
    s = stem(word)
    if len(word) < 3 or not _CYRILLIC.search(word):
        return (s,)
    out = [s, *(word[:n] for n in range(max(4, len(s) - 2), len(word) + 1))]
    if len(s) >= 4 and s[-1] in _FLEETING and s[-2] in "оеь" and s[-3] not in _VOWELS:
        out.append(s[:-2] + s[-1])  # рынок → рынк, сестер → сестр, конец → конц
        if s[-2] == "е":
            out.append(s[:-2] + "ь" + s[-1])  # денег → деньг
    elif len(s) >= 3 and s[-1] in _FLEETING and s[-2] not in _VOWELS:
        out += [s[:-1] + "о" + s[-1], s[:-1] + "е" + s[-1]]  # рынк → рынок, попытк → попыток
    if len(s) >= 4 and s[-2:] in ("ов", "ев"):
        out.append(s[:-2])  # киев → ки, лавров → лавр
    out += _IRREGULAR_STEMS.get(s, ())
    return tuple(dict.fromkeys(out))


def words(text: str) -> Iterator[str]:
    """The folded word parts of ``text`` in order (hyphenated words split into parts)."""
    for match in PART_RE.finditer(text):
        yield fold(match.group())


def word_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """Each word part of ``text`` as (start, end, folded part), for marking the original text."""
    for match in PART_RE.finditer(text):
        yield match.start(), match.end(), fold(match.group())


def stems(text: str) -> list[str]:
    """Stems of every word part of ``text``, in order."""
    return [stem(w) for w in words(text)]


def index_text(text: str) -> str:
    """What goes into the FTS5 column for ``text``: its stems separated by spaces."""
    return " ".join(stems(text))


_IRREGULAR_STEMS = _irregular()


def irregular(stem_: str) -> tuple[str, ...]:
    """The other stems of an irregular word (день → дня, дне …; год → лет), else ()."""
    return _IRREGULAR_STEMS.get(stem_, ())


def is_stop(word: str) -> bool:
    """True for a folded function word (``и``, ``в``, ``что`` …) that carries no topic."""
    return word in STOP_WORDS

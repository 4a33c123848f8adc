"""Reader mistakes for the search benches: one typo in a word, the last word cut short.

A typo is what a thumb does on a phone: a letter dropped, doubled, two neighbours swapped, or
one replaced by another Russian letter, anywhere in a word of 6+ letters (issue 12's recipe).
"""

from __future__ import annotations

import random

LETTERS = "абвгдежзийклмнопрстуфхцчшщъыьэюя"
KINDS = ("drop", "double", "swap", "replace")
MIN_TYPO_WORD = 6


def typo(word: str, rng: random.Random) -> str | None:
    """``word`` with one typo (never the same word back), or None when it is too short."""
    if len(word) < MIN_TYPO_WORD:
        return None
    for _ in range(20):
        kind = rng.choice(KINDS)
        i = rng.randrange(len(word))
        if kind == "drop":
            out = word[:i] + word[i + 1 :]
        elif kind == "double":
            out = word[: i + 1] + word[i:]
        elif kind == "swap":
            i = min(i, len(word) - 2)
            out = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        else:
            lower = word[i].lower()
            new = rng.choice([c for c in LETTERS if c != lower])
            out = word[:i] + (new.upper() if word[i].isupper() else new) + word[i + 1 :]
        if out.lower().replace("ё", "е") != word.lower().replace("ё", "е"):
            return out
    return None


def with_typo(query: str, rng: random.Random) -> str | None:
    """The query with one typo in one of its words of 6+ letters (None if it has none)."""
    words = query.split()
    long = [i for i, w in enumerate(words) if len(w) >= MIN_TYPO_WORD]
    if not long:
        return None
    i = rng.choice(long)
    bad = typo(words[i], rng)
    if bad is None:
        return None
    return " ".join([*words[:i], bad, *words[i + 1 :]])


def cut_last(query: str, min_letters: int = 3) -> str | None:
    """The query with its last word cut to half its length (None when that leaves < 3)."""
    words = query.split()
    half = len(words[-1]) // 2
    if half < min_letters:
        return None
    return " ".join([*words[:-1], words[-1][:half]])

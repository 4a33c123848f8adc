"""Equivalent names (Беларусь = Белоруссия, РФ = Россия …) from small text files, as stems.

One group per line: the names and every form of them readers may type or articles may use,
separated by commas (``беларусь, беларуси, белоруссия, белоруссии``); ``#`` starts a comment.
A query word whose stem is in a group also matches the group's other stems, ranked as if typed.
The project's own list is ``bot/data/synonyms.txt``; SYNONYMS_FILE adds a deployment's groups
(a group that shares a name with another is merged with it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path

from bot.text import WORD_RE, fold, stem

MAX_FORMS = 64
"""Names in one group (a longer line is surely a mistake)."""


class SynonymsError(ValueError):
    """A synonyms file cannot be used; the message names the file and the line."""


def _group(line: str, where: str) -> list[str]:
    forms = [" ".join(f.split()) for f in line.split(",")]
    if any(not f for f in forms):
        raise SynonymsError(f"{where}: an empty name (two commas in a row, or one at an end)")
    if len(forms) < 2:
        raise SynonymsError(f"{where}: a group needs at least two names separated by commas")
    if len(forms) > MAX_FORMS:
        raise SynonymsError(f"{where}: more than {MAX_FORMS} names in one group")
    for form in forms:
        if not WORD_RE.fullmatch(form) or "-" in form:
            raise SynonymsError(f"{where}: {form!r} is not one word (letters or digits only)")
    return [stem(fold(f)) for f in forms]


def parse(text: str, name: str) -> list[tuple[str, ...]]:
    """The groups of one file's text as stems; SynonymsError names ``name`` and the line."""
    groups = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            groups.append(tuple(dict.fromkeys(_group(line, f"{name} line {number}"))))
    return groups


def read(path: Path) -> list[tuple[str, ...]]:
    """The groups of one file (UTF-8); SynonymsError when it can't be read or parsed."""
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as exc:
        raise SynonymsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise SynonymsError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return parse(text, str(path))


def builtin() -> list[tuple[str, ...]]:
    """The project's own groups (bot/data/synonyms.txt)."""
    text = resources.files("bot").joinpath("data/synonyms.txt").read_text("utf-8")
    return parse(text, "bot/data/synonyms.txt")


class Synonyms:
    """Stem → the other stems of its group (groups sharing a stem are merged)."""

    def __init__(self, groups: Iterable[tuple[str, ...]] = ()) -> None:
        merged: dict[str, set[str]] = {}
        for group in groups:
            members = set(group)
            for s in group:
                members |= merged.get(s, set())
            for s in members:
                merged[s] = members
        self._others: Mapping[str, tuple[str, ...]] = {
            s: tuple(sorted(members - {s})) for s, members in merged.items()
        }

    def __len__(self) -> int:
        return len(self._others)

    def of(self, stem_: str) -> tuple[str, ...]:
        """The other stems of ``stem_``'s group, or ()."""
        return self._others.get(stem_, ())


def load(extra: Path | None = None) -> Synonyms:
    """The project's groups plus those of ``extra`` (SYNONYMS_FILE); SynonymsError if bad."""
    return Synonyms([*builtin(), *(read(extra) if extra is not None else [])])

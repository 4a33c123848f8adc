"""The text catalogue: every reader text in both languages with the same placeholders, and no
reader- or admin-visible Russian text anywhere else in the Telegram layer."""

from __future__ import annotations

import ast
import re
import string

from bot.telegram.texts import READER, RUSSIAN_ONLY, TEXTS, lang_of, t
from tests.helpers import ROOT

CYRILLIC = re.compile("[А-Яа-яЁё]")


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_reader_texts_exist_in_both_languages_with_the_same_placeholders() -> None:
    assert READER["ru"].keys() == READER["en"].keys()
    for key, ru in READER["ru"].items():
        assert fields(ru) == fields(READER["en"][key]), key
    assert not RUSSIAN_ONLY.keys() & READER["ru"].keys()
    assert TEXTS["ru"].keys() == READER["ru"].keys() | RUSSIAN_ONLY.keys()


def test_language_choice_and_fallback() -> None:
    assert lang_of("en-GB") == "en" and lang_of("EN") == "en"
    assert lang_of("ru") == lang_of("uk") == lang_of(None) == "ru"
    assert t("en", "latest_title") == "Latest articles"
    assert t("en", "stats_targets") == t("ru", "stats_targets")  # staff texts: Russian only
    assert (
        t("ru", "article_missing", id="7") == "Статьи с номером 7 нет. Последние статьи: /latest"
    )


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the Constant nodes that are docstrings (module, class, function)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def test_no_russian_text_outside_the_catalogue() -> None:
    offenders = []
    for path in sorted((ROOT / "bot" / "telegram").rglob("*.py")):
        if path.name == "texts.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in skip
                and CYRILLIC.search(node.value)
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert not offenders, "texts belong in bot/telegram/texts.py:\n" + "\n".join(offenders)

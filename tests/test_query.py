"""Query language, morphology helpers and snippets: pure functions, no database files."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.models import MARK_END, MARK_START
from bot.query import MAX_QUERY_CHARS, MAX_TERMS, Query, Term, parse
from bot.snippets import find_hits, snippet
from bot.text import fold, index_text, stem, stems, variants
from tests.helpers import HOSTILE


def _fts() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(title, lead, body)")
    db.execute("INSERT INTO f VALUES ('партнер', 'учен', 'запад')")
    return db


def _run_all(db: sqlite3.Connection, q: Query) -> None:
    for tier in q.tiers():
        for expr in (tier.match, tier.title, tier.titled, tier.upto):
            db.execute("SELECT count(*) FROM f WHERE f MATCH ?", (expr,)).fetchone()


def test_fold_and_stem_unify_case_yo_and_endings() -> None:
    assert fold("ПАРТНЁР") == "партнер"
    assert stem("партнер") == stem("партнером") == stem(fold("Партнёрами"))
    assert stem("учения") == stem("учениях")
    assert index_text("Партнёр, УЧЕНИЯ!") == "партнер учен"
    assert stems("бе\u0301лый") == ["бел"]  # a stress accent does not split the word


def test_variants_cover_forms_snowball_splits() -> None:
    assert "самм" in variants("саммита") and "саммит" in variants("саммите")
    assert "миха" in variants("михаилу")
    assert "рынк" in variants("рынок") and "рынок" in variants("рынка")
    assert "ки" in variants("киеву")
    assert "лет" in variants("годам")
    assert variants("сша") == ("сша",)
    assert variants("nato")[0] == stem("nato")


def test_plain_words_become_quoted_stems_all_then_some() -> None:
    q = parse("Партнёры учениях")
    assert q is not None
    assert [t.stems for t in q.include] == [("партнер",), ("учен",)]
    first, rest = q.tiers()
    assert first.match.startswith('("партнер"') and " AND " in first.match
    assert " OR " in rest.match and "NOT" in rest.match


def test_three_terms_add_an_all_but_one_tier() -> None:
    q = parse("партнер учения запад")
    assert q is not None and len(q.tiers()) == 3
    q6 = parse("a1 b2 c3 d4 e5 f6 g7")
    assert q6 is not None and len(q6.tiers()) == 2  # beyond MAX_COORD_TERMS: all, then any


def test_phrase_is_one_term_of_adjacent_stems() -> None:
    q = parse('"стратегическим партнёром" учения')
    assert q is not None
    assert q.include[0] == Term(("стратегическ", "партнер"))
    assert q.include[0].fts() == '"стратегическ партнер"'
    assert parse("«Запад-2025»").include[0].stems == ("запад", "2025")  # type: ignore[union-attr]


def test_exclusion_needs_a_leading_minus() -> None:
    q = parse("учения -запад военно-технический")
    assert q is not None
    assert [t.stems for t in q.exclude] == [("запад",)]
    assert ("воен", "техническ") in [t.stems for t in q.include]
    assert "NOT" in q.match_all() and '"запад"' in q.match_all()
    assert parse("-запад") is None  # only exclusions: nothing to search for
    assert parse('учения -"открытая фраза"').exclude[0].stems == ("открыт", "фраз")  # type: ignore[union-attr]


def test_prefix_also_tries_the_prefix_a_letter_or_two_shorter_as_a_stem() -> None:
    q = parse("партнеро*")
    assert q is not None
    assert q.include[0] == Term(("партнеро",), prefix=True, alts=("партнер", "партне"))
    assert q.include[0].fts() == '("партнеро" * OR "партнер" OR "партне")'
    assert parse("парт*").include[0] == Term(("парт",), prefix=True)  # type: ignore[union-attr]
    assert parse("happiness*").include[0].stems == ("happi",)  # type: ignore[union-attr]
    assert parse("по*").include[0].prefix is False  # type: ignore[union-attr]
    assert parse("*") is None


def test_stop_words_are_dropped_unless_they_are_all_there_is() -> None:
    q = parse("учения в и на Беларуси")
    assert q is not None and [t.stems for t in q.include] == [("учен",), ("беларус",)]
    only = parse("и в на")
    assert only is not None and len(only.include) == 3


def test_terms_and_length_are_capped() -> None:
    q = parse(" ".join(f"слово{i}" for i in range(100)))
    assert q is not None and len(q.include) + len(q.exclude) <= MAX_TERMS
    long = parse("я" * 10_000)
    assert long is not None and len(long.include[0].stems[0]) <= MAX_QUERY_CHARS


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_queries_parse_to_safe_expressions_or_none(text: str) -> None:
    q = parse(text)
    if q is not None:
        _run_all(_fts(), q)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_none_or_expressions_fts5_accepts(text: str) -> None:
    q = parse(text)
    if q is not None:
        _run_all(_fts(), q)


def test_parse_of_non_text_is_none() -> None:
    assert parse(None) is None
    assert parse(42) is None


def test_title_key_prefers_all_terms_in_typed_order_and_a_short_title() -> None:
    q = parse("стратегический партнер")
    assert q is not None
    exact = q.title_key("Стратегический партнёр")
    reordered = q.title_key("Партнёр стратегический")
    longer = q.title_key("Стратегический партнёр подводит Россию")
    one = q.title_key("Партнёр")
    assert exact < reordered and exact < longer and longer < one


TEXT = (
    "В России назвали Беларусь стратегическим партнёром. Военно-техническое сотрудничество "
    "растёт.\nРанее Москва и Минск скорректировали параметры учений «Запад-2025». "
    + "Длинный абзац без нужных слов. " * 20
    + "В конце снова партнёры и учения."
)


def _marked(s: str) -> list[str]:
    words, pos = [], 0
    while (start := s.find(MARK_START, pos)) >= 0:
        end = s.index(MARK_END, start)
        words.append(s[start + 1 : end])
        pos = end
    return words


def test_snippet_marks_every_form_of_the_matched_words() -> None:
    exact, prefixes = parse("партнёр учениях").marks()  # type: ignore[union-attr]
    s = snippet(TEXT, exact, prefixes)
    assert len(s.replace(MARK_START, "").replace(MARK_END, "")) <= 200 + 2  # + "…" each side
    assert {w.lower() for w in _marked(s)} <= {"партнёром", "партнёры", "учений", "учения"}
    assert _marked(s)
    assert "\n" not in s


def test_snippet_prefers_the_passage_with_all_terms() -> None:
    exact, prefixes = parse("партнер учения").marks()  # type: ignore[union-attr]
    s = snippet(TEXT, exact, prefixes, width=60)
    assert _marked(s) == ["партнёры", "учения"]
    assert s.startswith("…")


def test_snippet_marks_prefix_matches_and_parts_of_hyphenated_words() -> None:
    exact, prefixes = parse("техническ* запад").marks()  # type: ignore[union-attr]
    marked = _marked(snippet(TEXT, exact, prefixes))
    assert "техническое" in marked and "Запад" in marked


def test_snippet_without_matches_is_the_text_start_and_plain() -> None:
    s = snippet("Текст <b>&amp;</b>\ue000 без совпадений. " * 20, frozenset({"xyz"}))
    assert s.startswith("Текст <b>&amp;</b> без") and s.endswith("…")
    assert MARK_START not in s and MARK_END not in s  # stray private-use marks are removed


def test_find_hits_handles_text_whose_lower_case_is_longer() -> None:
    text = "İstanbul: партнёр"
    hits = find_hits(text, frozenset({"партнер"}))
    assert [text[a:b] for a, b, _ in hits] == ["партнёр"]

"""Forgiving search (issue 12): candidates from the vocabulary, ranking, synonyms, bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, Settings
from bot.fuzzy import Vocabulary, max_distance
from bot.query import parse
from bot.services.ingest import Ingestor
from bot.services.search import SearchService
from bot.services.spelling import (
    MAX_COMPLETIONS,
    MAX_CORRECTED,
    Speller,
    archive_form,
    spelled,
)
from bot.store.db import open_db
from bot.synonyms import Synonyms, SynonymsError, builtin
from bot.synonyms import parse as parse_synonyms
from tests.helpers import write_seed

MSK = ZoneInfo("Europe/Moscow")
WORDS = [("газ", 50), ("гас", 2), ("партер", 3), ("партнер", 40), ("стратегическ", 5)]


def test_distance_limits_follow_the_word_length() -> None:
    assert [max_distance("а" * n) for n in (3, 4, 5, 8, 9, 14)] == [0, 0, 1, 1, 2, 2]
    vocab = Vocabulary(WORDS)
    assert [c.term for c in vocab.near("партенр", 1, 10)] == ["партнер", "партер"]
    assert vocab.near("стртгическ", 1, 10) == []  # two letters away: needs a 9+ letter word
    assert [c.term for c in vocab.near("стртгическ", 2, 10)] == ["стратегическ"]
    assert vocab.near("газ", 0, 10) == []
    assert [c.distance for c in vocab.near("партнрр", 2, 10)] == [1, 2]


def test_vocabulary_lookups_completions_and_what_it_keeps() -> None:
    vocab = Vocabulary([*WORDS, ("2025", 9), ("sputnik", 4), ("ωμέγα", 3), ("x", 1)])
    assert vocab.docs("партнер") == 40 and vocab.docs("партн") == 0
    assert vocab.docs("2025") == 0 and vocab.docs("ωμέγα") == 0  # never corrected
    assert [c.term for c in vocab.near("sputnic", 1, 5)] == ["sputnik"]
    assert [c.term for c in vocab.completions("пар", 5)] == ["партнер", "партер"]
    assert [c.term for c in vocab.completions("партнер", 5)] == []  # only longer words
    unsorted = Vocabulary(reversed(WORDS))
    assert unsorted.docs("гас") == 2 and len(unsorted) == len(WORDS)
    assert 0 < vocab.nbytes() < 400  # with the 1,024-bit filter of a small vocabulary


def test_hostile_words_are_cheap_and_safe() -> None:
    vocab = Vocabulary(WORDS)
    assert vocab.near("ж" * 500, 2, 10) == []
    assert vocab.completions("ж" * 500, 10) == []
    assert vocab.near("🙂🙂🙂", 2, 10) == [] and vocab.docs("") == 0


def _seed_archive(seeds: Path) -> None:
    for i in range(21):
        write_seed(seeds, f"k{i:02}.txt", f"Заметка {i}", [f"Здесь кварцит, образец {i}."])
    write_seed(seeds, "rare.txt", "Редкость", ["Один кварцет на всё собрание."])
    write_seed(seeds, "gas.txt", "Котельная", ["Газ подают по новой трубе."])


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[SearchService]:
    seeds = tmp_path / "seeds"
    _seed_archive(seeds)
    conn = await open_db(tmp_path / "bot.sqlite3")
    await Ingestor(conn, seeds, MSK).scan()
    yield SearchService(conn)
    await conn.close()


async def test_exact_matches_rank_above_corrected_ones(service: SearchService) -> None:
    page = await service.search("кварцет", per_page=30)  # known once; кварцит 21 times
    assert page is not None and page.total == 22
    assert page.items[0].title == "Редкость" and page.searched is None
    unknown = await service.search("кварцот", per_page=30)  # unknown: both are one edit away
    assert unknown is not None and unknown.total == 22
    assert unknown.searched == "кварцит" and unknown.as_typed == '"кварцот"'
    assert await service.search('"кварцот"') is not None
    assert (await service.search('"кварцот"')).total == 0  # type: ignore[union-attr]


async def test_last_word_is_a_prefix_from_three_letters(service: SearchService) -> None:
    assert (await service.search("кв")).total == 0  # type: ignore[union-attr]
    prefix = await service.search("ква", per_page=30)
    assert prefix is not None and prefix.total == 22
    both = await service.search("образец ква", per_page=30)  # one word typed, one being typed
    assert both is not None and both.total == 21
    neither = await service.search("ква образец", per_page=30)  # «ква» not last: as typed
    assert neither is not None and neither.total == 21
    first = await service.search("кварцет")  # the whole word ranks first
    assert first is not None and first.items[0].title == "Редкость"


async def test_short_words_digits_and_many_misspellings(service: SearchService) -> None:
    assert (await service.search("гас")).total == 0  # type: ignore[union-attr]  # 3 letters
    assert (await service.search("2026")).total == 0  # type: ignore[union-attr]
    spoilt = [w[:i] + c + w[i + 1 :] for w in ["образец"] for i in range(1, 7) for c in "ыэюяжш"]
    typos = " ".join(spoilt[:32])  # 32 words, each one letter off «образец»
    page = await service.search(typos)
    assert page is not None and page.total > 0
    q = parse(typos)
    assert q is not None and len(q.include) == 32

    async def stamp() -> int:
        return 1

    forgiven = await Speller(service.conn, stamp).forgive(q)
    assert sum(bool(t.extra) for t in forgiven.include) == MAX_CORRECTED
    assert (await service.search("ж" * 500)).total == 0  # type: ignore[union-attr]


async def test_new_words_are_correctable_right_away(
    service: SearchService, tmp_path: Path
) -> None:
    assert (await service.search("трамвайщик")).total == 0  # type: ignore[union-attr]
    write_seed(tmp_path / "seeds", "new.txt", "Депо", ["Старый трамвайщик вышел на линию."])
    await Ingestor(service.conn, tmp_path / "seeds", MSK).scan()
    page = await service.search("трамвайшик")
    assert page is not None and page.total == 1 and page.searched == "трамвайщик"


async def test_the_note_shows_the_word_as_the_archive_writes_it(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    for i in range(3):
        write_seed(seeds, f"u{i}.txt", f"Учения {i}", ["Войска Союзного государства на марше."])
    write_seed(seeds, "x.txt", "Другое", ["Ничего общего."])
    conn = await open_db(tmp_path / "bot.sqlite3")
    await Ingestor(conn, seeds, MSK).scan()
    service = SearchService(conn)
    q = parse("союзнова")  # stem «союзнов»: corrected to союзн, which the old note spelled
    assert q is not None and spelled(q.include[0], "союзн") == "союзна"  # «союзна»
    for typed, shown in (("союзнова", "союзного"), ("сюзного", "союзного"), ("войкса", "войска")):
        page = await service.search(typed)
        assert page is not None and page.total == 3, typed
        assert page.searched == shown, typed
    both = await service.search("сюзного госуд")  # corrected and completed: both real words
    assert both is not None and both.searched == "союзного государства"
    await conn.close()


def test_archive_form_prefers_completions_then_the_nearest_then_the_commonest() -> None:
    q = parse("сюзного партн")
    assert q is not None
    word, last = q.include
    corrected = replace(word, extra=("союзн",))
    texts = ["Союзный совет", "Войска Союзного государства: союзного, союзное"]
    assert archive_form(corrected, texts) == "союзного"  # one edit from what was typed
    completed = replace(last, more=("партнер", "парт"))
    assert archive_form(completed, ["Партия и партнёры", "партнёров партнёров"]) == "партнёров"
    assert archive_form(corrected, ["Ничего общего"]) is None


async def test_a_weak_query_completes_its_last_word_further(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    common = [f"прим{a}{b}" for a in "бвгдж" for b in "кпт"]  # 15 stems more common than …
    common += ["примбс", "примвс", "примгс"]
    for i in range(6):
        write_seed(seeds, f"f{i}.txt", f"Заметка {i}", ["Евгений сказал: " + " ".join(common)])
        write_seed(seeds, f"e{i}.txt", f"Евгений номер {i}", ["Просто текст."])
    write_seed(seeds, "p.txt", "Скончался Евгений Примаков", ["Некролог."])  # … примаков
    conn = await open_db(tmp_path / "bot.sqlite3")
    await Ingestor(conn, seeds, MSK).scan()
    service = SearchService(conn)
    page = await service.search("евгению прим")
    assert page is not None and page.items[0].title == "Скончался Евгений Примаков"
    q = await service._prepare("евгению прим", forgiving=True)
    assert q is not None and "примак" not in q.include[-1].more  # not among the 16 commonest
    assert len(q.include[-1].more) <= MAX_COMPLETIONS
    wider = await service.speller.complete_further(q)  # what the weak search asks for
    assert "примак" in wider.include[-1].more  # stem of «Примаков»: shares a title
    assert len(wider.include[-1].more) == len(q.include[-1].more) + 1  # others share none
    await conn.close()


async def test_alerts_match_the_words_as_typed(service: SearchService) -> None:
    rare = await service.search("кварцот")
    assert rare is not None and rare.total == 22  # a reader's search forgives
    ids = [h.id for h in rare.items]
    assert not any([await service.matches(i, "кварцот") for i in ids])  # an alert does not
    assert await service.matches(ids[0], rare.items[0].title.split()[0])


async def test_synonyms_find_the_other_name(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    write_seed(seeds, "a.txt", "Визит в Белоруссию", ["Переговоры в Минске."])
    write_seed(seeds, "b.txt", "Гранит науки", ["Камень."])
    conn = await open_db(tmp_path / "bot.sqlite3")
    try:
        await Ingestor(conn, seeds, MSK).scan()
        ours = parse_synonyms("кварцит, гранит", "ours.txt")
        service = SearchService(conn, synonyms=Synonyms([*builtin(), *ours]))
        found = await service.search("Беларусь")
        assert found is not None and found.total == 1 and found.searched is None
        assert (await service.search("кварцит")).total == 1  # type: ignore[union-attr]
        assert not await service.matches(1, "Беларусь")  # alerts: stems only
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("а, б\n# note\nодин\n", 3, "at least two names"),
        ("беларусь,, белоруссия\n", 1, "empty name"),
        ("\n\nнью-йорк, ньюйорк\n", 3, "not one word"),
        ("рф, " + ", ".join(["x"] * 70), 1, "more than"),
    ],
)
def test_bad_synonym_lines_are_named(text: str, line: int, reason: str) -> None:
    with pytest.raises(SynonymsError, match=f"extra.txt line {line}: .*{reason}"):
        parse_synonyms(text, "extra.txt")


def test_synonyms_file_setting(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("# ours\nкварцит, гранит\n", encoding="utf-8")
    assert Settings.from_env({"SYNONYMS_FILE": str(good)}).synonyms_file == good
    assert Settings.from_env({}).synonyms_file is None
    bad = tmp_path / "bad.txt"
    bad.write_text("кварцит, гранит\nодно\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"SYNONYMS_FILE {bad} line 2: "):
        Settings.from_env({"SYNONYMS_FILE": str(bad)})
    with pytest.raises(ConfigError, match="cannot be read"):
        Settings.from_env({"SYNONYMS_FILE": str(tmp_path / "missing.txt")})
    (tmp_path / "latin1.txt").write_bytes("caf\xe9, cafe\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        Settings.from_env({"SYNONYMS_FILE": str(tmp_path / "latin1.txt")})


def test_builtin_list_has_the_issue_examples() -> None:
    syn = Synonyms(builtin())
    assert "белорусс" in syn.of("белар") and "кыргызстан" in syn.of("киргиз")
    assert "рф" in syn.of("росс")


def test_bad_synonyms_file_stops_the_start_with_one_line(tmp_path: Path) -> None:
    from tests.test_cli import TOKEN, run_bot

    bad = tmp_path / "synonyms.txt"
    bad.write_text("кварцит, гранит\n\nодно слово\n", encoding="utf-8")
    result = run_bot("ingest", env={"SYNONYMS_FILE": str(bad), "BOT_TOKEN": TOKEN}, cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: SYNONYMS_FILE {bad} line 3: ")
    assert TOKEN not in result.stderr + result.stdout

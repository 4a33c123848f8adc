"""Forgiving search on the shapes readers' mistakes take: a slip that makes Snowball cut a word
short, hyphenated words, a function word being typed last, the completed word only in a title,
a query whose words share no title (issue 12)."""

from __future__ import annotations

from pathlib import Path

from bot.fuzzy import Vocabulary, one_typo_away
from bot.query import parse
from bot.services.ingest import Ingestor
from bot.services.search import SearchService
from bot.store.db import open_db
from tests.helpers import MSK, write_seed


async def _service(tmp_path: Path, articles: list[tuple[str, str]]) -> SearchService:
    seeds = tmp_path / "seeds"
    for i, (title, body) in enumerate(articles):
        write_seed(seeds, f"a{i:03}.txt", title, [body])
    conn = await open_db(tmp_path / "bot.sqlite3")
    await Ingestor(conn, seeds, MSK).scan()
    return SearchService(conn, result_cache=0)


async def _titles(service: SearchService, query: str, per_page: int = 5) -> list[str]:
    page = await service.search(query, per_page=per_page)
    assert page is not None, query
    return [h.title for h in page.items]


def test_one_typo_away_makes_every_kind_of_slip_once() -> None:
    out = one_typo_away("сир")
    assert {"ср", "иср", "сор", "сирр", "сиры"} <= out  # dropped, swapped, replaced, added
    assert "сир" not in out
    assert 150 < len(out) < 4 * 66  # about 65 per letter
    assert "sputnik" in one_typo_away("sputnki")  # Latin words get Latin letters


def test_known_finds_every_term_and_only_those() -> None:
    terms = [(f"сл{a}{b}", 3) for a in "абвгд" for b in "ежзий"]
    vocab = Vocabulary(terms)
    assert {c.term for c in vocab.known(t for t, _ in terms)} == {t for t, _ in terms}
    assert vocab.known(["слаю", "", "ωμέγα", "x" * 60]) == []
    assert [c.docs for c in vocab.known(["слбж"])] == [3]


async def test_a_slip_that_makes_snowball_cut_the_word_short(tmp_path: Path) -> None:
    # «сорией» stems to «сор», «сирией» to «сир»: one letter apart at the word, but no stem
    # near «сор» shares its first or last two letters with «сир».
    articles = [(f"Сирия, день {i}", "Линия фронта в Сирии.") for i in range(20)]
    articles += [("Разлом по курдской линии в Сирии", "Анализ."), ("Сорная трава", "Сорняки.")]
    articles += [(f"Скорость {i}", "Скорость и линия.") for i in range(30)]
    service = await _service(tmp_path, articles)
    q = parse("линию сорией")
    assert q is not None and q.include[1].stems == ("сор",)
    assert await _titles(service, "линию сорией", 1) == ["Разлом по курдской линии в Сирии"]
    page = await service.search("сорией", per_page=30)
    assert page is not None and page.searched in ("сирия", "сирии")  # as the archive has it
    assert sum("Сири" in h.title for h in page.items) == 21  # and the near stem «сорн»
    await service.conn.close()


async def test_hyphenated_words_are_corrected_and_completed_by_parts(tmp_path: Path) -> None:
    articles = [
        ("Итоговая пресс-конференция", "Вопросы журналистов."),
        ("Пресса и конференция", "Пресса пришла, а конференция отменена."),
        ("Выборы по-новосибирски", "Местные особенности."),
        ("Выборы в Новосибирске", "По новой схеме."),
    ]
    service = await _service(tmp_path, articles)
    page = await service.search("пресс-конференнции")
    assert page is not None and page.searched == "пресс-конференция"  # as the archive has it
    assert [h.title for h in page.items] == ["Итоговая пресс-конференция"]  # a phrase
    assert (await _titles(service, "выборы по-новос"))[0] == "Выборы по-новосибирски"
    exact = await service.search('"пресс-конференнции"')  # quoted: as typed
    assert exact is not None and exact.total == 0
    await service.conn.close()


async def test_a_function_word_typed_last_is_completed(tmp_path: Path) -> None:
    articles = [(f"Медали сборной, выпуск {i}", "Медали и награды.") for i in range(6)]
    articles += [("Три медали и итоги этапа", "Биатлон.")]
    service = await _service(tmp_path, articles)
    assert (await _titles(service, "медалями эта"))[0] == "Три медали и итоги этапа"
    with_tail = await service.search("медалями эта")
    without = await service.search("медалями")
    assert with_tail is not None and without is not None
    assert with_tail.total == without.total == 7  # it ranks; it neither widens nor narrows
    alone = await service.search("эта")  # rare here, so completed as a word being typed
    assert alone is not None and [h.title for h in alone.items] == ["Три медали и итоги этапа"]
    await service.conn.close()


async def test_the_completed_word_only_in_the_title_ranks_first(tmp_path: Path) -> None:
    # «боев» is a whole stem of its own (бо), found in these bodies: the article whose title has
    # «боевиках» is a match as typed, yet its title speaks for the completion.
    articles = [(f"Лавров о переговорах {i}", "Лавров: бои идут, боев много.") for i in range(8)]
    articles += [("Лавров о боевиках в Алеппо", "Лавров сказал о боях.")]
    service = await _service(tmp_path, articles)
    assert (await _titles(service, "лаврову боев"))[0] == "Лавров о боевиках в Алеппо"
    seen: list[str] = []
    for number in (1, 2, 3):  # the pages still split the matches without repeats or gaps
        page = await service.search("лаврову боев", page=number, per_page=4)
        assert page is not None and page.total == 9
        seen += [h.title for h in page.items]
    assert len(seen) == len(set(seen)) == 9
    await service.conn.close()


async def test_words_that_share_no_title_complete_the_last_one_further(tmp_path: Path) -> None:
    common = [f"прим{a}{b}" for a in "бвгдж" for b in "кпт"]  # 15 completions more common …
    articles = [(f"Заметка {i}", "Евгений сказал: " + " ".join(common)) for i in range(25)]
    articles += [("Скончался Евгений Примаков", "Некролог.")]  # … than «примаков»
    service = await _service(tmp_path, articles)
    q = await service._prepare("евгению прим", forgiving=True)
    assert q is not None and "примак" not in q.include[-1].more
    page = await service.search("евгению прим")
    assert page is not None and page.total >= 20  # not weak by count: weak by titles
    assert page.items[0].title == "Скончался Евгений Примаков"
    await service.conn.close()


async def test_a_slip_that_stops_snowball_cutting_the_word(tmp_path: Path) -> None:
    # «подлинность» stems to «подлин»; «подлинносбь» keeps «подлинносб», four letters longer.
    articles = [("Подлинность документов", "Эксперты проверили подлинность документов.")]
    articles += [(f"Документы {i}", "Документы пришли по почте.") for i in range(5)]
    service = await _service(tmp_path, articles)
    page = await service.search("подлинносбь документов")
    assert page is not None and page.items[0].title == "Подлинность документов"
    assert page.searched == "подлинность документов"
    await service.conn.close()

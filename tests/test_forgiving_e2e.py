"""Forgiving search through the real bot and the fake Bot API server (issue 12)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Settings
from bot.store import outbox
from tests.fake_telegram import FakeTelegram
from tests.helpers import (
    REAL_SEED,
    BotApp,
    say,
    start_bot,
    start_fast_bot,
    wait_until,
    write_seed,
)
from tests.test_bot_e2e import CHAT, TITLE, ask, press


@pytest.fixture
async def bot(settings: Settings, fake_tg: FakeTelegram) -> AsyncIterator[BotApp]:
    """The bot over the real seed, polling the fake; every request checked afterwards."""
    app = await start_bot(settings, fake_tg)
    yield app
    await app.stop()
    fake_tg.assert_clean()


async def test_search_with_a_typo_says_what_it_searched(
    bot: BotApp, fake_tg: FakeTelegram
) -> None:
    [reply] = await ask(fake_tg, "/search белорусия")
    assert TITLE in reply.text
    assert "Показаны результаты по запросу „белоруссия“" in reply.text
    exact = reply.buttons[-1]
    assert exact["text"] == 'Искать как написано: "белорусия"'
    await press(fake_tg, exact["callback_data"])
    assert "ничего не найдено" in fake_tg.message(CHAT, reply.message_id).text
    [en] = await ask(fake_tg, "/search белорусия", lang="en")
    assert "Showing results for “белоруссия”" in en.text
    assert en.buttons[-1]["text"] == 'Search as typed: "белорусия"'
    [plain] = await ask(fake_tg, "/search Белоруссия")  # spelled right: no notice
    assert TITLE in plain.text and "Показаны" not in plain.text


async def test_inline_word_being_typed(bot: BotApp, fake_tg: FakeTelegram) -> None:
    answer = await fake_tg.wait_for_inline_answer(fake_tg.push_inline_query(CHAT, "парт"))
    [result] = answer["results"]
    assert result["title"] == TITLE + " сотрудничества"
    none = await fake_tg.wait_for_inline_answer(fake_tg.push_inline_query(CHAT, "па"))
    assert none["results"] == []  # two letters are not completed


async def test_keyword_alert_ignores_a_typo_only_match(
    settings: Settings, fake: FakeTelegram, seeds_dir: Path
) -> None:
    (seeds_dir / REAL_SEED.name).unlink()  # an archive that has never seen «учения»
    write_seed(seeds_dir, "old.txt", "Новости города", ["Открыли новый сквер."])
    app = await start_fast_bot(replace(settings, post_interval=0.3, post_backlog=0), fake)
    try:
        await fake.wait_for_request("getUpdates")
        assert "учения" in (await say(fake, 301, "/subscribe учения"))[0].text
        assert "Готово" in (await say(fake, 302, "/subscribe"))[0].text
        write_seed(seeds_dir, "new.txt", "Синоптики о мае", ["Май будет очень тёплым."])
        await fake.wait_for_messages(302, 2)  # the new article's alert to everyone

        async def all_sent() -> bool:
            return all(d.status != "queued" for d in await outbox.all_deliveries(app.conn))

        await wait_until(all_sent)
        await fake.settle(0.5)
        assert len(fake.sent_messages(301)) == 1  # only the /subscribe reply: no alert
        [found] = await say(fake, 301, "/search учения")  # a reader's search forgives
        assert "Синоптики о мае" in found.text and "Показаны результаты" in found.text
    finally:
        await app.stop()


async def test_a_hyphenated_word_with_a_typo_and_one_being_typed(
    bot: BotApp, fake_tg: FakeTelegram
) -> None:
    [reply] = await ask(fake_tg, "/search военно-тезнического")
    assert TITLE in reply.text
    assert "Показаны результаты по запросу „военно-технического“" in reply.text
    answer = await fake_tg.wait_for_inline_answer(fake_tg.push_inline_query(CHAT, "военно-тех"))
    assert [r["title"] for r in answer["results"]] == [TITLE + " сотрудничества"]


async def test_a_hyphenated_correction_is_spelled_as_the_article_has_it(
    bot: BotApp, fake_tg: FakeTelegram
) -> None:
    [reply] = await ask(fake_tg, "/search пресс-слжбе")  # the seed: «в пресс-службе ФСВТС»
    assert TITLE in reply.text
    assert "Показаны результаты по запросу „пресс-службе“" in reply.text

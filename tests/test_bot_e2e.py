"""End to end: the real Dispatcher and Bot long-poll the fake Bot API server over HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from tests.fake_telegram import FakeTelegram, SentMessage
from tests.helpers import TEST_TOKEN, BotApp, bot_process, say, start_bot, write_seed

CHAT = 42
TITLE = "В России назвали Беларусь стратегическим партнером в сфере военно-технического"
MakeApp = Callable[..., Awaitable[BotApp]]


@pytest.fixture
async def make_app(settings: Settings, fake_tg: FakeTelegram) -> AsyncIterator[MakeApp]:
    """Start the bot (after a test has added seeds); stop it and check every request after."""
    apps: list[BotApp] = []

    async def make(**changes: object) -> BotApp:
        app = await start_bot(replace(settings, **changes), fake_tg)
        apps.append(app)
        return app

    yield make
    for app in apps:
        await app.stop()
    fake_tg.assert_clean()


@pytest.fixture
async def app(make_app: MakeApp) -> BotApp:
    return await make_app()


async def ask(
    fake: FakeTelegram, text: str, n: int = 1, chat: int = CHAT, lang: str = "ru"
) -> list[SentMessage]:
    """A user sends ``text``; wait for ``n`` replies and return them."""
    return await say(fake, chat, text, n, lang=lang)


async def press(fake: FakeTelegram, data: str, chat: int = CHAT) -> dict[str, Any]:
    """A user presses the button with ``data``; wait for the callback answer; return it.

    A ◀ ▶ press is answered together with its edit, so for those (unless the answer is an
    alert) the edit is awaited too.
    """
    mark = fake.mark()
    update = fake.push_callback(chat, data)
    answer = await fake.wait_for_callback_answer(update)
    if data.startswith(("l:", "s:")) and "text" not in answer:
        await fake.wait_for_request("editMessageText", chat_id=chat, since=mark)
    return answer


async def nothing_more(fake: FakeTelegram, chat: int) -> None:
    mark = fake.mark()
    await fake.settle(0.3)
    assert fake.sent_messages(chat, since=mark) == []


def add_articles(seeds: Path, n: int, word: str = "партнёров") -> None:
    for i in range(1, n + 1):
        write_seed(
            seeds,
            f"p{i:02}.txt",
            f"Новость {i} про {word}",
            [f"Текст {i}: {word}."],
            date=f"{i} апреля 2025 г. 12:00",
        )


async def test_start_help_and_command_menus(make_app: MakeApp, fake_tg: FakeTelegram) -> None:
    fake_tg.add_chat(7, "private", first_name="Admin")
    await make_app(admin_ids=frozenset({7}))
    await fake_tg.wait_for_request("setMyCommands", n=4)
    [greeting] = await ask(fake_tg, "/start")
    assert "Здравствуйте" in greeting.text and "@fake_news_bot" in greeting.text
    [hello] = await ask(fake_tg, "/start", chat=43, lang="en-GB")
    assert hello.text.startswith("Hello!")
    [help_] = await ask(fake_tg, "/help")
    assert "/latest [n]" in help_.text and "/search" in help_.text
    menu = [c["command"] for c in fake_tg.resolve_commands(CHAT)]
    assert menu[:5] == ["start", "help", "latest", "search", "article"]
    assert {"subscribe", "subscriptions", "unsubscribe"} <= set(menu)
    assert "reload" not in menu
    english = fake_tg.resolve_commands(CHAT, language_code="en")
    assert english[2]["description"] == "Latest articles"
    admin = [c["command"] for c in fake_tg.resolve_commands(7)]
    assert {"reload", "stats", "pause", "resume", "post"} <= set(admin)


async def test_latest_paging_and_open_buttons(
    make_app: MakeApp, fake_tg: FakeTelegram, seeds_dir: Path
) -> None:
    add_articles(seeds_dir, 7)  # 8 articles with the real seed (the newest, 21 May)
    await make_app()
    [listing] = await ask(fake_tg, "/latest 3")
    assert "Последние статьи · стр. 1 из 3" in listing.text
    assert f"1. {TITLE}" in listing.text and "21.05.2025 10:37 — В Федеральной" in listing.text
    assert [b["text"] for b in listing.buttons][-1] == "Вперёд ▶"
    answer = await press(fake_tg, "l:2:3")
    assert "text" not in answer
    edited = fake_tg.message(CHAT, listing.message_id)
    assert "стр. 2 из 3" in edited.text and "4. Новость 5 про партнёров" in edited.text
    assert [b["callback_data"] for b in edited.buttons][-2:] == ["l:1:3", "l:3:3"]
    mark = fake_tg.mark()
    await press(fake_tg, edited.buttons[0]["callback_data"])
    [article] = await fake_tg.wait_for_messages(CHAT, since=mark)
    assert article.text.startswith("Новость 5 про партнёров") and "Текст 5" in article.text
    [everything] = await ask(fake_tg, "/latest 100")  # clamped to 20: all 8 on one page
    assert "8. Новость 1" in everything.text and "стр." not in everything.text
    for bad in ("/latest abc", "/latest 0", "/latest -3"):
        [usage] = await ask(fake_tg, bad)
        assert "от 1 до 20" in usage.text


async def test_a_press_is_answered_even_when_its_edit_fails(
    make_app: MakeApp, fake_tg: FakeTelegram, seeds_dir: Path
) -> None:
    """The answer goes out with the edit: the spinner stops whether or not the page changed."""
    add_articles(seeds_dir, 7)
    await make_app()
    [listing] = await ask(fake_tg, "/latest 3")
    # A stale button for the page already shown (a double tap): Telegram says "not modified".
    again = fake_tg.push_callback(CHAT, "l:1:3", message_id=listing.message_id, check=False)
    assert "text" not in await fake_tg.wait_for_callback_answer(again)
    [unchanged] = await fake_tg.wait_for_request("editMessageText", chat_id=CHAT)
    assert not unchanged.ok and "message is not modified" in (unchanged.description or "")
    fake_tg.fail_next(
        "error", method="editMessageText", description="Bad Request: message to edit not found"
    )
    mark = fake_tg.mark()
    update = fake_tg.push_callback(CHAT, "l:2:3")
    assert "text" not in await fake_tg.wait_for_callback_answer(update)
    [failed] = await fake_tg.wait_for_request("editMessageText", chat_id=CHAT, since=mark)
    assert not failed.ok
    assert "стр. 1 из 3" in fake_tg.message(CHAT, listing.message_id).text


async def test_search_results_paging_and_expired_key(
    make_app: MakeApp, fake_tg: FakeTelegram, seeds_dir: Path
) -> None:
    add_articles(seeds_dir, 7)
    app = await make_app()
    [results] = await ask(fake_tg, "/search партнёр")
    assert "Найдено: 8 · запрос «партнёр»" in results.text and "стр. 1 из 2" in results.text
    assert "Текст 7: партнёров." in results.text
    assert any(e["type"] == "bold" for e in results.entities)  # matched words are bold
    await press(fake_tg, "s:2:партнёр")
    page2 = fake_tg.message(CHAT, results.message_id)
    assert "стр. 2 из 2" in page2.text and "6. " in page2.text
    await press(fake_tg, "s:1:партнёр")
    assert "стр. 1 из 2" in fake_tg.message(CHAT, results.message_id).text
    long_query = " ".join(["партнёров"] * 6)  # 113 bytes: too long for callback_data
    [long] = await ask(fake_tg, f"/search {long_query}")
    key_data = long.buttons[-1]["callback_data"]
    assert key_data.startswith("s:2:#") and len(key_data.encode()) <= 64
    await press(fake_tg, key_data)
    assert "стр. 2 из 2" in fake_tg.message(CHAT, long.message_id).text
    back = fake_tg.message(CHAT, long.message_id).buttons[-1]["callback_data"]
    assert back.startswith("s:1:#")
    app.dp["queries"]._items.clear()  # as after a restart or LRU eviction
    answer = await press(fake_tg, back)
    assert "устарел" in answer["text"] and answer.get("show_alert") in (True, "true")


async def test_search_without_query_or_results(app: BotApp, fake_tg: FakeTelegram) -> None:
    [usage] = await ask(fake_tg, "/search")
    assert "Что искать?" in usage.text
    [none] = await ask(fake_tg, "/search несуществующееслово")
    assert none.text == "По запросу «несуществующееслово» ничего не найдено."
    [nothing] = await ask(fake_tg, "/search ?!… —")
    assert nothing.text.startswith("В запросе нет слов")


HOSTILE = [
    '"',
    '"партнёр',
    "NEAR(партнёр",
    "партнёр OR 1=1; DROP TABLE articles; --",
    "* ^ : ( ) {}",
    "x" * 5000,
    "😀🔥 партнёр 🇷🇺",
    "<script>alert('партнёр')</script> & &amp; <b>",
]


async def test_hostile_search_text(app: BotApp, fake_tg: FakeTelegram) -> None:
    for i, query in enumerate(HOSTILE):
        chat = 100 + i  # a chat each: no flood limits in the way
        [reply] = await ask(fake_tg, f"/search {query}", chat=chat)
        assert reply.text
        for button in reply.buttons:
            assert len(button["callback_data"].encode()) <= 64
    script = fake_tg.last_message(100 + len(HOSTILE) - 1)
    assert "<script>alert('партнёр')</script> & &amp; <b>" in script.text  # shown, not parsed
    mark = fake_tg.mark()
    update = fake_tg.push_inline_query(CHAT, '" NEAR( OR *')
    assert (await fake_tg.wait_for_inline_answer(update))["results"] == []
    assert fake_tg.sent_messages(since=mark) == []


async def test_article_command_and_deep_links(app: BotApp, fake_tg: FakeTelegram) -> None:
    [article] = await ask(fake_tg, "/article 1")
    assert article.text.startswith(TITLE)
    assert "21.05.2025 10:37 · Фото: Виктор Толочко / РИА Новости" in article.text
    assert "Ранее Москва и Минск" in article.text and "Комментарии" not in article.text
    assert article.entities[0]["type"] == "bold"
    [usage] = await ask(fake_tg, "/article")
    assert "Укажите номер статьи" in usage.text
    for bad in ("999", "abc<b>", "99999999999999999999999", "-1"):
        [missing] = await ask(fake_tg, f"/article {bad}", chat=200 + len(bad))
        assert "нет" in missing.text
    [linked] = await ask(fake_tg, "/start a_1", chat=300)
    assert linked.text.startswith(TITLE)
    [gone] = await ask(fake_tg, "/start a_999", chat=300)
    assert "Статьи с номером 999 нет" in gone.text
    [greeting] = await ask(fake_tg, "/start something-else", chat=300)
    assert "Здравствуйте" in greeting.text


async def test_12000_character_article_is_split_at_paragraphs(
    make_app: MakeApp, fake_tg: FakeTelegram, seeds_dir: Path
) -> None:
    paragraphs = [
        f"Абзац {i:02}. " + "Длинное предложение о сотрудничестве. " * 9 for i in range(35)
    ]
    write_seed(
        seeds_dir, "zz_long.txt", "Очень длинная статья", paragraphs, date="1 января 2025 г. 09:00"
    )
    assert sum(map(len, paragraphs)) > 12_000
    app = await make_app()
    long_id = next(
        a.id
        for a in (await app.dp["search"].latest(per_page=20)).items
        if a.title == "Очень длинная статья"
    )
    parts = await ask(fake_tg, f"/article {long_id}", n=4)
    await fake_tg.settle(0.3)
    parts = fake_tg.sent_messages(CHAT, since=parts[0].seq - 1)
    assert 4 <= len(parts) <= 5
    assert all(0 < len(p.text) <= 4096 for p in parts)
    assert parts[0].text.startswith("Очень длинная статья\n01.01.2025 09:00")
    for paragraph in paragraphs[1:]:  # the lead is paragraphs[0]; each body one lies whole
        assert sum(paragraph.strip() in p.text for p in parts) == 1


async def test_inline_mode(make_app: MakeApp, fake_tg: FakeTelegram, seeds_dir: Path) -> None:
    add_articles(seeds_dir, 24)
    await make_app()
    answer = await fake_tg.wait_for_inline_answer(fake_tg.push_inline_query(CHAT, "Беларусь"))
    [result] = answer["results"]
    assert result["type"] == "article" and result["title"] == TITLE + " сотрудничества"
    card = result["input_message_content"]["message_text"]
    assert '<a href="https://t.me/fake_news_bot?start=a_1">Читать полностью в боте</a>' in card
    first = await fake_tg.wait_for_inline_answer(fake_tg.push_inline_query(CHAT, ""))
    assert len(first["results"]) == 20 and first["next_offset"] == "2"
    assert first["results"][0]["id"] == "a1"  # the newest first
    rest = await fake_tg.wait_for_inline_answer(
        fake_tg.push_inline_query(CHAT, "", offset="2", language_code="en")
    )
    assert len(rest["results"]) == 5 and not rest.get("next_offset")
    assert "Read the whole article" in rest["results"][0]["input_message_content"]["message_text"]
    [opened] = await ask(fake_tg, "/start a_1")  # the card's deep link
    assert opened.text.startswith(TITLE)


async def test_unknown_commands_text_stickers_and_edits(
    app: BotApp, fake_tg: FakeTelegram
) -> None:
    [listing] = await ask(fake_tg, "/latest")
    [unknown] = await ask(fake_tg, "/frobnicate")
    assert "Не знаю такой команды" in unknown.text
    [hint] = await ask(fake_tg, "партнёрство <b>", lang="en")
    assert "/search партнёрство <b>" in hint.text
    fake_tg.push_sticker(CHAT)
    fake_tg.push_edited_message(CHAT, 1, "/latest")
    fake_tg.push_message(-100500, 7, "просто болтовня в группе")
    stale = fake_tg.push_callback(CHAT, "zzz:1", message_id=listing.message_id, check=False)
    assert await fake_tg.wait_for_callback_answer(stale) is not None
    await nothing_more(fake_tg, CHAT)
    await nothing_more(fake_tg, -100500)
    assert not [r for r in fake_tg.errors if r.method != "getUpdates"]


async def test_reply_obeys_429(app: BotApp, fake_tg: FakeTelegram) -> None:
    fake_tg.fail_next("429", method="sendMessage", chat_id=CHAT, retry_after=1)
    [reply] = await ask(fake_tg, "/latest")
    assert TITLE in reply.text
    assert len(fake_tg.calls("sendMessage", chat_id=CHAT)) == 2
    fake_tg.assert_no_retry_violations()


async def test_sigterm_stops_the_real_process_cleanly(
    settings: Settings, fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_URL": fake_tg.url,
        "SEEDS_DIR": str(settings.seeds_dir),
        "DB_PATH": str(settings.db_path),
        "LOG_LEVEL": "INFO",
    }
    async with bot_process(env=env, cwd=tmp_path) as proc:  # no command: `run` is the default
        fake_tg.push_message(CHAT, text="/article 1")  # queued until the bot polls
        [reply] = await fake_tg.wait_for_messages(CHAT, 1, timeout=30)
        assert reply.text.startswith(TITLE)
        update = fake_tg.push_message(CHAT, text="/latest")
        await fake_tg.wait_for_messages(CHAT, 2)
        proc.send_signal(signal.SIGTERM)
        loop = asyncio.get_running_loop()
        started = loop.time()
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=10)
        assert proc.returncode == 0, stderr.decode()
        assert loop.time() - started < 10
        assert fake_tg.confirmed_offset > update["update_id"]  # handled work is confirmed
        assert b"Traceback" not in stderr and TEST_TOKEN.encode() not in stderr
    fake_tg.assert_clean()

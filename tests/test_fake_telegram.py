"""The fake Bot API server, exercised through the real aiogram Bot over HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    ClientDecodeError,
    RestartingTelegram,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
)

from tests.fake_telegram import FakeTelegram, Limits, VirtualClock
from tests.fake_telegram_model import NOT_MODIFIED
from tests.telegram_html import HtmlParseError, parse_html

USER = 42


async def close(bot: Bot) -> None:
    """Close the bot's HTTP session without aiogram's 0.25 s TLS grace sleep (plain HTTP here)."""
    session = bot.session._session  # type: ignore[attr-defined]
    if session is not None:
        await session.close()


@contextlib.asynccontextmanager
async def running(**options: Any) -> AsyncIterator[tuple[FakeTelegram, Bot]]:
    """A started server and a real Bot pointed at it."""
    async with FakeTelegram(**options) as server:
        bot = server.make_bot()
        try:
            yield server, bot
        finally:
            await close(bot)


@pytest.fixture
async def tg() -> AsyncIterator[tuple[FakeTelegram, Bot]]:
    async with running() as pair:
        yield pair


async def raw(
    server: FakeTelegram,
    method: str,
    *,
    token: str | None = None,
    http: str = "POST",
    **kwargs: Any,
) -> tuple[int, Any, Any]:
    """A request without aiogram: (status, decoded JSON or text, headers)."""
    url = f"{server.base_url}/bot{token or '123456789:AAFakeTelegramTokenForTests'}/{method}"
    async with aiohttp.ClientSession() as session, session.request(http, url, **kwargs) as resp:
        text = await resp.text()
        try:
            return resp.status, json.loads(text), resp.headers
        except ValueError:
            return resp.status, text, resp.headers


def keyboard(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=list(rows))


def button(data: str, text: str = "b") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


# ---- routing and request formats --------------------------------------------------------------


async def test_routes_accept_every_encoding_and_method_case() -> None:
    async with FakeTelegram(token="123456789:AAFakeTelegramTokenForTests") as server:
        status, body, _ = await raw(server, "SENDMESSAGE", data={"chat_id": "7", "text": "form"})
        assert status == 200 and body["result"]["text"] == "form"
        status, body, _ = await raw(
            server,
            "sendMessage",
            json={"chat_id": 7, "text": "json", "disable_notification": True},
        )
        assert status == 200 and body["result"]["message_id"] == 2
        status, body, _ = await raw(server, "getme", http="GET")
        assert body == {"ok": True, "result": body["result"]} and body["result"]["is_bot"]
        status, body, _ = await raw(
            server, "sendMessage", http="GET", params={"chat_id": "7", "text": "query"}
        )
        assert status == 200 and body["result"]["text"] == "query"
        form = aiohttp.FormData()
        form.add_field("chat_id", "7")
        form.add_field("photo", b"\x89PNG fake", filename="p.png")
        status, body, _ = await raw(server, "sendPhoto", data=form)
        assert status == 200 and body["result"]["photo"][0]["file_size"] == 9
        assert [m.text for m in server.sent_messages(7)] == ["form", "json", "query", ""]


async def test_bad_token_unknown_method_and_bad_path() -> None:
    async with FakeTelegram(token="123456789:AAFakeTelegramTokenForTests") as server:
        status, body, _ = await raw(server, "getMe", token="not-a-token")
        assert (status, body) == (
            401,
            {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized: invalid token specified",
            },
        )
        status, body, _ = await raw(server, "getMe", token="123:other")
        assert (status, body["description"]) == (401, "Unauthorized")
        status, body, _ = await raw(server, "sendMessages", data={"chat_id": "1", "text": "x"})
        assert (status, body["error_code"], body["description"]) == (
            404,
            404,
            "Not Found: method not found",
        )
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{server.base_url}/nothing/here") as resp,
        ):
            assert (resp.status, (await resp.json())["description"]) == (404, "Not Found")
        assert [r.kind for r in server.invalid_requests] == ["auth", "auth", "routing"]


# ---- text validation ------------------------------------------------------------------------


async def test_html_message_is_parsed_and_recorded(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    html = '😀 <b>Bold <i>both</i></b> &lt;tag&gt; &amp; &quot;q&quot; &nbsp; <a href="https://t.me/x">l</a>'
    msg = await bot.send_message(USER, html, parse_mode="HTML")
    assert msg.text == '😀 Bold both <tag> & "q" &nbsp; l'
    assert [(e.type, e.offset, e.length) for e in msg.entities or []] == [
        ("bold", 3, 9),
        ("italic", 8, 4),
        ("text_link", 32, 1),
    ]
    [sent] = server.sent_messages(USER)
    assert (sent.html, sent.text, sent.parse_mode) == (html, msg.text, "HTML")
    server.assert_clean()


@pytest.mark.parametrize(
    ("html", "detail"),
    [
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("line<br>break", 'Unsupported start tag "br" at byte offset 4'),
        ("Привет <p>", 'Unsupported start tag "p" at byte offset 13'),
        ("<!-- note -->", 'Unsupported start tag "!--" at byte offset 0'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ('<a href="https://x.org>y', "Unclosed start tag at byte offset 0"),
        ("<a href", 'Unclosed start tag "a" at byte offset 0'),
        ("<a =x>y</a>", 'Empty attribute name in the tag "a" at byte offset 0'),
        ("<a href=x/>y</a>", "Unexpected end of name token at byte offset 8"),
        ("<span>s</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("a</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("if a<b and c>d", 'Can\'t find end tag corresponding to start tag "b"'),
        ('<tg-emoji emoji-id="0">🙂</tg-emoji>', "Invalid custom emoji identifier specified"),
    ],
)
async def test_html_errors_have_tds_exact_text(
    tg: tuple[FakeTelegram, Bot], html: str, detail: str
) -> None:
    server, bot = tg
    with pytest.raises(TelegramBadRequest) as err:
        await bot.send_message(USER, html, parse_mode="HTML")
    assert err.value.message == f"Bad Request: can't parse entities: {detail}"
    assert server.sent_messages() == [] and len(server.invalid_requests) == 1


async def test_lengths_are_counted_after_parsing_in_code_points(
    tg: tuple[FakeTelegram, Bot],
) -> None:
    server, bot = tg
    assert (await bot.send_message(USER, "a" * 4096)).text == "a" * 4096
    assert (
        len((await bot.send_message(USER, f"<b>{'a' * 4096}</b>", parse_mode="HTML")).text or "")
        == 4096
    )
    emoji = await bot.send_message(USER, "😀" * 4096)  # 8192 UTF-16 units: td counts code points
    assert emoji.text == "😀" * 4096
    for text, mode, description in [
        ("a" * 4097, None, "Bad Request: message is too long"),
        ("", None, "Bad Request: message text is empty"),
        (" \n\t ", None, "Bad Request: text must be non-empty"),
        ("<b> </b>", "HTML", "Bad Request: text must be non-empty"),
        ("<b></b>" * 4700, "HTML", "Bad Request: text is too long"),
        ("x", "HTML5", "Bad Request: unsupported parse_mode"),
    ]:
        with pytest.raises(TelegramBadRequest) as err:
            await bot.send_message(USER, text, parse_mode=mode)
        assert err.value.message == description
    assert len(server.sent_messages(USER)) == 3 and len(server.errors) == 6


async def test_surrounding_whitespace_is_trimmed_and_entities_shift(
    tg: tuple[FakeTelegram, Bot],
) -> None:
    _, bot = tg
    msg = await bot.send_message(USER, "\n  <b>x</b> y  \n", parse_mode="HTML")
    assert msg.text == "x y" and [(e.offset, e.length) for e in msg.entities or []] == [(0, 1)]


async def test_nesting_td_would_repair_is_a_400_unless_lenient() -> None:
    async with running() as (server, bot):
        with pytest.raises(TelegramBadRequest, match='entity "code" can\'t be part of "bold"'):
            await bot.send_message(USER, "<b><code>x</code></b>", parse_mode="HTML")
        with pytest.raises(TelegramBadRequest, match="blockquote entities can't be nested"):
            await bot.send_message(
                USER, "<blockquote><blockquote>q</blockquote></blockquote>", parse_mode="HTML"
            )
        ok = '<pre><code class="language-py">x</code></pre> <b><i>y</i></b>'
        msg = await bot.send_message(USER, ok, parse_mode="HTML")
        assert msg.entities and msg.entities[0].type == "pre" and msg.entities[0].language == "py"
    async with running(strict_nesting=False) as (server, bot):
        await bot.send_message(USER, "<code><b>x</b></code>", parse_mode="HTML")
        assert server.nesting_warnings == [
            (
                "<code><b>x</b></code>",
                ('entity "code" can\'t contain other entities, found "bold"',),
            )
        ]


async def test_link_preview_options_must_be_json(tg: tuple[FakeTelegram, Bot]) -> None:
    server, _ = tg
    status, body, _ = await raw(
        server,
        "sendMessage",
        data={"chat_id": "1", "text": "x", "link_preview_options": "{is_disabled: true"},
    )
    assert (status, body["description"]) == (
        400,
        "Bad Request: can't parse link preview options JSON object",
    )


# ---- reply markup --------------------------------------------------------------------------


async def test_callback_data_is_1_to_64_bytes(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    await bot.send_message(USER, "ok", reply_markup=keyboard([button("x" * 64)]))
    await bot.send_message(USER, "ok", reply_markup=keyboard([button("я" * 32)]))
    for data in ("x" * 65, "я" * 33, ""):
        with pytest.raises(TelegramBadRequest) as err:
            await bot.send_message(USER, "no", reply_markup=keyboard([button(data)]))
        assert err.value.message == "Bad Request: BUTTON_DATA_INVALID"
    assert len(server.sent_messages()) == 2


async def test_markup_size_and_button_shape(tg: tuple[FakeTelegram, Bot]) -> None:
    _, bot = tg
    await bot.send_message(
        USER,
        "8x12",
        reply_markup=keyboard(*[[button(f"{r}.{c}") for c in range(8)] for r in range(12)]),
    )
    too_long = "Bad Request: reply markup is too long"
    cases = [
        (keyboard([button(str(c)) for c in range(9)]), too_long),
        (
            keyboard(
                *[[button(f"{r}.{c}") for c in range(8)] for r in range(12)],
                [button("101"), button("102"), button("103"), button("104"), button("105")],
            ),
            too_long,
        ),
        (
            keyboard([InlineKeyboardButton(text="no action")]),
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the "
            "inline keyboard",
        ),
        (
            keyboard([InlineKeyboardButton(text="two", callback_data="a", url="https://a.org")]),
            "Bad Request: can't parse inline keyboard button: exactly one of the optional fields "
            "must be used, found url, callback_data",
        ),
        (
            keyboard([InlineKeyboardButton(text="u", url="not a url")]),
            "Bad Request: BUTTON_URL_INVALID",
        ),
    ]
    for markup, description in cases:
        with pytest.raises(TelegramBadRequest) as err:
            await bot.send_message(USER, "x", reply_markup=markup)
        assert err.value.message == description


async def test_markup_limits_are_configurable() -> None:
    async with running(max_buttons=2, max_row_buttons=1) as (_, bot):
        with pytest.raises(TelegramBadRequest, match="reply markup is too long"):
            await bot.send_message(USER, "x", reply_markup=keyboard([button("a"), button("b")]))


# ---- edits, deletes, callbacks, inline ------------------------------------------------------


async def test_edit_identical_content_is_not_modified(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    msg = await bot.send_message(
        USER, "<b>page 1</b>", parse_mode="HTML", reply_markup=keyboard([button("p:2", "▶")])
    )
    with pytest.raises(TelegramBadRequest) as err:
        await bot.edit_message_text(
            "<b>page 1</b>",
            chat_id=USER,
            message_id=msg.message_id,
            parse_mode="HTML",
            reply_markup=keyboard([button("p:2", "▶")]),
        )
    assert err.value.message == NOT_MODIFIED
    edited = await bot.edit_message_text(
        "page 2",
        chat_id=USER,
        message_id=msg.message_id,
        reply_markup=keyboard([button("p:1", "◀")]),
    )
    assert isinstance(edited, Message) and edited.text == "page 2" and edited.edit_date
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=USER, message_id=msg.message_id, reply_markup=keyboard([button("p:1", "◀")])
        )
    await bot.edit_message_reply_markup(chat_id=USER, message_id=msg.message_id)
    sent = server.message(USER, msg.message_id)
    assert (sent.text, sent.reply_markup, len(sent.history)) == ("page 2", None, 2)
    assert [e.method for e in server.edits] == ["editMessageText", "editMessageReplyMarkup"]
    assert server.invalid_requests == [] and len(server.errors) == 2  # not-modified is "state"
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)
    assert await bot.delete_message(USER, msg.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, msg.message_id)


async def test_channel_posts_are_edited_and_deleted_as_telegram_does() -> None:
    clock = VirtualClock()
    async with running(clock=clock) as (server, bot):
        news = server.add_channel("news").id
        card = keyboard([InlineKeyboardButton(text="Читать", url="https://t.me/x?start=a_1")])
        post = await bot.send_message(
            "@news", "<b>Тайтл</b>", parse_mode="HTML", reply_markup=card
        )
        edited = await bot.edit_message_text(
            "<b>Титул</b>", chat_id="@news", message_id=post.message_id, parse_mode="HTML"
        )
        assert isinstance(edited, Message) and edited.text == "Титул"
        stored = server.message(news, post.message_id)
        assert (stored.reply_markup, stored.history[0][0]) == (None, "Тайтл")  # button gone
        with pytest.raises(TelegramBadRequest) as err:
            await bot.edit_message_text(
                "<b>Титул</b>", chat_id="@news", message_id=post.message_id, parse_mode="HTML"
            )
        assert err.value.message == NOT_MODIFIED
        early = await bot.send_message("@news", "ранний")
        clock.advance(48 * 3600 - 1)
        assert await bot.delete_message("@news", early.message_id)  # 47:59:59 old: allowed
        assert server.message(news, early.message_id).deleted
        clock.advance(1)  # the first post is now exactly 48 hours old
        with pytest.raises(TelegramBadRequest) as err:
            await bot.delete_message("@news", post.message_id)
        assert err.value.message == "Bad Request: message can't be deleted"
        assert not server.message(news, post.message_id).deleted
        other = await bot.send_message("@news", "другой")
        server.delete_as_admin("@news", other.message_id)
        with pytest.raises(TelegramBadRequest) as err:
            await bot.edit_message_text("x", chat_id="@news", message_id=other.message_id)
        assert err.value.message == "Bad Request: message to edit not found"
        with pytest.raises(TelegramBadRequest, match="message to delete not found"):
            await bot.delete_message("@news", other.message_id)
        assert server.invalid_requests == []


async def test_callbacks_reference_real_buttons(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    msg = await bot.send_message(USER, "list", reply_markup=keyboard([button("page:2", "▶")]))
    with pytest.raises(ValueError, match="has a button"):
        server.push_callback(USER, "page:3")
    update = server.press_button(USER, "▶")
    [got] = await bot.get_updates()
    assert got.callback_query and got.callback_query.data == "page:2"
    assert got.callback_query.message and got.callback_query.message.message_id == msg.message_id
    query_id = update["callback_query"]["id"]
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query_id, text="x" * 201)
    await bot.answer_callback_query(query_id, text="ok")
    assert (await server.wait_for_callback_answer(update))["text"] == "ok"
    with pytest.raises(TelegramBadRequest) as err:
        await bot.answer_callback_query(query_id)
    assert err.value.message == (
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )


async def test_inline_answers_are_validated(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    update = server.push_inline_query(USER, "партнёр")
    qid = update["inline_query"]["id"]

    def article(rid: str, text: str = "<b>x</b>") -> InlineQueryResultArticle:
        return InlineQueryResultArticle(
            id=rid,
            title="t",
            input_message_content=(InputTextMessageContent(message_text=text, parse_mode="HTML")),
        )

    for results, offset, description in [
        ([article(str(i)) for i in range(51)], None, "Bad Request: RESULTS_TOO_MUCH"),
        ([article("x" * 65)], None, "Bad Request: RESULT_ID_INVALID"),
        ([article("1"), article("1")], None, "Bad Request: RESULT_ID_DUPLICATE"),
        (
            [article("1", "<p>x</p>")],
            None,
            'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 0',
        ),
        ([article("1")], "o" * 65, "Bad Request: NEXT_OFFSET_INVALID"),
    ]:
        with pytest.raises(TelegramBadRequest) as err:
            await bot.answer_inline_query(qid, results, next_offset=offset)
        assert err.value.message == description
    await bot.answer_inline_query(qid, [article(str(i)) for i in range(50)], next_offset="50")
    answer = await server.wait_for_inline_answer(update)
    assert len(answer["results"]) == 50 and answer["next_offset"] == "50"


async def test_pushed_updates_parse_in_aiogram(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    first = server.push_message(USER, text="/start a_5", language_code="en", username="reader")
    server.push_sticker(USER)
    server.push_edited_message(USER, first["message"]["message_id"], "/start a_6")
    server.push_message(-1000000000123, 7, "hello group")
    server.push_chosen_inline_result(USER, "3", "q")
    updates = await bot.get_updates()
    message = updates[0].message
    assert message and message.text == "/start a_5" and message.from_user
    assert message.from_user.language_code == "en" and message.entities
    assert updates[1].message and updates[1].message.sticker and updates[1].message.text is None
    assert updates[2].edited_message and updates[2].edited_message.text == "/start a_6"
    assert updates[3].message and updates[3].message.chat.type == "supergroup"
    assert updates[4].chosen_inline_result and [u.update_id for u in updates] == [1, 2, 3, 4, 5]


# ---- setMyCommands -------------------------------------------------------------------------


async def test_set_my_commands_rules_and_scope_fallback(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    ru = [
        BotCommand(command="/latest", description=" Свежие новости "),
        BotCommand(command="search", description="Поиск"),
    ]
    assert await bot.set_my_commands(ru)
    await bot.set_my_commands(
        [BotCommand(command="latest", description="Latest news")], language_code="en"
    )
    await bot.set_my_commands(
        [BotCommand(command="help", description="Private")],
        scope=BotCommandScopeAllPrivateChats(),
        language_code="de",
    )
    await bot.set_my_commands(
        [BotCommand(command="admin", description="Admin")], scope=BotCommandScopeChat(chat_id=USER)
    )
    stored = await bot.get_my_commands()
    assert [(c.command, c.description) for c in stored] == [
        ("latest", "Свежие новости"),
        ("search", "Поиск"),
    ]
    assert server.resolve_commands(7)[0]["description"] == "Свежие новости"
    assert server.resolve_commands(7, language_code="en")[0]["description"] == "Latest news"
    assert server.resolve_commands(7, language_code="de")[0]["command"] == "help"
    assert server.resolve_commands(USER, language_code="en")[0]["command"] == "admin"
    assert server.resolve_commands(-5, language_code="de")[0]["command"] == "latest"
    await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=USER))
    assert server.resolve_commands(USER)[0]["command"] == "latest"
    for commands, lang, description in [
        ([BotCommand(command="Latest", description="x")], None, "BOT_COMMAND_INVALID"),
        ([BotCommand(command="нов", description="x")], None, "BOT_COMMAND_INVALID"),
        ([BotCommand(command="/", description="x")], None, "command must be non-empty"),
        (
            [BotCommand(command="a" * 33, description="x")],
            None,
            "command length must not exceed 32",
        ),
        (
            [BotCommand(command="a", description="  ")],
            None,
            "command description must be non-empty",
        ),
        (
            [BotCommand(command="a", description="d" * 257)],
            None,
            "command description length must not exceed 256",
        ),
        (
            [BotCommand(command=f"c{i}", description="x") for i in range(101)],
            None,
            "BOT_COMMANDS_TOO_MUCH",
        ),
        ([BotCommand(command="a", description="x")], "eng", "invalid language code specified"),
    ]:
        with pytest.raises(TelegramBadRequest) as err:
            await bot.set_my_commands(commands, language_code=lang)
        assert err.value.message == f"Bad Request: {description}"
    status, body, _ = await raw(
        server,
        "setMyCommands",
        data={"commands": '[{"command":"a","description":"b"}]', "scope": '{"type":"everyone"}'},
    )
    assert (status, body["description"]) == (400, "Bad Request: unsupported type specified")


# ---- getUpdates ----------------------------------------------------------------------------


async def test_get_updates_offsets_limit_and_negative_offset(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    ids = [server.push_message(USER, text=str(i))["update_id"] for i in range(4)]
    assert [u.update_id for u in await bot.get_updates()] == ids  # oldest first
    assert [u.update_id for u in await bot.get_updates()] == ids  # nothing confirmed yet
    assert [u.update_id for u in await bot.get_updates(offset=ids[1], limit=1)] == [ids[1]]
    assert server.confirmed_offset == ids[1] and len(server.pending_updates) == 3
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == [ids[3]]
    assert [u["update_id"] for u in server.pending_updates] == [ids[3]]
    assert await bot.get_updates(offset=ids[3] + 1) == []
    assert server.updates.delivered == [*ids, *ids, ids[1], ids[3]]


async def test_long_poll_waits_for_an_update_and_409_ends_the_older_poll(
    tg: tuple[FakeTelegram, Bot],
) -> None:
    server, bot = tg
    first = asyncio.create_task(bot.get_updates(timeout=20))
    await server.wait_until_polling()
    second = asyncio.create_task(bot.get_updates(timeout=20))
    with pytest.raises(TelegramConflictError) as err:
        await first
    assert err.value.message == (
        "Conflict: terminated by other getUpdates request; make sure "
        "that only one bot instance is running"
    )
    await asyncio.sleep(0.05)
    assert not second.done()
    update = server.push_message(USER, text="wake up")
    [got] = await asyncio.wait_for(second, 2)
    assert got.update_id == update["update_id"] and server.updates.conflicts == 1
    assert await bot.get_updates(offset=got.update_id + 1, timeout=0) == []


async def test_webhook_blocks_get_updates_and_delete_drops_pending(
    tg: tuple[FakeTelegram, Bot],
) -> None:
    server, bot = tg
    server.push_message(USER, text="old")
    await bot.set_webhook("https://example.com/hook")
    with pytest.raises(TelegramConflictError, match="can't use getUpdates method while webhook"):
        await bot.get_updates()
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == [] and server.pending_updates == []


async def test_allowed_updates_is_sticky(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    await bot.get_updates(allowed_updates=["message"])
    server.push_inline_query(USER, "q")
    kept = server.push_message(USER, text="m")
    assert [u.update_id for u in await bot.get_updates()] == [kept["update_id"]]
    assert [u["inline_query"]["query"] for u in server.updates.dropped] == ["q"]


async def test_restart_redelivers_unconfirmed_updates_to_a_real_dispatcher() -> None:
    handled: list[tuple[str, str]] = []

    def dispatcher(name: str) -> Dispatcher:
        dp = Dispatcher()

        @dp.message()
        async def echo(message: Message) -> None:
            handled.append((name, message.text or ""))
            await message.answer(f"echo {message.text}")

        return dp

    async with FakeTelegram() as server:
        dp1, bot1 = dispatcher("first"), server.make_bot()
        poll = asyncio.create_task(
            dp1.start_polling(bot1, polling_timeout=1, handle_signals=False)
        )
        one = server.push_message(USER, text="one")
        await server.wait_for_messages(USER, 1)
        # the process "dies" right after fetching the next update: its confirming call never lands
        server.fail_next("drop", method="getUpdates", times=None)
        two = server.push_message(USER, text="two")
        await server.wait_for_messages(USER, 2)
        await dp1.stop_polling()
        await poll
        assert server.confirmed_offset == one["update_id"] + 1
        assert [u["update_id"] for u in server.pending_updates] == [two["update_id"]]
        server.clear_faults()
        dp2, bot2 = dispatcher("second"), server.make_bot()
        poll = asyncio.create_task(
            dp2.start_polling(bot2, polling_timeout=1, handle_signals=False)
        )
        await server.wait_for_confirmed(two)
        await dp2.stop_polling()
        await poll
        assert handled == [("first", "one"), ("first", "two"), ("second", "two")]
        assert server.updates.delivered.count(one["update_id"]) == 1
        server.assert_clean()


# ---- flood limits (virtual clock) -----------------------------------------------------------


async def test_per_chat_limit_retry_after_and_early_retry_violation() -> None:
    clock = VirtualClock()
    async with running(clock=clock, limits=Limits(per_chat_burst=2)) as (server, bot):
        await bot.send_message(USER, "1")
        await bot.send_message(USER, "2")
        await bot.edit_message_text("edits are not flood-limited", chat_id=USER, message_id=1)
        with pytest.raises(TelegramRetryAfter) as err:
            await bot.send_message(USER, "3")
        assert err.value.retry_after == 1
        status, body, headers = await raw(
            server, "sendMessage", data={"chat_id": str(USER), "text": "3"}
        )
        assert (status, headers["Retry-After"], body) == (
            429,
            "1",
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            },
        )
        assert [v.chat_id for v in server.retry_violations] == [USER]
        await bot.send_message(USER + 1, "other chats are fine")
        with pytest.raises(TelegramRetryAfter):  # an edit in a flooded chat is early too
            await bot.edit_message_text("early", chat_id=USER, message_id=2)
        clock.advance(1.0)
        await bot.send_message(USER, "3")
        assert len(server.rate_limited) == 1 and len(server.retry_violations) == 2
        with pytest.raises(AssertionError, match="sent before retry_after passed"):
            server.assert_clean()


async def test_group_global_and_paid_limits() -> None:
    clock = VirtualClock()
    limits = Limits(per_chat_burst=100, global_burst=25)
    async with running(clock=clock, limits=limits) as (server, bot):
        for i in range(20):
            await bot.send_message("@news_channel", f"post {i}")
        with pytest.raises(TelegramRetryAfter) as err:
            await bot.send_message("@news_channel", "21st within a minute")
        assert err.value.retry_after == 60
        assert server.chat("@news_channel").type == "channel"
        for user in range(1, 6):
            await bot.send_message(user, "alert")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(6, "26th this second")
        await bot.send_message(7, "paid", allow_paid_broadcast=True)
        clock.advance(1.0)
        await bot.send_message(8, "a second later")
    async with running(limits=Limits.off()) as (server, bot):
        for i in range(40):
            await bot.send_message(USER, str(i))
        assert server.rate_limited == []


# ---- scripted faults and chat states --------------------------------------------------------


async def test_chat_states_raise_the_right_aiogram_errors(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    server.add_channel("@news", -1001234567890)
    server.add_chat(-1009, "supergroup", title="Group")
    server.block_chat(1)
    server.deactivate_user(2)
    server.kick_bot("@news")
    server.remove_bot(-1009)
    server.lose_chat(3)
    for chat_id, error, description in [
        (1, TelegramForbiddenError, "Forbidden: bot was blocked by the user"),
        (2, TelegramForbiddenError, "Forbidden: user is deactivated"),
        ("@news", TelegramForbiddenError, "Forbidden: bot was kicked from the channel chat"),
        (-1009, TelegramForbiddenError, "Forbidden: bot is not a member of the supergroup chat"),
        (3, TelegramBadRequest, "Bad Request: chat not found"),
    ]:
        with pytest.raises(error) as err:
            await bot.send_message(chat_id, "x")
        assert err.value.message == description
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(1, "again")
    assert [r.chat_id for r in server.sends_after_permanent_error] == [1]
    server.restore_chat(1)
    await bot.send_message(1, "unblocked")
    assert server.invalid_requests == []


async def test_unknown_chats_without_auto_create() -> None:
    async with running(auto_create_chats=False) as (server, bot):
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.send_message(USER, "x")
        server.push_message(USER, text="/start")
        await bot.send_message(USER, "now the chat exists")


async def test_migrated_group_points_to_the_new_id(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    new_id = server.migrate_chat(-555)
    with pytest.raises(TelegramMigrateToChat) as err:
        await bot.send_message(-555, "x")
    assert err.value.migrate_to_chat_id == new_id
    assert "Bad Request: group chat was upgraded to a supergroup chat" in err.value.message
    await bot.send_message(new_id, "resent once")
    assert [m.chat_id for m in server.sent_messages()] == [new_id]
    server.fail_next("migrated", chat_id=-777, migrate_to_chat_id=-1000000000777)
    with pytest.raises(TelegramMigrateToChat) as err:
        await bot.send_message(-777, "x")
    assert err.value.migrate_to_chat_id == -1000000000777
    await bot.send_message(-1000000000777, "accepted")


async def test_scripted_server_and_network_faults(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    server.fail_next("500", method="sendMessage")
    with pytest.raises(RestartingTelegram) as restart:
        await bot.send_message(USER, "x")
    assert isinstance(restart.value, TelegramServerError)
    assert restart.value.message == "Internal Server Error: restart"
    server.fail_next("502")
    with pytest.raises(ClientDecodeError):  # an HTML body is not JSON: aiogram can't decode it
        await bot.send_message(USER, "x")
    server.fail_next("drop")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(USER, "x")
    assert server.sent_messages() == []
    server.fail_next("drop", process=True)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(USER, "delivered but unanswered")
    server.fail_next("delay", delay=5)
    with pytest.raises(TelegramNetworkError, match="timeout"):
        await bot.send_message(USER, "slow", request_timeout=1)
    assert [m.text for m in server.sent_messages()] == ["delivered but unanswered", "slow"]
    server.fail_next("error", status=400, description="Bad Request: scripted")
    with pytest.raises(TelegramBadRequest, match="scripted"):
        await bot.get_me()
    assert server.errors == [] and all(r.scripted for r in server.requests)


async def test_scripted_429_is_obeyed_or_recorded(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    fault = server.fail_next("429", chat_id=USER, retry_after=1, times=1)
    await bot.send_message(USER + 1, "other chat: fault does not match")
    with pytest.raises(TelegramRetryAfter) as err:
        await bot.send_message(USER, "x")
    assert err.value.retry_after == 1 and not fault.active
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(USER, "too early")
    await asyncio.sleep(1.05)
    await bot.send_message(USER, "after retry_after")
    assert [v.record.params["text"] for v in server.retry_violations] == ["too early"]


async def test_faults_match_method_chat_and_times(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    fault = server.fail_next("blocked", method="sendmessage", chat_id=USER, times=2)
    await bot.get_chat(USER)
    for _ in range(2):
        with pytest.raises(TelegramForbiddenError, match="blocked by the user"):
            await bot.send_message(USER, "x")
    await bot.send_message(USER, "third goes through")
    assert fault.hits == 2 and not fault.active
    forever = server.fail_next("500", times=None)
    for _ in range(3):
        with pytest.raises(TelegramServerError):
            await bot.get_me()
    forever.cancel()
    await bot.get_me()


# ---- records, waits, assertions -------------------------------------------------------------


async def test_records_waits_and_assertions(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    mark = server.mark()
    later = asyncio.get_running_loop().call_later(
        0.1,
        lambda: asyncio.ensure_future(bot.send_message(USER, "<b>later</b>", parse_mode="HTML")),
    )
    [msg] = await server.wait_for_messages(USER, 1, since=mark, timeout=3)
    assert (msg.text, msg.html, msg.entities[0]["type"]) == ("later", "<b>later</b>", "bold")
    later.cancel()
    with pytest.raises(TimeoutError, match="2 message"):
        await server.wait_for_messages(USER, 2, timeout=0.2)
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(USER, "<x>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(USER, "<x>", parse_mode="HTML")
    assert len(server.repeated_bad_requests) == 1
    with pytest.raises(AssertionError, match="invalid requests"):
        server.assert_no_invalid_requests()
    req = (await server.wait_for_request("sendmessage", since=mark, n=1))[0]
    assert req.ok and req.params["text"] == "<b>later</b>" and req.chat_id == USER
    assert len(server.calls("sendMessage", ok=False)) == 2
    await server.settle(quiet=0.1)


async def test_send_photo_caption_limit_and_upload(tg: tuple[FakeTelegram, Bot]) -> None:
    _, bot = tg
    photo = BufferedInputFile(b"\xff\xd8jpeg", filename="p.jpg")
    msg = await bot.send_photo(USER, photo, caption="<i>credit</i>", parse_mode="HTML")
    assert msg.photo and msg.caption == "credit" and msg.caption_entities
    with pytest.raises(TelegramBadRequest) as err:
        await bot.send_photo(USER, "AgACfileid", caption="c" * 1025)
    assert err.value.message == "Bad Request: message caption is too long"


# ---- the parser on its own ------------------------------------------------------------------


def test_parser_details() -> None:
    parsed = parse_html(
        "<B>a</><PRE>x</PRE>&#x1F600;&#0;&lt&apos;<blockquote expandable>q"
        "</blockquote><span class='tg-spoiler'>s</span>"
    )
    assert parsed.text == "ax😀&#0;<&apos;qs"
    assert [(e.type, e.offset, e.length) for e in parsed.entities] == [
        ("bold", 0, 1),
        ("pre", 1, 1),
        ("expandable_blockquote", 15, 1),
        ("spoiler", 16, 1),
    ]
    assert parse_html('<a href="tg://user?id=5">u</a>').entities[0].type == "text_mention"
    assert parse_html('<a href="javascript:x">u</a>').entities == ()
    assert parse_html('<tg-time unix="1700000000" format="wDT">t</tg-time>').entities[0].extra == {
        "unix_time": 1700000000,
        "date_time_format": "wDT",
    }
    with pytest.raises(HtmlParseError, match="surrogate"):
        parse_html("&#xD83D;")


async def test_topics_exist_only_in_forum_supergroups(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    forum = server.add_forum(-1002000000001, "Forum", "Политика", "Спорт")
    politics, sport = sorted(forum.topics)
    server.add_chat(-1002000000002, "supergroup", title="No topics")
    server.add_channel("@news", -1001234567890)
    sent = await bot.send_message(forum.id, "в тему", message_thread_id=sport)
    assert sent.message_thread_id == sport and sent.is_topic_message
    assert sent.chat.is_forum is True
    assert server.sent_messages(forum.id)[-1].extra["message_thread_id"] == sport
    general = await bot.send_message(forum.id, "без темы")  # the General topic
    assert general.message_thread_id is None
    for chat_id, thread in ((forum.id, 999), (-1002000000002, politics), ("@news", 1), (USER, 1)):
        with pytest.raises(TelegramBadRequest) as err:
            await bot.send_message(chat_id, "x", message_thread_id=thread)
        assert err.value.message == "Bad Request: message thread not found"
    server.delete_topic(forum.id, politics)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(forum.id, "x", message_thread_id=politics)
    with pytest.raises(ValueError):
        server.add_topic(-1002000000002, "nope")
    assert server.invalid_requests == []


async def test_disable_notification_is_recorded(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    await bot.send_message(USER, "тихо", disable_notification=True)
    await bot.send_message(USER, "громко")
    quiet, loud = server.sent_messages(USER)
    assert (quiet.silent, loud.silent) == (True, False)
    assert "disable_notification" not in quiet.to_dict()  # not a field of Message


async def test_pin_needs_the_right_admin_right(tg: tuple[FakeTelegram, Bot]) -> None:
    server, bot = tg
    channel = server.add_channel("@news", -1001234567890)
    group = server.add_chat(-1009, "supergroup", title="Group")
    post = await bot.send_message("@news", "пост")
    note = await bot.send_message(-1009, "объявление")
    dm = await bot.send_message(USER, "личное")
    assert await bot.pin_chat_message("@news", post.message_id)
    assert await bot.pin_chat_message(-1009, note.message_id, disable_notification=True)
    assert await bot.pin_chat_message(USER, dm.message_id)
    assert channel.pinned == [post.message_id] and group.pinned == [note.message_id]
    server.set_bot_rights("@news", can_edit_messages=False, can_pin_messages=True)
    server.set_bot_rights(-1009, can_pin_messages=False, can_edit_messages=True)
    for chat_id, message_id in (("@news", post.message_id), (-1009, note.message_id)):
        with pytest.raises(TelegramBadRequest) as err:
            await bot.pin_chat_message(chat_id, message_id)
        assert err.value.message == (
            "Bad Request: not enough rights to manage pinned messages in the chat"
        )
    member = await bot.get_chat_member(-1009, server.bot_id)
    assert member.status == "administrator" and member.can_pin_messages is False
    with pytest.raises(TelegramBadRequest, match="message to pin not found"):
        await bot.pin_chat_message(USER, 9999)
    server.kick_bot("@news")
    with pytest.raises(TelegramForbiddenError):
        await bot.pin_chat_message("@news", post.message_id)

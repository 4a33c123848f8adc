"""``python -m bot console``: chat with the bot in a terminal — same Dispatcher, no network."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from aiogram import Bot, Dispatcher
from aiogram.types import CallbackQuery, Chat, InlineQuery, Message, Update, User

from bot.app import build_app
from bot.config import Settings
from bot.services.ingest import IngestError
from bot.store.db import StoreError
from bot.telegram.offline import BOT_USER, OFFLINE_TOKEN, OfflineSession, Output, readable

log = logging.getLogger(__name__)

BANNER = (
    "Offline chat with the bot: {articles}. Try /latest, /search партнёр, /article 1, /help.\n"
    "Type a button's number to press it, @words for inline mode, /lang en|ru, /quit to leave."
)


@dataclass
class _Button:
    message: Message | None = None
    data: str | None = None
    url: str | None = None
    card: str | None = None  # an inline result: the message it would post


class Console:
    """Turns typed lines into Updates for the Dispatcher and prints what the bot sends back."""

    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        session: OfflineSession,
        out: TextIO,
        user_id: int,
        language: str,
    ) -> None:
        self.dp, self.bot, self.session, self.out = dp, bot, session, out
        self.user = User(id=user_id, is_bot=False, first_name="You", language_code=language)
        self.chat = Chat(id=user_id, type="private", first_name="You")
        self.buttons: dict[int, _Button] = {}
        self._ids = itertools.count(1)

    async def handle(self, line: str) -> None:
        """One line from the person: a command/text, a button number, or an @inline query."""
        line = line.strip()
        if not line:
            return
        if line.isdigit() and int(line) in self.buttons:
            await self._press(self.buttons[int(line)])
        elif line.isdigit() and len(line) < 4:
            self.say(f"(there is no button {line})")
        elif line.startswith("/lang"):
            code = line.split(maxsplit=1)[1].strip() if " " in line else "ru"
            self.user = self.user.model_copy(update={"language_code": code})
            self.say(f"(your Telegram language is now {code!r})")
        elif line.startswith("@"):
            query = line[1:].removeprefix(BOT_USER.username or "").strip()
            await self._feed(
                inline_query=InlineQuery(
                    id=str(next(self._ids)), from_user=self.user, query=query, offset=""
                )
            )
        else:
            await self._feed(message=self._message(line))

    def _message(self, text: str) -> Message:
        return Message(
            message_id=next(self._ids),
            date=datetime.now(UTC),
            chat=self.chat,
            from_user=self.user,
            text=text,
        )

    async def _press(self, button: _Button) -> None:
        if button.card is not None:
            self._print_output(Output("send", text=button.card), who="you (via inline)")
        elif button.data is not None:
            await self._feed(
                callback_query=CallbackQuery(
                    id=str(next(self._ids)),
                    from_user=self.user,
                    chat_instance="console",
                    message=button.message,
                    data=button.data,
                )
            )
        elif button.url and "?start=" in button.url:
            await self.handle("/start " + button.url.split("?start=", 1)[1])
        else:
            self.say(f"(would open {button.url})")

    async def _feed(
        self,
        *,
        message: Message | None = None,
        callback_query: CallbackQuery | None = None,
        inline_query: InlineQuery | None = None,
    ) -> None:
        update = Update(
            update_id=next(self._ids),
            message=message,
            callback_query=callback_query,
            inline_query=inline_query,
        )
        self.session.take()  # only what this update causes is shown
        try:
            await self.dp.feed_update(self.bot, update)
        except Exception as exc:  # a handler bug: show it, keep the chat going
            log.exception("handler failed")
            self.say(f"(the bot failed: {type(exc).__name__}: {exc})")
        self._show(self.session.take())

    def _show(self, batch: list[Output]) -> None:
        numbered: dict[int, _Button] = {}
        for output in batch:
            self._print_output(output, numbered=numbered)
        if numbered:
            self.buttons = numbered

    def _print_output(
        self, output: Output, who: str = "bot", numbered: dict[int, _Button] | None = None
    ) -> None:
        numbered = {} if numbered is None else numbered
        if output.kind == "alert":
            self.say(f"{who} (pop-up)> {output.text}")
            return
        if output.kind == "inline":
            self.say(f"{who} (inline results)> {len(output.results)} found")
            for result in output.results:
                n = len(numbered) + 1
                card = getattr(result.input_message_content, "message_text", "")
                numbered[n] = _Button(card=card)
                self.say(f"  [{n}] {result.title} — {result.description or ''}")
            return
        label = f"{who} (edited)>" if output.kind == "edit" else f"{who}>"
        lines = readable(output.text).splitlines() or [""]
        rest = [f"     {line}".rstrip() for line in lines[1:]]
        self.say("\n".join([f"{label} {lines[0]}", *rest]))
        for row in output.markup.inline_keyboard if output.markup else []:
            cells = []
            for button in row:
                n = len(numbered) + 1
                numbered[n] = _Button(output.message, button.callback_data, button.url)
                cells.append(f"[{n}] {button.text}")
            self.say("     " + "  ".join(cells))

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)


def _reader(stream: TextIO, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str]) -> None:
    """Read lines in a daemon thread, so Ctrl-C never waits for a blocked readline."""
    for line in iter(stream.readline, ""):
        loop.call_soon_threadsafe(queue.put_nowait, line)
    loop.call_soon_threadsafe(queue.put_nowait, "")


async def run_console(
    settings: Settings,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    language: str = "ru",
) -> int:
    """Run the offline chat until /quit or end of input; returns the exit code."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    root, level = logging.getLogger(), logging.getLogger().level
    if level > logging.DEBUG:  # keep the chat readable: only warnings on stderr
        root.setLevel(max(level, logging.WARNING))
    try:
        return await _run(settings, stdin, stdout, language)
    finally:
        root.setLevel(level)


async def _run(settings: Settings, stdin: TextIO, stdout: TextIO, language: str) -> int:
    session = OfflineSession()
    try:
        app = await build_app(settings, session=session, token=OFFLINE_TOKEN, scheduler=False)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        try:
            report = await app.ingestor.scan()
        except IngestError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        user_id = min(settings.admin_ids) if settings.admin_ids else 1
        console = Console(app.dp, app.bot, session, stdout, user_id, language)
        total = (await app.search.latest(page=1, per_page=1)).total
        console.say(BANNER.format(articles=f"{total} article(s) from {settings.seeds_dir}"))
        for failed in report.failed:
            console.say(f"(skipped seed file {failed.name}: {failed.reason})")
        queue: asyncio.Queue[str] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        threading.Thread(target=_reader, args=(stdin, loop, queue), daemon=True).start()
        echo = not stdin.isatty()
        while True:
            print("you> ", end="", file=stdout, flush=True)
            line = await queue.get()
            if echo and line:
                print(line.rstrip("\n"), file=stdout, flush=True)
            if not line or line.strip() in ("/quit", "/exit"):
                if not line:
                    print(file=stdout, flush=True)
                return 0
            await console.handle(line)
    finally:
        await app.close()

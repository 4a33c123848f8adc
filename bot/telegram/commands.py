"""The command menus (setMyCommands): Russian by default, English for "en", extras for admins."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiogram import Bot
from aiogram.exceptions import ClientDecodeError, TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bot.telegram.startup import reason
from bot.telegram.texts import Lang, t

log = logging.getLogger(__name__)

USER_COMMANDS = (
    "start",
    "help",
    "latest",
    "search",
    "article",
    "subscribe",
    "subscriptions",
    "unsubscribe",
)
ADMIN_COMMANDS = ("pending", "reload", "stats", "pause", "resume", "post", "preview")
LANGUAGES: tuple[tuple[Lang, str | None], ...] = (("ru", None), ("en", "en"))
"""(texts, language_code of the menu) for each menu."""


def menu(lang: Lang, admin: bool = False) -> list[BotCommand]:
    """The menu for one language; admins get their commands after the reader's ones."""
    names = USER_COMMANDS + (ADMIN_COMMANDS if admin else ())
    return [BotCommand(command=name, description=t(lang, f"cmd_{name}")) for name in names]


async def set_commands(bot: Bot, admin_ids: Iterable[int]) -> None:
    """Publish every menu; a failure (e.g. an admin who never opened the bot) is only logged."""
    calls = [(menu(lang, False), BotCommandScopeDefault(), code) for lang, code in LANGUAGES]
    for admin_id in sorted(admin_ids):
        scope = BotCommandScopeChat(chat_id=admin_id)
        calls += [(menu(lang, True), scope, code) for lang, code in LANGUAGES]
    for commands, scope, code in calls:
        try:
            await bot.set_my_commands(commands, scope=scope, language_code=code)
        except (TelegramAPIError, ClientDecodeError) as exc:  # after a good getMe: go on
            log.warning(
                "setMyCommands (%s, %s) failed: %s", scope.type, code or "default", reason(exc)
            )

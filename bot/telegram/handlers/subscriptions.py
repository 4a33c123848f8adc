"""/subscribe [words], /subscriptions (with remove buttons), /unsubscribe — private chats only."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.models import Subscription
from bot.services.subscriptions import MAX_PER_CHAT, MAX_QUERY_LEN, Outcome, SubscriptionService
from bot.telegram.formatting import escape
from bot.telegram.texts import Lang, t

log = logging.getLogger(__name__)

COMMANDS = ("subscribe", "subscriptions", "unsubscribe")


class RemoveSubscription(CallbackData, prefix="subrm"):
    """``subrm:<id>``: remove one subscription of the chat that pressed the button."""

    id: int


def _label(sub: Subscription, lang: Lang) -> str:
    return t(lang, "sub_all") if not sub.query else f"«{sub.query}»"


def subscriptions_view(
    subs: list[Subscription], lang: Lang
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The /subscriptions message: a numbered list and one remove button per subscription."""
    if not subs:
        return t(lang, "sub_none"), None
    lines = [t(lang, "sub_list")]
    lines += [f"{i}. {escape(_label(s, lang))}" for i, s in enumerate(subs, 1)]
    rows = [
        [
            InlineKeyboardButton(
                text=f"✖ {_label(s, lang)}"[:60],
                callback_data=RemoveSubscription(id=s.id).pack(),
            )
        ]
        for s in subs
    ]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def subscribe(
    message: Message, command: CommandObject, subscriptions: SubscriptionService, lang: Lang
) -> None:
    """Subscribe to every new article, or to those matching the words after the command."""
    result = await subscriptions.subscribe(message.chat.id, command.args)
    key = {
        Outcome.ADDED: "sub_added_q" if result.query else "sub_added_all",
        Outcome.EXISTS: "sub_exists_q" if result.query else "sub_exists_all",
        Outcome.NOTHING_TO_SEARCH: "sub_nothing",
        Outcome.TOO_LONG: "sub_too_long",
        Outcome.TOO_MANY: "sub_too_many",
    }[result.outcome]
    n = MAX_QUERY_LEN if result.outcome is Outcome.TOO_LONG else MAX_PER_CHAT
    await message.answer(t(lang, key, q=escape(result.query), n=n))


async def list_subscriptions(
    message: Message, subscriptions: SubscriptionService, lang: Lang
) -> None:
    """Show the chat's subscriptions with a remove button each."""
    text, markup = subscriptions_view(await subscriptions.list(message.chat.id), lang)
    await message.answer(text, reply_markup=markup)


async def unsubscribe(message: Message, subscriptions: SubscriptionService, lang: Lang) -> None:
    """Remove every subscription of this chat."""
    n = await subscriptions.unsubscribe_all(message.chat.id)
    await message.answer(t(lang, "sub_unsub", n=n) if n else t(lang, "sub_unsub_none"))


async def not_private(message: Message, lang: Lang) -> None:
    """In groups and channels: say that subscriptions live in the private chat."""
    await message.answer(t(lang, "sub_private"))


async def remove(
    query: CallbackQuery,
    callback_data: RemoveSubscription,
    subscriptions: SubscriptionService,
    lang: Lang,
) -> None:
    """Remove one subscription and redraw the list."""
    chat_id = query.message.chat.id if query.message else query.from_user.id
    removed = await subscriptions.remove(chat_id, callback_data.id)
    await query.answer(t(lang, "sub_removed" if removed else "sub_gone"))
    if isinstance(query.message, Message):
        text, markup = subscriptions_view(await subscriptions.list(chat_id), lang)
        try:
            await query.message.edit_text(text, reply_markup=markup)
        except TelegramBadRequest as exc:  # not modified, or too old to edit: the list is fine
            log.debug("could not redraw the subscriptions list: %s", exc)


def make_router() -> Router:
    """The three commands in private chats (filter on the sub-router), a hint elsewhere."""
    private = Router(name=f"{__name__}.private")
    private.message.filter(F.chat.type == ChatType.PRIVATE)
    private.message.register(subscribe, Command("subscribe"))
    private.message.register(list_subscriptions, Command("subscriptions"))
    private.message.register(unsubscribe, Command("unsubscribe"))
    elsewhere = Router(name=f"{__name__}.elsewhere")
    elsewhere.message.register(not_private, Command(*COMMANDS))
    elsewhere.callback_query.register(remove, RemoveSubscription.filter())
    router = Router(name=__name__)
    router.include_routers(private, elsewhere)
    return router

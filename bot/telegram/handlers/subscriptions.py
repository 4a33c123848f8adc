"""/subscribe [words], /subscriptions (with remove buttons), /unsubscribe — private chats only."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.services.subscriptions import MAX_PER_CHAT, MAX_QUERY_LEN, Outcome, SubscriptionService
from bot.store.subscribers import Subscription
from bot.telegram.formatting import escape
from bot.telegram.texts import lang_of

log = logging.getLogger(__name__)

router = Router(name=__name__)

COMMANDS = ("subscribe", "subscriptions", "unsubscribe")
PRIVATE = F.chat.type == ChatType.PRIVATE

TEXTS: dict[str, dict[str, str]] = {
    "ru": {
        "added_all": "Готово: буду присылать каждую новую статью.\nМои подписки: /subscriptions",
        "added_q": "Готово: пришлю новые статьи по запросу «{q}».\nМои подписки: /subscriptions",
        "exists_all": "Вы уже подписаны на все новые статьи. Мои подписки: /subscriptions",
        "exists_q": "Подписка на «{q}» уже есть. Мои подписки: /subscriptions",
        "nothing": "В «{q}» нет слов, по которым можно искать. Попробуйте другие слова.",
        "too_long": "Слишком длинный запрос: не больше {n} символов.",
        "too_many": "Подписок уже {n} — это максимум. Удалите лишние: /subscriptions",
        "none": "Подписок нет.\n/subscribe — все новые статьи\n"
        "/subscribe слова — только по словам",
        "list": "<b>Мои подписки</b> (кнопка — удалить):",
        "all": "все новые статьи",
        "removed": "Подписка удалена",
        "gone": "Этой подписки уже нет",
        "unsub": "Вы отписались от всех подписок ({n}).",
        "unsub_none": "У вас не было подписок.",
        "private": "Подписки работают только в личном чате со мной — напишите мне в личку.",
    },
    "en": {
        "added_all": "Done: I will send you every new article.\nMy subscriptions: /subscriptions",
        "added_q": "Done: I will send new articles matching “{q}”.\n"
        "My subscriptions: /subscriptions",
        "exists_all": "You already get every new article. My subscriptions: /subscriptions",
        "exists_q": "You are already subscribed to “{q}”. My subscriptions: /subscriptions",
        "nothing": "“{q}” has no words to search for. Try other words.",
        "too_long": "The query is too long: at most {n} characters.",
        "too_many": "You already have {n} subscriptions, the maximum. Remove some: /subscriptions",
        "none": "No subscriptions.\n/subscribe — every new article\n/subscribe words — by words",
        "list": "<b>My subscriptions</b> (tap to remove):",
        "all": "every new article",
        "removed": "Subscription removed",
        "gone": "That subscription no longer exists",
        "unsub": "You are unsubscribed from everything ({n}).",
        "unsub_none": "You had no subscriptions.",
        "private": "Subscriptions work only in a private chat with me — message me directly.",
    },
}


class RemoveSubscription(CallbackData, prefix="subrm"):
    """``subrm:<id>``: remove one subscription of the chat that pressed the button."""

    id: int


def _t(lang: str, key: str, **values: object) -> str:
    return TEXTS.get(lang, TEXTS["ru"])[key].format(**values)


def _label(sub: Subscription, lang: str) -> str:
    return _t(lang, "all") if not sub.query else f"«{sub.query}»"


def subscriptions_view(
    subs: list[Subscription], lang: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The /subscriptions message: a numbered list and one remove button per subscription."""
    if not subs:
        return _t(lang, "none"), None
    lines = [_t(lang, "list")]
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


@router.message(Command("subscribe"), PRIVATE)
async def subscribe(
    message: Message, command: CommandObject, subscriptions: SubscriptionService
) -> None:
    """Subscribe to every new article, or to those matching the words after the command."""
    lang = lang_of(message.from_user.language_code if message.from_user else None)
    result = await subscriptions.subscribe(message.chat.id, command.args)
    q = escape(result.query)
    key = {
        Outcome.ADDED: "added_q" if result.query else "added_all",
        Outcome.EXISTS: "exists_q" if result.query else "exists_all",
        Outcome.NOTHING_TO_SEARCH: "nothing",
        Outcome.TOO_LONG: "too_long",
        Outcome.TOO_MANY: "too_many",
    }[result.outcome]
    n = MAX_QUERY_LEN if result.outcome is Outcome.TOO_LONG else MAX_PER_CHAT
    await message.answer(_t(lang, key, q=q, n=n))


@router.message(Command("subscriptions"), PRIVATE)
async def list_subscriptions(message: Message, subscriptions: SubscriptionService) -> None:
    """Show the chat's subscriptions with a remove button each."""
    lang = lang_of(message.from_user.language_code if message.from_user else None)
    text, markup = subscriptions_view(await subscriptions.list(message.chat.id), lang)
    await message.answer(text, reply_markup=markup)


@router.message(Command("unsubscribe"), PRIVATE)
async def unsubscribe(message: Message, subscriptions: SubscriptionService) -> None:
    """Remove every subscription of this chat."""
    lang = lang_of(message.from_user.language_code if message.from_user else None)
    n = await subscriptions.unsubscribe_all(message.chat.id)
    await message.answer(_t(lang, "unsub", n=n) if n else _t(lang, "unsub_none"))


@router.message(Command(*COMMANDS))
async def not_private(message: Message) -> None:
    """In groups and channels: say that subscriptions live in the private chat."""
    lang = lang_of(message.from_user.language_code if message.from_user else None)
    await message.answer(_t(lang, "private"))


@router.callback_query(RemoveSubscription.filter())
async def remove(
    query: CallbackQuery, callback_data: RemoveSubscription, subscriptions: SubscriptionService
) -> None:
    """Remove one subscription and redraw the list."""
    lang = lang_of(query.from_user.language_code)
    chat_id = query.message.chat.id if query.message else query.from_user.id
    removed = await subscriptions.remove(chat_id, callback_data.id)
    await query.answer(_t(lang, "removed" if removed else "gone"))
    if isinstance(query.message, Message):
        text, markup = subscriptions_view(await subscriptions.list(chat_id), lang)
        try:
            await query.message.edit_text(text, reply_markup=markup)
        except Exception as exc:  # "message is not modified" and friends: the list is fine
            log.debug("could not redraw the subscriptions list: %s", exc)

"""The one error handler: log the failing update with its context, tell the reader briefly.

aiogram's Dispatcher hands every exception a handler raises to the ``errors`` observers of all
routers, so this router catches failures of every other one wherever it is included. Handlers
therefore catch only the errors they can answer better themselves.
"""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.dispatcher.middlewares.user_context import EventContext
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.telegram.middlewares import reply_context
from bot.telegram.texts import Lang, t

log = logging.getLogger(__name__)


async def on_error(
    event: ErrorEvent, bot: Bot, event_context: EventContext | None = None, lang: Lang = "ru"
) -> None:
    """Log which update failed (id, type, user; never the token) and answer the reader."""
    update = event.update
    user_id = event_context.user_id if event_context else None
    log.error(
        "update %s (%s) from user %s failed: %s",
        update.update_id,
        update.event_type,
        user_id,
        type(event.exception).__name__,
        exc_info=event.exception,
    )
    text = t(lang, "error")
    try:
        with reply_context():
            if update.callback_query is not None:
                await bot.answer_callback_query(update.callback_query.id, text=text)
            elif update.message is not None:
                await bot.send_message(update.message.chat.id, text)
    except TelegramAPIError as exc:  # e.g. the press was answered already: the log has it all
        log.warning(
            "could not tell the reader about the failed update %s: %s", update.update_id, exc
        )


def make_router() -> Router:
    """Error events only (include it last: it handles no updates of its own)."""
    router = Router(name=__name__)
    router.errors.register(on_error)
    return router

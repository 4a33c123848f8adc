"""A press on an approval button by anyone not in ADMIN_IDS: a short refusal, nothing else."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.telegram.approval_view import ApprovalPress
from bot.telegram.texts import Lang, t

log = logging.getLogger(__name__)


async def refuse(query: CallbackQuery, lang: Lang) -> None:
    """Changes nothing; answers so the client stops its spinner and says why."""
    log.info("refused an approval press from %s", query.from_user.id)
    await query.answer(t(lang, "approval_refused"))


def make_router() -> Router:
    """After the admins' router: every approval press that reaches it is not an admin's."""
    router = Router(name=__name__)
    router.callback_query.register(refuse, ApprovalPress.filter())
    return router

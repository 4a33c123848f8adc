"""Approval for ADMIN_IDS (the router's IsAdmin filter): the preview buttons and /pending.

A press is decided by the service in one transaction; the admin's answer (answerCallbackQuery)
says what happened: decided, or who decided first. The previews themselves are edited through
the outbox, never here, so every admin's message changes the same paced, durable way.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.config import Settings
from bot.services.approval import ApprovalService, Decision, Outcome
from bot.store.approvals import Waiting
from bot.telegram.approval_view import ApprovalPress, decided_line
from bot.telegram.filters import IsAdmin
from bot.telegram.formatting import escape, fmt_date, shorten
from bot.telegram.handlers.admin import chunks
from bot.telegram.texts import Lang, t

log = logging.getLogger(__name__)

ANSWER_LIMIT = 200
"""answerCallbackQuery's text: at most 200 characters."""


def answer_text(decision: Decision, lang: Lang) -> str:
    """Plain text for the pressing admin."""
    approval = decision.approval
    if decision.outcome is Outcome.DECIDED and approval is not None:
        text = decided_line(approval, lang)
    elif decision.outcome is Outcome.ALREADY and approval is not None:
        text = t(lang, "approval_already", what=decided_line(approval, lang))
    elif decision.outcome is Outcome.WITHDRAWN:
        text = t(lang, "approval_on_hold")
    else:
        text = t(lang, "approval_unknown")
    return shorten(text, ANSWER_LIMIT)


async def press(
    query: CallbackQuery, callback_data: ApprovalPress, approvals: ApprovalService, lang: Lang
) -> None:
    """An admin pressed «Опубликовать», «Без звука» or «Пропустить»; the first press wins."""
    user = query.from_user
    name = shorten(user.full_name or str(user.id), 64)
    decision = await approvals.decide(callback_data.id, callback_data.a, user.id, name)
    await query.answer(answer_text(decision, lang))


def _when(ts: float, tz: ZoneInfo) -> str:
    return fmt_date(datetime.fromtimestamp(ts, UTC), tz)


def pending_lines(waiting: list[Waiting], tz: ZoneInfo, lang: Lang) -> list[str]:
    """/pending: each waiting article's id, title, since when and its deadline."""
    if not waiting:
        return [t(lang, "pending_none")]
    lines = [t(lang, "pending_title", n=len(waiting))]
    for w in waiting:
        deadline = t(lang, "pending_no_deadline") if w.deadline is None else _when(w.deadline, tz)
        lines.append(
            t(
                lang,
                "pending_item",
                id=w.article_id,
                title=escape(shorten(w.title, 200)),
                withdrawn=t(lang, "pending_withdrawn") if w.withdrawn else "",
                since=_when(w.since, tz),
                deadline=deadline,
            )
        )
    return lines


async def pending(
    message: Message, approvals: ApprovalService, settings: Settings, lang: Lang
) -> None:
    """The articles waiting for a decision, oldest first."""
    for text in chunks(pending_lines(await approvals.waiting(), settings.source_tz, lang)):
        await message.answer(text)


def make_router() -> Router:
    """Presses and /pending, for admins only (IsAdmin on the router)."""
    router = Router(name=__name__)
    router.message.filter(IsAdmin())
    router.callback_query.filter(IsAdmin())
    router.callback_query.register(press, ApprovalPress.filter())
    router.message.register(pending, Command("pending"))
    return router

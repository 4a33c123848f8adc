"""Pure: an approval preview (the channel post plus the decision buttons), its decided form, and
the callback data of the buttons (``ap:<id>:p|s|x``, far below Telegram's 64 bytes).

Pending, the preview is exactly the channel post with one more keyboard row; decided, a line on
top says who decided what (or the timeout) and the decision row is gone (the post's own buttons
stay). When that line would push the text past 4096, the decided preview shows the line and the
title only: the message has served its purpose.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.store.approvals import Approval
from bot.telegram.formatting import MAX_MESSAGE_LEN, clip, escape, utf16_len
from bot.telegram.posts import Post
from bot.telegram.texts import Lang, lang_of, t

BUTTONS = (("approval_publish", "p"), ("approval_silent", "s"), ("approval_skip", "x"))
STATUS_KEYS = {
    "published": "approval_published",
    "silent": "approval_silently",
    "skipped": "approval_skipped",
}


class ApprovalPress(CallbackData, prefix="ap"):
    """``ap:<article id>:<p|s|x>``: publish, publish silently, skip."""

    id: int
    a: str


def decision_keyboard(article_id: int, lang: Lang) -> list[InlineKeyboardButton]:
    """«Опубликовать» / «Без звука» / «Пропустить» in the admin's language."""
    return [
        InlineKeyboardButton(
            text=t(lang, key), callback_data=ApprovalPress(id=article_id, a=letter).pack()
        )
        for key, letter in BUTTONS
    ]


def decided_line(approval: Approval, lang: Lang) -> str:
    """Plain text: what was decided and by whom ("… по таймауту" when nobody answered)."""
    who = approval.decider if approval.decided_by is not None else None
    return t(lang, STATUS_KEYS[approval.status], who=who or t(lang, "approval_by_timeout"))


def preview_post(post: Post, approval: Approval, title: str, language_code: str | None) -> Post:
    """The preview of ``post`` (the channel rendering, or the withdrawal notice when ``title``
    is empty) for an admin whose Telegram language is ``language_code``."""
    lang = lang_of(language_code)
    rows = list(post.markup.inline_keyboard) if post.markup else []
    if approval.pending and title:
        rows.append(decision_keyboard(approval.article_id, lang))
        markup = InlineKeyboardMarkup(inline_keyboard=rows)
        return Post(post.text, markup, post.preview)
    markup = InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
    line = escape(decided_line(approval, lang)) if not approval.pending else ""
    if approval.pending:  # withdrawn while pending
        line = t(lang, "approval_on_hold")
    text = f"{line}\n\n{post.text}"
    if utf16_len(text) > MAX_MESSAGE_LEN:
        text = f"{line}\n\n<b>{clip(title, 1000)}</b>"
    return Post(text, markup, post.preview)

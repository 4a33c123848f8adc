"""The routers in the order they are tried: specific first, the catch-all last."""

from __future__ import annotations

from aiogram import Router

from bot.telegram.handlers import (
    admin,
    approval,
    approval_refusal,
    errors,
    fallback,
    inline,
    news,
    start,
    subscriptions,
)


def routers() -> list[Router]:
    """Fresh routers: news → approval → admin → start → subscriptions → inline → fallback,
    then errors.

    Reading is nine updates in ten, so its router is tried first: its commands and button
    prefixes are its own, so this changes no routing and skips a dozen filter checks per update.
    Each call builds new routers, so any number of Dispatchers (tests, the console) can hold them.
    """
    return [
        news.make_router(),  # /latest, /search, /article and their buttons
        approval.make_router(),  # admins: approval buttons, /pending (before admin's refusals)
        approval_refusal.make_router(),  # anyone else's approval press: refused
        admin.make_router(),  # admin commands: the router's IsAdmin filter, then refusals
        start.make_router(),  # /start, deep links, /help
        subscriptions.make_router(),  # /subscribe, /subscriptions, /unsubscribe and buttons
        inline.make_router(),  # inline queries
        fallback.make_router(),  # unknown commands, plain text, stickers: must stay last
        errors.make_router(),  # the one error handler (error events only)
    ]

"""Middlewares: the reader's language, 429 on replies (bounded), in-flight updates for shutdown,
and what the monitoring counts (updates, API successes, 429s)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.middlewares.user_context import EVENT_FROM_USER_KEY
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import TelegramObject, Update, User
from aiogram.types.update import UpdateTypeLookupError

from bot.observe import NO_OBSERVER, Observer
from bot.telegram.texts import lang_of

log = logging.getLogger(__name__)

# True while an update is being handled: requests made then are replies to a user.
replying: ContextVar[bool] = ContextVar("replying", default=False)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
SeenAdmin = Callable[[int, str | None], Awaitable[None]]
"""Told an admin's (user id, language_code) when one of their updates arrives."""


@contextlib.contextmanager
def reply_context() -> Iterator[None]:
    """Requests made inside are replies to a reader (ReplyRetry obeys their 429s)."""
    token = replying.set(True)
    try:
        yield
    finally:
        replying.reset(token)


class ReaderLanguage(BaseMiddleware):
    """Outer update middleware: puts ``lang`` (the sender's reply language) in the handler data.

    Register it on ``dp.update`` (after aiogram's own user-context middleware has found the
    sender), so every handler and the error handler take ``lang: Lang`` instead of asking.
    An update from one of ``admins`` is also reported to ``seen`` (approval previews speak the
    admin's language; the callee keeps it to one write a minute per admin).
    """

    def __init__(
        self, admins: frozenset[int] = frozenset(), seen: SeenAdmin | None = None
    ) -> None:
        self.admins = admins
        self.seen = seen

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get(EVENT_FROM_USER_KEY)
        data["lang"] = lang_of(user.language_code if user else None)
        if self.seen is not None and user is not None and user.id in self.admins:
            try:
                await self.seen(user.id, user.language_code)
            except Exception:  # a busy database must not cost the admin their answer
                log.exception("could not record admin %d's language", user.id)
        return await handler(event, data)


class ReplyRetry(BaseRequestMiddleware):
    """Retry a reply after Telegram's retry_after (a few times, short waits only).

    Only requests made while handling an update are retried here; the scheduler's channel and
    subscriber sends keep seeing TelegramRetryAfter so their own pacing logic can react.
    """

    def __init__(
        self, attempts: int = 3, max_wait: float = 30.0, observer: Observer = NO_OBSERVER
    ) -> None:
        self.attempts = attempts
        self.max_wait = max_wait
        self.observer = observer

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if not replying.get() or isinstance(method, GetUpdates):
            return await make_request(bot, method)
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt == self.attempts or exc.retry_after > self.max_wait:
                    raise
                log.warning(
                    "%s hit a flood limit; retrying in %s s",
                    type(method).__name__,
                    exc.retry_after,
                )
                self.observer.retry_after_obeyed(exc.retry_after)
                await asyncio.sleep(exc.retry_after + 0.1)
        raise AssertionError("unreachable")  # pragma: no cover


class ApiWatch(BaseRequestMiddleware):
    """Tells the observer about each Bot API success (readiness) and each 429 received."""

    def __init__(self, observer: Observer) -> None:
        self.observer = observer

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            response = await make_request(bot, method)
        except TelegramRetryAfter:
            self.observer.too_many_requests()
            raise
        self.observer.telegram_reached()
        return response


def update_type(update: Update) -> str:
    """The update's kind for a metric label ('unknown' for a type aiogram does not know)."""
    try:
        return update.event_type
    except UpdateTypeLookupError:
        return "unknown"


class InFlight(BaseMiddleware):
    """Outer update middleware: marks the reply context, counts updates still being handled and
    tells the observer each one's type, outcome and time."""

    def __init__(self, observer: Observer = NO_OBSERVER) -> None:
        self.observer = observer
        self._counting = observer is not NO_OBSERVER
        self.running: set[int] = set()
        self.max_seen = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        update_id = event.update_id if isinstance(event, Update) else 0
        self.running.add(update_id)
        self.max_seen = max(self.max_seen, update_id)
        self._idle.clear()
        started, outcome = time.perf_counter(), "error"
        try:
            with reply_context():
                result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "ok"
            return result
        finally:
            if self._counting and isinstance(event, Update):
                self.observer.update_handled(
                    update_type(event), outcome, time.perf_counter() - started
                )
            self.running.discard(update_id)
            if not self.running:
                self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until no update is being handled; False if some are still running at timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            log.warning(
                "shutdown: %d update(s) still running after %.0f s", len(self.running), timeout
            )
            return False
        return True

    def confirm_offset(self) -> int:
        """The getUpdates offset that confirms every update whose handling has finished."""
        return min(self.running) if self.running else self.max_seen + 1

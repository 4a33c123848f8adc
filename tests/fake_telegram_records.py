"""What the fake server recorded, waiting on it without sleeping, and end-of-test assertions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from tests.fake_telegram_model import (
    Call,
    Edit,
    FakeChat,
    RequestRecord,
    RetryViolation,
    SentMessage,
)
from tests.fake_telegram_push import default_chat_type

if TYPE_CHECKING:
    from tests.fake_telegram_limits import Clock
    from tests.fake_telegram_updates import UpdateQueue
    from tests.fake_telegram_validate import Formatted

log = logging.getLogger(__name__)
T = TypeVar("T")
INVALID_KINDS = frozenset({"validation", "auth", "routing"})


def _short(rec: RequestRecord) -> str:
    text = rec.params.get("text") or rec.params.get("caption") or ""
    tail = f" text={str(text)[:60]!r}" if text else ""
    answer = "ok" if rec.ok else f"{rec.status} {rec.description}"
    return f"#{rec.seq} {rec.method} chat={rec.chat_id}{tail} -> {answer}"


class RecordsMixin:
    """Records, queries, waits and assertions of FakeTelegram."""

    updates: UpdateQueue
    clock: Clock
    chats: dict[int, FakeChat]
    messages: dict[tuple[int, int], SentMessage]
    callback_answers: dict[str, dict[str, Any]]
    inline_answers: dict[str, dict[str, Any]]
    commands: dict[tuple[tuple[Any, ...], str], list[dict[str, str]]]
    _changed: asyncio.Event

    def _init_records(self) -> None:
        self.requests: list[RequestRecord] = []
        self.sent: list[SentMessage] = []
        self._sent_by_chat: dict[int, list[SentMessage]] = {}
        self.edits: list[Edit] = []
        self.retry_violations: list[RetryViolation] = []
        self.sends_after_permanent_error: list[RequestRecord] = []
        self.repeated_bad_requests: list[RequestRecord] = []
        self.nesting_warnings: list[tuple[str, tuple[str, ...]]] = []
        self.internal_errors: list[RequestRecord] = []  # bugs in the fake itself
        self._seq = 0

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _finish(self, rec: RequestRecord) -> None:
        self.requests.append(rec)
        if not rec.ok and rec.status:
            log.debug("fake Telegram answered %s", _short(rec))
        self._notify()

    def record_edit(
        self,
        msg: SentMessage | None,
        call: Call,
        text: Formatted | None,
        markup: dict[str, Any] | None,
    ) -> None:
        """Apply an accepted edit to the message (keeping its history) and log it."""
        html = call.get("text") if text is not None else None
        if msg is not None:
            msg.history.append((msg.text, msg.html, msg.reply_markup))
            if text is not None:
                msg.text, msg.entities, msg.html = text.text, text.entities, html or ""
            msg.reply_markup = markup
            msg.edit_date = int(self.clock.time())
        self.edits.append(
            Edit(
                "editMessageText" if text is not None else "editMessageReplyMarkup",
                msg.chat.id if msg else None,
                msg.message_id if msg else None,
                call.get("inline_message_id"),
                text.text if text is not None else None,
                html,
                markup,
                self.clock.monotonic(),
                call.seq,
            )
        )

    # ---- queries ---------------------------------------------------------------------------

    def mark(self) -> int:
        """A point in time for `since=` arguments: the seq of the last request so far."""
        return self._seq

    def calls(
        self,
        method: str | None = None,
        *,
        chat_id: int | None = None,
        since: int = 0,
        ok: bool | None = None,
    ) -> list[RequestRecord]:
        """Answered requests in the order they were answered, filtered by method (any case),
        chat, seq > since (see mark()) and success."""
        want = method.lower() if method else None
        return [
            r
            for r in self.requests
            if r.seq > since
            and (want is None or r.method.lower() == want)
            and (chat_id is None or r.chat_id == chat_id)
            and (ok is None or r.ok == ok)
        ]

    def sent_messages(
        self, chat_id: int | None = None, *, since: int = 0, include_deleted: bool = True
    ) -> list[SentMessage]:
        """Messages the bot sent and Telegram accepted, oldest first (state after edits)."""
        pool = self.sent if chat_id is None else self._sent_by_chat.get(chat_id, [])
        return [m for m in pool if m.seq > since and (include_deleted or not m.deleted)]

    def last_message(self, chat_id: int) -> SentMessage:
        """The newest accepted bot message in a chat (AssertionError if none)."""
        sent = self.sent_messages(chat_id)
        assert sent, f"the bot sent nothing to chat {chat_id}"
        return sent[-1]

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        """A message by id (bot's or pushed)."""
        return self.messages[(chat_id, message_id)]

    @property
    def errors(self) -> list[RequestRecord]:
        """Every 4xx the bot caused (scripted faults excluded)."""
        return [r for r in self.requests if 400 <= r.status < 500 and not r.scripted]

    @property
    def invalid_requests(self) -> list[RequestRecord]:
        """Requests Telegram would reject as malformed: bad text/HTML/markup/commands, 401, 404."""
        return [r for r in self.requests if r.kind in INVALID_KINDS]

    @property
    def rate_limited(self) -> list[RequestRecord]:
        """429s the flood limiter gave (not counting early retries or scripted 429s)."""
        return [r for r in self.requests if r.kind == "rate"]

    @property
    def confirmed_offset(self) -> int:
        """Every update_id below this has been confirmed by the bot (0: none yet)."""
        return self.updates.confirmed_offset

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed (they will be delivered again)."""
        return list(self.updates.pending)

    def resolve_commands(
        self,
        chat_id: int,
        *,
        user_id: int | None = None,
        language_code: str | None = None,
        admin: bool = False,
    ) -> list[dict[str, str]]:
        """The command menu a user would see in a chat, by Telegram's scope fallback (L7)."""
        chat = self.chats.get(chat_id)
        kind = chat.type if chat is not None else default_chat_type(chat_id)
        if kind == "private":
            levels: list[tuple[Any, ...]] = [("chat", chat_id), ("all_private_chats",)]
        else:
            levels = [("chat_member", chat_id, user_id)] if user_id is not None else []
            levels += [("chat_administrators", chat_id)] if admin else []
            levels += [("chat", chat_id)]
            levels += [("all_chat_administrators",)] if admin else []
            levels += [("all_group_chats",)]
        lang = (language_code or "")[:2].lower()
        for key in [*levels, ("default",)]:
            for code in ([lang] if lang else []) + [""]:
                if (key, code) in self.commands:
                    return self.commands[(key, code)]
        return []

    # ---- waiting ---------------------------------------------------------------------------

    async def wait_for(
        self, predicate: Callable[[], T], timeout: float = 5.0, what: str | None = None
    ) -> T:
        """Wait until predicate() is truthy (re-checked after every request/push); return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = "\n  ".join(_short(r) for r in self.requests[-12:]) or "(none)"
                raise TimeoutError(
                    f"fake Telegram: timed out after {timeout}s waiting for "
                    f"{what or predicate!r}; last requests:\n  {recent}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def wait_for_messages(
        self, chat_id: int, n: int = 1, *, since: int = 0, timeout: float = 5.0
    ) -> list[SentMessage]:
        """Wait until the bot sent ≥ n messages to the chat (after `since`); returns them all."""
        return await self.wait_for(
            lambda: (m := self.sent_messages(chat_id, since=since)) and len(m) >= n and m,
            timeout,
            f"{n} message(s) to chat {chat_id}",
        )

    async def wait_for_request(
        self,
        method: str,
        *,
        chat_id: int | None = None,
        n: int = 1,
        since: int = 0,
        timeout: float = 5.0,
        predicate: Callable[[RequestRecord], bool] | None = None,
    ) -> list[RequestRecord]:
        """Wait until ≥ n matching requests were answered; returns all matches."""

        def found() -> list[RequestRecord]:
            hits = [
                r
                for r in self.calls(method, chat_id=chat_id, since=since)
                if predicate is None or predicate(r)
            ]
            return hits if len(hits) >= n else []

        return await self.wait_for(found, timeout, f"{n} {method} request(s)")

    async def wait_for_callback_answer(
        self, query: dict[str, Any] | str, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Wait for answerCallbackQuery of a pushed callback (its update or id); returns params."""
        qid = query if isinstance(query, str) else query["callback_query"]["id"]
        return await self.wait_for(
            lambda: self.callback_answers.get(qid), timeout, f"answerCallbackQuery({qid})"
        )

    async def wait_for_inline_answer(
        self, query: dict[str, Any] | str, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Wait for answerInlineQuery of a pushed inline query; returns its decoded params."""
        qid = query if isinstance(query, str) else query["inline_query"]["id"]
        return await self.wait_for(
            lambda: self.inline_answers.get(qid), timeout, f"answerInlineQuery({qid})"
        )

    async def wait_for_confirmed(self, update: dict[str, Any] | int, timeout: float = 5.0) -> None:
        """Wait until the bot confirmed an update (a later getUpdates offset passed it)."""
        uid = update if isinstance(update, int) else update["update_id"]
        await self.wait_for(
            lambda: self.updates.confirmed_offset > uid, timeout, f"confirmation of update {uid}"
        )

    @property
    def polling(self) -> bool:
        """Whether the bot has a getUpdates long poll waiting right now."""
        return self.updates.polling

    async def wait_until_polling(self, timeout: float = 5.0) -> None:
        """Wait until the bot is long-polling (e.g. after start_polling, before pushing)."""
        await self.wait_for(lambda: self.updates.polling, timeout, "a waiting getUpdates")

    async def settle(self, quiet: float = 0.2, timeout: float = 5.0) -> None:
        """Wait until no request finished for `quiet` seconds (to assert nothing more comes)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            try:
                await asyncio.wait_for(self._changed.wait(), quiet)
            except TimeoutError:
                return
        raise TimeoutError(f"fake Telegram: still busy after {timeout}s")

    # ---- assertions ------------------------------------------------------------------------

    def assert_no_invalid_requests(self) -> None:
        """Fail listing every request Telegram would have rejected as malformed."""
        bad = self.invalid_requests
        assert not bad, "invalid requests:\n  " + "\n  ".join(_short(r) for r in bad)

    def assert_no_retry_violations(self) -> None:
        """Fail if the bot sent to a chat before its retry_after had passed."""
        assert not self.retry_violations, "sent before retry_after passed:\n  " + "\n  ".join(
            f"{_short(v.record)} ({v.early_by:.2f}s early)" for v in self.retry_violations
        )

    def assert_clean(self) -> None:
        """All behaviour checks: no invalid request, no early retry, no send to a dead chat,
        no identical resend of a request that got a validation 400 (and no bug in the fake)."""
        assert not self.internal_errors, "the fake server crashed:\n  " + "\n  ".join(
            map(_short, self.internal_errors)
        )
        self.assert_no_invalid_requests()
        self.assert_no_retry_violations()
        dead = self.sends_after_permanent_error
        assert not dead, "sent again after a permanent 400/403:\n  " + "\n  ".join(
            map(_short, dead)
        )
        again = self.repeated_bad_requests
        assert not again, "resent unchanged after a 400:\n  " + "\n  ".join(map(_short, again))

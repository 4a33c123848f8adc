"""Scripted faults of the fake server: fail_next() and the errors it produces."""

from __future__ import annotations

import logging
from typing import Any

from tests.fake_telegram_model import (
    CHAT_ERRORS,
    FAULT_KINDS,
    MIGRATED,
    RESTART,
    ApiError,
    FakeChat,
    Fault,
    too_many,
)

log = logging.getLogger(__name__)


class FaultsMixin:
    """fail_next() and friends of FakeTelegram."""

    chats: dict[int, FakeChat]
    faults: list[Fault]

    def fail_next(
        self,
        kind: str,
        *,
        method: str | None = None,
        chat_id: int | str | None = None,
        times: int | None = 1,
        retry_after: int = 1,
        migrate_to_chat_id: int | None = None,
        delay: float = 65.0,
        process: bool | None = None,
        status: int = 400,
        description: str | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> Fault:
        """Script the next `times` matching requests (None = until fault.cancel()) to fail.

        kind: "429" (retry_after), "blocked", "deactivated", "kicked", "not_member", "deleted",
        "chat_not_found", "migrated" (migrate_to_chat_id, registered as a supergroup), "500"
        (`Internal Server Error: restart`), "502" (raw nginx HTML), "drop" (connection closed,
        no reply), "delay" (reply after `delay` s), "error" (status/description/parameters).
        process=True runs the method first (the message IS recorded, e.g. "drop" after delivery);
        "delay" always does. method/chat_id narrow which requests match ('@name' or id).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(FAULT_KINDS)}")
        if kind == "migrated":
            base = int(chat_id) if isinstance(chat_id, int) else -1
            migrate_to_chat_id = migrate_to_chat_id or -(1_000_000_000_000 + abs(base))
            self.add_chat(migrate_to_chat_id, "supergroup")  # type: ignore[attr-defined]
        process = kind == "delay" or bool(process)
        fault = Fault(
            kind,
            method.lower() if method else None,
            chat_id,
            times,
            int(retry_after),
            migrate_to_chat_id,
            delay,
            process,
            status,
            description or "Bad Request: scripted error",
            parameters,
        )
        self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Cancel every scripted fault."""
        for fault in self.faults:
            fault.cancel()
        self.faults.clear()

    def _take_fault(self, method: str, chat_id: int | None, raw_chat: str) -> Fault | None:
        for fault in self.faults:
            if not fault.active or (fault.method and fault.method != method):
                continue
            if fault.chat_id is not None and not self._fault_chat_matches(
                fault.chat_id, chat_id, raw_chat
            ):
                continue
            fault.hits += 1
            return fault
        return None

    def _fault_chat_matches(self, wanted: int | str, chat_id: int | None, raw_chat: str) -> bool:
        if str(wanted).strip().lower() == raw_chat.strip().lower():
            return True
        target = self.lookup_chat(str(wanted))  # type: ignore[attr-defined]
        return chat_id is not None and (target.id if target else wanted) == chat_id

    def _fault_error(self, fault: Fault, chat_id: int | None) -> ApiError:
        if fault.kind == "429":
            return too_many(fault.retry_after, "scripted")
        if fault.kind == "500":
            return ApiError(500, RESTART, kind="scripted")
        if fault.kind == "migrated":
            return ApiError(
                400,
                MIGRATED,
                kind="scripted",
                permanent=True,
                parameters={"migrate_to_chat_id": fault.migrate_to_chat_id},
            )
        if fault.kind in CHAT_ERRORS:
            chat = self.chats.get(chat_id) if chat_id is not None else None
            status, description = CHAT_ERRORS[fault.kind]
            kind = chat.type if chat is not None and chat.type != "private" else "channel"
            return ApiError(status, description.format(type=kind), kind="scripted", permanent=True)
        return ApiError(
            fault.status, fault.description, kind="scripted", parameters=fault.parameters
        )

"""Records and state of the fake Bot API server: chats, sent messages, requests, faults, errors."""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

#: JSON-valued parameters; RequestRecord.params holds them decoded.
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "link_preview_options",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "results",
        "allowed_updates",
        "reply_parameters",
        "button",
        "menu_button",
    }
)

#: Descriptions of the per-chat permanent failures (rules.md §2 E2), by state/fault kind.
CHAT_ERRORS: dict[str, tuple[int, str]] = {
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "deactivated": (403, "Forbidden: user is deactivated"),
    "kicked": (403, "Forbidden: bot was kicked from the {type} chat"),
    "not_member": (403, "Forbidden: bot is not a member of the {type} chat"),
    "deleted": (403, "Forbidden: the group chat was deleted"),
    "chat_not_found": (400, "Bad Request: chat not found"),
}
MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a current content and reply markup of the message"
)
RESTART = "Internal Server Error: restart"
BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n"
    "<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"
)
FAULT_KINDS = frozenset({"429", "500", "502", "drop", "delay", "error", "migrated", *CHAT_ERRORS})


class ApiError(Exception):
    """A Bot API error reply.

    kind: validation|state|rate|violation|conflict|auth|routing|scripted (see RequestRecord.kind).
    """

    def __init__(
        self,
        status: int,
        description: str,
        *,
        kind: str = "validation",
        parameters: dict[str, Any] | None = None,
        permanent: bool = False,
    ) -> None:
        super().__init__(description)
        self.status, self.description, self.kind = status, description, kind
        self.parameters, self.permanent = parameters, permanent


def bad(detail: str, kind: str = "validation") -> ApiError:
    """A 400 with the real server's `Bad Request: ` prefix."""
    return ApiError(400, f"Bad Request: {detail}", kind=kind)


def too_many(retry_after: int, kind: str) -> ApiError:
    """A 429 exactly like the real server's (rules.md §2 E1)."""
    return ApiError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        kind=kind,
        parameters={"retry_after": retry_after},
    )


@dataclass
class Call:
    """One parsed request: lower-case method name and its parameters as the server saw them."""

    method: str
    params: dict[str, str]
    files: dict[str, bytes] = field(default_factory=dict)
    seq: int = 0  # the RequestRecord's seq

    def get(self, name: str, default: str | None = None) -> str | None:
        """The raw string value."""
        return self.params.get(name, default)

    def int(self, name: str, default: int = 0) -> int:
        """An integer parameter; garbage counts as the default, like the real server."""
        try:
            return int(self.params[name])
        except (KeyError, ValueError):
            return default

    def flag(self, name: str) -> bool:
        """A boolean parameter (`true`/`1`)."""
        return self.params.get(name, "").strip().lower() in ("true", "1")

    def json(self, name: str, what: str) -> Any:
        """A JSON parameter, or 400 `can't parse <what> JSON object`; None when absent/empty."""
        raw = self.params.get(name)
        if raw is None or raw == "":
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise bad(f"can't parse {what} JSON object") from None

    def decoded(self) -> dict[str, Any]:
        """Parameters with the JSON-valued ones decoded (kept raw when they do not parse)."""
        out: dict[str, Any] = dict(self.params)
        for key in JSON_PARAMS & out.keys():
            with contextlib.suppress(ValueError):
                out[key] = json.loads(out[key])
        return out


@dataclass
class FakeChat:
    """A chat the server knows; `state` other than "ok" is a key of CHAT_ERRORS."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    language_code: str | None = None
    state: str = "ok"
    migrated_to: int | None = None
    next_message_id: int = 1
    is_forum: bool = False  # a supergroup with topics on (see fake_telegram_forums)
    topics: dict[int, str] = field(default_factory=dict)  # message_thread_id -> name
    bot_rights: dict[str, bool] | None = None  # None: an admin with every right (not private)
    pinned: list[int] = field(default_factory=list)  # message ids, oldest pin first
    pin_notices: list[int] = field(default_factory=list)  # pins the members were notified of

    def to_dict(self) -> dict[str, Any]:
        """The Chat object."""
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.is_forum:
            out["is_forum"] = True
        return out

    def user_dict(self) -> dict[str, Any]:
        """The User object of a private chat's user."""
        out: dict[str, Any] = {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name or f"User{self.id}",
        }
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


@dataclass
class SentMessage:
    """A message in a chat: the bot's (accepted send) or one a test pushed; edits update it."""

    chat: FakeChat
    message_id: int
    text: str  # after entity parsing (the caption for photos)
    html: str  # the raw `text`/`caption` parameter the bot sent
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    date: int
    time: float  # server clock (monotonic) when accepted
    from_bot: bool = True
    method: str = "sendMessage"
    parse_mode: str | None = None
    deleted: bool = False
    edit_date: int | None = None
    history: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    sender: dict[str, Any] | None = None
    seq: int = 0  # seq of the request that sent it (0 for pushed user messages)
    silent: bool = False  # sent with disable_notification (not part of the Message object)

    @property
    def chat_id(self) -> int:
        """The chat's id."""
        return self.chat.id

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Every inline button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    def to_dict(self) -> dict[str, Any]:
        """The Message object as Telegram returns it."""
        out: dict[str, Any] = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": self.chat.to_dict(),
        }
        if self.chat.type == "channel":
            out["sender_chat"] = self.chat.to_dict()
        elif self.sender is not None:
            out["from"] = self.sender
        text_key, entities_key = (
            ("caption", "caption_entities") if "photo" in self.extra else ("text", "entities")
        )
        if self.text:
            out[text_key] = self.text
        if self.entities:
            out[entities_key] = self.entities
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            out["reply_markup"] = self.reply_markup
        if self.edit_date is not None:
            out["edit_date"] = self.edit_date
        out.update(self.extra)
        return out


@dataclass
class RequestRecord:
    """One HTTP request to the Bot API and how the server answered it."""

    seq: int
    method: str  # canonical spelling ("sendMessage"), or what was asked for if unknown
    params: dict[str, Any]
    time: float  # server clock (monotonic) on arrival
    status: int = 0
    ok: bool = False
    result: Any = None
    description: str | None = None
    parameters: dict[str, Any] | None = None
    kind: str = "ok"  # ok|validation|state|rate|violation|conflict|auth|routing|scripted
    chat_id: int | None = None
    fault: str | None = None  # the scripted fault's kind, if one answered this request
    content_type: str = ""  # how the parameters came: query only (""), JSON, form, multipart

    @property
    def scripted(self) -> bool:
        """Whether a scripted fault produced the answer."""
        return self.fault is not None


@dataclass
class Edit:
    """An accepted editMessageText/editMessageReplyMarkup (text None = markup-only edit)."""

    method: str
    chat_id: int | None
    message_id: int | None
    inline_message_id: str | None
    text: str | None
    html: str | None
    reply_markup: dict[str, Any] | None
    time: float
    seq: int


@dataclass
class RetryViolation:
    """A request to a chat that arrived before its retry_after had passed."""

    record: RequestRecord
    chat_id: int
    blocked_until: float
    early_by: float  # seconds too early


@dataclass
class Fault:
    """A scripted failure; see FakeTelegram.fail_next."""

    kind: str
    method: str | None = None  # lower-case
    chat_id: int | str | None = None
    times: int | None = 1  # None = until cancelled
    retry_after: int = 1
    migrate_to_chat_id: int | None = None
    delay: float = 65.0
    process: bool = False
    status: int = 400
    description: str = "Bad Request: scripted error"
    parameters: dict[str, Any] | None = None
    hits: int = 0

    @property
    def active(self) -> bool:
        """Whether the fault will fire again."""
        return self.times is None or self.hits < self.times

    def cancel(self) -> None:
        """Stop the fault from firing again."""
        self.times = self.hits

"""Request validation the way the Bot API server and td do it (rules.md §1 L1–L7, §3 H1–H8)."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from tests.fake_telegram_model import ApiError, bad
from tests.telegram_html import HtmlParseError, ParsedText, check_link, parse_html, utf16_len

log = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_RAW_TEXT_BYTES = 1 << 15
_TRIM = " \t\r\n\x0b\x0c"
INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND = re.compile(r"[a-z0-9_]+")
SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_NO_TEXT_BUTTON = (
    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
)


@dataclass(frozen=True)
class Formatted:
    """Validated text: what the chat shows, its entities, and nesting complaints (strict mode)."""

    text: str
    entities: list[dict[str, Any]]
    nesting_errors: tuple[str, ...] = ()


def _trim(parsed: ParsedText) -> Formatted:
    """td trims surrounding whitespace after parsing; entities move and shrink with the text."""
    text = parsed.text
    left = len(text) - len(text.lstrip(_TRIM))
    stripped = text.strip(_TRIM)
    shift, size = utf16_len(text[:left]), utf16_len(stripped)
    entities = []
    for entity in parsed.entities:
        start = max(0, entity.offset - shift)
        end = min(size, entity.offset + entity.length - shift)
        if end > start:
            entities.append({**entity.to_dict(), "offset": start, "length": end - start})
    return Formatted(stripped, entities, parsed.nesting_errors)


def formatted_text(
    raw: str | None, parse_mode: str | None, entities_json: str | None, *, caption: bool = False
) -> Formatted:
    """Validate a text/caption like sendMessage does; raises ApiError with Telegram's text."""
    raw = raw or ""
    if not raw and not caption:
        raise bad("message text is empty")
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_RAW_TEXT_BYTES:
        raise bad("text is too long")
    mode = (parse_mode or "").strip().lower()
    given: list[dict[str, Any]] | None = None
    if mode in ("", "none", "markdown", "markdownv2"):  # Markdown is not checked by this fake
        parsed = ParsedText(raw)
        if entities_json and mode in ("", "none"):
            given = _explicit_entities(entities_json)
    elif mode == "html":
        try:
            parsed = parse_html(raw)
        except HtmlParseError as e:
            raise bad(f"can't parse entities: {e.detail}") from None
    else:
        raise bad("unsupported parse_mode")
    result = _trim(parsed)
    if not result.text and not caption:
        raise bad("text must be non-empty")
    if len(result.text) > (MAX_CAPTION if caption else MAX_TEXT):
        raise bad("message caption is too long" if caption else "message is too long")
    return result if given is None else Formatted(result.text, given)


def _explicit_entities(raw: str) -> list[dict[str, Any]]:
    """The `entities` parameter (used when there is no parse_mode)."""
    try:
        given = json.loads(raw)
    except ValueError:
        given = None
    if not isinstance(given, list) or not all(isinstance(e, dict) for e in given):
        raise bad("can't parse entities JSON object")
    return given


PREVIEW_FLAGS = ("is_disabled", "prefer_small_media", "prefer_large_media", "show_above_text")


def link_preview_options(raw: str | None, legacy_disabled: bool = False) -> dict[str, Any] | None:
    """LinkPreviewOptions (H8) as the message will carry them, or None (Telegram's default).

    Field types are checked (Boolean flags, String url). What takes effect is returned: a
    disabled preview is only that; a url that is not a valid link is dropped (td keeps no
    link it cannot check); prefer_small_media / prefer_large_media are ignored without an
    explicit url [API]. Without the object the legacy disable_web_page_preview still counts.
    """
    if raw is None or raw == "":
        return {"is_disabled": True} if legacy_disabled else None
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise bad("can't parse link preview options JSON object")
    for name in PREVIEW_FLAGS:
        if name in value and not isinstance(value[name], bool):
            raise bad(f'can\'t parse link preview options: Field "{name}" must be of type Boolean')
    if "url" in value and not isinstance(value["url"], str):
        raise bad('can\'t parse link preview options: Field "url" must be of type String')
    if value.get("is_disabled"):
        return {"is_disabled": True}
    url = check_link(value.get("url") or "")
    shown: dict[str, Any] = {"url": url} if url else {}
    flags = PREVIEW_FLAGS[1:] if url else PREVIEW_FLAGS[3:]
    shown.update({name: True for name in flags if value.get(name) is True})
    return shown or None


def _inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad('can\'t parse inline keyboard button: Field "text" must be of type String')
    if not button["text"].strip():
        raise bad("BUTTON_TEXT_INVALID")
    actions = [key for key in INLINE_ACTIONS if key in button]
    if not actions:
        raise bad(_NO_TEXT_BUTTON)
    if len(actions) > 1:  # stricter than the server, which silently takes the first field
        raise bad(
            "can't parse inline keyboard button: exactly one of the optional fields must "
            f"be used, found {', '.join(actions)}"
        )
    data = button.get("callback_data")
    if "callback_data" in button and (
        not isinstance(data, str) or not 1 <= len(data.encode("utf-8", "surrogatepass")) <= 64
    ):
        raise bad("BUTTON_DATA_INVALID")
    url = button.get("url")
    if "url" in button and (not isinstance(url, str) or not check_link(url)):
        raise bad("BUTTON_URL_INVALID")


def reply_markup(
    raw: str | None, *, max_buttons: int = 100, max_per_row: int = 8, inline_only: bool = False
) -> dict[str, Any] | None:
    """Validate reply_markup: JSON shape, callback_data 1–64 bytes, size limits (L3, L5)."""
    if raw is None or raw == "":
        return None
    try:
        markup = json.loads(raw)
    except ValueError:
        markup = None
    if not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
    elif inline_only:
        raise bad("inline keyboard expected")
    elif "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
    elif markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return markup
    else:
        raise bad("can't parse reply keyboard markup JSON object")
    if sum(len(row) for row in rows) > max_buttons or any(len(row) > max_per_row for row in rows):
        raise bad("reply markup is too long")
    for row in rows:
        for button in row:
            if "inline_keyboard" in markup:
                _inline_button(button)
            elif not isinstance(button, str | dict) or not (
                button if isinstance(button, str) else button.get("text")
            ):
                raise bad('can\'t parse keyboard button: Field "text" must be of type String')
    return markup


def bot_commands(raw: str | None) -> list[dict[str, str]]:
    """setMyCommands' list: L6 rules with td's error texts."""
    if raw is None or raw == "":
        raise bad('parameter "commands" is required')
    try:
        commands = json.loads(raw)
    except ValueError:
        raise bad("can't parse commands JSON object") from None
    if not isinstance(commands, list):
        raise bad('field "commands" must be an Array')
    if len(commands) > 100:
        raise bad("BOT_COMMANDS_TOO_MUCH")
    out = []
    for item in commands:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("command"), str)
            or not isinstance(item.get("description"), str)
        ):
            raise bad(
                'can\'t parse BotCommand: expected an Object with String fields "command" '
                'and "description"'
            )
        command = item["command"].strip()
        command = command[1:] if command.startswith("/") else command
        if not command:
            raise bad("command must be non-empty")
        if len(command) > 32:
            raise bad("command length must not exceed 32")
        if not _COMMAND.fullmatch(command):
            raise bad("BOT_COMMAND_INVALID")
        description = item["description"].strip()
        if not description:
            raise bad("command description must be non-empty")
        if len(description) > 256:
            raise bad("command description length must not exceed 256")
        out.append({"command": command, "description": description})
    return out


def command_scope(raw: str | None) -> dict[str, Any]:
    """A BotCommandScope object (L7); chat ids are left for the server to resolve."""
    if raw is None or raw == "":
        return {"type": "default"}
    try:
        scope = json.loads(raw)
    except ValueError:
        scope = None
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise bad("can't parse BotCommandScope JSON object")
    kind = scope["type"]
    if kind not in SCOPE_TYPES:
        raise bad("unsupported type specified")
    if kind in ("chat", "chat_administrators", "chat_member"):
        chat_id = scope.get("chat_id")
        if not isinstance(chat_id, int | str) or isinstance(chat_id, bool) or chat_id == "":
            raise bad('can\'t parse BotCommandScope JSON object: field "chat_id" is required')
    if kind == "chat_member" and (
        not isinstance(scope.get("user_id"), int) or isinstance(scope.get("user_id"), bool)
    ):
        raise bad('can\'t parse BotCommandScope JSON object: field "user_id" is required')
    return {key: scope[key] for key in ("type", "chat_id", "user_id") if key in scope}


def language_code(raw: str | None) -> str:
    """'' or a two-letter ISO 639-1 code."""
    code = raw or ""
    if code and not re.fullmatch(r"[a-z]{2}", code):
        raise bad("invalid language code specified")
    return code


def inline_results(
    raw: str | None, *, max_buttons: int, max_per_row: int, strict_nesting: bool
) -> list[dict[str, Any]]:
    """answerInlineQuery results: ≤50, ids 1–64 bytes, unique; article texts like sendMessage."""
    try:
        results = json.loads(raw or "")
    except ValueError:
        raise bad("can't parse JSON-encoded inline query results") from None
    if not isinstance(results, list):
        raise bad("can't parse JSON-encoded inline query results")
    if len(results) > 50:
        raise bad("RESULTS_TOO_MUCH")
    seen: set[str] = set()
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("type"), str):
            raise bad('can\'t parse inline query result: field "type" must be a String')
        rid = result.get("id")
        if not isinstance(rid, str) or not 1 <= len(rid.encode("utf-8", "surrogatepass")) <= 64:
            raise bad("RESULT_ID_INVALID")
        if rid in seen:
            raise bad("RESULT_ID_DUPLICATE")
        seen.add(rid)
        if result["type"] == "article" and not str(result.get("title") or "").strip():
            raise bad('can\'t parse inline query result: field "title" must be non-empty')
        content = result.get("input_message_content")
        if result["type"] == "article" and not isinstance(content, dict):
            raise bad(
                'can\'t parse inline query result: field "input_message_content" is required'
            )
        if isinstance(content, dict) and "message_text" in content:
            text = content.get("message_text")
            entities = content.get("entities")
            checked = formatted_text(
                text if isinstance(text, str) else "",
                content.get("parse_mode"),
                json.dumps(entities) if entities is not None else None,
            )
            if strict_nesting and checked.nesting_errors:
                raise strict_nesting_error(checked.nesting_errors[0])
        if isinstance(content, dict) and "link_preview_options" in content:
            link_preview_options(json.dumps(content["link_preview_options"]))
        if "reply_markup" in result:
            reply_markup(
                json.dumps(result["reply_markup"]),
                max_buttons=max_buttons,
                max_per_row=max_per_row,
                inline_only=True,
            )
    return results


def strict_nesting_error(detail: str) -> ApiError:
    """The 400 the strict server sends for nesting td would silently repair (H6)."""
    return bad(
        f"can't parse entities: strict fake check (td would silently drop formatting): {detail}"
    )

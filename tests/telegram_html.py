"""Port of tdlib's parse_html (td/telegram/MessageEntity.cpp): reject what Telegram rejects.

The scanner works on UTF-8 bytes like td does, so every `byte offset N` in an error equals the real
server's. Entity offsets and lengths are UTF-16 code units. On top of td, `nesting_errors` lists
nesting that td would silently drop or normalise (Bot API docs, "Formatting options").
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
        "tg-time",
    }
)
_SIMPLE = {
    "i": "italic",
    "em": "italic",
    "b": "bold",
    "strong": "bold",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_SPACE = frozenset(b" \t\r\n\x00\x0b")
_ATTR_NAME_STOP = frozenset(b" \t\r\n\x00\x0b=>/\"'")
_SPECIAL = re.compile(rb"[<&]")
_CONTINUATION = bytes(range(0x80, 0xC0))
_NOT_FOUR_BYTE_LEAD = bytes(b for b in range(256) if not 0xF0 <= b <= 0xF7)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(//)?(.*)$", re.S)
_INT64 = re.compile(r"-?[0-9]+")
_TIME_FORMAT = re.compile(r"^(r|w?[dD]?[tT]?)$")
_SURROGATE_ERROR = (
    "Text contains invalid Unicode characters after decoding HTML entities, "
    "check for unmatched surrogate code units"
)

_PRIORITY = {
    "bold": 90,
    "italic": 91,
    "code": 20,
    "pre": 11,
    "text_link": 49,
    "text_mention": 49,
    "underline": 92,
    "strikethrough": 93,
    "blockquote": 0,
    "spoiler": 94,
    "custom_emoji": 99,
    "expandable_blockquote": 0,
}
PRE_TYPES = frozenset({"pre", "code"})
BLOCKQUOTE_TYPES = frozenset({"blockquote", "expandable_blockquote"})
CONTINUOUS_TYPES = frozenset({"text_link", "text_mention", "custom_emoji", "date_time"})


class HtmlParseError(ValueError):
    """td's parse error; `detail` is the text after `can't parse entities: `."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class Entity:
    """One MessageEntity as the Bot API returns it (offset/length in UTF-16 units)."""

    type: str
    offset: int
    length: int
    extra: dict[str, Any] = field(default_factory=dict)
    dropped: bool = field(default=False, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object Telegram puts in `entities`."""
        return {"type": self.type, "offset": self.offset, "length": self.length, **self.extra}


@dataclass(frozen=True)
class ParsedText:
    """Text after entity parsing, the entities, and strict-mode nesting complaints."""

    text: str
    entities: tuple[Entity, ...] = ()
    nesting_errors: tuple[str, ...] = ()


@dataclass
class _Frame:
    tag: str
    argument: str
    attrs: dict[str, str]
    utf16: int
    out_pos: int
    inner: list[Entity] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _utf16_units(chunk: bytes) -> int:
    """UTF-16 length of UTF-8 bytes: one unit per lead byte, two for 4-byte sequences."""
    lead = len(chunk.translate(None, _CONTINUATION))
    return lead + len(chunk.translate(None, _NOT_FOUR_BYTE_LEAD))


def _is_alnum(c: int) -> bool:
    return 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122


def _decode_entity(data: bytes, pos: int) -> tuple[int, int]:
    """td's decode_html_entity: (code point or 0, position after the entity)."""
    n = len(data)

    def at(k: int) -> int:
        return data[k] if k < n else 0

    end = pos + 1
    res = 0
    if at(pos + 1) == ord("#"):
        end += 1
        if at(pos + 2) == ord("x"):
            end += 1
            while chr(at(end)) in "0123456789abcdefABCDEF" and at(end):
                res = res * 16 + int(chr(at(end)), 16)
                end += 1
        else:
            while 48 <= at(end) <= 57:
                res = res * 10 + at(end) - 48
                end += 1
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while 65 <= at(end) <= 90 or 97 <= at(end) <= 122:
            end += 1
        res = {b"lt": 60, b"gt": 62, b"amp": 38, b"quot": 34}.get(data[pos + 1 : end], 0)
        if not res:
            return 0, pos
    if at(end) == ord(";"):
        end += 1
    return res, end


def _encode(code: int) -> bytes:
    if 0xD800 <= code <= 0xDFFF:
        return b"\xef\xbf\xbd"
    return chr(code).encode()


def check_link(url: str) -> str:
    """A simplified LinkManager::get_checked_link: the link to keep, or '' to drop it."""
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return ""
    m = _SCHEME.match(url)
    if m and m.group(2) is None and m.group(3)[:1].isdigit():
        m = None  # "host:port/path"
    if m and m.group(1).lower() in ("tg", "ton", "tonsite"):
        return url if m.group(3) else ""
    if m and m.group(2) is None:
        return ""  # "mailto:x", "javascript:x"
    if m is None:
        url = "http://" + url
        m = _SCHEME.match(url)
    if m is None or m.group(1).lower() not in ("http", "https", "ftp"):
        return ""
    host = re.split(r"[/?#]", m.group(3), maxsplit=1)[0].rsplit("@", 1)[-1]
    host = re.sub(r":\d{1,5}$", "", host)
    if re.fullmatch(r"(?:[\w-]+\.)+[\w-]{2,}|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]", host):
        return url
    return ""


def _nesting_error(parent: Entity, child: Entity) -> str | None:
    if parent.type in PRE_TYPES:
        same_span = child.offset == parent.offset and child.length == parent.length
        if parent.type == "pre" and child.type == "code" and same_span:
            return None  # <pre><code>…</code></pre> without a language
        return f'entity "{parent.type}" can\'t contain other entities, found "{child.type}"'
    if child.type in PRE_TYPES and parent.type not in BLOCKQUOTE_TYPES:
        return f'entity "{child.type}" can\'t be part of "{parent.type}"'
    if child.type in BLOCKQUOTE_TYPES and parent.type in BLOCKQUOTE_TYPES:
        return "blockquote entities can't be nested"
    if parent.type in CONTINUOUS_TYPES and (
        child.type in CONTINUOUS_TYPES or child.type in BLOCKQUOTE_TYPES
    ):
        return f'entity "{child.type}" can\'t be part of "{parent.type}"'
    return None


def _close_entity(
    frame: _Frame, entities: list[Entity], out: bytearray, utf16: int
) -> Entity | None:
    """Create the entity for a closed tag exactly as td does (None if td creates none)."""
    tag, offset, length = frame.tag, frame.utf16, utf16 - frame.utf16
    if tag in _SIMPLE:
        entity = Entity(_SIMPLE[tag], offset, length)
    elif tag == "tg-emoji":
        ok = _INT64.fullmatch(frame.argument) is not None
        emoji_id = int(frame.argument) if ok else 0
        if emoji_id == 0 or not -(2**63) <= emoji_id < 2**63:
            raise HtmlParseError("Invalid custom emoji identifier specified")
        entity = Entity("custom_emoji", offset, length, {"custom_emoji_id": str(emoji_id)})
    elif tag == "tg-time":
        unix = frame.attrs.get("unix", "")
        fmt = frame.attrs.get("format", "")
        if not unix.isdigit() or int(unix) >= 2**31:
            raise HtmlParseError("Invalid Unix time specified")
        if fmt and not _TIME_FORMAT.match(fmt):
            raise HtmlParseError("Invalid date time format specified")
        extra: dict[str, Any] = {"unix_time": int(unix)}
        if fmt:
            extra["date_time_format"] = fmt
        entity = Entity("date_time", offset, length, extra)
    elif tag == "a":
        url = frame.argument or bytes(out[frame.out_pos :]).decode("utf-8", "replace")
        m = re.fullmatch(r"tg://user\?id=(\d{1,15})", url.strip())
        if m and int(m.group(1)) > 0:
            user = {"id": int(m.group(1)), "is_bot": False, "first_name": "User"}
            entity = Entity("text_mention", offset, length, {"user": user})
        else:
            checked = check_link(url)
            if not checked:
                return None
            entity = Entity("text_link", offset, length, {"url": checked})
    elif tag == "pre":
        last = entities[-1] if entities else None
        same = (
            last is not None
            and last.type == "code"
            and (last.offset, last.length) == (offset, length)
        )
        if same and last is not None and last.extra.get("language"):
            last.type = "pre"
            return last
        if same and last is not None:  # td keeps only the pre of <pre><code>…</code></pre>
            entities.pop().dropped = True
        entity = Entity("pre", offset, length)
    elif tag == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last.type == "pre"
            and last.offset == offset
            and last.length == length
            and frame.argument
            and "language" not in last.extra
        ):
            last.extra["language"] = frame.argument
            return last
        entity = Entity(
            "code", offset, length, {"language": frame.argument} if frame.argument else {}
        )
    else:  # blockquote
        entity = Entity(
            "expandable_blockquote" if frame.argument else "blockquote", offset, length
        )
    entities.append(entity)
    return entity


def _read_start_tag(data: bytes, i: int, begin: int) -> tuple[int, str, str, dict[str, str]]:
    """Parse `<tag attr=…>` from just after '<'; returns (index of '>', tag, argument, attrs)."""
    n = len(data)

    def at(k: int) -> int:
        return data[k] if k < n else 0

    while at(i) not in _SPACE and at(i) != 62:
        i += 1
    if at(i) == 0:
        raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
    tag = data[begin + 1 : i].lower().decode("utf-8", "replace")
    if tag not in SUPPORTED_TAGS:
        raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
    argument = ""
    attrs: dict[str, str] = {}
    while at(i) != 62:
        while at(i) != 0 and at(i) in _SPACE:
            i += 1
        if at(i) == 62:
            break
        name_begin = i
        while at(i) not in _ATTR_NAME_STOP:
            i += 1
        name = data[name_begin:i].decode("utf-8", "replace")
        if not name:
            raise HtmlParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
        while at(i) != 0 and at(i) in _SPACE:
            i += 1
        if at(i) != 61:
            if at(i) == 0:
                raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
            if tag == "blockquote" and name == "expandable":
                argument = "1"
            continue
        i += 1
        while at(i) != 0 and at(i) in _SPACE:
            i += 1
        if at(i) == 0:
            raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        if at(i) not in (34, 39):
            token_begin = i
            while _is_alnum(at(i)) or at(i) in (45, 46):
                i += 1
            value = data[token_begin:i].lower().decode("utf-8", "replace")
            if at(i) not in _SPACE and at(i) != 62:
                raise HtmlParseError(f"Unexpected end of name token at byte offset {token_begin}")
        else:
            quote = at(i)
            i += 1
            buf = bytearray()
            while at(i) != quote and at(i) != 0:
                if at(i) == 38:
                    code, end = _decode_entity(data, i)
                    if code:
                        buf += _encode(code)
                        i = end
                        continue
                buf.append(at(i))
                i += 1
            if at(i) == quote:
                i += 1
            value = buf.decode("utf-8", "replace")
        if at(i) == 0:
            raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
        if tag == "a" and name == "href":
            argument = value
        elif tag == "code" and name == "class" and value.startswith("language-"):
            argument = value[9:]
        elif tag == "span" and name == "class" and value.startswith("tg-"):
            argument = value[3:]
        elif tag == "tg-emoji" and name == "emoji-id":
            argument = value
        elif tag == "blockquote" and name == "expandable":
            argument = "1"
        elif tag == "tg-time" and name in ("unix", "format"):
            attrs[name] = value
    if tag == "span" and argument != "spoiler":
        raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
    return i, tag, argument, attrs


def parse_html(html: str) -> ParsedText:
    """Parse Telegram HTML like td's parse_html; raises HtmlParseError with td's exact detail."""
    data = html.encode("utf-8", "surrogatepass")
    n = len(data)
    out = bytearray()
    utf16 = 0
    has_surrogate = False
    entities: list[Entity] = []
    stack: list[_Frame] = []
    nesting: list[str] = []
    i = 0
    while i < n:
        m = _SPECIAL.search(data, i)
        j = m.start() if m else n
        if j > i:
            out += data[i:j]
            utf16 += _utf16_units(data[i:j])
            i = j
            continue
        if data[i] == 38:  # '&'
            code, end = _decode_entity(data, i)
            if code:
                has_surrogate = has_surrogate or 0xD800 <= code <= 0xDFFF
                out += _encode(code)
                utf16 += 1 + (code > 0xFFFF)
                i = end
            else:
                out.append(38)
                utf16 += 1
                i += 1
            continue
        begin = i
        i += 1
        if i >= n or data[i] != 47:  # start tag
            i, tag, argument, attrs = _read_start_tag(data, i, begin)
            stack.append(_Frame(tag, argument, attrs, utf16, len(out)))
        else:  # end tag
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {begin}")
            while i < n and data[i] not in _SPACE and data[i] != 62:
                i += 1
            end_tag = data[begin + 2 : i].lower().decode("utf-8", "replace")
            while i < n and data[i] in _SPACE and data[i] != 0:
                i += 1
            if i >= n or data[i] != 62:
                raise HtmlParseError(f"Unclosed end tag at byte offset {begin}")
            frame = stack[-1]
            if end_tag and end_tag != frame.tag:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {begin}, expected "</{frame.tag}>", '
                    f'found "</{end_tag}>"'
                )
            entity = _close_entity(frame, entities, out, utf16) if utf16 > frame.utf16 else None
            stack.pop()
            inner = [e for e in frame.inner if e is not entity and not e.dropped]
            if entity is not None:
                nesting.extend(err for d in inner if (err := _nesting_error(entity, d)))
                inner.append(entity)
            if stack:
                stack[-1].inner.extend(inner)
        i += 1
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    for entity in entities:
        if entity.type == "code":
            entity.extra.pop("language", None)
    entities.sort(key=lambda e: (e.offset, -e.length, _PRIORITY.get(e.type, 50)))
    if has_surrogate:
        raise HtmlParseError(_SURROGATE_ERROR)
    return ParsedText(out.decode("utf-8", "replace"), tuple(entities), tuple(nesting))

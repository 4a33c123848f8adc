"""Pure: read Telegram HTML as Telegram does, to check a post template and to measure a post.

Only the tags Telegram's HTML parse mode accepts (``b strong i em u ins s strike del
tg-spoiler span a code pre blockquote tg-emoji tg-time``), balanced and properly nested, with
quoted or bare attributes; only ``&lt; &gt; &amp; &quot;`` and numeric entities are decoded.
``visible_text`` returns the text after entity parsing, which is what the 4096 limit counts.
"""

from __future__ import annotations

import re

TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "tg-spoiler", "span"}
    | {"code", "pre", "blockquote", "tg-emoji", "tg-time"}
)
_NAME = re.compile(r"[A-Za-z0-9-]*")
_ATTR = re.compile(r"""\s*([^\s=>/"']+)\s*(?:=\s*("[^"]*"|'[^']*'|[^\s>"']*))?""")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,8}|#[xX][0-9A-Fa-f]{1,8});?")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_LEAF = frozenset({"pre", "code"})
"""Nothing may be nested inside these (Telegram drops or rejects it)."""


class HtmlError(ValueError):
    """Telegram would refuse this HTML (or silently mangle it); the message says where and why."""


def _decode(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in _NAMED:
            return _NAMED[name]
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        if not 0 < code < 0x110000 or 0xD800 <= code < 0xE000:
            return m.group(0)
        return chr(code)

    return _ENTITY.sub(one, text)


def _attrs(raw: str, tag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(raw) and raw[pos:].strip():
        m = _ATTR.match(raw, pos)
        if m is None or m.end() == pos:
            raise HtmlError(f'bad attribute in the tag "{tag}": {raw[pos:].strip()[:40]!r}')
        value = m.group(2) or ""
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        out[m.group(1).lower()] = _decode(value)
        pos = m.end()
    return out


def _open(tag: str, attrs: dict[str, str], stack: list[str]) -> None:
    if tag not in TAGS:
        accepted = ", ".join(sorted(TAGS))
        raise HtmlError(f'unsupported tag "<{tag}>" (Telegram accepts only {accepted})')
    if tag == "span" and attrs.get("class") != "tg-spoiler":
        raise HtmlError('a "span" must have class="tg-spoiler"')
    if tag == "tg-emoji" and not re.fullmatch(r"-?[1-9][0-9]*", attrs.get("emoji-id", "")):
        raise HtmlError('"tg-emoji" needs a numeric emoji-id')
    if tag == "a" and "href" not in attrs:
        raise HtmlError('an "a" tag needs an href')
    if stack and stack[-1] in _LEAF and not (stack[-1] == "pre" and tag == "code"):
        raise HtmlError(f'"<{tag}>" inside "<{stack[-1]}>" (nothing may be nested there)')
    if tag in ("a", "blockquote") and tag in stack:
        raise HtmlError(f'"<{tag}>" inside another "<{tag}>"')


def _tag_end(html: str, lt: int) -> int:
    """Index of the '>' that ends the tag opened at ``lt`` (quoted values may hold '>'), or -1."""
    quote = ""
    for i in range(lt + 1, len(html)):
        ch = html[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'" and html[i - 1] in "= ":
            quote = ch
        elif ch == ">":
            return i
        elif ch == "<":
            return -1
    return -1


def visible_text(html: str) -> str:
    """The text Telegram shows for ``html``; raises HtmlError where Telegram would refuse it."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    while True:
        lt = html.find("<", pos)
        if lt < 0:
            out.append(_decode(html[pos:]))
            break
        out.append(_decode(html[pos:lt]))
        gt = _tag_end(html, lt)
        if gt < 0:
            raise HtmlError(f"a '<' without a closing '>' at character {lt} (write &lt;)")
        inner = html[lt + 1 : gt]
        closing = inner.startswith("/")
        body = inner[1:] if closing else inner
        name = _NAME.match(body)
        tag = name.group(0).lower() if name else ""
        rest = body[len(tag) :]
        if closing:
            if rest.strip():
                raise HtmlError(f"a bad end tag </{body}> at character {lt}")
            if not stack:
                raise HtmlError(f"an end tag </{tag}> with no open tag at character {lt}")
            if tag and tag != stack[-1]:
                raise HtmlError(f"</{tag}> at character {lt} closes <{stack[-1]}>")
            stack.pop()
        else:
            if not tag or (rest and not rest[0].isspace()):
                raise HtmlError(f"a bare '<' at character {lt} (write &lt;)")
            _open(tag, _attrs(rest, tag), stack)
            stack.append(tag)
        pos = gt + 1
    if stack:
        raise HtmlError(f"<{stack[-1]}> is never closed")
    return "".join(out)

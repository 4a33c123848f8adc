"""Pure: the targets file (TARGETS_FILE, TOML) → checked Target tuples, or one line saying why not.

```toml
[[target]]
chat = "@news"                 # '@name' or a numeric id (-1001234567890)
topic = 42                     # optional: a forum topic's message_thread_id
keywords = ["Беларусь"]        # optional: only articles matching any of these words
silent = true                  # optional: posts without a notification
template = "post-short.html"   # optional: a post template, relative to this file
```
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from bot.models import Target
from bot.query import parse as parse_query

KEYS = frozenset({"chat", "topic", "keywords", "silent", "template"})
MAX_TARGETS = 100
MAX_KEYWORDS = 50
MAX_KEYWORD_LEN = 200
"""Characters of one keyword, the limit of a keyword subscription."""
_USERNAME = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")


class TargetsError(ValueError):
    """The targets file cannot be used; the message names the file, the target and the problem."""


def _chat(value: object) -> str:
    if isinstance(value, bool):
        raise ValueError("chat must be '@name' or a numeric id, not true/false")
    if isinstance(value, int):
        if value == 0:
            raise ValueError("chat id 0 is not a chat")
        value = str(value)  # checked as text below: at most 16 digits, like Telegram's ids
    if not isinstance(value, str):
        raise ValueError(f"chat must be '@name' or a numeric id, got {type(value).__name__}")
    text = value.strip()
    if re.fullmatch(r"-?[1-9][0-9]{0,15}", text):
        return text
    if _USERNAME.fullmatch(text):
        return text
    raise ValueError(f"chat must be '@name' (5-32 letters, digits, _) or a numeric id: {value!r}")


MAX_TOPIC = 2**31 - 1
"""A message_thread_id is a message id: Telegram's are 32-bit (and SQLite's stop at 2**63)."""


def _topic(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_TOPIC:
        raise ValueError(f"topic must be a positive whole number (message_thread_id): {value!r}")
    return value


def _keywords(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise ValueError('keywords must be a list of strings, e.g. ["Беларусь", "МЧС"]')
    if len(value) > MAX_KEYWORDS:
        raise ValueError(f"at most {MAX_KEYWORDS} keywords per target")
    out: list[str] = []
    for keyword in value:
        words = " ".join(keyword.split())
        if len(words) > MAX_KEYWORD_LEN:
            raise ValueError(f"keyword longer than {MAX_KEYWORD_LEN} characters: {words[:40]}…")
        if parse_query(words) is None:
            raise ValueError(f"keyword {keyword!r} has no words to search for")
        if words not in out:
            out.append(words)
    return tuple(out)


def _target(raw: Mapping[str, object], base: Path) -> Target:
    unknown = sorted(set(raw) - KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(KEYS))})")
    if "chat" not in raw:
        raise ValueError("chat is missing")
    silent = raw.get("silent", False)
    if not isinstance(silent, bool):
        raise ValueError(f"silent must be true or false: {silent!r}")
    template = raw.get("template")
    if template is not None and (not isinstance(template, str) or not template.strip()):
        raise ValueError(f"template must be a file path: {template!r}")
    return Target(
        chat=_chat(raw["chat"]),
        topic=None if raw.get("topic") is None else _topic(raw["topic"]),
        keywords=_keywords(raw.get("keywords", [])),
        silent=silent,
        template=None if template is None else base / template.strip(),
    )


def _where(i: int, raw: object) -> str:
    chat = raw.get("chat") if isinstance(raw, dict) else None
    return f"target {i}" + ("" if chat is None else f" (chat {chat})")


def parse_targets(text: str, name: str, base: Path = Path(".")) -> tuple[Target, ...]:
    """The targets in ``text`` (``name`` for messages; templates relative to ``base``)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TargetsError(f"TARGETS_FILE {name}: not valid TOML: {exc}") from None
    extra = sorted(set(doc) - {"target"})
    if extra:
        raise TargetsError(f"TARGETS_FILE {name}: unknown key {extra[0]!r} (use [[target]])")
    tables = doc.get("target")
    if not isinstance(tables, list) or not tables:
        raise TargetsError(f"TARGETS_FILE {name}: no targets (add [[target]] tables)")
    if len(tables) > MAX_TARGETS:
        raise TargetsError(f"TARGETS_FILE {name}: more than {MAX_TARGETS} targets")
    targets: list[Target] = []
    seen: dict[tuple[str, int | None], int] = {}
    for i, raw in enumerate(tables, start=1):
        where = _where(i, raw)
        if not isinstance(raw, dict):
            raise TargetsError(f"TARGETS_FILE {name}: {where}: must be a [[target]] table")
        try:
            target = _target(raw, base)
        except ValueError as exc:
            raise TargetsError(f"TARGETS_FILE {name}: {where}: {exc}") from None
        if target.key in seen:
            first = seen[target.key]
            raise TargetsError(
                f"TARGETS_FILE {name}: {where}: duplicate of target {first} (same chat and topic)"
            )
        seen[target.key] = i
        targets.append(target)
    return tuple(targets)


def load_targets(path: Path) -> tuple[Target, ...]:
    """Read and check the targets file (TargetsError names it and what is wrong)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or exc
        raise TargetsError(f"TARGETS_FILE {path}: cannot read it ({reason})") from None
    except UnicodeDecodeError:
        raise TargetsError(f"TARGETS_FILE {path}: not UTF-8 text") from None
    return parse_targets(text, str(path), path.parent)


def default_targets(channel_id: str | None) -> tuple[Target, ...]:
    """Without a targets file, CHANNEL_ID is the one target (none without it)."""
    return () if channel_id is None else (Target(chat=channel_id),)

"""Settings from the environment (and .env): validated once at start, token never shown."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv

from bot import synonyms
from bot.models import Target
from bot.quiet import QUIET_MODES, QuietHours, QuietMode, parse_quiet_hours
from bot.targets import TargetsError, default_targets, load_targets

DEFAULT_API_URL = "https://api.telegram.org"
DEFAULT_LISTEN = ("127.0.0.1", 8080)
WEBHOOK_PORTS = (80, 88, 443, 8443)
"""The only ports Telegram delivers webhooks to (setWebhook refuses any other)."""
RESERVED_PATHS = ("/healthz", "/readyz", "/metrics")
"""Served by the bot's own HTTP server, so the webhook cannot live there."""
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
WithdrawnPosts = Literal["keep", "notice", "delete"]
"""What a withdrawal does to the article's channel post (docs/delivery.md)."""
WITHDRAWN_MODES: tuple[WithdrawnPosts, ...] = ("keep", "notice", "delete")
ApprovalDefault = Literal["publish", "skip"]
"""What APPROVAL_TIMEOUT does to an article nobody decided on (docs/editor.md, Approval)."""


class ConfigError(Exception):
    """A setting has a bad value; the message names the variable and never contains the token."""


class Secret(str):
    """A str whose repr and str hide the value, so the token cannot leak through logging."""

    def __repr__(self) -> str:
        return "Secret('***')" if self else "Secret('')"

    def __str__(self) -> str:
        return "***" if self else ""

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def reveal(self) -> str:
        """The real value, for the one place that needs it (the aiogram Bot)."""
        return str.__str__(self)


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting the bot reads; see .env.example for the documented defaults."""

    bot_token: Secret = field(default_factory=lambda: Secret(""), repr=False)
    telegram_api_url: str = DEFAULT_API_URL
    channel_id: str | None = None
    admin_ids: frozenset[int] = frozenset()
    seeds_dir: Path = Path("seeds")
    db_path: Path = Path("data/bot.sqlite3")
    post_interval: float = 60.0
    post_backlog: int = 5
    settle_seconds: float = 10.0
    """A new or changed seed file is applied once unchanged this long (0: at once)."""
    source_tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Moscow"))
    log_level: str = "INFO"
    post_template: Path | None = None
    """POST_TEMPLATE: checked (rendered for a sample article) when the App is built."""
    targets_file: Path | None = None
    targets: tuple[Target, ...] = ()
    """From TARGETS_FILE, else CHANNEL_ID as the one target (empty without either)."""
    quiet_hours: QuietHours | None = None
    quiet_mode: QuietMode = "silent"
    webhook_url: str | None = None
    """WEBHOOK_URL: set means webhook mode; its path is where updates arrive."""
    webhook_secret: Secret = field(default_factory=lambda: Secret(""), repr=False)
    http_listen: tuple[str, int] = DEFAULT_LISTEN
    http_listen_set: bool = False
    """HTTP_LISTEN was given: polling mode then serves /healthz, /readyz and /metrics too."""
    feeds: tuple[str, ...] = ()
    feed_interval: float = 300.0
    utm_params: tuple[tuple[str, str], ...] = ()
    withdrawn_posts: WithdrawnPosts = "notice"
    synonyms_file: Path | None = None
    """SYNONYMS_FILE: a deployment's extra equivalent names (read and checked at start)."""
    approval: bool = False
    """APPROVAL=on: new articles wait for an admin's decision before they are posted."""
    approval_timeout: float = 0.0
    """APPROVAL_TIMEOUT in minutes (0: wait for a decision however long it takes)."""
    approval_default: ApprovalDefault = "publish"

    @property
    def has_token(self) -> bool:
        return bool(self.bot_token.reveal().strip())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
        """Read and validate settings; ``env`` defaults to os.environ after loading ``.env``."""
        if env is None:
            if dotenv:
                load_dotenv(Path.cwd() / ".env", override=False)
            env = os.environ
        channel_id = _channel(_get(env, "CHANNEL_ID"))
        source_tz = _zone(_get(env, "SOURCE_TZ", "Europe/Moscow"))
        targets_file = _path(_get(env, "TARGETS_FILE"))
        return cls(
            bot_token=Secret(_get(env, "BOT_TOKEN")),
            telegram_api_url=_api_url(_get(env, "TELEGRAM_API_URL", DEFAULT_API_URL)),
            channel_id=channel_id,
            admin_ids=_admin_ids(_get(env, "ADMIN_IDS")),
            seeds_dir=Path(_get(env, "SEEDS_DIR", "seeds") or "seeds"),
            db_path=Path(_get(env, "DB_PATH", "data/bot.sqlite3") or "data/bot.sqlite3"),
            post_interval=_number(env, "POST_INTERVAL", 60.0, minimum=1.0),
            post_backlog=int(_number(env, "POST_BACKLOG", 5, minimum=0, integer=True)),
            settle_seconds=_number(env, "SETTLE_SECONDS", 10.0, minimum=0.0),
            source_tz=source_tz,
            log_level=_log_level(_get(env, "LOG_LEVEL", "INFO")),
            post_template=_path(_get(env, "POST_TEMPLATE")),
            targets_file=targets_file,
            targets=_targets(targets_file, channel_id),
            quiet_hours=_quiet_hours(_get(env, "QUIET_HOURS"), source_tz),
            quiet_mode=_quiet_mode(_get(env, "QUIET_MODE", "silent")),
            feeds=_feeds(_get(env, "FEEDS")),
            feed_interval=_number(env, "FEED_INTERVAL", 300.0, minimum=1.0),
            utm_params=_utm_params(_get(env, "UTM_PARAMS")),
            withdrawn_posts=_withdrawn_posts(_get(env, "WITHDRAWN_POSTS", "notice")),
            synonyms_file=_synonyms_file(_get(env, "SYNONYMS_FILE")),
            **_approval(env),
            **_webhook(env),
        )

    def with_paths(self, seeds_dir: Path | None = None, db_path: Path | None = None) -> Settings:
        """A copy with the CLI's --seeds/--db overrides applied."""
        from dataclasses import replace

        return replace(
            self,
            seeds_dir=seeds_dir if seeds_dir is not None else self.seeds_dir,
            db_path=db_path if db_path is not None else self.db_path,
        )


def _get(env: Mapping[str, str], name: str, default: str = "") -> str:
    value = env.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def _api_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"TELEGRAM_API_URL must start with http:// or https://, got {value!r}")
    return value.rstrip("/")


def _channel(value: str) -> str | None:
    if not value:
        return None
    if value.startswith("@") and len(value) > 1:
        return value
    try:
        int(value)
    except ValueError:
        raise ConfigError(
            f"CHANNEL_ID must be a numeric chat id (e.g. -1001234567890) or @channelname, "
            f"got {value!r}"
        ) from None
    return value


def _admin_ids(value: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            ids.add(int(part))
        except ValueError:
            raise ConfigError(
                f"ADMIN_IDS must be comma-separated numeric user ids, got {part!r}"
            ) from None
    return frozenset(ids)


def _webhook(env: Mapping[str, str]) -> dict[str, object]:
    """WEBHOOK_URL, WEBHOOK_SECRET and HTTP_LISTEN, checked together: never a webhook without
    a secret, never one Telegram would refuse to call."""
    listen = _get(env, "HTTP_LISTEN")
    url, secret = _get(env, "WEBHOOK_URL"), _get(env, "WEBHOOK_SECRET")
    values: dict[str, object] = {
        "http_listen": _listen(listen) if listen else DEFAULT_LISTEN,
        "http_listen_set": bool(listen),
    }
    if not url:
        return values
    values["webhook_url"] = _webhook_url(url)
    if not secret:
        raise ConfigError("WEBHOOK_SECRET must be set with WEBHOOK_URL (1-256 of A-Za-z0-9_-)")
    if len(secret) > 256:
        raise ConfigError(f"WEBHOOK_SECRET must be at most 256 characters, got {len(secret)}")
    if not _SECRET.fullmatch(secret):
        raise ConfigError("WEBHOOK_SECRET may hold only A-Z a-z 0-9 _ - (it has other characters)")
    values["webhook_secret"] = Secret(secret)
    return values


def _webhook_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigError(f"WEBHOOK_URL must be an https:// address, got {value!r}")
    try:
        port = parts.port or 443
    except ValueError:
        raise ConfigError(f"WEBHOOK_URL has a bad port, got {value!r}") from None
    if port not in WEBHOOK_PORTS:
        raise ConfigError(f"WEBHOOK_URL must use port 443, 80, 88 or 8443, got {port}")
    if parts.fragment or (parts.path or "/") in RESERVED_PATHS:
        raise ConfigError(
            f"WEBHOOK_URL needs a path of its own (not {', '.join(RESERVED_PATHS)}, no #), "
            f"got {value!r}"
        )
    return value


def webhook_path(url: str) -> str:
    """The local route for WEBHOOK_URL: its path (a reverse proxy passes it through)."""
    return urlsplit(url).path or "/"


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError(
            f"HTTP_LISTEN must be host:port (e.g. 127.0.0.1:8080 or [::1]:8080), got {value!r}"
        )
    return host, int(port)


def _number(
    env: Mapping[str, str], name: str, default: float, *, minimum: float, integer: bool = False
) -> float:
    raw = _get(env, name)
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise ConfigError(f"{name} must be {kind}, got {raw!r}") from None
    if value != value or value < minimum or value == float("inf"):
        raise ConfigError(f"{name} must be at least {minimum:g}, got {raw!r}")
    return value


def _zone(value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"SOURCE_TZ must be an IANA time zone such as Europe/Moscow, got {value!r}"
        ) from None


def _path(value: str) -> Path | None:
    return Path(value) if value else None


def _targets(path: Path | None, channel_id: str | None) -> tuple[Target, ...]:
    if path is None:
        return default_targets(channel_id)
    try:
        return load_targets(path)
    except TargetsError as exc:
        raise ConfigError(str(exc)) from None


def _quiet_hours(value: str, tz: ZoneInfo) -> QuietHours | None:
    try:
        return parse_quiet_hours(value, tz)
    except ValueError as exc:
        raise ConfigError(f"QUIET_HOURS: {exc}") from None


def _quiet_mode(value: str) -> QuietMode:
    mode = value.lower()
    for known in QUIET_MODES:
        if mode == known:
            return known
    raise ConfigError(f"QUIET_MODE must be one of {', '.join(QUIET_MODES)}, got {value!r}")


def _log_level(value: str) -> str:
    level = value.upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return level


def _feeds(value: str) -> tuple[str, ...]:
    """Comma-separated absolute http(s) URLs, each once, in the order given."""
    urls: list[str] = []
    for part in value.split(","):
        url = part.strip()
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
            raise ConfigError(
                f"FEEDS must be comma-separated http:// or https:// feed URLs, got {url!r}"
            )
        if url not in urls:
            urls.append(url)
    return tuple(urls)


def _utm_params(value: str) -> tuple[tuple[str, str], ...]:
    """A query string such as ``utm_source=telegram&utm_medium=channel``."""
    if not value:
        return ()
    try:
        pairs = parse_qsl(value.lstrip("?"), keep_blank_values=True, strict_parsing=True)
    except ValueError:
        pairs = []
    if not pairs or any(not k.strip() or " " in k for k, _ in pairs):
        raise ConfigError(
            f"UTM_PARAMS must be a query string like utm_source=telegram&utm_medium=channel, "
            f"got {value!r}"
        )
    return tuple(pairs)


def _withdrawn_posts(value: str) -> WithdrawnPosts:
    for mode in WITHDRAWN_MODES:
        if value.lower() == mode:
            return mode
    raise ConfigError(f"WITHDRAWN_POSTS must be one of keep, notice, delete, got {value!r}")


def _synonyms_file(value: str) -> Path | None:
    """The file's path once it reads and parses (a bad line stops the start, named)."""
    if not value:
        return None
    path = Path(value)
    try:
        synonyms.read(path)
    except synonyms.SynonymsError as exc:
        raise ConfigError(f"SYNONYMS_FILE {exc}") from None
    return path


def _approval(env: Mapping[str, str]) -> dict[str, object]:
    """APPROVAL=on|off, APPROVAL_TIMEOUT (minutes, 0 = wait), APPROVAL_DEFAULT=publish|skip;
    approval needs ADMIN_IDS (nobody could decide otherwise)."""
    raw = _get(env, "APPROVAL", "off")
    if raw.lower() not in ("on", "off"):
        raise ConfigError(f"APPROVAL must be on or off, got {raw!r}")
    default = _get(env, "APPROVAL_DEFAULT", "publish")
    if default.lower() not in ("publish", "skip"):
        raise ConfigError(f"APPROVAL_DEFAULT must be publish or skip, got {default!r}")
    on = raw.lower() == "on"
    if on and not _admin_ids(_get(env, "ADMIN_IDS")):
        raise ConfigError("APPROVAL=on needs ADMIN_IDS: nobody could approve a post")
    return {
        "approval": on,
        "approval_timeout": _number(env, "APPROVAL_TIMEOUT", 0.0, minimum=0.0),
        "approval_default": "skip" if default.lower() == "skip" else "publish",
    }


def configure_logging(level: str) -> None:
    """Plain one-line logs to stderr; aiogram's own event log stays at WARNING unless DEBUG."""
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if level != "DEBUG":
        logging.getLogger("aiogram.event").setLevel(logging.WARNING)

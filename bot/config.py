"""Settings from the environment (and .env): validated once at start, token never shown."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv

DEFAULT_API_URL = "https://api.telegram.org"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
WithdrawnPosts = Literal["keep", "notice", "delete"]
"""What a withdrawal does to the article's channel post (docs/delivery.md)."""
WITHDRAWN_MODES: tuple[WithdrawnPosts, ...] = ("keep", "notice", "delete")


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
    withdrawn_posts: WithdrawnPosts = "notice"

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
        return cls(
            bot_token=Secret(_get(env, "BOT_TOKEN")),
            telegram_api_url=_api_url(_get(env, "TELEGRAM_API_URL", DEFAULT_API_URL)),
            channel_id=_channel(_get(env, "CHANNEL_ID")),
            admin_ids=_admin_ids(_get(env, "ADMIN_IDS")),
            seeds_dir=Path(_get(env, "SEEDS_DIR", "seeds") or "seeds"),
            db_path=Path(_get(env, "DB_PATH", "data/bot.sqlite3") or "data/bot.sqlite3"),
            post_interval=_number(env, "POST_INTERVAL", 60.0, minimum=1.0),
            post_backlog=int(_number(env, "POST_BACKLOG", 5, minimum=0, integer=True)),
            settle_seconds=_number(env, "SETTLE_SECONDS", 10.0, minimum=0.0),
            source_tz=_zone(_get(env, "SOURCE_TZ", "Europe/Moscow")),
            log_level=_log_level(_get(env, "LOG_LEVEL", "INFO")),
            withdrawn_posts=_withdrawn_posts(_get(env, "WITHDRAWN_POSTS", "notice")),
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


def _log_level(value: str) -> str:
    level = value.upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return level


def _withdrawn_posts(value: str) -> WithdrawnPosts:
    for mode in WITHDRAWN_MODES:
        if value.lower() == mode:
            return mode
    raise ConfigError(f"WITHDRAWN_POSTS must be one of keep, notice, delete, got {value!r}")


def configure_logging(level: str) -> None:
    """Plain one-line logs to stderr; aiogram's own event log stays at WARNING unless DEBUG."""
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if level != "DEBUG":
        logging.getLogger("aiogram.event").setLevel(logging.WARNING)

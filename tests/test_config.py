"""Settings validation: bad values are one-line errors naming the variable; no token leaks."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings

TOKEN = "123456:AAE-secret-token-value"


def test_defaults() -> None:
    s = Settings.from_env({})
    assert s.telegram_api_url == "https://api.telegram.org"
    assert s.seeds_dir == Path("seeds")
    assert s.db_path == Path("data/bot.sqlite3")
    assert s.post_interval == 60
    assert s.post_backlog == 5
    assert s.source_tz.key == "Europe/Moscow"
    assert s.log_level == "INFO"
    assert s.withdrawn_posts == "notice"
    assert s.admin_ids == frozenset()
    assert s.channel_id is None
    assert not s.has_token


def test_values_are_parsed() -> None:
    s = Settings.from_env(
        {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": "http://127.0.0.1:8081/",
            "CHANNEL_ID": "-1001234567890",
            "ADMIN_IDS": " 1, 22 ,333,",
            "POST_INTERVAL": "2.5",
            "POST_BACKLOG": "0",
            "SOURCE_TZ": "Asia/Yekaterinburg",
            "LOG_LEVEL": "debug",
        }
    )
    assert s.bot_token.reveal() == TOKEN
    assert s.telegram_api_url == "http://127.0.0.1:8081"
    assert s.channel_id == "-1001234567890"
    assert s.admin_ids == {1, 22, 333}
    assert s.post_interval == 2.5
    assert s.post_backlog == 0
    assert s.log_level == "DEBUG"
    assert Settings.from_env({"CHANNEL_ID": "@news"}).channel_id == "@news"
    for mode in ("keep", "notice", "delete"):
        assert Settings.from_env({"WITHDRAWN_POSTS": f" {mode.upper()} "}).withdrawn_posts == mode


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADMIN_IDS", "abc"),
        ("ADMIN_IDS", "1,2,x"),
        ("POST_INTERVAL", "-1"),
        ("POST_INTERVAL", "soon"),
        ("POST_INTERVAL", "nan"),
        ("POST_BACKLOG", "1.5"),
        ("POST_BACKLOG", "-3"),
        ("SOURCE_TZ", "Mars/Olympus"),
        ("LOG_LEVEL", "LOUD"),
        ("CHANNEL_ID", "my channel"),
        ("TELEGRAM_API_URL", "api.telegram.org"),
        ("FEEDS", "example.com/rss"),
        ("FEEDS", "https://site.example/rss, ftp://site.example/feed.xml"),
        ("FEEDS", "https://"),
        ("FEED_INTERVAL", "0.5"),
        ("FEED_INTERVAL", "often"),
        ("UTM_PARAMS", "utm_source"),
        ("UTM_PARAMS", "=telegram"),
        ("WITHDRAWN_POSTS", "remove"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({name: value, "BOT_TOKEN": TOKEN})
    message = str(info.value)
    assert name in message
    assert "\n" not in message
    assert TOKEN not in message


def test_feed_settings() -> None:
    assert Settings.from_env({}).feeds == ()
    assert Settings.from_env({}).feed_interval == 300
    assert Settings.from_env({}).utm_params == ()
    s = Settings.from_env(
        {
            "FEEDS": " https://site.example/rss ,,http://site.example/atom.xml,"
            "https://site.example/rss",
            "FEED_INTERVAL": "1",
            "UTM_PARAMS": "utm_source=telegram&utm_medium=channel",
        }
    )
    assert s.feeds == ("https://site.example/rss", "http://site.example/atom.xml")
    assert s.feed_interval == 1
    assert s.utm_params == (("utm_source", "telegram"), ("utm_medium", "channel"))


def test_token_never_shown() -> None:
    s = Settings.from_env({"BOT_TOKEN": TOKEN})
    for shown in (repr(s), str(s), f"{s.bot_token}", "%s" % s.bot_token, repr(s.bot_token)):  # noqa: UP031
        assert TOKEN not in shown
        assert "secret" not in shown

"""The editor's controls end to end: /preview, a custom post template, quiet hours, and bad
template or targets files stopping the start."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from bot.config import Settings
from bot.quiet import parse_quiet_hours
from bot.telegram.posts import READ_MORE
from tests.fake_telegram import FakeTelegram
from tests.helpers import (
    ADMIN,
    MSK,
    ROOT,
    TEST_TOKEN,
    channel,
    run_bot_command,
    say,
    start_fast_bot,
    write_seed,
)

STRANGER = 901
MARKER = (
    "<b>{{ title }}</b> · #{{ id }}\n<i>{{ date }}</i>\n\n{{ lead }}\n"
    "{% for p in body %}\n{{ p }}\n{% endfor %}\nMARKER"
)


@pytest.fixture
def cfg(settings: Settings, tmp_path: Path) -> Settings:
    template = tmp_path / "post.html"
    template.write_text(MARKER, encoding="utf-8")
    return replace(
        settings,
        channel_id="@news",
        admin_ids=frozenset({ADMIN}),
        post_interval=3600,
        post_template=template,
    )


async def test_preview_is_exactly_what_the_channel_gets(cfg: Settings, fake: FakeTelegram) -> None:
    write_seed(cfg.seeds_dir, "long.txt", "Длинная новость", ["Длинный абзац текста. " * 60] * 5)
    app = await start_fast_bot(cfg, fake)
    try:
        short_post, long_post = await fake.wait_for_messages(channel(fake), 2)
        assert short_post.html.endswith("MARKER") and "· #1\n" in short_post.html
        assert short_post.buttons == []
        assert long_post.buttons[0]["text"] == READ_MORE  # too long: the card, as before
        for article_id, posted in ((1, short_post), (2, long_post)):
            mark = fake.mark()
            fake.push_message(ADMIN, text=f"/preview {article_id}")
            [preview] = await fake.wait_for_messages(ADMIN, 1, since=mark)
            assert (preview.html, preview.buttons) == (posted.html, posted.buttons)
            command = preview.extra["reply_to_message"]
            assert command["text"] == f"/preview {article_id}"  # a reply, not a post
        assert "Статьи 77 нет" in (await say(fake, ADMIN, "/preview 77"))[0].text
        assert "Использование" in (await say(fake, ADMIN, "/preview"))[0].text
        [refused] = await say(fake, STRANGER, "/preview 1")
        assert refused.text == "Эта команда только для администраторов бота."
        assert len(fake.sent_messages(channel(fake))) == 2  # previews never reach the channel
        admin_menu = [c["command"] for c in fake.resolve_commands(ADMIN)]
        reader_menu = [c["command"] for c in fake.resolve_commands(STRANGER)]
        assert "preview" in admin_menu and "preview" not in reader_menu
        for lang in ("en", "ru"):
            assert "preview" not in [
                c["command"] for c in fake.resolve_commands(STRANGER, language_code=lang)
            ]
        fake.assert_clean()
    finally:
        await app.stop()


async def test_quiet_hours_send_posts_and_alerts_silently(
    settings: Settings, fake: FakeTelegram
) -> None:
    cfg = replace(
        settings,
        channel_id="@news",
        admin_ids=frozenset({ADMIN}),
        post_interval=3600,
        post_backlog=0,
        quiet_hours=parse_quiet_hours("23:00-07:00", MSK),
    )
    now = [datetime(2025, 5, 21, 23, 30, tzinfo=MSK).timestamp()]  # inside, before midnight
    app = await start_fast_bot(cfg, fake, clock=lambda: now[0])
    try:
        await say(fake, 7, "/subscribe")
        write_seed(cfg.seeds_dir, "night.txt", "Ночная новость", ["Текст."])
        await say(fake, ADMIN, "/reload")
        [night_post] = await fake.wait_for_messages(channel(fake), 1)
        [night_alert] = [m for m in await fake.wait_for_messages(7, 2) if m.buttons]
        assert night_post.silent and night_alert.silent
        now[0] = datetime(2025, 5, 22, 6, 59, tzinfo=MSK).timestamp()  # after midnight: inside
        write_seed(cfg.seeds_dir, "dawn.txt", "Утренняя новость", ["Текст."])
        await say(fake, ADMIN, "/reload")
        dawn_post = (await fake.wait_for_messages(channel(fake), 2))[1]
        assert dawn_post.silent
        now[0] = datetime(2025, 5, 22, 7, 0, tzinfo=MSK).timestamp()  # the window has ended
        write_seed(cfg.seeds_dir, "day.txt", "Дневная новость", ["Текст."])
        await say(fake, ADMIN, "/reload")
        day_post = (await fake.wait_for_messages(channel(fake), 3))[2]
        await fake.wait_for(lambda: len([m for m in fake.sent_messages(7) if m.buttons]) == 3)
        day_alert = [m for m in fake.sent_messages(7) if m.buttons][-1]
        assert not day_post.silent and not day_alert.silent
        replies = [m for m in fake.sent_messages(ADMIN)]
        assert replies and not any(m.silent for m in replies)  # replies are never silenced
        fake.assert_clean()
    finally:
        await app.stop()


def run_bot(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "ADMIN_IDS"}}
    full_env |= {"PYTHONPATH": str(ROOT), "BOT_TOKEN": TEST_TOKEN, **env}
    full_env["TELEGRAM_API_URL"] = "http://127.0.0.1:9"  # never reached: the check comes first
    return run_bot_command(["run"], env=full_env, cwd=cwd)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert TEST_TOKEN not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    return lines[0]


def test_a_bad_template_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "post.html").write_text("<b>{{ title }}</b><br>{{ lead }}", encoding="utf-8")
    env = {"POST_TEMPLATE": "post.html", "SEEDS_DIR": str(ROOT / "seeds")}
    line = one_line(run_bot(env, tmp_path))
    assert line.startswith("error: POST_TEMPLATE post.html: ")
    assert 'unsupported tag "<br>"' in line
    assert not (tmp_path / "data").exists()  # stopped before opening the database
    line = one_line(run_bot({"POST_TEMPLATE": "missing.html"}, tmp_path))
    assert "POST_TEMPLATE missing.html: cannot read it" in line


def test_a_bad_targets_file_stops_the_start(tmp_path: Path) -> None:
    targets = tmp_path / "targets.toml"
    targets.write_text(
        '[[target]]\nchat = "@news"\n\n[[target]]\nchat = -1001\ntopic = -5\n', encoding="utf-8"
    )
    line = one_line(run_bot({"TARGETS_FILE": "targets.toml"}, tmp_path))
    assert line == (
        "error: TARGETS_FILE targets.toml: target 2 (chat -1001): topic must be a positive "
        "whole number (message_thread_id): -5"
    )
    (tmp_path / "short.html").write_text("{{ nothing }}", encoding="utf-8")
    targets.write_text('[[target]]\nchat = "@news"\ntemplate = "short.html"\n', encoding="utf-8")
    line = one_line(run_bot({"TARGETS_FILE": "targets.toml"}, tmp_path))
    assert line.startswith("error: TARGETS_FILE targets.toml: target 1 (chat @news): template ")
    assert "'nothing' is undefined" in line

"""The offline console: piped input drives the real Dispatcher and prints readable replies."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import run_bot
from bot.config import Settings
from bot.console import run_console
from tests.helpers import run_bot_command, write_seed

TITLE = "В России назвали Беларусь стратегическим партнером в сфере военно-технического"


async def chat(settings: Settings, lines: list[str], language: str = "ru") -> tuple[int, str]:
    out = io.StringIO()
    code = await run_console(
        settings,
        stdin=io.StringIO("".join(f"{x}\n" for x in lines)),
        stdout=out,
        language=language,
    )
    return code, out.getvalue()


async def test_latest_search_article_on_the_real_seed(settings: Settings) -> None:
    code, out = await chat(
        settings, ["/latest", "/search партнёр", "/article 1", "/article 999", "/quit", "/help"]
    )
    assert code == 0
    assert "1 article(s)" in out
    assert TITLE in out and "21.05.2025 10:37" in out
    assert "Найдено: 1 · запрос «партнёр»" in out
    assert "Фото: Виктор Толочко / РИА Новости" in out
    assert "Военно-техническому сотрудничеству России и Беларуси" in out
    assert "Статьи с номером 999 нет" in out
    assert "[1] 1. В России назвали" in out
    assert "<b>" not in out and "&quot;" not in out and "&lt;" not in out
    assert "Справка" not in out and "/latest [n] —" not in out  # nothing after /quit


async def test_buttons_are_pressed_by_number(settings: Settings, seeds_dir: Path) -> None:
    for i in range(2, 8):
        write_seed(
            seeds_dir,
            f"{i:03}.txt",
            f"Новость номер {i}",
            [f"Текст новости {i}."],
            date=f"2{i} мая 2025 г. 12:00",
        )
    code, out = await chat(settings, ["/latest 3", "4", "1", "9"])
    assert code == 0  # end of input without /quit also exits cleanly
    assert "стр. 1 из 3" in out
    assert "[4] Вперёд ▶" in out
    assert "bot (edited)> Последние статьи · стр. 2 из 3" in out
    assert "[1] 4. Новость номер 4" in out
    assert "bot> Новость номер 4" in out and "Текст новости 4." in out
    assert "(there is no button 9)" in out


async def test_english_inline_mode_and_deep_link(settings: Settings) -> None:
    code, out = await chat(settings, ["@партнёр", "1", "/start a_1", "/start"], "en")
    assert code == 0
    assert "bot (inline results)> 1 found" in out
    assert "you (via inline)> " + TITLE in out
    assert "Read the whole article in the bot (https://t.me/newsbot_offline?start=a_1)" in out
    assert "Photo: Виктор Толочко" in out
    assert "Hello! I am a news bot" in out


async def test_unknown_command_text_and_bad_search(settings: Settings) -> None:
    code, out = await chat(
        settings, ["/nope", "привет", "/search", '/search "" NEAR( ) OR', "/search <script>"]
    )
    assert code == 0
    assert "Не знаю такой команды" in out
    assert "/search привет" in out
    assert "Что искать?" in out
    assert "<script>" in out  # echoed back as text (escaped on the wire, readable here)


def run_cli(args: list[str], settings: Settings, stdin: str = "") -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "BOT_TOKEN": "",
        "SEEDS_DIR": str(settings.seeds_dir),
        "DB_PATH": str(settings.db_path),
        "LOG_LEVEL": "WARNING",
    }
    return run_bot_command(args, env=env, cwd=settings.seeds_dir.parent, input=stdin)


def test_cli_console_and_run_without_token(settings: Settings) -> None:
    result = run_cli(["console"], settings, "/search партнёр\n")
    assert result.returncode == 0, result.stderr
    assert "Найдено: 1" in result.stdout
    result = run_cli([], settings)
    assert result.returncode == 2
    assert "BOT_TOKEN" in result.stderr and "python -m bot console" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


async def test_run_without_token_can_open_the_console(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("/article 1\n"))
    assert await run_bot(settings, console_if_no_token=True) == 0
    out, err = capsys.readouterr()
    assert "offline console" in err and "BOT_TOKEN" in err
    assert TITLE in out

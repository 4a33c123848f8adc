"""The command line as a user runs it: ``python -m bot ingest`` and its errors, in a subprocess."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT, copy_seeds, run_bot_command

TOKEN = "123456:AAE-very-secret"


def run_bot(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "ADMIN_IDS"}}
    full_env["PYTHONPATH"] = str(ROOT)
    full_env.update(env or {})
    return run_bot_command(list(args), env=full_env, cwd=cwd or ROOT)


def test_ingest_reports_then_unchanged(tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    db = tmp_path / "data" / "bot.sqlite3"
    first = run_bot("ingest", "--seeds", str(seeds), "--db", str(db))
    assert first.returncode == 0, first.stderr
    assert "added      1" in first.stdout
    assert "failed     0" in first.stdout
    assert db.exists()
    second = run_bot("ingest", "--seeds", str(seeds), "--db", str(db))
    assert second.returncode == 0
    assert "unchanged  1" in second.stdout
    assert "added      0" in second.stdout


def test_ingest_and_search_do_not_load_aiogram(tmp_path: Path) -> None:
    """Importing aiogram costs seconds and ~165 MB: the commands without Telegram skip it."""
    seeds = copy_seeds(tmp_path / "seeds")
    db = tmp_path / "bot.sqlite3"
    for args in (("ingest", "--seeds", str(seeds), "--db", str(db)),
                 ("search", "партнёр", "--db", str(db))):  # fmt: skip
        done = run_bot(*args, env={"PYTHONPROFILEIMPORTTIME": "1"})
        assert done.returncode == 0, done.stderr
        modules = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()]
        assert "bot.store.db" in modules  # the import log is there…
        assert not [m for m in modules if m.startswith("aiogram")], args  # …without aiogram
    assert "партнер" in done.stdout.lower()


def test_ingest_uses_env_settings_and_names_failed_files(tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    (seeds / "broken.txt").write_bytes(b"")
    env = {"SEEDS_DIR": str(seeds), "DB_PATH": str(tmp_path / "x" / "y.sqlite3")}
    result = run_bot("ingest", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "failed     1" in result.stdout
    assert "failed: broken.txt:" in result.stdout


def test_ingest_cannot_run_exits_1(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_bot("ingest", "--seeds", str(ROOT / "seeds"), "--db", str(blocker / "db.sqlite3"))
    assert result.returncode == 1
    assert "error:" in result.stderr
    assert "Traceback" not in result.stderr
    missing = run_bot("ingest", "--seeds", str(tmp_path / "nope"), "--db", str(tmp_path / "d"))
    assert missing.returncode == 1
    assert "does not exist" in missing.stderr


@pytest.mark.parametrize("args", [["frobnicate"], ["ingest", "--nope"], ["search"], ["--bad"]])
def test_bad_usage_exits_2_with_usage(args: list[str]) -> None:
    result = run_bot(*args)
    assert result.returncode == 2
    assert "usage:" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADMIN_IDS", "abc"),
        ("POST_INTERVAL", "-1"),
        ("SOURCE_TZ", "Nowhere"),
        ("WITHDRAWN_POSTS", "sometimes"),
    ],
)
def test_bad_setting_is_one_line_exit_2(name: str, value: str, tmp_path: Path) -> None:
    result = run_bot("ingest", env={name: value, "BOT_TOKEN": TOKEN}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0]
    assert TOKEN not in result.stderr + result.stdout


def test_dotenv_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("POST_INTERVAL=zero\n", encoding="utf-8")
    result = run_bot("ingest", cwd=tmp_path)
    assert result.returncode == 2
    assert "POST_INTERVAL" in result.stderr

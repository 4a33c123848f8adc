"""Duplicates, renames and settling files, as `python -m bot ingest` and /reload name them."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import replace
from pathlib import Path

from bot.config import Settings
from tests.fake_telegram import FakeTelegram
from tests.helpers import (
    ADMIN,
    REAL_SEED,
    ROOT,
    copy_seeds,
    run_bot_command,
    say,
    start_fast_bot,
    write_seed,
)


def ingest(seeds: Path, db: Path, settle: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    env.update(PYTHONPATH=str(ROOT), SETTLE_SECONDS=settle)
    return run_bot_command(["ingest", "--seeds", str(seeds), "--db", str(db)], env=env, cwd=ROOT)


def test_cli_waits_for_a_file_being_written_and_names_duplicates(tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    db = tmp_path / "bot.sqlite3"
    shutil.copy(seeds / REAL_SEED.name, seeds / "again.txt")  # copy2 would keep the old mtime
    fresh = write_seed(seeds, "fresh.txt", "Свежая новость", ["Только что записана."])
    ahead = time.time() + 3600  # an mtime ahead of the clock: settles SETTLE_SECONDS after
    os.utime(fresh, (ahead, ahead))  # first sight, however long the process takes to start
    started = time.monotonic()
    result = ingest(seeds, db, settle="2")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 2  # it waited for the fresh file to settle
    assert "to settle" in result.stderr
    assert "added      2" in result.stdout
    assert "duplicate  1" in result.stdout
    assert "duplicate: again.txt" in result.stdout
    assert "settling" not in result.stdout
    again = ingest(seeds, db, settle="2")
    assert "unchanged  3" in again.stdout and "duplicate  0" in again.stdout


async def test_reload_names_duplicates_and_renames(settings: Settings, fake: FakeTelegram) -> None:
    cfg = replace(settings, channel_id="@news", admin_ids=frozenset({ADMIN}), post_backlog=0)
    bot = await start_fast_bot(cfg, fake)
    try:
        await fake.wait_for_request("getUpdates")
        seeds = cfg.seeds_dir
        shutil.copy(seeds / REAL_SEED.name, seeds / "copy-of-the-page.txt")
        [reply] = await say(fake, ADMIN, "/reload")
        assert "добавлено 0" in reply.text
        assert "Дубликаты" in reply.text and "copy-of-the-page.txt" in reply.text
        os.rename(seeds / REAL_SEED.name, seeds / "renamed.txt")
        os.remove(seeds / "copy-of-the-page.txt")
        [moved] = await say(fake, ADMIN, "/reload")
        assert "снято 0" in moved.text and "переименовано или перенесено: 1" in moved.text
        assert "Дубликаты" not in moved.text
    finally:
        await bot.stop()
    fake.assert_clean()

"""Publish latency: a seed file complete in SEEDS_DIR → its channel post accepted by the server.

The real `python -m bot run` runs against the fake Bot API server (Telegram's flood limits on)
with POST_INTERVAL at its default of 60 s, so a post within seconds can only come from the
filesystem notifications (watchfiles) and the settle deadline. Files are written one at a time,
each in one go, 3.2 s apart (the channel's own limit is 20 posts a minute, so no file waits for
another's post). Reported: p50 / p95 / max over the files, against the floor SETTLE_SECONDS
(nothing may be announced before it has settled) and the target SETTLE_SECONDS + 2 s.

    .venv/bin/python bench/publish_latency.py            # 24 files, SETTLE_SECONDS 10 (default)
    .venv/bin/python bench/publish_latency.py --quick    # 20 files, SETTLE_SECONDS 1
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import time
from pathlib import Path

import common
import dispatch
import ingest

from tests.fake_telegram import FakeTelegram

SPACING = 3.2
"""Seconds between two files: above the channel's 3 s per post (20 a minute)."""


def prepare() -> tuple[Path, Path]:
    """An empty seeds folder but for the real seed (old: a backlog of one), a fresh database."""
    seeds, db = ingest.run_dir() / "latency-seeds", ingest.run_dir() / "latency.sqlite3"
    shutil.rmtree(seeds, ignore_errors=True)
    shutil.copytree(common.ROOT / "seeds", seeds)
    db.unlink(missing_ok=True)
    return seeds, db


async def run(files: int, settle: float) -> dict:
    seeds, db = prepare()
    server = FakeTelegram(token=dispatch.TOKEN)
    server.add_channel("news")
    async with server:
        watcher = dispatch.Watcher(server)
        bot = dispatch.real_bot(
            server, seeds, db, "latency-bot", CHANNEL_ID="@news", POST_INTERVAL="60",
            SETTLE_SECONDS=f"{settle:g}",
        )  # fmt: skip
        bot.start()
        try:
            await dispatch.wait_ready(bot, watcher, timeout=120)
            await asyncio.sleep(1.0)  # the start-up scan and the watcher are up
            chat = int(server.chat("@news").id)
            written: dict[str, float] = {}
            for i in range(files):
                title = f"Новость для замера задержки номер {i:03d}"
                text = common.seed_text(title, f"Текст новости {i}.\nВторой абзац.", ingest.
                                        seed_date_now())  # fmt: skip
                (seeds / f"latency-{i:03d}.txt").write_text(text, encoding="utf-8")
                written[title] = server.clock.monotonic()  # the file is complete now
                bot.sample_rss()
                await asyncio.sleep(SPACING)
            accepted: dict[str, float] = {}
            deadline = time.monotonic() + settle + 30
            while len(accepted) < files and time.monotonic() < deadline:
                for m in server.sent_messages(chat):
                    title = next((t for t in written if t in m.text), None)
                    if title is not None:
                        accepted.setdefault(title, m.time)  # the server's clock on acceptance
                await asyncio.sleep(0.1)
        finally:
            code, _ = await bot.stop()
    latencies = sorted(accepted[t] - written[t] for t in written if t in accepted)
    return {"files": files, "posted": len(latencies), "latencies": latencies,
            "exit_code": code, "peak_rss_mb": bot.peak_kib / 1024}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=24)
    ap.add_argument("--settle", type=float, default=10.0, help="SETTLE_SECONDS of the bot")
    ap.add_argument("--quick", action="store_true", help="20 files, SETTLE_SECONDS 1")
    args = ap.parse_args()
    files, settle = (20, 1.0) if args.quick else (max(20, args.files), args.settle)
    print(f"publish latency: {files} files {SPACING:g} s apart, SETTLE_SECONDS {settle:g}, "
          f"POST_INTERVAL 60", flush=True)  # fmt: skip
    r = asyncio.run(run(files, settle))
    lat = r["latencies"]
    if not lat:
        print("no post arrived")
        common.emit({"bench": "publish_latency", "error": "no post arrived", "pass": False})
        return 1
    p50 = statistics.median(lat)
    p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]
    target = settle + 2.0
    early = sum(1 for x in lat if x < settle - 0.05)  # an announcement before it settled
    ok = r["posted"] == files and p95 <= target and early == 0
    print(f"posted {r['posted']}/{files}; latency p50 {p50:.2f} s, p95 {p95:.2f} s, "
          f"max {lat[-1]:.2f} s, min {lat[0]:.2f} s; floor SETTLE_SECONDS {settle:g} s; "
          f"posted before settling: {early}")  # fmt: skip
    print(f"target p95 ≤ SETTLE_SECONDS + 2 s = {target:g} s, all posted, none early: "
          f"{'PASS' if ok else 'FAIL'}")  # fmt: skip
    common.emit({
        "bench": "publish_latency", "files": files, "posted": r["posted"],
        "settle_seconds": settle, "p50_s": round(p50, 3), "p95_s": round(p95, 3),
        "max_s": round(lat[-1], 3), "early": early, "exit_code": r["exit_code"],
        "peak_rss_mb": round(r["peak_rss_mb"], 1), "pass": ok,
        "rows": [
            {"figure": f"publish latency, file complete → channel post accepted "
                       f"({files} files, SETTLE_SECONDS {settle:g}, POST_INTERVAL 60)",
             "value": f"p50 {p50:.2f} s, p95 {p95:.2f} s (max {lat[-1]:.2f} s)",
             "floor": f"{settle:g} s", "floor_name": "SETTLE_SECONDS",
             "ratio": round(p95 / settle, 2) if settle else None,
             "target": f"p95 ≤ {target:g} s, none before settling",
             "pass": ok},
        ],
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

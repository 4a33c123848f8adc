"""Fan-out benchmark: one new article to 3,000 subscribers through the real outbox and scheduler.

The real `python -m bot` runs against the fake Bot API server enforcing Telegram's flood limits
(30 messages a second overall, 1 a second per chat, 429 with retry_after beyond that). The
subscriptions are seeded straight into the bot's database (SQL, set-up only); then one new seed
file lands in SEEDS_DIR and the bot's own scheduler scans, queues and delivers it. Reported:
delivered/s against the outbox's own pace (Pacing.global_limit, 25/s) and the server's 30/s,
429s received, losses, duplicates, and requests sent to a chat before its retry_after had passed.

    .venv/bin/python bench/fanout.py            # 3,000 subscribers
    .venv/bin/python bench/fanout.py --quick    # 200 subscribers
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import sqlite3
import sys
import time
from pathlib import Path

import common
import dispatch
import ingest

from bot.services.scheduler import Pacing
from tests.fake_telegram import FakeTelegram, Limits

WORK = common.WORK
FIRST_CHAT = 700_000_001
BASE_ARTICLES = 20
SERVER_RATE = 30.0


def prepare(subscribers: int) -> tuple[Path, Path, dict]:
    """Seeds folder with a few articles, its database via the CLI, subscriptions via SQL."""
    seeds, db = ingest.run_dir() / "seeds", ingest.run_dir() / "fanout.sqlite3"
    shutil.rmtree(seeds, ignore_errors=True)
    seeds.mkdir(parents=True)
    records = list(ingest.iter_corpus(BASE_ARTICLES + 1))
    for i, record in records[:BASE_ARTICLES]:
        text = common.seed_text(record["title"], record["text"], ingest.record_when(i, record))
        (seeds / common.seed_name(i, record)).write_text(text, encoding="utf-8")
    ingest.remove_db(db)
    ingest.ingest_cli(seeds, db)
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany(
            "INSERT INTO subscriptions (chat_id, query, created_at) VALUES (?, '', ?)",
            [(FIRST_CHAT + k, time.time()) for k in range(subscribers)],
        )
    conn.close()
    return seeds, db, records[BASE_ARTICLES][1]


def backlog_done(db: Path) -> bool:
    """Has the bot's first tick done its fresh-database bookkeeping (read-only peek)?"""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            row = conn.execute("SELECT value FROM state WHERE key = 'backlog_done'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return row is not None


def outbox_counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT status, count(*) FROM deliveries WHERE kind = 'subscriber' GROUP BY status"
        ).fetchall()
    finally:
        conn.close()
    return {status: n for status, n in rows}


async def run(subscribers: int, limits: Limits) -> dict:
    seeds, db, new_record = prepare(subscribers)
    chats = set(range(FIRST_CHAT, FIRST_CHAT + subscribers))
    pace = float(Pacing().global_limit) / Pacing().global_window
    async with FakeTelegram(token=dispatch.TOKEN, limits=limits) as server:
        watcher = dispatch.Watcher(server)
        bot = dispatch.real_bot(server, seeds, db, "fanout-bot", POST_INTERVAL="1")
        bot.start()
        try:
            await dispatch.wait_ready(bot, watcher, timeout=120)
            deadline = time.monotonic() + 60
            while not backlog_done(db) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            name = common.seed_name(10**6, new_record)
            when = ingest.seed_date_now()
            text = common.seed_text(new_record["title"], new_record["text"], when)
            landed = time.monotonic()
            (seeds / name).write_text(text, encoding="utf-8")
            print(f"new article written; expecting {subscribers:,} alerts at ≤ {pace:g}/s",
                  flush=True)  # fmt: skip
            sent: collections.Counter[int] = collections.Counter()
            times: list[float] = []
            rate_429 = seen = 0
            limit = landed + subscribers / pace * 2 + 60
            quiet_until = None
            while time.monotonic() < limit:
                records = server.requests
                for rec in records[seen:]:
                    if rec.chat_id not in chats or rec.method != "sendMessage":
                        continue
                    if rec.status == 429:
                        rate_429 += 1
                    elif rec.ok:
                        sent[rec.chat_id] += 1
                        times.append(rec.time)
                seen = len(records)
                bot.sample_rss()
                if len(sent) >= subscribers:  # all delivered: watch 3 s more for duplicates
                    quiet_until = quiet_until or time.monotonic() + 3
                    if time.monotonic() > quiet_until:
                        break
                if bot.proc is not None and bot.proc.poll() is not None:
                    print(f"bot exited early:\n{bot.output()[-2000:]}")
                    break
                await asyncio.sleep(0.05)
            violations = len(server.retry_violations)
        finally:
            code, _ = await bot.stop()
    outbox = outbox_counts(db)
    delivered = len(sent)
    duplicates = sum(n - 1 for n in sent.values() if n > 1)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    rate = (len(times) - 1) / span if span else 0.0
    first_after = times[0] - landed if times else float("nan")
    total_s = times[-1] - landed if times else float("nan")
    return {
        "subscribers": subscribers, "delivered": delivered, "losses": subscribers - delivered,
        "duplicates": duplicates, "http_429": rate_429, "early_retries": violations,
        "rate": rate, "pace": pace, "first_after_s": first_after, "total_s": total_s,
        "outbox": outbox, "exit_code": code, "peak_rss_mb": bot.peak_kib / 1024,
    }  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subscribers", type=int, default=3000)
    ap.add_argument("--quick", action="store_true", help="200 subscribers")
    args = ap.parse_args()
    n = 200 if args.quick else args.subscribers
    limits = Limits(per_chat_rate=1.0, per_chat_burst=1, global_rate=SERVER_RATE, global_burst=30)
    print(f"fanout: {n:,} subscribers, server limits {SERVER_RATE:g}/s overall, 1/s per chat")
    r = asyncio.run(run(n, limits))
    of_pace, of_server = r["rate"] / r["pace"], r["rate"] / SERVER_RATE
    clean = r["losses"] == 0 and r["duplicates"] == 0 and r["early_retries"] == 0
    ok = of_pace >= 0.95 and clean
    print(
        f"delivered {r['delivered']:,}/{n:,} at {r['rate']:.1f}/s = {of_pace:.2f}× the outbox "
        f"pace ({r['pace']:g}/s), {of_server:.2f}× the server's {SERVER_RATE:g}/s; first alert "
        f"{r['first_after_s']:.1f} s after the file landed, last after {r['total_s']:.1f} s"
    )
    print(
        f"429s {r['http_429']}, losses {r['losses']}, duplicates {r['duplicates']}, "
        f"sends before retry_after {r['early_retries']}; outbox {r['outbox']}; "
        f"bot peak RSS {r['peak_rss_mb']:.0f} MB"
    )
    print(f"target ≥ 0.95× pace and 0/0/0: {'PASS' if ok else 'FAIL'}")
    common.emit({
        "bench": "fanout", **{k: (round(v, 3) if isinstance(v, float) else v)
                              for k, v in r.items()},
        "of_pace": round(of_pace, 3), "of_server": round(of_server, 3), "pass": ok,
        "rows": [
            {"figure": f"fan-out of one article to {n:,} subscribers (server: 30/s, 1/s/chat)",
             "value": f"{r['rate']:.1f} delivered/s ({of_server:.2f}× the server's 30/s)",
             "floor": f"{r['pace']:g}/s", "floor_name": "outbox pace",
             "ratio": round(of_pace, 2), "target": "≥ 0.95× pace", "pass": of_pace >= 0.95},
            {"figure": "fan-out 429s / losses / duplicates / sends before retry_after",
             "value": f"{r['http_429']} / {r['losses']} / {r['duplicates']} / "
                      f"{r['early_retries']}", "target": "— / 0 / 0 / 0", "pass": clean},
        ],
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

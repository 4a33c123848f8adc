"""Fan-out benchmark: one new article to 3,000 subscribers through the real outbox and scheduler.

The real `python -m bot` runs against the fake Bot API server enforcing Telegram's flood limits
(30 messages a second overall, 1 a second per chat, 429 with retry_after beyond that). The
subscriptions are seeded straight into the bot's database (SQL, set-up only); then one new seed
file lands in SEEDS_DIR and the bot's own scheduler scans, queues and delivers it. Reported:
delivered/s against the outbox's own pace (Pacing.global_limit, 25/s) and the server's 30/s,
429s received, losses, duplicates, and requests sent to a chat before its retry_after had passed.
Then the headline of that article is corrected the way a scraper does it (the seed file
rewritten under its name) and the first N alerts (`--corrections`, default all 3,000) must be
edited in place (editMessageText through the outbox), measured the same way.

    .venv/bin/python bench/fanout.py                    # 3,000 subscribers, 3,000 edits
    .venv/bin/python bench/fanout.py --quick            # 200 subscribers, 200 edits
    .venv/bin/python bench/fanout.py --corrections 0    # the sends only
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass, field
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
SETTLE = 0.5
"""SETTLE_SECONDS of the bot here: a file written in one go settles at once, so the figures are
the outbox's, not the settle delay's."""


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


@dataclass
class Wave:
    """What the subscribers' chats received of one method (sends, or edits of those alerts)."""

    per_chat: collections.Counter[int] = field(default_factory=collections.Counter)
    times: list[float] = field(default_factory=list)
    http_429: int = 0

    def figures(self, expected: int, since: float) -> dict:
        times = self.times
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        return {
            "delivered": len(self.per_chat), "losses": expected - len(self.per_chat),
            "duplicates": sum(n - 1 for n in self.per_chat.values() if n > 1),
            "http_429": self.http_429, "rate": (len(times) - 1) / span if span else 0.0,
            "first_after_s": times[0] - since if times else float("nan"),
            "total_s": times[-1] - since if times else float("nan"),
        }  # fmt: skip


async def watch(
    server: FakeTelegram, bot: dispatch.BotProcess, chats: set[int], method: str, limit: float
) -> Wave:
    """Count ``method`` requests to ``chats`` until each chat has one (then 3 s more, to see
    duplicates), the bot exits, or ``limit`` (monotonic) passes."""
    wave, seen, quiet_until = Wave(), len(server.requests), None
    while time.monotonic() < limit:
        records = server.requests
        for rec in records[seen:]:
            if rec.chat_id not in chats or rec.method != method:
                continue
            if rec.status == 429:
                wave.http_429 += 1
            elif rec.ok:
                wave.per_chat[rec.chat_id] += 1
                wave.times.append(rec.time)
        seen = len(records)
        bot.sample_rss()
        if len(wave.per_chat) >= len(chats):
            quiet_until = quiet_until or time.monotonic() + 3
            if time.monotonic() > quiet_until:
                break
        if bot.proc is not None and bot.proc.poll() is not None:
            print(f"bot exited early:\n{bot.output()[-2000:]}")
            break
        await asyncio.sleep(0.05)
    return wave


async def run(subscribers: int, limits: Limits, corrections: int) -> dict:
    seeds, db, new_record = prepare(subscribers)
    chats = set(range(FIRST_CHAT, FIRST_CHAT + subscribers))
    pace = float(Pacing().global_limit) / Pacing().global_window
    corrected: dict = {}
    async with FakeTelegram(token=dispatch.TOKEN, limits=limits) as server:
        watcher = dispatch.Watcher(server)
        bot = dispatch.real_bot(
            server, seeds, db, "fanout-bot", POST_INTERVAL="1", SETTLE_SECONDS=str(SETTLE)
        )
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
            limit = landed + subscribers / pace * 2 + 60
            sent = await watch(server, bot, chats, "sendMessage", limit)
            if corrections:
                corrected = await correct(server, bot, seeds / name, new_record, when,
                                          set(sorted(chats)[:corrections]), pace)  # fmt: skip
            violations = len(server.retry_violations)
        finally:
            code, _ = await bot.stop()
    return {
        "subscribers": subscribers, **sent.figures(subscribers, landed),
        "early_retries": violations, "pace": pace, "outbox": outbox_counts(db),
        "exit_code": code, "peak_rss_mb": bot.peak_kib / 1024, "corrections": corrected,
    }  # fmt: skip


async def correct(
    server: FakeTelegram, bot: dispatch.BotProcess, path: Path, record: dict, when: object,
    chats: set[int], pace: float,
) -> dict:  # fmt: skip
    """The publisher fixes the headline of the article just delivered (its seed file rewritten
    under the same name): every alert sent within 48 hours is edited in place (issue 11)."""
    title = f"{record['title']} (исправлено)"
    path.write_text(common.seed_text(title, record["text"], when), encoding="utf-8")
    fixed = time.monotonic()
    print(f"headline corrected; expecting {len(chats):,} alerts edited", flush=True)
    edits = await watch(server, bot, chats, "editMessageText", fixed + len(chats) / pace * 2 + 60)
    return {"subscribers": len(chats), **edits.figures(len(chats), fixed)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subscribers", type=int, default=3000)
    ap.add_argument("--quick", action="store_true", help="200 subscribers")
    ap.add_argument(
        "--corrections", type=int, default=3000,
        help="then correct the headline and count that many alerts edited (0: skip; at most "
        "--subscribers)",
    )  # fmt: skip
    args = ap.parse_args()
    n = 200 if args.quick else args.subscribers
    fixes = min(args.corrections, n)
    limits = Limits(per_chat_rate=1.0, per_chat_burst=1, global_rate=SERVER_RATE, global_burst=30)
    print(f"fanout: {n:,} subscribers, server limits {SERVER_RATE:g}/s overall, 1/s per chat")
    r = asyncio.run(run(n, limits, fixes))
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
    c = r["corrections"]
    fixed_ok = bool(c) and c["rate"] / r["pace"] >= 0.95 and c["losses"] == c["duplicates"] == 0
    if c:
        print(f"corrections: {c['delivered']:,}/{c['subscribers']:,} alerts edited at "
              f"{c['rate']:.1f}/s ({c['rate'] / r['pace']:.2f}× pace); losses {c['losses']}, "
              f"duplicates {c['duplicates']}, 429s {c['http_429']}: "
              f"{'PASS' if fixed_ok else 'FAIL'}")  # fmt: skip
    fixed_row = (
        {"figure": f"fan-out with corrections: {c['subscribers']:,} alerts edited",
         "value": f"{c['rate']:.1f} edited/s; losses {c['losses']}, duplicates "
                  f"{c['duplicates']}", "floor": f"{r['pace']:g}/s", "floor_name": "outbox pace",
         "ratio": round(c["rate"] / r["pace"], 2), "target": "≥ 0.95× pace, 0 / 0",
         "pass": fixed_ok}
        if c else
        {"figure": "fan-out with corrections", "value": "not measured (--corrections 0)",
         "target": "", "pass": None}
    )  # fmt: skip
    common.emit({
        "bench": "fanout", **{k: (round(v, 3) if isinstance(v, float) else v)
                              for k, v in r.items()},
        "of_pace": round(of_pace, 3), "of_server": round(of_server, 3),
        "pass": ok and (fixed_ok or not c),
        "rows": [
            {"figure": f"fan-out of one article to {n:,} subscribers (server: 30/s, 1/s/chat)",
             "value": f"{r['rate']:.1f} delivered/s ({of_server:.2f}× the server's 30/s)",
             "floor": f"{r['pace']:g}/s", "floor_name": "outbox pace",
             "ratio": round(of_pace, 2), "target": "≥ 0.95× pace", "pass": of_pace >= 0.95},
            {"figure": "fan-out 429s / losses / duplicates / sends before retry_after",
             "value": f"{r['http_429']} / {r['losses']} / {r['duplicates']} / "
                      f"{r['early_retries']}", "target": "— / 0 / 0 / 0", "pass": clean},
            fixed_row,
        ],
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

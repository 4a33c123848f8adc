"""Startup time and memory of the running bot with 50k articles (the real `python -m bot`).

Startup: wall time from spawning `python -m bot run` to the fake Bot API server seeing its first
getUpdates, with 50,000 articles already ingested. Memory: peak RSS (VmHWM from /proc) of the
same process after a light load of /latest, /search and button presses from a few readers; the
start-up scan of the unchanged seeds folder (the scheduler's first tick, run beside polling)
happens within that window. Startup is the median of --runs starts (paired with an echo start
each), peak RSS the largest. Both
are stated against the floor, aiogram's ten-line echo bot started the same way against the same
server in the same run (importing aiogram alone takes most of both on a small machine): the bot
may add at most STARTUP_MARGIN seconds and RSS_MARGIN_MB megabytes to it.

    .venv/bin/python bench/runtime.py            # 50,000 articles, 5 starts of each
    .venv/bin/python bench/runtime.py --quick    # 1,000 articles, 1 start
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import common
import dispatch
import ingest

from tests.fake_telegram import FakeTelegram, Limits

WORK = common.WORK
STARTUP_MARGIN = 0.5
"""Seconds the bot may take to its first getUpdates beyond the echo bot's."""
RSS_MARGIN_MB = 30.0
"""Megabytes of peak RSS the bot may use beyond the echo bot's."""


@dataclass
class Start:
    """One start of a bot process: to its first getUpdates, through light load, to its exit."""

    startup: float
    cpu: float
    """CPU seconds the process had used by its first getUpdates (less noisy than wall time)."""
    peak_mb: float
    rss_mb: float
    code: int | None
    exit_s: float


async def one_start(
    make: Callable[[FakeTelegram], dispatch.BotProcess], *, load: int, echo: bool
) -> Start:
    """Start, wait for the first getUpdates, run the load (and the start-up scan), stop."""
    async with FakeTelegram(token=dispatch.TOKEN, limits=Limits.off()) as server:
        watcher = dispatch.Watcher(server)
        bot = make(server)
        bot.start()
        stop = asyncio.Event()
        try:
            startup = await dispatch.wait_ready(bot, watcher, timeout=120)
            cpu = dispatch.cpu_seconds(bot.proc.pid)  # type: ignore[union-attr]
            scanning = asyncio.create_task(watcher.run(stop))
            sampler = asyncio.create_task(_sample(bot, stop))
            if load:
                result = await dispatch.drive(
                    server, watcher, updates=load, users=4, echo=echo, seed=3
                )
                if result.timeouts:
                    print(f"  note: {result.timeouts} updates got no answer", flush=True)
            if not echo:  # the peak must include the whole start-up scan
                await dispatch.wait_for_log(bot, "tick:", timeout=120)
            await asyncio.sleep(0.5)
            rss_now = bot.rss_now_kib() / 1024
            stop.set()
            await asyncio.gather(scanning, sampler)
        finally:
            stop.set()
            code, exit_s = await bot.stop()
        return Start(startup, cpu, bot.peak_kib / 1024, rss_now, code, exit_s)


async def _sample(bot: dispatch.BotProcess, stop: asyncio.Event) -> None:
    while not stop.is_set():
        bot.sample_rss()
        await asyncio.sleep(0.05)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=5, help="echo/bot start pairs, median (5)")
    ap.add_argument("--load", type=int, default=200, help="updates of light load (200)")
    ap.add_argument("--quick", action="store_true", help="1,000 articles, one start")
    args = ap.parse_args()
    if args.quick:
        args.articles, args.runs, args.load = 1000, 1, 60
    seeds, cached = ingest.ensure_db(args.articles)
    load_before = os.getloadavg()[0]  # the machine is shared: say how busy it was
    print(f"runtime: {args.articles:,} articles, {args.runs} start(s), {args.load} updates")

    db = ingest.copy_db(cached, ingest.run_dir() / "runtime.sqlite3")

    def make(server: FakeTelegram) -> dispatch.BotProcess:
        return dispatch.real_bot(server, seeds, db, "runtime-bot")

    # The first start on a database fresh from `ingest` also does the one-time backlog
    # bookkeeping (every article marked announced); shown, but the target is on restarts.
    first = asyncio.run(one_start(make, load=0, echo=False)).startup
    print(f"first start on the fresh database: first getUpdates after {first:.2f} s", flush=True)
    # Pairs of echo-then-bot starts: this shared machine's speed drifts within minutes, and
    # `import aiogram` (most of both startups) is pure CPU, so each bot start is compared with
    # the echo start just before it.
    echoes: list[Start] = []
    bots: list[Start] = []
    for run in range(args.runs):
        t0 = time.monotonic()
        e = asyncio.run(one_start(dispatch.echo_bot, load=args.load, echo=True))
        b = asyncio.run(one_start(make, load=args.load, echo=False))
        echoes.append(e)
        bots.append(b)
        print(f"start {run + 1}: first getUpdates after {b.startup:.2f} s (echo bot "
              f"{e.startup:.2f} s; CPU {b.cpu:.2f} s vs {e.cpu:.2f} s); peak RSS "
              f"{b.peak_mb:.0f} MB (echo bot {e.peak_mb:.0f} MB; bot now {b.rss_mb:.0f} MB); "
              f"SIGTERM → exit {b.code} in {b.exit_s:.2f} s [{time.monotonic() - t0:.0f} s]",
              flush=True)  # fmt: skip
    load = (round(load_before, 2), round(os.getloadavg()[0], 2))
    print(f"1-minute load average {load[0]:.2f} before, {load[1]:.2f} after the starts")
    starts = [b.startup for b in bots]
    startup, echo_start = statistics.median(starts), statistics.median(e.startup for e in echoes)
    peak, echo_peak = max(b.peak_mb for b in bots), max(e.peak_mb for e in echoes)
    exits = [(b.code, b.exit_s) for b in bots]
    over_cpu = statistics.median(b.cpu - e.cpu for e, b in zip(echoes, bots, strict=True))
    over_start = statistics.median(
        b.startup - e.startup for e, b in zip(echoes, bots, strict=True)
    )
    over_rss = peak - echo_peak
    ok_start, ok_rss = over_start <= STARTUP_MARGIN, over_rss <= RSS_MARGIN_MB
    clean = all(code in (0, -signal.SIGTERM) and s <= 10 for code, s in exits)
    print(f"startup median {startup:.2f} s, {over_start:+.2f} s against the echo bot's "
          f"{echo_start:.2f} s (target ≤ +{STARTUP_MARGIN:g} s): "
          f"{'PASS' if ok_start else 'FAIL'} (CPU to first getUpdates {over_cpu:+.2f} s); "
          f"peak RSS {peak:.0f} MB, {over_rss:+.0f} MB against the echo bot's {echo_peak:.0f} MB "
          f"(target ≤ +{RSS_MARGIN_MB:g} MB): {'PASS' if ok_rss else 'FAIL'}")  # fmt: skip
    n = f"{args.articles:,} articles"
    common.emit({
        "bench": "runtime", "articles": args.articles, "runs": args.runs,
        "startup_s": round(startup, 3), "startup_runs": [round(s, 3) for s in starts],
        "echo_startup_s": round(echo_start, 3),
        "echo_startup_runs": [round(e.startup, 3) for e in echoes],
        "startup_cpu_over_echo_s": round(over_cpu, 3),
        "first_start_s": round(first, 3), "startup_over_echo_s": round(over_start, 3),
        "peak_rss_mb": round(peak, 1), "echo_peak_rss_mb": round(echo_peak, 1),
        "rss_over_echo_mb": round(over_rss, 1), "clean_exit": clean, "load_avg": load,
        "pass": {"startup": ok_start, "rss": ok_rss},
        "rows": [
            {"figure": f"startup to first getUpdates, {n}",
             "value": f"{startup:.2f} s ({over_start:+.2f} s; CPU {over_cpu:+.2f} s)",
             "floor": f"{echo_start:.2f} s", "floor_name": "aiogram echo bot",
             "ratio": round(startup / echo_start, 2) if echo_start else None,
             "target": f"≤ echo + {STARTUP_MARGIN:g} s", "pass": ok_start},
            {"figure": f"peak RSS of the running bot, {n}, {args.load} updates",
             "value": f"{peak:.0f} MB ({over_rss:+.0f} MB)", "floor": f"{echo_peak:.0f} MB",
             "ratio": round(peak / echo_peak, 2) if echo_peak else None,
             "floor_name": "aiogram echo bot", "target": f"≤ echo + {RSS_MARGIN_MB:g} MB",
             "pass": ok_rss},
        ],
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

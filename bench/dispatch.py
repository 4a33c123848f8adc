"""Dispatch benchmark: the real `python -m bot` against the fake Bot API server, vs an echo bot.

The bot runs as its own process (10k articles in its database) and long-polls the fake server
(tests/fake_telegram.py, flood limits off) on 127.0.0.1. Simulated readers, each in their own
chat and each waiting for the answer before the next update, push 2,000 updates: `/latest`,
`/search <words>` and presses of the ◀ ▶ buttons under the bot's last answer. An update counts
as answered when the bot's sendMessage/editMessageText reaches that chat (commands), or once it
has both answered that callback query and edited the list (presses). The load starts once the
bot's start-up scan of the seeds is done (its first "tick:" log line): steady state. The floor
is bench/echo_bot.py (aiogram's ten-line echo bot) driven the same way against the same server,
in the same run: rounds of floor-then-bot, and the figure is the median of the paired ratios.

    .venv/bin/python bench/dispatch.py            # 5 rounds of 2,000 updates, 10k articles
    .venv/bin/python bench/dispatch.py --quick    # 300 updates, 1k articles
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import common
import ingest

from tests.fake_telegram import FakeTelegram, Limits, RequestRecord

ROOT, WORK = common.ROOT, common.WORK
QUERIES = (
    "россия", "выборы", "нефть", "санкции", "партнёр", "учения", "президент", "футбол",
    "экономика", "сирия", "украина", "москва", "китай", "доллар", "нато", "армия",
    "выборы президента", "цены на нефть", "чемпионат мира", "министр обороны", "газ европа",
    "ракеты", "банк", "олимпиада", "кино", "наука", "космос", "школа", "интернет", "суд",
)  # fmt: skip
TOKEN = "123456789:AAFakeTokenForTheBenchmarks-0123456789"
REPLY_METHODS = frozenset({"sendMessage", "editMessageText"})


class Watcher:
    """Matches the server's request log to outstanding updates as new requests arrive."""

    def __init__(self, server: FakeTelegram) -> None:
        self.server = server
        self._seen = 0
        self._chats: dict[int, asyncio.Future[float]] = {}
        self._queries: dict[str, asyncio.Future[float]] = {}
        self.first_get_updates: float | None = None
        self.errors: list[RequestRecord] = []
        self.last_message: dict[int, tuple[int, list[str]]] = {}
        """Per chat: the bot's newest message (id, its buttons' callback_data)."""

    def records(self) -> list[RequestRecord]:
        return self.server.requests

    def expect_chat(self, chat_id: int) -> asyncio.Future[float]:
        fut = self._chats[chat_id] = asyncio.get_running_loop().create_future()
        return fut

    def expect_query(self, query_id: str) -> asyncio.Future[float]:
        fut = self._queries[query_id] = asyncio.get_running_loop().create_future()
        return fut

    def scan(self) -> None:
        """Look at the requests that arrived since the last scan."""
        log = self.records()
        for rec in log[self._seen :]:
            if rec.method == "getUpdates" and self.first_get_updates is None:
                self.first_get_updates = rec.time
            if not rec.ok:
                if rec.method != "getUpdates":
                    self.errors.append(rec)
                continue
            if rec.method in REPLY_METHODS and rec.chat_id is not None:
                self._remember(rec)
            if rec.method in REPLY_METHODS and rec.chat_id in self._chats:
                fut = self._chats.pop(rec.chat_id)
                if not fut.done():
                    fut.set_result(rec.time)
            elif rec.method == "answerCallbackQuery":
                fut = self._queries.pop(str(rec.params.get("callback_query_id")), None)
                if fut is not None and not fut.done():
                    fut.set_result(rec.time)
        self._seen = len(log)

    def _remember(self, rec: RequestRecord) -> None:
        """Track the newest bot message per chat and its current buttons (edits change them)."""
        result = rec.result if isinstance(rec.result, dict) else {}
        message_id = result.get("message_id") or int(rec.params.get("message_id") or 0)
        if (
            rec.method == "editMessageText"
            and message_id != self.last_message.get(rec.chat_id, (0, []))[0]
        ):
            return
        markup = rec.params.get("reply_markup")
        markup = markup if isinstance(markup, dict) else result.get("reply_markup") or {}
        rows = markup.get("inline_keyboard", [])
        datas = [b.get("callback_data", "") for row in rows for b in row]
        self.last_message[rec.chat_id] = (message_id, datas)

    async def run(self, stop: asyncio.Event) -> None:
        """Scan every millisecond until stopped (bounded by the caller's stop event)."""
        while not stop.is_set():
            self.scan()
            await asyncio.sleep(0.001)


@dataclass
class BotProcess:
    """A bot subprocess (the real bot or the echo bot) pointed at the fake server."""

    cmd: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    peak_kib: int = 0
    _out: Any = field(default=None, repr=False)

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._out = self.log.open("wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            self.cmd, env=self.env, cwd=ROOT, stdout=self._out, stderr=subprocess.STDOUT
        )

    def sample_rss(self) -> int:
        if self.proc is not None and self.proc.poll() is None:
            self.peak_kib = max(self.peak_kib, ingest.peak_rss_kib(self.proc.pid))
        return self.peak_kib

    def rss_now_kib(self) -> int:
        """Current VmRSS of the process (0 when gone)."""
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()  # type: ignore[union-attr]
        except OSError:
            return 0
        line = next((ln for ln in status.splitlines() if ln.startswith("VmRSS:")), "")
        return int(line.split()[1]) if line else 0

    async def stop(self, timeout: float = 15.0) -> tuple[int | None, float]:
        """SIGTERM, wait (bounded); returns (exit code or None if killed, seconds to exit)."""
        assert self.proc is not None
        self.sample_rss()
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code: int | None = None
        while time.monotonic() - t0 < timeout:
            code = self.proc.poll()
            if code is not None:
                break
            await asyncio.sleep(0.02)
        else:
            self.proc.kill()
            self.proc.wait()
            code = None
        self._out.close()
        return code, time.monotonic() - t0

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def real_bot(server: FakeTelegram, seeds: Path, db: Path, name: str, **env: str) -> BotProcess:
    """`python -m bot run` against the server, on its own copy of a cached database."""
    extra = dict(BOT_TOKEN=TOKEN, TELEGRAM_API_URL=server.base_url, SEEDS_DIR=str(seeds),
                 DB_PATH=str(db), POST_INTERVAL="3600", POST_BACKLOG="0",
                 LOG_LEVEL="INFO")  # fmt: skip
    extra.update(env)
    log = ingest.run_dir() / f"{name}.log"
    return BotProcess([sys.executable, "-m", "bot", "run"], ingest.bot_env(**extra), log)


def echo_bot(server: FakeTelegram) -> BotProcess:
    env = ingest.bot_env(BOT_TOKEN=TOKEN, TELEGRAM_API_URL=server.base_url)
    return BotProcess(
        [sys.executable, str(ROOT / "bench" / "echo_bot.py")], env, ingest.run_dir() / "echo.log"
    )


async def wait_ready(bot: BotProcess, watcher: Watcher, timeout: float) -> float:
    """Seconds from process start to its first getUpdates; raises if it dies or times out.

    A sticker (which the bot ignores) is queued first, so that first long poll returns at once:
    the server logs a request when it is answered, stamped with its arrival time.
    """
    watcher.server.push_sticker(1)
    deadline = time.monotonic() + timeout
    while watcher.first_get_updates is None:
        watcher.scan()
        bot.sample_rss()
        if bot.proc is not None and bot.proc.poll() is not None:
            code = bot.proc.returncode
            raise RuntimeError(f"{bot.cmd[-1]} exited {code}:\n{bot.output()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no getUpdates within {timeout} s:\n{bot.output()[-3000:]}")
        await asyncio.sleep(0.002)
    return watcher.first_get_updates - bot.started


async def wait_for_log(bot: BotProcess, needle: str, timeout: float) -> None:
    """Wait until the bot's log shows ``needle``; raises if it dies or times out."""
    deadline = time.monotonic() + timeout
    while needle not in bot.output():
        if bot.proc is not None and bot.proc.poll() is not None:
            raise RuntimeError(f"bot exited {bot.proc.returncode}:\n{bot.output()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {needle!r} in the log within {timeout} s")
        await asyncio.sleep(0.05)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a live process has used so far (from /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class LoadResult:
    latencies: list[float]
    seconds: float
    timeouts: int
    kinds: dict[str, int]
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    bot_cpu: float = 0.0
    harness_cpu: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        return common.percentile(self.latencies, p) * 1000


def pick_button(watcher: Watcher, chat_id: int, echo: bool) -> tuple[int, str] | None:
    """(message_id, callback_data) of a paging button under the bot's newest message."""
    newest = watcher.last_message.get(chat_id)
    if newest is None:
        return None
    if echo:
        return newest[0], "l:2:5"
    pager = [d for d in newest[1] if d.startswith(("l:", "s:"))]
    return (newest[0], pager[-1]) if pager else None


async def drive(
    server: FakeTelegram, watcher: Watcher, *, updates: int, users: int, echo: bool,
    seed: int = 7, reply_timeout: float = 30.0,
) -> LoadResult:  # fmt: skip
    """Closed loop: `users` readers, one outstanding update each, `updates` in total."""
    rng = random.Random(seed)
    counter = itertools.count()
    latencies: list[float] = []
    kinds = {"latest": 0, "search": 0, "press": 0}
    by_kind: dict[str, list[float]] = {}
    timeouts = 0

    async def reader(chat_id: int) -> None:
        nonlocal timeouts
        steps = itertools.cycle(("latest", "search", "press", "search", "press"))
        for step in steps:
            if next(counter) >= updates:
                return
            button = pick_button(watcher, chat_id, echo) if step == "press" else None
            if step == "press" and button is None:
                step = "latest"
            if step == "press":
                assert button is not None
                pushed = server.push_callback(
                    chat_id, button[1], message_id=button[0], check=not echo
                )
                answered = watcher.expect_query(pushed["callback_query"]["id"])
                # The bot answers and edits at the same time: done when both have arrived.
                fut = answered if echo else _both(answered, watcher.expect_chat(chat_id))
            else:
                text = "/latest" if step == "latest" else f"/search {rng.choice(QUERIES)}"
                fut = watcher.expect_chat(chat_id)
                pushed = server.push_message(chat_id, text=text)
            sent_at = server.updates.pushed_at[pushed["update_id"]]
            try:
                done = await asyncio.wait_for(fut, reply_timeout)
            except TimeoutError:
                timeouts += 1
                continue
            latencies.append(done - sent_at)
            by_kind.setdefault(step, []).append(done - sent_at)
            kinds[step] += 1

    started = time.monotonic()
    await asyncio.gather(*(reader(500_000 + u) for u in range(users)))
    return LoadResult(latencies, time.monotonic() - started, timeouts, kinds, by_kind)


async def _both(a: asyncio.Future[float], b: asyncio.Future[float]) -> float:
    """The later of two arrival times."""
    return max(await a, await b)


def attach_profiler(pid: int, name: str) -> subprocess.Popen[bytes] | None:
    """py-spy (if in the venv; not a project dependency) sampling `pid` until it exits."""
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        print("  --profile: py-spy not found next to the venv's python; pip install py-spy")
        return None
    out = WORK / f"profile-{name}.txt"
    print(f"  profiling pid {pid} into {out.relative_to(ROOT)} (collapsed stacks)")
    return subprocess.Popen(
        [str(spy), "record", "--pid", str(pid), "-r", "250", "--format", "raw", "--threads",
         "--nonblocking", "-o", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def measure(
    make: Any, *, updates: int, users: int, echo: bool, warmup: int = 40, profile: bool = False
) -> tuple[LoadResult, float, list[RequestRecord]]:
    """Start a fresh server and bot, warm up, run the load; (result, startup s, errors)."""
    async with FakeTelegram(token=TOKEN, limits=Limits.off()) as server:
        watcher = Watcher(server)
        bot = make(server)
        bot.start()
        stop = asyncio.Event()
        spy = None
        try:
            startup = await wait_ready(bot, watcher, timeout=120)
            if not echo:  # steady state: the scheduler's startup scan of the seeds is done
                await wait_for_log(bot, "tick:", timeout=120)
            scanning = asyncio.create_task(watcher.run(stop))
            await drive(server, watcher, updates=warmup, users=4, echo=echo, seed=1)
            spy = attach_profiler(bot.proc.pid, "echo" if echo else "bot") if profile else None
            cpu0, own0 = cpu_seconds(bot.proc.pid), time.process_time()
            result = await drive(server, watcher, updates=updates, users=users, echo=echo)
            result.bot_cpu = cpu_seconds(bot.proc.pid) - cpu0
            result.harness_cpu = time.process_time() - own0
            stop.set()
            await scanning
        finally:
            stop.set()
            code, _ = await bot.stop()
        if profile and spy is not None:
            spy.wait(timeout=30)
        if code not in (0, -signal.SIGTERM):
            print(f"  note: {bot.cmd[-1]} exited {code}", flush=True)
        return result, startup, watcher.errors


def median_round(results: list[LoadResult]) -> LoadResult:
    """The round with the median throughput (the middle one of an odd count)."""
    return sorted(results, key=lambda r: r.throughput)[(len(results) - 1) // 2]


def report(name: str, r: LoadResult) -> str:
    return (f"{name}: {len(r.latencies):,} answered in {r.seconds:.2f} s = "
            f"{r.throughput:,.0f}/s, p50 {r.pct(50):.1f} ms, p95 {r.pct(95):.1f} ms, "
            f"timeouts {r.timeouts}; CPU: bot {r.bot_cpu:.1f} s "
            f"({r.bot_cpu / max(1, len(r.latencies)) * 1000:.1f} ms/update), fake server + "
            f"driver {r.harness_cpu:.1f} s; p50 by kind: "
            + ", ".join(f"{k} {common.percentile(v, 50) * 1000:.0f} ms ({len(v)})"
                        for k, v in r.by_kind.items()))  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--updates", type=int, default=2000)
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--users", type=int, default=20, help="concurrent readers (20)")
    ap.add_argument("--quick", action="store_true", help="300 updates, 1,000 articles")
    ap.add_argument("--rounds", type=int, default=5, help="floor/bot rounds, median (5)")
    ap.add_argument("--profile", action="store_true", help="py-spy the bot in round 1")
    args = ap.parse_args()
    if args.quick:
        args.updates, args.articles, args.rounds = 300, 1000, 1
    seeds, cached = ingest.ensure_db(args.articles)
    db = ingest.copy_db(cached, ingest.run_dir() / "dispatch.sqlite3")
    print(f"dispatch: {args.updates:,} updates, {args.users} readers, {args.articles:,} articles")

    def make_real(server: FakeTelegram) -> BotProcess:
        return real_bot(server, seeds, db, "dispatch-bot")

    # Rounds alternate floor and bot, and the ratio is of the medians: this shared machine's
    # speed drifts by a third within minutes, which one floor run then one bot run would measure.
    echoes: list[LoadResult] = []
    bots: list[LoadResult] = []
    errors: list[RequestRecord] = []
    startup = 0.0
    for n in range(1, args.rounds + 1):
        echo_r, _, _ = asyncio.run(
            measure(echo_bot, updates=args.updates, users=args.users, echo=True)
        )
        print(report(f"round {n}: echo bot (floor)", echo_r), flush=True)
        bot_r, started, errs = asyncio.run(
            measure(
                make_real,
                updates=args.updates,
                users=args.users,
                echo=False,
                profile=args.profile and n == 1,
            )
        )
        print(report(f"round {n}: bot", bot_r), flush=True)
        echoes.append(echo_r)
        bots.append(bot_r)
        errors += errs
        startup = startup or started
    echo, bot = median_round(echoes), median_round(bots)
    ratios = sorted(b.throughput / e.throughput for b, e in zip(bots, echoes, strict=True))
    ratio = ratios[(len(ratios) - 1) // 2]  # paired rounds: the drift cancels within a pair
    timeouts = sum(b.timeouts for b in bots)
    ok = ratio >= 0.85 and timeouts == 0
    print(f"per-round ratios {', '.join(f'{r:.2f}' for r in ratios)}; median {ratio:.2f}")
    for rec in errors[:5]:
        print(f"  bot request refused: {rec.method} {rec.status} {rec.description}")
    print(
        f"throughput ratio {ratio:.2f} (target ≥ 0.85): {'PASS' if ok else 'FAIL'}; "
        f"{len(errors)} refused requests; startup {startup:.2f} s"
    )
    common.emit({
        "bench": "dispatch", "updates": args.updates, "articles": args.articles,
        "users": args.users, "bot_per_s": round(bot.throughput, 1),
        "bot_p50_ms": round(bot.pct(50), 2), "bot_p95_ms": round(bot.pct(95), 2),
        "echo_per_s": round(echo.throughput, 1), "echo_p50_ms": round(echo.pct(50), 2),
        "echo_p95_ms": round(echo.pct(95), 2), "ratio": round(ratio, 3),
        "timeouts": timeouts, "refused": len(errors), "mix": bot.kinds, "pass": ok,
        "rounds": args.rounds, "round_ratios": [round(r, 3) for r in ratios],
        "bot_cpu_ms_per_update": round(bot.bot_cpu / max(1, len(bot.latencies)) * 1000, 2),
        "echo_cpu_ms_per_update": round(echo.bot_cpu / max(1, len(echo.latencies)) * 1000, 2),
        "rows": [
            {"figure": f"dispatch, {args.updates:,} updates, {args.articles:,} articles "
                       f"({args.users} readers; median of {args.rounds} paired rounds)",
             "value": f"{bot.throughput:,.0f} updates/s, p50 {bot.pct(50):.1f} / "
                      f"p95 {bot.pct(95):.1f} ms",
             "floor": f"{echo.throughput:,.0f}/s, p50 {echo.pct(50):.1f} / "
                      f"p95 {echo.pct(95):.1f} ms", "floor_name": "aiogram echo bot",
             "ratio": round(ratio, 2), "target": "≥ 0.85× echo", "pass": ok},
        ],
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Burst benchmark: N distinct readers send one command each, all at once; CPU per update.

A channel post with a «Читать полностью» button sends thousands of readers into the bot within
a minute. Here N readers (600 by default), each in their own chat, send one command at the same
moment — `/latest`, `/search партнёр`, `/search сотрудничество безопасность`, `/help`, in turn —
to the real `python -m bot` on the whole corpus, and to aiogram's ten-line echo bot
(bench/echo_bot.py), each long-polling the fake Bot API server (tests/fake_telegram.py, flood
limits off, in this process) on 127.0.0.1. Measured per bot: throughput (N over the time from
the push to the last reply) and CPU seconds per update of the bot process (utime + stime of
/proc/<pid>/stat over the burst, all threads): the figure that limits a small one-core server,
and much less sensitive than throughput to other work on the machine. Rounds of echo-then-bot
on fresh processes; each figure is the median of the paired per-round ratios.

Every reader must get exactly one reply, and every reply to the same command must be the same
text and keyboard (digests in the JSON summary, so a change that makes replies cheaper by making
them poorer shows up).

    .venv/bin/python bench/burst.py                 # 600 readers, 5 rounds, the whole corpus
    .venv/bin/python bench/burst.py --quick         # 200 readers, 1 round, 1,000 articles
    .venv/bin/python bench/burst.py --profile       # py-spy the bot during round 1's burst
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import common
import dispatch
import ingest

from tests.fake_telegram import FakeTelegram, Limits

COMMANDS = ("/latest", "/search партнёр", "/search сотрудничество безопасность", "/help")
WARMUP = ("/latest 3", "/search нефть", "/search выборы президента", "/start")
"""Before the bursts, so the process is warm (classes built, SQLite pages read) but the caches
hold nothing for the burst's own commands, as after a new article (it changes the database)."""
FIRST_CHAT = 800_000_001
WARMUP_CHAT = 790_000_001
CPU_TARGET = 1.6  # the bot's CPU per update at most this many times the echo bot's
RATE_TARGET = 0.6  # its burst throughput at least this share of the echo bot's
PHASES = ("cold caches", "warm caches")
SETTLE = 0.3  # seconds of quiet before and after a burst, so CPU readings catch all its work


@dataclass
class Burst:
    """One burst against one bot process."""

    readers: int
    seconds: float = 0.0
    cpu: float = 0.0
    harness_cpu: float = 0.0
    answered: int = 0
    missing: int = 0
    extra: int = 0
    refused: int = 0
    replies: dict[str, Counter[str]] = field(default_factory=dict)
    """Per command: digest of (text, keyboard) → how many readers got that reply."""
    sizes: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        return self.cpu / max(1, self.answered) * 1000


def _reply_key(params: dict[str, Any]) -> tuple[str, str]:
    """(digest, text) of what a reply shows: its text and its keyboard."""
    markup = params.get("reply_markup")
    shown = json.dumps([params.get("text"), markup], ensure_ascii=False, sort_keys=True)
    return hashlib.sha1(shown.encode()).hexdigest()[:12], str(params.get("text") or "")


async def _push_and_wait(
    server: FakeTelegram,
    watcher: dispatch.Watcher,
    chats: list[int],
    commands: tuple[str, ...],
    timeout: float,
) -> tuple[float, float, int]:
    """Push one command per chat at once, in turn; (push time, last reply time, missing)."""
    futures = [watcher.expect_chat(chat) for chat in chats]
    pushed_at = server.clock.monotonic()
    for k, chat in enumerate(chats):
        server.push_message(chat, text=commands[k % len(commands)])
    done, pending = await asyncio.wait(futures, timeout=timeout)
    last = max((f.result() for f in done), default=pushed_at)
    return pushed_at, last, len(pending)


async def measure(make: Any, *, readers: int, echo: bool, profile: bool = False) -> list[Burst]:
    """A fresh server and bot, warmed up with other commands; then a burst on cold caches and
    one on warm caches, each of ``readers`` new readers."""
    async with FakeTelegram(token=dispatch.TOKEN, limits=Limits.off()) as server:
        watcher = dispatch.Watcher(server)
        bot = make(server)
        bot.start()
        stop = asyncio.Event()
        spy = None
        bursts: list[Burst] = []
        try:
            await dispatch.wait_ready(bot, watcher, timeout=120)
            if not echo:  # steady state: the scheduler's startup scan of the seeds is done
                await dispatch.wait_for_log(bot, "tick:", timeout=120)
            scanning = asyncio.create_task(watcher.run(stop))
            warm = [WARMUP_CHAT + k for k in range(len(WARMUP))]
            await _push_and_wait(server, watcher, warm, WARMUP, timeout=30)
            if profile:
                spy = dispatch.attach_profiler(bot.proc.pid, "burst-echo" if echo else "burst-bot")
                await asyncio.sleep(1.0)  # py-spy attaches
            for n in range(2):  # cold caches, then warm
                chats = [FIRST_CHAT + n * readers + k for k in range(readers)]
                bursts.append(await _burst(server, watcher, bot, chats))
            stop.set()
            await scanning
        finally:
            stop.set()
            await bot.stop()
        if spy is not None:
            spy.wait(timeout=30)
        return bursts


async def _burst(
    server: FakeTelegram, watcher: dispatch.Watcher, bot: dispatch.BotProcess, chats: list[int]
) -> Burst:
    """One burst: every chat sends its command at once; CPU read before and after, at rest."""
    result = Burst(len(chats))
    await asyncio.sleep(SETTLE)
    mark = len(server.requests)
    cpu0, own0 = dispatch.cpu_seconds(bot.proc.pid), time.process_time()
    pushed, last, result.missing = await _push_and_wait(
        server, watcher, chats, COMMANDS, timeout=120
    )
    await asyncio.sleep(SETTLE)
    result.cpu = dispatch.cpu_seconds(bot.proc.pid) - cpu0
    result.harness_cpu = time.process_time() - own0
    result.seconds = last - pushed
    watcher.scan()
    _tally(result, server.requests[mark:], chats)
    return result


def _tally(result: Burst, records: list[Any], chats: list[int]) -> None:
    """Count replies per reader and group identical replies per command."""
    command_of = {chat: COMMANDS[k % len(COMMANDS)] for k, chat in enumerate(chats)}
    per_chat: Counter[int] = Counter()
    for rec in records:
        if rec.chat_id not in command_of or rec.method == "getUpdates":
            continue
        if not rec.ok:
            result.refused += 1
            continue
        if rec.method not in dispatch.REPLY_METHODS:
            continue
        per_chat[rec.chat_id] += 1
        digest, text = _reply_key(rec.params)
        command = command_of[rec.chat_id]
        result.replies.setdefault(command, Counter())[digest] += 1
        result.sizes[command] = len(text)
    result.answered = len(per_chat)
    result.extra = sum(n - 1 for n in per_chat.values())


def report(name: str, b: Burst) -> str:
    return (
        f"{name}: {b.answered:,}/{b.readers:,} answered in {b.seconds:.2f} s = {b.rate:,.0f}/s; "
        f"bot CPU {b.cpu:.2f} s = {b.cpu_ms:.2f} ms/update; fake server + driver "
        f"{b.harness_cpu:.2f} s; missing {b.missing}, extra {b.extra}, refused {b.refused}"
    )


def consistent(b: Burst) -> bool:
    """Every reader answered once, and one reply per command (the same for every reader)."""
    same = all(len(digests) == 1 for digests in b.replies.values())
    return b.answered == b.readers and not (b.missing or b.extra or b.refused) and same


def corpus_size() -> int:
    return len(common.read_corpus())


@dataclass
class Phase:
    """One kind of burst (cold or warm caches) over all rounds: medians and paired ratios."""

    name: str
    echoes: list[Burst]
    bots: list[Burst]

    def pairs(self) -> list[tuple[Burst, Burst]]:
        return list(zip(self.echoes, self.bots, strict=True))

    @property
    def cpu_ratio(self) -> float:
        return statistics.median(b.cpu_ms / e.cpu_ms for e, b in self.pairs())

    @property
    def rate_ratio(self) -> float:
        return statistics.median(b.rate / e.rate for e, b in self.pairs())

    def median(self, attr: str, echo: bool = False) -> float:
        return statistics.median(getattr(x, attr) for x in (self.echoes if echo else self.bots))

    @property
    def clean(self) -> bool:
        answered = all(e.answered == e.readers for e in self.echoes)
        return answered and all(map(consistent, self.bots))

    def line(self) -> str:
        ok_cpu, ok_rate = self.cpu_ratio <= CPU_TARGET, self.rate_ratio >= RATE_TARGET
        return (
            f"{self.name}: CPU/update bot {self.median('cpu_ms'):.2f} ms, echo "
            f"{self.median('cpu_ms', True):.2f} ms, ratio {self.cpu_ratio:.2f} (per round "
            f"{', '.join(f'{b.cpu_ms / e.cpu_ms:.2f}' for e, b in self.pairs())}; target ≤ "
            f"{CPU_TARGET:g}): {'PASS' if ok_cpu else 'FAIL'}; throughput bot "
            f"{self.median('rate'):,.0f}/s, echo {self.median('rate', True):,.0f}/s, ratio "
            f"{self.rate_ratio:.2f} (per round "
            f"{', '.join(f'{b.rate / e.rate:.2f}' for e, b in self.pairs())}; target ≥ "
            f"{RATE_TARGET:g}): {'PASS' if ok_rate else 'FAIL'}; every reader answered once with "
            f"the same reply per command: {self.clean}"
        )

    def summary(self) -> dict[str, Any]:
        return {
            "bot_cpu_ms_per_update": round(self.median("cpu_ms"), 3),
            "echo_cpu_ms_per_update": round(self.median("cpu_ms", True), 3),
            "cpu_ratio": round(self.cpu_ratio, 3),
            "bot_per_s": round(self.median("rate"), 1),
            "echo_per_s": round(self.median("rate", True), 1),
            "rate_ratio": round(self.rate_ratio, 3),
            "round_cpu_ms": [[round(e.cpu_ms, 3), round(b.cpu_ms, 3)] for e, b in self.pairs()],
            "round_per_s": [[round(e.rate), round(b.rate)] for e, b in self.pairs()],
            "harness_cpu_s": [[round(e.harness_cpu, 2), round(b.harness_cpu, 2)]
                              for e, b in self.pairs()],
            "clean": self.clean,
        }  # fmt: skip

    def rows(self, what: str, target: bool) -> list[dict[str, Any]]:
        """Table rows: CPU per update and throughput, each beside the echo bot's."""
        cpu, rate = self.median("cpu_ms"), self.median("rate")
        echo_cpu, echo_rate = self.median("cpu_ms", True), self.median("rate", True)
        return [
            self._row(f"{what}, {self.name}: CPU per update of the bot process",
                      f"{cpu:.2f} ms", f"{echo_cpu:.2f} ms", self.cpu_ratio,
                      f"≤ {CPU_TARGET:g}× echo" if target else "",
                      self.cpu_ratio <= CPU_TARGET if target else None),
            self._row(f"{what}, {self.name}: throughput",
                      f"{rate:,.0f} updates/s", f"{echo_rate:,.0f}/s", self.rate_ratio,
                      f"≥ {RATE_TARGET:g}× echo" if target else "",
                      self.rate_ratio >= RATE_TARGET if target else None),
        ]  # fmt: skip

    def _row(
        self, figure: str, value: str, floor: str, ratio: float, target: str, ok: bool | None
    ) -> dict[str, Any]:
        return {"figure": figure, "value": value, "floor": floor, "floor_name": "aiogram echo bot",
                "ratio": round(ratio, 2), "target": target,
                "pass": None if ok is None else ok and self.clean}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--readers", type=int, default=600)
    ap.add_argument("--articles", type=int, default=0, help="0: the whole corpus (default)")
    ap.add_argument("--rounds", type=int, default=5, help="echo/bot rounds, median (5)")
    ap.add_argument("--quick", action="store_true", help="200 readers, 1 round, 1,000 articles")
    ap.add_argument("--profile", action="store_true", help="py-spy the bot in round 1")
    args = ap.parse_args()
    if args.quick:
        args.readers, args.articles, args.rounds = 200, 1000, 1
    articles = args.articles or corpus_size()
    seeds, cached = ingest.ensure_db(articles)
    db = ingest.copy_db(cached, ingest.run_dir() / "burst.sqlite3")
    print(f"burst: {args.readers:,} readers at once, {articles:,} articles, {args.rounds} rounds; "
          f"commands in turn: {', '.join(COMMANDS)}", flush=True)  # fmt: skip

    def make_real(server: FakeTelegram) -> dispatch.BotProcess:
        return dispatch.real_bot(server, seeds, db, "burst-bot")

    runs: list[tuple[list[Burst], list[Burst]]] = []
    for n in range(1, args.rounds + 1):
        echo = asyncio.run(measure(dispatch.echo_bot, readers=args.readers, echo=True))
        bot = asyncio.run(
            measure(make_real, readers=args.readers, echo=False, profile=args.profile and n == 1)
        )
        for name, e, b in zip(PHASES, echo, bot, strict=True):
            print(report(f"round {n}, {name}: echo bot (floor)", e), flush=True)
            print(report(f"round {n}, {name}: bot", b), flush=True)
        runs.append((echo, bot))
    phases = [
        Phase(name, [r[0][k] for r in runs], [r[1][k] for r in runs])
        for k, name in enumerate(PHASES)
    ]
    cold, warm = phases
    digests = {cmd: sorted(c) for cmd, c in runs[-1][1][0].replies.items()}
    print(f"replies: {json.dumps(digests, ensure_ascii=False)}; chars {runs[-1][1][0].sizes}")
    for phase in phases:
        print(phase.line())
    ok = cold.cpu_ratio <= CPU_TARGET and cold.rate_ratio >= RATE_TARGET and cold.clean
    what = (f"burst, {args.readers:,} readers at once, one command each, {articles:,} articles "
            f"(median of {args.rounds} paired rounds)")  # fmt: skip
    common.emit({
        "bench": "burst", "readers": args.readers, "articles": articles, "rounds": args.rounds,
        "commands": list(COMMANDS), **cold.summary(), "warm": warm.summary(),
        "replies": digests, "reply_chars": runs[-1][1][0].sizes, "pass": ok,
        "rows": cold.rows(what, target=True) + warm.rows(what, target=False),
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

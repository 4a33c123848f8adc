"""`make bench`: run every bench script, collect their JSON summaries, rewrite the tables.

Each script runs as its own subprocess (so one crash or hang cannot take the others down) and
prints a single-line JSON summary last. Two blocks are replaced, nothing else in either file:
the full table between `<!-- bench:start -->` and `<!-- bench:end -->` in docs/benchmarks.md,
and the operators' summary (targets met; figures that miss a target shown against their floor)
between `<!-- bench:summary:start -->` and `<!-- bench:summary:end -->` in README.md.

    .venv/bin/python bench/all.py                  # everything, both tables rewritten
    .venv/bin/python bench/all.py --quick          # smoke run of every script (files untouched)
    .venv/bin/python bench/all.py --only ingest,fanout --no-readme
    .venv/bin/python bench/all.py --only dispatch --merge   # rerun one, keep the others' rows

``--merge`` replaces the rerun benches' rows in the table committed in docs/benchmarks.md and
keeps every other row there (marked with the date it was measured), so it works on a fresh
clone; bench/.work/summaries.json (the last run's JSON) is used only when the docs have no table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
README = ROOT / "README.md"
DOCS = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"  # the full table, in DOCS
SUMMARY = "<!-- bench:summary:start -->", "<!-- bench:summary:end -->"  # the summary, in README
# (name, script, timeout in seconds); the order is the tables'.
SCRIPTS = (
    ("ingest", "ingest.py", 1800),
    ("search_quality", "search_quality.py", 1800),
    ("search_speed", "search_speed.py", 1800),
    ("dispatch", "dispatch.py", 900),
    ("burst", "burst.py", 900),
    ("fanout", "fanout.py", 900),
    ("publish_latency", "publish_latency.py", 600),
    ("runtime", "runtime.py", 1800),
    ("extraction", "extraction.py", 300),
    ("feed_latency", "feed_latency.py", 600),
)

Row = dict[str, Any]


def run_script(name: str, script: Path, timeout: float, quick: bool) -> dict[str, Any]:
    """Run one bench script, echoing its output; its last JSON line, or an error summary."""
    if not script.exists():
        print(f"== {name}: {script.name} is missing, skipped", flush=True)
        return {"bench": name, "error": f"{script.name} missing"}
    quick_ok = quick and '"--quick"' in script.read_text(encoding="utf-8")
    if quick and not quick_ok:
        print(f"== {name}: {script.name} has no --quick flag; running it in full", flush=True)
    cmd = [sys.executable, str(script), *(["--quick"] if quick_ok else [])]
    print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
    started = time.perf_counter()
    lines: list[str] = []
    with subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as proc:  # fmt: skip
        assert proc.stdout is not None
        deadline = started + timeout
        for line in proc.stdout:  # bounded: the child is killed at the deadline below
            print(f"   {line}", end="", flush=True)
            lines.append(line.strip())
            if time.perf_counter() > deadline:
                proc.kill()
                break
        try:
            code = proc.wait(timeout=max(1.0, deadline - time.perf_counter()))
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    elapsed = time.perf_counter() - started
    summary = next((s for s in map(_json, reversed(lines)) if s is not None), None)
    if summary is None:
        why = "timed out" if elapsed > timeout else f"exit code {code}, no JSON summary"
        print(f"== {name}: {why}", flush=True)
        return {"bench": name, "error": why}
    summary.setdefault("bench", name)
    summary["seconds"] = round(elapsed, 1)
    summary["measured_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if code != 0:
        summary["exit_code"] = code
    return summary


def _json(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def rows_of(summary: dict[str, Any]) -> list[Row]:
    """Table rows of one summary: its own `rows`, else the search scripts' known keys."""
    name = summary.get("bench", "?")
    if "error" in summary:
        return [{"figure": name, "value": "not measured", "target": "", "pass": None,
                 "note": summary["error"]}]  # fmt: skip
    if isinstance(summary.get("rows"), list):
        return summary["rows"]
    return _search_rows(summary)


def _forgiving_rows(s: dict[str, Any]) -> list[Row]:
    """Issue 12's figures: forgiving search against the engine with forgiveness off."""
    rows: list[Row] = []
    f = s.get("forgiving")
    if isinstance(f, dict) and isinstance(f.get("engine"), dict):
        engine, before = f["engine"], f.get("before_issue_12", {})
        figures = (
            ("one-typo single words: nothing found", "nothing_found_typo_word", "", 0.03),
            ("one typo in 2–3 words: recall@5", "one_typo", "recall@5", 0.98),
            ("last word cut to half: recall@5", "last_word_cut", "recall@5", 0.97),
        )
        three, three_before = (
            e.get("recall@5_by_words", {}).get("3_words", {}) for e in (engine, before)
        )
        for figure, key, sub, target in figures:
            value = engine.get(key, {}).get(sub) if sub else engine.get(key)
            floor = before.get(key, {}).get(sub) if sub else before.get(key)
            if not isinstance(value, int | float):
                continue
            good = value >= target if sub else value <= target
            aim = f"{'≥' if sub else '≤'} {target}"
            if sub and three:  # the whole set is capped by its clean queries' 0.97: see below
                good, aim = None, f"— (clean {engine.get('clean', {}).get('recall@5')})"
            rows.append({
                "figure": f"search, {figure}", "value": value, "floor": floor,
                "floor_name": "engine before issue 12", "target": aim, "pass": good,
            })  # fmt: skip
            if sub and isinstance(three.get(key), int | float):  # clean ≈ the 99.5 %
                kind = figure.split(":")[0].replace(" in 2–3 words", "")
                rows.append({
                    "figure": f"search, {kind}, 3-word queries (clean "
                              f"{round(three.get('clean', 0), 3)}): recall@5",
                    "value": three[key], "floor": three_before.get(key),
                    "floor_name": "engine before issue 12", "target": f"≥ {target}",
                    "pass": three[key] >= target,
                })  # fmt: skip
    for label, sub_s in sorted((k, v) for k, v in s.items() if isinstance(v, dict)):
        classes = sub_s.get("p95_by_class_ms")
        if "p95_ms" not in sub_s or not isinstance(classes, dict) or "50" not in label:
            continue
        old = sub_s.get("before_issue_12", {}).get("p95_by_class_ms", {})
        for c in ("clean", "typo", "prefix"):
            if c in classes:
                rows.append({
                    "figure": f"search latency, {label}, {c} queries",
                    "value": f"p95 {classes[c]} ms", "floor": f"{old.get(c)} ms",
                    "floor_name": "before issue 12", "target": "p95 ≤ 10 ms",
                    "pass": classes[c] <= 10,
                })  # fmt: skip
    return rows


def _search_rows(s: dict[str, Any]) -> list[Row]:
    """Rows for bench/search_quality.py and bench/search_speed.py (the search engineer's)."""
    name, rows = s.get("bench", "?"), []
    engine = s.get("engine") if isinstance(s.get("engine"), dict) else s
    plain = next((v for k, v in s.items() if "plain" in k and isinstance(v, dict)), {})
    for key, target in (("recall@1", None), ("recall@5", 0.97), ("mrr", 0.92)):
        value = engine.get(key, engine.get(key.replace("@", "_at_")))
        if value is None:
            continue
        floor = plain.get(key, plain.get(key.replace("@", "_at_"))) if plain else None
        rows.append({
            "figure": f"search {key.upper() if key == 'mrr' else key}", "value": value,
            "floor": floor, "floor_name": "plain FTS5 unicode61",
            "ratio": round(value / floor, 1) if isinstance(floor, int | float) and floor else None,
            "target": f"≥ {target}" if target else "", "pass": None if target is None
            else value >= target,
        })  # fmt: skip
    for label, sub in sorted((k, v) for k, v in s.items() if isinstance(v, dict)):
        if "p95_ms" in sub:
            at_50k = "50" in label
            rows.append({
                "figure": f"search latency, {label}",
                "value": f"p50 {sub.get('p50_ms')} / p95 {sub['p95_ms']} / p99 "
                         f"{sub.get('p99_ms')} ms",
                "target": "p95 ≤ 10 ms" if at_50k else "",
                "pass": (sub["p95_ms"] <= 10) if at_50k else None,
            })  # fmt: skip
    rows += _forgiving_rows(s)
    if not rows:  # unknown shape: show the scalars rather than nothing
        scalars = {k: v for k, v in s.items() if isinstance(v, int | float | str) and k != "bench"}
        rows.append({"figure": name, "value": json.dumps(scalars, ensure_ascii=False)[:300],
                     "target": "", "pass": s.get("pass") if isinstance(s.get("pass"), bool)
                     else None})  # fmt: skip
    return rows


def machine() -> str:
    """One line about where the numbers were measured."""
    mem = "?"
    cpu = platform.processor() or platform.machine()
    try:
        info = Path("/proc/meminfo").read_text()
        kib = int(next(ln for ln in info.splitlines() if ln.startswith("MemTotal")).split()[1])
        mem = f"{kib / 1024 / 1024:.1f} GiB RAM"
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")),
                   cpu)  # fmt: skip
    except (OSError, StopIteration, ValueError):
        pass
    try:
        from importlib.metadata import version

        aiogram = f", aiogram {version('aiogram')}"
    except Exception:
        aiogram = ""
    return (f"{os.cpu_count()} CPUs ({cpu}), {mem}, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}{aiogram}, {platform.system()} "
            f"{platform.release()}")  # fmt: skip


def _fmt(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def measured(quick: bool) -> str:
    """When and where: the first words of both tables."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"Measured {now} on {machine()}{' (QUICK smoke run)' if quick else ''}."


def table(summaries: list[dict[str, Any]], quick: bool) -> str:
    """The full table (every row, pass or not) that goes between the docs/benchmarks.md markers."""
    out = [
        f"{measured(quick)} "
        "Each floor runs in the same run on the same machine; rerun with `make bench`.",
        "",
        "| figure | bot | floor | ratio | target | result |",
        "|---|---|---|---|---|---|",
    ]
    for s in summaries:
        earlier = s.get("reused_from")
        for row in rows_of(s):
            if earlier:
                row = {**row, "note": f"{row.get('note') or ''} (measured {earlier})".strip()}
            verdict = {True: "pass", False: "**FAIL**", None: ""}[row.get("pass")]
            note = f" — {row['note']}" if row.get("note") else ""
            out.append(
                f"| {row.get('figure', '?')} | {_fmt(row.get('value'))} | {_floor(row)} | "
                f"{_fmt(row.get('ratio'))} | {row.get('target') or '—'} | {verdict}{note} |"
            )
    return "\n".join(out)


def _floor(row: Row) -> str:
    """A row's floor with the name of what was measured as the floor."""
    floor = _fmt(row.get("floor"))
    if row.get("floor_name") and row.get("floor") is not None:
        floor = f"{floor} ({row['floor_name']})"
    return floor


def summary(summaries: list[dict[str, Any]], quick: bool) -> str:
    """The README's short version: a table of the targets met against their floors (those with
    no floor named in its first line, to keep the README short), then every figure that misses
    its target as a line against its floor, then what was not measured (details: the docs)."""
    met = [
        "| figure | bot | floor (same run) | ratio | target |",
        "|---|---|---|---|---|",
    ]
    missed: list[str] = []
    absent: list[str] = []
    also: list[str] = []
    for s in summaries:
        earlier = f" (measured {s['reused_from']})" if s.get("reused_from") else ""
        if "error" in s:
            absent.append(f"{s.get('bench', '?')} ({s['error']})")
            continue
        for row in rows_of(s):
            figure, value = f"{row.get('figure', '?')}{earlier}", _fmt(row.get("value"))
            if row.get("pass") is True and row.get("floor") is None:  # no floor: one line
                also.append(f"{figure} {value} (target {row.get('target') or '—'})")
            elif row.get("pass") is True:
                met.append(
                    f"| {figure} | {value} | {_floor(row)} | {_fmt(row.get('ratio'))} | "
                    f"{row.get('target') or '—'} |"
                )
            elif row.get("pass") is False:
                floor = ""
                if row.get("floor") is not None:
                    name = row.get("floor_name") or "same run"
                    floor = f"; floor ({name}): {_fmt(row.get('floor'))}"
                missed.append(f"- {figure}: {value}{floor} (target {row.get('target') or '—'})")
    head = f"{measured(quick)} Targets met"
    head += f" (and, with no floor: {'; '.join(also)}):" if also else ":"
    out = [head, "", *met] if len(met) > 2 or also else [measured(quick)]
    if missed:
        out += [
            "",
            "Missing their target in this run, shown against their floor "
            "([docs/benchmarks.md](docs/benchmarks.md) says what limits them):",
            "",
            *missed,
        ]
    if absent:
        out += ["", f"Not measured in this run: {', '.join(absent)}."]
    return "\n".join(out)


def rewrite(path: Path, markers: tuple[str, str], text: str) -> bool:
    """Replace what is between the markers; False (file untouched) when they are missing."""
    try:
        current = path.read_text(encoding="utf-8")
    except OSError:
        return False
    start, end = current.find(markers[0]), current.find(markers[1])
    if start < 0 or end < start:
        return False
    new = current[: start + len(markers[0])] + "\n" + text + "\n" + current[end:]
    path.write_text(new, encoding="utf-8")
    return True


def merge(fresh: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """This run's summaries merged into the table now in docs/benchmarks.md: the rows of the
    benches rerun are replaced (in place), every other row is kept with the date it was
    measured. Works on a fresh clone: the committed table is the record, not bench/.work."""
    when, kept = committed_rows(DOCS)
    if not kept:  # no table in the docs (yet): the last saved run's summaries, as before
        return _merge_saved(fresh)
    replaced = {_key(row["figure"]) for s in fresh for row in rows_of(s)}
    out: list[dict[str, Any]] = []
    placed = False
    for row in kept:
        if _key(row["figure"]) in replaced:
            if not placed:
                out += fresh
                placed = True
            continue
        note = row.get("note") or ""
        dated = re.fullmatch(r"(.*?)\s*\(measured ([^()]*)\)", note)
        if dated:  # table() and summary() write the date back, on both tables
            row["note"], earlier = dated.group(1) or None, dated.group(2)
        else:
            earlier = None if "measured " in f"{note} {row['figure']}" else when
        out.append({"bench": "docs/benchmarks.md", "rows": [row], "reused_from": earlier})
    return out if placed else out + fresh


def _key(figure: str) -> str:
    """What names a figure across runs: its words before the first comma or parenthesis
    ("startup to first getUpdates, 50,000 articles" → "startup to first getUpdates")."""
    return re.split(r"[,(]", figure, maxsplit=1)[0].strip()


def committed_rows(path: Path) -> tuple[str | None, list[Row]]:
    """The rows of the full table between the markers in ``path``, and when it was measured."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None, []
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        return None, []
    block = text[start + len(START) : end]
    when = re.search(r"Measured (\d{4}-\d\d-\d\d \d\d:\d\d UTC)", block)
    rows: list[Row] = []
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if not line.startswith("| ") or len(cells) != 6 or cells[0] == "figure":
            continue
        figure, value, floor, ratio, target, result = cells
        verdict = re.match(r"(pass|\*\*FAIL\*\*)?\s*(?:— (.*))?$", result)
        if verdict is None:
            continue
        rows.append({
            "figure": figure, "value": value, "floor": None if floor == "—" else floor,
            "ratio": None if ratio == "—" else ratio, "target": "" if target == "—" else target,
            "pass": {"pass": True, "**FAIL**": False}.get(verdict.group(1) or ""),
            "note": verdict.group(2),
        })  # fmt: skip
    return (when.group(1) if when else None), rows


def _merge_saved(fresh: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """This run's summaries plus the last saved ones of the benches not rerun, in table order."""
    try:
        saved = json.loads((BENCH / ".work" / "summaries.json").read_text())
    except (OSError, ValueError):
        saved = []
    by_name = {s.get("bench"): s for s in saved if isinstance(s, dict) and "error" not in s}
    for s in by_name.values():
        s.setdefault("reused_from", s.get("measured_at", "an earlier run"))
    by_name.update({s["bench"]: s for s in fresh})
    return [by_name[n] for n, _, _ in SCRIPTS if n in by_name]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: every script with --quick")
    ap.add_argument("--only", help="comma-separated names: " + ",".join(n for n, _, _ in SCRIPTS))
    ap.add_argument(
        "--no-readme",
        action="store_true",
        help="print the tables, leave README.md and docs/benchmarks.md as they are",
    )
    ap.add_argument(
        "--merge",
        action="store_true",
        help="with --only: replace these benches' rows in docs/benchmarks.md's table, keep the "
        "others (with their dates), rewrite both tables",
    )
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None
    summaries = [
        run_script(name, BENCH / script, timeout, args.quick)
        for name, script, timeout in SCRIPTS
        if only is None or name in only
    ]
    if args.merge and only and not args.quick:
        summaries = merge(summaries)
    text, short = table(summaries, args.quick), summary(summaries, args.quick)
    print("\n" + text + "\n\n" + short + "\n")
    (BENCH / ".work").mkdir(parents=True, exist_ok=True)
    saved = "summaries-quick.json" if args.quick else "summaries.json"  # --merge without docs
    (BENCH / ".work" / saved).write_text(json.dumps(summaries, indent=1) + "\n")
    if args.no_readme or args.quick or (only and not args.merge):
        print("README.md and docs/benchmarks.md not changed (--no-readme, --quick or --only).")
    else:
        for path, markers, block in ((DOCS, (START, END), text), (README, SUMMARY, short)):
            name = path.relative_to(ROOT)
            if rewrite(path, markers, block):
                print(f"{name}: rewritten between {markers[0]} and {markers[1]}.")
            else:
                print(f"{name} has no {markers[0]} … {markers[1]} markers; printed only.")
    failed = [s["bench"] for s in summaries if "error" in s and "missing" not in s["error"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

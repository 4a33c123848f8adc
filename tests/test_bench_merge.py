"""`bench/all.py --only NAME --merge` on a fresh clone: the rerun benchmark's rows replace theirs
in the table committed in docs/benchmarks.md, every other row is kept with its date."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers import ROOT

ROWS = [
    "| ingest warm, 5,000 unchanged files | 0.20 s | — | — | ≤ 1 s | pass |",
    "| dispatch, 2,000 updates | 1,731/s | 1,316/s (echo) | 1.09 | ≥ 0.85× echo "
    "| pass — (measured 2026-11-29 09:06 UTC) |",
    "| startup to first getUpdates, 50,000 articles | 2.29 s (+0.45 s) | 1.84 s (echo) | 1.25 "
    "| ≤ echo + 0.5 s | pass |",
    "| peak RSS of the running bot, 50,000 articles, 200 updates | 201 MB (+32 MB) "
    "| 169 MB (echo) | 1.19 | ≤ echo + 30 MB | **FAIL** |",
    "| search latency, corpus | p50 1.41 ms | — | — | — |  — (measured 2026-11-29 09:04 UTC) |",
]
TABLE = "\n".join([
    "# Benchmarks",
    "",
    "<!-- bench:start -->",
    "Measured 2026-11-30 10:00 UTC on a test machine. Each floor runs in the same run.",
    "",
    "| figure | bot | floor | ratio | target | result |",
    "|---|---|---|---|---|---|",
    *ROWS,
    "<!-- bench:end -->",
    "",
    "Prose after the table stays.",
])  # fmt: skip
FRESH = {
    "bench": "runtime",
    "rows": [
        {"figure": "startup to first getUpdates, 50,000 articles", "value": "2.23 s (+0.27 s)",
         "floor": "1.94 s", "floor_name": "aiogram echo bot", "ratio": 1.15,
         "target": "≤ echo + 0.5 s", "pass": True},
        {"figure": "peak RSS of the running bot, 50,000 articles, 200 updates",
         "value": "191 MB (+22 MB)", "floor": "169 MB", "floor_name": "aiogram echo bot",
         "ratio": 1.13, "target": "≤ echo + 30 MB", "pass": True},
    ],
}  # fmt: skip


@pytest.fixture
def bench_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """bench/all.py, pointed at a docs file and a bench/.work of a fresh clone (none)."""
    spec = importlib.util.spec_from_file_location("bench_all", ROOT / "bench" / "all.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "benchmarks.md").write_text(TABLE, encoding="utf-8")
    monkeypatch.setattr(module, "DOCS", tmp_path / "docs" / "benchmarks.md")
    monkeypatch.setattr(module, "BENCH", tmp_path / "bench")  # no .work/summaries.json
    return module


def test_a_rerun_replaces_its_rows_in_place_and_keeps_the_others_dated(
    bench_all: ModuleType,
) -> None:
    merged = bench_all.merge([FRESH])
    lines = bench_all.table(merged, False).splitlines()[4:]
    assert [line.split(" | ")[0] for line in lines] == [
        "| ingest warm, 5,000 unchanged files",
        "| dispatch, 2,000 updates",
        "| startup to first getUpdates, 50,000 articles",
        "| peak RSS of the running bot, 50,000 articles, 200 updates",
        "| search latency, corpus",
    ]
    assert lines[0].endswith("| pass — (measured 2026-11-30 10:00 UTC) |")  # the table's date
    assert lines[1].endswith("| pass — (measured 2026-11-29 09:06 UTC) |")  # its own, once
    assert "2.23 s (+0.27 s)" in lines[2] and lines[2].endswith("| pass |")  # fresh: undated
    assert "191 MB (+22 MB)" in lines[3] and "FAIL" not in lines[3]
    assert lines[4].endswith("|  — (measured 2026-11-29 09:04 UTC) |")
    again = bench_all.table(bench_all.merge([FRESH]), False).splitlines()[4:]
    assert again == lines  # nothing doubles when it is written and merged again


def test_the_readme_summary_keeps_floorless_targets_on_its_first_line(
    bench_all: ModuleType,
) -> None:
    summary = bench_all.summary(bench_all.merge([FRESH]), False).splitlines()
    assert "with no floor: ingest warm, 5,000 unchanged files" in summary[0]
    rows = [line for line in summary if line.startswith("| ") and "figure" not in line]
    assert [row.split(" | ")[0] for row in rows] == [
        "| dispatch, 2,000 updates (measured 2026-11-29 09:06 UTC)",
        "| startup to first getUpdates, 50,000 articles",
        "| peak RSS of the running bot, 50,000 articles, 200 updates",
    ]
    assert not any("Missing their target" in line for line in summary)

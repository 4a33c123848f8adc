"""Extraction quality on the pages in tests/feeds/: the bot's extractor against the libraries.

Each page in tests/feeds/expected.json lists fragments the article text (title, lead and body
joined) must contain and fragments it must not (menus, sidebars, «Читайте также», comments, share
rows, footers). Three extractors run on the same bytes in the same run: bot.extract (trafilatura,
readability-lxml where trafilatura finds too little, plus the bot's figure/credit/prompt passes),
trafilatura alone and readability-lxml alone (its summary's p, h1-h6, li and blockquote). A page
passes when every "must" is found and no "must not" leaks. The floor is readability-lxml, the
alternative the issue asked to compare. The bot's title, image, credit and date are checked too.

    .venv/bin/python bench/extraction.py          # per-page table, JSON summary last
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import common  # first: puts the project on sys.path

from bot.extract import clean, extract_page

FIXTURES = common.ROOT / "tests" / "feeds"
BASE = "http://news.example"


@dataclass(frozen=True)
class Score:
    """One extractor on one page."""

    found: int
    must: int
    leaked: list[str]
    must_not: int
    missing: list[str]
    ms: float

    @property
    def ok(self) -> bool:
        return self.found == self.must and not self.leaked


def bot_text(data: bytes, url: str) -> str:
    page = extract_page(data, url=url, tz=common.TZ)
    return "" if page is None else "\n".join([page.title, page.lead, *page.body])


def trafilatura_text(data: bytes, url: str) -> str:
    """trafilatura alone, as the bot calls it, without the bot's own passes."""
    from trafilatura import bare_extraction

    doc = bare_extraction(
        data, url=url, with_metadata=True, include_comments=False, include_tables=False,
        favor_precision=True,
    )  # fmt: skip
    return "" if doc is None else "\n".join([doc.title or "", doc.text or ""])


def readability_text(data: bytes, url: str) -> str:
    import lxml.html
    from readability import Document

    doc = Document(data, url=url)
    tree = lxml.html.fromstring(doc.summary(html_partial=True))
    blocks = tree.xpath("//p|//h1|//h2|//h3|//h4|//h5|//h6|//li|//blockquote")
    return "\n".join([doc.short_title(), *(clean(b.text_content()) for b in blocks)])


EXTRACTORS: dict[str, Callable[[bytes, str], str]] = {
    "bot": bot_text,
    "trafilatura alone": trafilatura_text,
    "readability-lxml": readability_text,
}


def score(extract: Callable[[bytes, str], str], data: bytes, spec: dict[str, Any]) -> Score:
    started = time.perf_counter()
    text = extract(data, BASE + "/news/page")
    ms = (time.perf_counter() - started) * 1000
    missing = [f for f in spec["must"] if f not in text]
    leaked = [f for f in spec["must_not"] if f in text]
    return Score(
        len(spec["must"]) - len(missing), len(spec["must"]), leaked, len(spec["must_not"]),
        missing, ms,
    )  # fmt: skip


def metadata_errors(data: bytes, spec: dict[str, Any]) -> list[str]:
    """Title, main image, credit and date of the bot's result against the page's spec."""
    page = extract_page(data, url=BASE + "/news/page", tz=common.TZ)
    if page is None:
        return ["nothing extracted"]
    want = {
        k: None if v is None else str(v).replace("{{BASE}}", BASE)
        for k, v in spec.items()
        if not k.startswith("m")
    }
    got = {
        "title": page.title,
        "image": page.image_url,
        "credit": page.credit,
        "date": page.published_at.isoformat() if page.published_at else None,
    }
    if "date" in want:
        want["date"] = datetime.fromisoformat(want["date"]).isoformat()
    return [f"{k}: {got.get(k)!r} ≠ {v!r}" for k, v in want.items() if got.get(k) != v]


def _row(
    figure: str, bot: dict[str, Any], floor: dict[str, Any], key: str, of: int, ok: bool
) -> dict[str, Any]:
    """One README row: the bot's count against readability-lxml's, out of ``of``."""
    return {
        "figure": f"extraction: {figure}",
        "value": f"{bot[key]}/{of}",
        "floor": f"{floor[key]}/{of}",
        "floor_name": "readability-lxml",
        "target": "0" if key == "leaked" else "all",
        "pass": ok,
    }


def main() -> int:
    argparse.ArgumentParser(description=__doc__.split("\n")[0]).parse_args()
    specs = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
    pages = {name: spec for name, spec in specs.items() if not name.startswith("_")}
    for name in pages:  # warm up: first calls import the libraries
        for extract in EXTRACTORS.values():
            extract((FIXTURES / name).read_bytes(), BASE)
    totals: dict[str, dict[str, Any]] = {}
    print(f"{'page':<22} {'extractor':<20} {'must':>6} {'leaked':>7} {'ms':>6}  result")
    for name, spec in pages.items():
        data = (FIXTURES / name).read_bytes().replace(b"{{BASE}}", BASE.encode())
        for label, extract in EXTRACTORS.items():
            s = score(extract, data, spec)
            t = totals.setdefault(label, {"pages_ok": 0, "found": 0, "must": 0, "leaked": 0,
                                          "must_not": 0, "ms": 0.0})  # fmt: skip
            t["pages_ok"] += s.ok
            t["found"] += s.found
            t["must"] += s.must
            t["leaked"] += len(s.leaked)
            t["must_not"] += s.must_not
            t["ms"] += s.ms
            detail = "ok" if s.ok else f"missing {s.missing} leaked {s.leaked}"
            counts = f"{s.found:>3}/{s.must:<2} {len(s.leaked):>3}/{s.must_not:<3}"
            print(f"{name:<22} {label:<20} {counts} {s.ms:>6.1f}  {detail}")
        errors = metadata_errors(data, spec)
        print(f"{name:<22} {'bot metadata':<20} {'':>21}  {errors or 'ok'}")
        totals.setdefault("_metadata", {"ok": 0})["ok"] += not errors
    bot, floor = totals["bot"], totals["readability-lxml"]
    alone = totals["trafilatura alone"]
    n = len(pages)
    missed = bot["must"] - bot["found"]
    rows = [
        _row("pages entirely right", bot, floor, "pages_ok", n, bot["pages_ok"] == n),
        _row("must-have fragments kept", bot, floor, "found", bot["must"], not missed),
        _row("junk fragments leaked", bot, floor, "leaked", bot["must_not"], bot["leaked"] == 0),
        {"figure": "extraction: title, image, credit, date right",
         "value": f"{totals['_metadata']['ok']}/{n}", "target": "all",
         "pass": totals["_metadata"]["ok"] == n},
    ]  # fmt: skip
    summary = {
        "bench": "extraction",
        "pages": n,
        "bot": bot,
        "trafilatura_alone": alone,
        "readability": floor,
        "rows": rows,
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0 if all(r["pass"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

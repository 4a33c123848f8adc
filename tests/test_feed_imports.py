"""A bot without FEEDS never loads the feed libraries (start-up time and memory are measured)."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT

HEAVY = ("feedparser", "trafilatura", "readability", "lxml", "htmldate", "justext", "courlan")


def loaded_after(imports: str) -> list[str]:
    code = f"import sys\n{imports}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return out.stdout.split()


def test_the_bot_and_even_the_feed_modules_import_no_feed_library() -> None:
    imports = (
        "import bot.__main__, bot.app, bot.console, bot.telegram, bot.services.scheduler\n"
        "import bot.services.feeds, bot.services.feed_items, bot.sources.feeds, bot.extract"
    )
    assert loaded_after(imports) == []


def test_using_them_does() -> None:
    imports = (
        "from bot.sources.feeds import parse_feed\n"
        "from bot.extract import extract_page\n"
        "parse_feed(b'<rss version=\"2.0\"><channel></channel></rss>', url='http://x/')\n"
        "extract_page(b'<html><body><p>x</p></body></html>', url='http://x/')"
    )
    assert set(loaded_after(imports)) >= {"feedparser", "trafilatura", "lxml"}

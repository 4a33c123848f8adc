"""Target keyword rules on the real seed with the real SearchService (the subscriptions' stems)."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from bot.models import Target
from bot.services.ingest import Ingestor
from bot.services.search import SearchService
from bot.services.targets import TargetRules
from bot.targets import parse_targets
from tests.helpers import MSK, copy_seeds, write_seed


async def test_keywords_use_search_morphology(conn: aiosqlite.Connection, tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path / "seeds")
    write_seed(seeds, "sport.txt", "Футболисты сыграли вничью", ["Матч прошёл в Москве."])
    await Ingestor(conn, seeds, MSK).scan()
    targets = parse_targets(
        """
[[target]]
chat = "@everything"
[[target]]
chat = -1001
topic = 3
keywords = ["партнёр", "футбол"]
[[target]]
chat = -1001
topic = 4
keywords = ["футболисты", "матчи"]
[[target]]
chat = "@nothing_here"
keywords = ["космос"]
""",
        "t.toml",
    )
    rules = TargetRules(targets, SearchService(conn))
    seed, sport = 1, 2  # the real seed speaks of a "стратегическим партнером"
    assert [str(t) for t in await rules.for_article(seed)] == ["@everything", "-1001 topic 3"]
    assert [str(t) for t in await rules.for_article(sport)] == ["@everything", "-1001 topic 4"]
    assert await rules.for_article(999) == (Target(chat="@everything"),)


async def test_a_failing_matcher_skips_only_that_target() -> None:
    class Broken:
        async def search(self, query: str, page: int = 1, per_page: int = 5) -> object | None:
            return object()

        async def matches(self, article_id: int, query: str) -> bool:
            raise RuntimeError("boom")

    rules = TargetRules((Target("@a"), Target("@b", keywords=("x",))), Broken())
    assert await rules.for_article(1) == (Target("@a"),)

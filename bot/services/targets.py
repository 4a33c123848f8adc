"""Which targets an article goes to: every target without keywords, and those whose keywords
match it with the same stemmed matching as keyword subscriptions (any keyword is enough)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.models import Target
from bot.services.subscriptions import Matcher

log = logging.getLogger(__name__)


class TargetRules:
    """The targets of this run (TARGETS_FILE or CHANNEL_ID) and their keyword rules."""

    def __init__(self, targets: Sequence[Target], search: Matcher) -> None:
        self.targets = tuple(targets)
        self.search = search
        self._by_key = {t.key: t for t in self.targets}

    def find(self, chat_id: str, topic: int | None) -> Target | None:
        """The configured target an outbox row goes to (None: a chat no longer configured)."""
        return self._by_key.get((chat_id.lower(), topic))

    async def for_article(self, article_id: int) -> tuple[Target, ...]:
        """The targets that get this article, in the file's order."""
        verdict: dict[str, bool] = {}
        chosen: list[Target] = []
        for target in self.targets:
            if not target.keywords:
                chosen.append(target)
                continue
            for keyword in target.keywords:
                if keyword not in verdict:
                    verdict[keyword] = await self._matches(article_id, keyword)
                if verdict[keyword]:
                    chosen.append(target)
                    break
        return tuple(chosen)

    async def _matches(self, article_id: int, keyword: str) -> bool:
        try:
            return await self.search.matches(article_id, keyword)
        except Exception:  # one odd keyword must not keep the article from the other targets
            log.exception("matching article %d against keyword %r failed", article_id, keyword)
            return False

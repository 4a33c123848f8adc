"""Pure: when two seed files hold the same article, and what a reader would see change.

An article is its content, not its file name: two files whose title, date and text (lead and
body) are equal after normalisation (case, ё/е, punctuation, quotes, dashes and whitespace
ignored: only the words count, folded as search folds them) are one article. The date counts
only when the file has a date line; a date taken from the file's mtime differs from copy to copy.
Credit and promo lines do not count, so a copy that lost its photo credit is still the same.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC

from bot.models import ParsedArticle
from bot.text import fold

_NON_WORD = re.compile(r"[\W_]+")

VISIBLE_FIELDS = ("title", "text", "date", "credit")
"""What a correction can change, in the order an admin note names them."""


def _norm(text: str) -> str:
    """The words of ``text``, folded, one space apart (two C-level passes: cheap when cold)."""
    return _NON_WORD.sub(" ", fold(text)).strip()


def identity_key(article: ParsedArticle) -> str:
    """The article's identity: sha256 of normalised title, date (minute) and text."""
    when = article.published_at.astimezone(UTC)  # stored rows come back in UTC, files in SOURCE_TZ
    date = "" if article.date_from_mtime else when.strftime("%Y-%m-%dT%H:%M")
    parts = (_norm(article.title), date, _norm(article.lead), *(_norm(p) for p in article.body))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def visible_changes(old: ParsedArticle, new: ParsedArticle) -> tuple[str, ...]:
    """Which of title / text / date / credit differ as a reader would see them (exactly, not
    normalised: a fixed quote is a correction too). Promo lines never count."""
    changed = {
        "title": old.title != new.title,
        "text": (old.lead, old.body) != (new.lead, new.body),
        "date": old.published_at != new.published_at,
        "credit": (old.credit or "") != (new.credit or ""),
    }
    return tuple(name for name in VISIBLE_FIELDS if changed[name])

"""Channel posts from a Jinja2 template (POST_TEMPLATE): sandboxed, autoescaped, checked at start.

The template gets the article's fields (``fields`` lists them; docs/editor.md too) and renders
Telegram HTML. Every value is escaped the way the bot always escaped text (``<``, ``>``, ``&``);
the links come pre-escaped for attributes. The shipped default gives the historical format byte
for byte. A template is checked once at start against a sample article holding every character
that needs escaping: it must render, use only Telegram's tags, balance them and fit one message.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from bot.models import Article
from bot.telegram.formatting import (
    MAX_MESSAGE_LEN,
    UtmParams,
    deep_link,
    escape,
    fmt_date,
    meta_line,
    site_link,
    utf16_len,
)
from bot.telegram.texts import Lang
from bot.telegram.tghtml import HtmlError, visible_text

DEFAULT_TEMPLATE = Path(__file__).with_name("templates") / "post.html"
CHANNEL_LANG: Lang = "ru"
"""Channel posts and subscriber alerts speak the publisher's language."""
MAX_TEMPLATE_BYTES = 64 * 1024


class TemplateProblem(ValueError):
    """A post template that cannot be used; the message names the file and the problem."""


def _finalize(value: object) -> object:
    """Escape like the rest of the bot (quotes stay as they are); Markup passes unchanged."""
    if value is None or isinstance(value, Markup):
        return "" if value is None else value
    return Markup(escape(str(value)))


_ENV = SandboxedEnvironment(
    autoescape=True, undefined=StrictUndefined, finalize=_finalize, auto_reload=False
)


def _url(url: str | None) -> Markup | None:
    return None if url is None else Markup(html.escape(url, quote=True))


def fields(
    article: Article, tz: ZoneInfo, bot_username: str | None, utm: UtmParams = ()
) -> dict[str, object]:
    """What a template sees. Text is stripped; ``body`` keeps only non-empty paragraphs;
    ``source_url`` is the article's address on the site (Article.url) with UTM_PARAMS for the
    channel, like the «Читать на сайте» button."""
    url = article.url if article.url and article.url.startswith(("http://", "https://")) else None
    source = None if url is None else site_link(url, utm, "channel")
    credit = (article.credit or "").strip()
    return {
        "id": article.id,
        "title": article.title.strip(),
        "date": fmt_date(article.published_at, tz),
        "published_at": article.published_at.astimezone(tz),
        "credit": credit or None,
        "meta": meta_line(article, tz, CHANNEL_LANG).strip(),
        "lead": article.lead.strip(),
        "body": tuple(p.strip() for p in article.body if p.strip()),
        "link": _url(deep_link(bot_username, article.id) if bot_username else None),
        "source_url": _url(source),
    }


def sample_article(tz: ZoneInfo) -> Article:
    """A short article whose every text field holds every character that needs escaping in
    HTML, both quotes included, so a text field put inside an attribute fails the check."""
    return Article(
        id=1,
        source="https://example.org/news/1",
        url="https://example.org/news/1",
        title="Sample <title> & \"double\" 'single' quotes",
        published_at=datetime(2025, 5, 21, 10, 37, tzinfo=tz),
        lead="The <lead> & \"double\" 'single' details.",
        body=("First <paragraph>: 1 < 2 & \"3\" > '2'.", 'Second paragraph with "quotes".'),
        credit="Author <photo> & \"agency\" 'x'",
    )


@dataclass(frozen=True, slots=True)
class PostRenderer:
    """One compiled post template; ``render`` gives the HTML of the whole-article post."""

    name: str
    template: Template

    @classmethod
    def from_source(cls, source: str, name: str) -> PostRenderer:
        """Compile ``source``; TemplateProblem names ``name`` and the line at fault."""
        try:
            return cls(name, _ENV.from_string(source))
        except TemplateError as exc:
            line = getattr(exc, "lineno", None)
            where = f" (line {line})" if line else ""
            raise TemplateProblem(f"{name}: {exc.message or exc}{where}") from None

    @classmethod
    def from_file(cls, path: Path, tz: ZoneInfo) -> PostRenderer:
        """Read, compile and check the template at ``path`` (TemplateProblem if unusable)."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TemplateProblem(f"{path}: cannot read it ({exc.strerror or exc})") from None
        if len(data) > MAX_TEMPLATE_BYTES:
            raise TemplateProblem(f"{path}: larger than {MAX_TEMPLATE_BYTES // 1024} KB")
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError:
            raise TemplateProblem(f"{path}: not UTF-8 text") from None
        renderer = cls.from_source(source, str(path))
        renderer.check(tz)
        return renderer

    def render(
        self, article: Article, tz: ZoneInfo, bot_username: str | None, utm: UtmParams = ()
    ) -> str:
        """The post's HTML (stripped); TemplateProblem when the template fails on this article."""
        try:
            return self.template.render(fields(article, tz, bot_username, utm)).strip()
        except TemplateError as exc:
            raise TemplateProblem(f"{self.name}: {exc.message or exc}") from None
        except Exception as exc:  # the template's own logic failed (1 // 0, a bad filter arg)
            raise TemplateProblem(f"{self.name}: {type(exc).__name__}: {exc}") from None

    def whole_post(
        self, article: Article, tz: ZoneInfo, bot_username: str | None, utm: UtmParams = ()
    ) -> str | None:
        """The rendering when its text after entity parsing fits one message, else None.

        Counted in UTF-16 units (safe whether Telegram counts code points or units); invalid
        HTML raises TemplateProblem, so a bad rendering never reaches Telegram.
        """
        text = self.render(article, tz, bot_username, utm)
        try:
            shown = visible_text(text)
        except HtmlError as exc:
            raise TemplateProblem(f"{self.name}: article {article.id}: {exc}") from None
        return text if shown.strip() and utf16_len(shown) <= MAX_MESSAGE_LEN else None

    def check(self, tz: ZoneInfo) -> None:
        """Render the sample article: Telegram's tags only, balanced, not empty, one message."""
        text = self.render(sample_article(tz), tz, "newsbot")
        try:
            shown = visible_text(text)
        except HtmlError as exc:
            raise TemplateProblem(f"{self.name}: {exc}") from None
        if not shown.strip():
            raise TemplateProblem(f"{self.name}: renders an empty message")
        if utf16_len(shown) > MAX_MESSAGE_LEN:
            raise TemplateProblem(
                f"{self.name}: a short sample article renders {utf16_len(shown)} characters, "
                f"more than the {MAX_MESSAGE_LEN} of one message"
            )


@cache
def default_renderer() -> PostRenderer:
    """The shipped template: today's channel format."""
    return PostRenderer.from_source(DEFAULT_TEMPLATE.read_text(encoding="utf-8"), "post.html")

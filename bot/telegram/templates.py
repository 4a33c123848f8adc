"""Channel posts from a Jinja2 template (POST_TEMPLATE): sandboxed, autoescaped, checked at start.

The template gets the article's fields (``fields`` lists them; docs/editor.md too) and renders
Telegram HTML. Every value is escaped the way the bot always escaped text (``<``, ``>``, ``&``);
the links come pre-escaped for attributes. The shipped default gives the historical format byte
for byte. A template is checked once at start against a sample article holding every character
that needs escaping: it must render, use only Telegram's tags, balance them and fit one message.

Jinja2 is imported when a template is first compiled: a custom POST_TEMPLATE at start (it is
checked there), the shipped default only at the first channel post. A bot that posts nothing
(or has not posted yet) does not carry Jinja2's 1.8 MB (docs/benchmarks.md).
"""

from __future__ import annotations

import html
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

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

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import SandboxedEnvironment
    from markupsafe import Markup

DEFAULT_TEMPLATE = Path(__file__).with_name("templates") / "post.html"
CHANNEL_LANG: Lang = "ru"
"""Channel posts and subscriber alerts speak the publisher's language."""
MAX_TEMPLATE_BYTES = 64 * 1024


class TemplateProblem(ValueError):
    """A post template that cannot be used; the message names the file and the problem."""


def _finalize(value: object) -> object:
    """Escape like the rest of the bot (quotes stay as they are); Markup passes unchanged."""
    from markupsafe import Markup

    if value is None or isinstance(value, Markup):
        return "" if value is None else value
    return Markup(escape(str(value)))


@cache
def _environment() -> SandboxedEnvironment:
    """The one sandboxed, autoescaping environment; importing Jinja2 happens here."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(
        autoescape=True, undefined=StrictUndefined, finalize=_finalize, auto_reload=False
    )


def _url(url: str | None) -> Markup | None:
    from markupsafe import Markup

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


class PostRenderer:
    """One post template; ``render`` gives the HTML of the whole-article post.

    ``from_source`` compiles at once (errors name the file and line); ``lazy`` keeps the source
    and compiles on the first render, for the shipped default, which its tests check.
    """

    __slots__ = ("_template", "name", "source")

    def __init__(self, name: str, source: str, template: Template | None = None) -> None:
        self.name = name
        self.source = source
        self._template = template

    def __repr__(self) -> str:
        return f"PostRenderer({self.name!r})"

    @property
    def template(self) -> Template:
        """The compiled template (compiled now if it was created lazily)."""
        if self._template is None:
            self._template = self._compile()
        return self._template

    def _compile(self) -> Template:
        from jinja2 import TemplateError

        try:
            return _environment().from_string(self.source)
        except TemplateError as exc:
            line = getattr(exc, "lineno", None)
            where = f" (line {line})" if line else ""
            raise TemplateProblem(f"{self.name}: {exc.message or exc}{where}") from None

    @classmethod
    def lazy(cls, source: str, name: str) -> PostRenderer:
        """A renderer that compiles ``source`` (and imports Jinja2) only when first used."""
        return cls(name, source)

    @classmethod
    def from_source(cls, source: str, name: str) -> PostRenderer:
        """Compile ``source``; TemplateProblem names ``name`` and the line at fault."""
        renderer = cls(name, source)
        renderer._template = renderer._compile()
        return renderer

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
        template = self.template
        from jinja2 import TemplateError  # loaded by now: the template is compiled

        try:
            return template.render(fields(article, tz, bot_username, utm)).strip()
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
    """The shipped template: today's channel format, compiled at the first post."""
    return PostRenderer.lazy(DEFAULT_TEMPLATE.read_text(encoding="utf-8"), "post.html")

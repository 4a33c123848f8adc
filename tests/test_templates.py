"""Post templates: the default gives the historical channel format byte for byte, custom
templates get the article's fields escaped, and bad templates are refused at start by name."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.models import Article
from bot.parser import parse
from bot.telegram import formatting as fm
from bot.telegram.posts import READ_MORE, channel_post
from bot.telegram.templates import (
    PostRenderer,
    TemplateProblem,
    default_renderer,
    fields,
    sample_article,
)
from bot.telegram.tghtml import HtmlError, visible_text
from tests.helpers import MSK, REAL_SEED, ROOT
from tests.telegram_html import HtmlParseError, parse_html

WHEN = datetime(2025, 5, 21, 10, 37, tzinfo=MSK)


def seed_article() -> Article:
    parsed = parse(REAL_SEED.read_bytes(), mtime=0.0, tz=MSK)
    values = {f: getattr(parsed, f) for f in parsed.__dataclass_fields__}
    return Article(**values, id=1, source="x")


def historical(article: Article) -> str:
    """The channel post's whole-article text as posts.py built it before templates."""
    blocks = [
        fm.Block(article.title, "b", ""),
        fm.Block(fm.meta_line(article, MSK, "ru"), "i", "\n"),
        fm.Block(article.lead, "i"),
        *(fm.Block(p) for p in article.body),
    ]
    return fm.pack(blocks, limit=10**9)[0]


def make(title: str, lead: str, body: tuple[str, ...], credit: str | None) -> Article:
    return Article(
        id=7, source="a.txt", title=title, published_at=WHEN, lead=lead, body=body, credit=credit
    )


def test_default_template_is_byte_identical_on_the_real_seed() -> None:
    article = seed_article()
    assert article.body and article.credit
    rendered = default_renderer().render(article, MSK, "newsbot")
    assert rendered == historical(article)
    [old] = fm.article_messages(article, MSK, "ru")  # the seed fits one message
    assert channel_post(article, MSK, "newsbot").text == old
    assert channel_post(article, MSK, "newsbot").markup is None


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400)


@settings(max_examples=300, deadline=None)
@given(
    title=text,
    lead=text,
    body=st.lists(st.one_of(text, st.sampled_from(["", "  ", 'a "q" & <b>'])), max_size=6),
    credit=st.one_of(st.none(), text),
)
def test_default_template_is_byte_identical_on_generated_articles(
    title: str, lead: str, body: list[str], credit: str | None
) -> None:
    article = make(title or "T", lead, tuple(body), credit)
    assert default_renderer().render(article, MSK, "newsbot") == historical(article)


def test_long_articles_fall_back_to_the_card_as_before() -> None:
    paragraph = "Очень длинный абзац текста статьи. " * 40
    article = make("Заголовок", "Лид.", (paragraph,) * 5, "Иван Петров")
    post = channel_post(article, MSK, "newsbot")
    assert post.markup is not None and post.markup.inline_keyboard[0][0].text == READ_MORE
    assert "Очень длинный" not in post.text and "Лид." in post.text


def test_the_limit_counts_the_text_after_entity_parsing() -> None:
    # 4000 '&' are 20000 characters of HTML but 4000 after parsing: one message for Telegram
    article = make("T", "", ("&" * 4000,), None)
    post = channel_post(article, MSK, "newsbot")
    assert post.markup is None
    shown = parse_html(post.text).text
    assert shown.endswith("&" * 4000) and fm.utf16_len(shown) <= 4096
    over = make("T", "", ("&" * 4096,), None)
    assert channel_post(over, MSK, "newsbot").markup is not None
    # "T\n" + date + "\n\n" is 20 units; 2038 emoji are 4076 more (4096); 2039 would be 4098
    emoji = make("T", "", ("😀" * 2038,), None)
    assert channel_post(emoji, MSK, "newsbot").markup is None
    assert channel_post(replace(emoji, body=("😀" * 2039,)), MSK, "newsbot").markup is not None


MARKER_TEMPLATE = """\
<b>{{ title }}</b> [#{{ id }}]
{% if credit %}<i>{{ credit }}</i>
{% endif %}{{ lead }}
{% for p in body %}{{ loop.index }}. {{ p }}
{% endfor %}<a href="{{ link }}">в боте</a>
{%- if source_url %} · <a href="{{ source_url }}">источник</a>{% endif %}
MARKER {{ date }} {{ published_at.year }}"""


def test_a_custom_template_gets_every_field_escaped() -> None:
    renderer = PostRenderer.from_source(MARKER_TEMPLATE, "marker.html")
    renderer.check(MSK)
    article = replace(sample_article(MSK), id=42)
    out = renderer.render(article, MSK, "newsbot")
    assert out.startswith(
        "<b>Sample &lt;title&gt; &amp; \"double\" 'single' quotes</b> [#42]\n"
        "<i>Author &lt;photo&gt; &amp; \"agency\" 'x'</i>\n"
    )
    assert "1. First &lt;paragraph&gt;: 1 &lt; 2 &amp; \"3\" &gt; '2'.\n2. Second paragraph" in out
    assert '<a href="https://t.me/newsbot?start=a_42">в боте</a>' in out
    assert '<a href="https://example.org/news/1">источник</a>' in out
    assert out.endswith("MARKER 21.05.2025 10:37 2025")
    parsed = parse_html(out)  # the fake server's port of Telegram's parser accepts it
    assert any(e.type == "text_link" for e in parsed.entities)
    assert visible_text(out) == parsed.text
    keys = set(fields(article, MSK, None))
    assert keys == {
        "id", "title", "date", "published_at", "credit", "meta", "lead", "body", "link",
        "source_url",
    }  # fmt: skip
    assert fields(article, MSK, None)["link"] is None
    assert fields(replace(article, url=None), MSK, "b")["source_url"] is None
    utm = (("utm_source", "telegram"), ("utm_medium", "x"))
    linked = replace(article, url="https://example.org/a?b=1&c=2")
    assert fields(linked, MSK, None, utm)["source_url"] == (
        "https://example.org/a?b=1&amp;c=2&amp;utm_source=telegram&amp;utm_medium=channel"
    )


def test_markup_in_article_text_cannot_reach_telegram_as_markup() -> None:
    source = "{{ title }} {{ title | upper }} {{ body | join(' ') }}"
    renderer = PostRenderer.from_source(source, "x")
    hostile = make('<a href="x">y</a> & <b>', "", ("</i><script>",), None)
    out = renderer.render(hostile, MSK, None)
    assert "<" not in out.replace("&lt;", "")
    assert parse_html(out).entities == ()


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("<b>{{ title }}</b><br>{{ lead }}", 'unsupported tag "<br>"'),
        ("<p>{{ title }}</p>", 'unsupported tag "<p>"'),
        ("<b>{{ title }}", "<b> is never closed"),
        ("<b>{{ title }}</i>", "</i> at character"),
        ("<b><i>{{ title }}</b></i>", "closes <i>"),
        ('<span class="x">{{ title }}</span>', 'class="tg-spoiler"'),
        ("<code><b>{{ title }}</b></code>", "inside"),
        ("{{ titel }}", "'titel' is undefined"),
        ("{% if title %}{{ title }}", "line"),
        ("{{ title.__class__.__mro__ }}", "unsafe"),
        ("{{ '' }}", "empty message"),
        ("{{ title }}" + "x" * 5000, "more than the 4096"),
        ('<a href="{{ title }}">x</a>', "attribute"),
        # every text field of the sample holds both quotes, so none passes inside an attribute
        ('<a href="{{ lead }}">x</a>', "attribute"),
        ('<a href="{{ credit }}">x</a>', "attribute"),
        ('<a href="{{ meta }}">x</a>', "attribute"),
        ("<a href='{{ lead }}'>x</a>", "attribute"),
        ('<a href="{{ body[0] }}">x</a>', "attribute"),
    ],
)
def test_bad_templates_are_refused_with_the_problem(source: str, problem: str) -> None:
    with pytest.raises(TemplateProblem) as caught:
        PostRenderer.from_source(source, "bad.html").check(MSK)
    assert str(caught.value).startswith("bad.html: ")
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    "html",
    ["a < b", "<b>x", "x</b>", "<b><i>x</b></i>", "<foo>x</foo>", '<span class="y">x</span>',
     "<pre><b>x</b></pre>", "<blockquote><blockquote>x</blockquote></blockquote>",
     '<a href="http://x.org"><a href="http://y.org">z</a></a>', '<a href="u" title="t"y">x</a>'],
)  # fmt: skip
def test_checker_refuses_what_telegram_or_the_strict_fake_refuses(html: str) -> None:
    with pytest.raises(HtmlError):
        visible_text(html)
    with pytest.raises(HtmlParseError):
        parsed = parse_html(html)
        if parsed.nesting_errors:
            raise HtmlParseError(parsed.nesting_errors[0])


@pytest.mark.parametrize(
    "html",
    ["a &amp; b &lt;i&gt; &#1087; &#x43f; &nbsp;", "<b>x<i>y</i></b> > z", '<a href="u>v">x</a>',
     "<pre><code class=\"language-py\">x</code></pre>", "<tg-spoiler>s</tg-spoiler>",
     "<blockquote expandable>q</blockquote>", "<B>x</>", "<u><s>x</s></u>"],
)  # fmt: skip
def test_checker_reads_text_as_telegram_does(html: str) -> None:
    assert visible_text(html) == parse_html(html).text


def test_from_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.html"
    with pytest.raises(TemplateProblem, match=r"nope\.html: cannot read it"):
        PostRenderer.from_file(missing, MSK)
    bad = tmp_path / "bad.html"
    bad.write_bytes(b"\xff\xfe<b>")
    with pytest.raises(TemplateProblem, match=r"bad\.html: not UTF-8"):
        PostRenderer.from_file(bad, MSK)
    example = ROOT / "deploy" / "post.html"
    renderer = PostRenderer.from_file(example, MSK)  # the shipped example is valid
    assert renderer.whole_post(seed_article(), MSK, "newsbot") is not None


def test_a_template_failing_on_one_article_sends_the_card() -> None:
    renderer = PostRenderer.from_source("{{ title }} {{ 1 // (body | length) }}", "div.html")
    renderer.check(MSK)
    post = channel_post(make("T", "Лид", (), None), MSK, "newsbot", renderer=renderer)
    assert post.markup is not None and "Лид" in post.text


def test_jinja2_is_loaded_by_the_first_post_not_by_the_start() -> None:
    """A polling bot's modules and its default renderer leave Jinja2 (and the other libraries
    the first getUpdates does not need) unloaded; rendering a post loads it."""
    code = (
        "import sys\n"
        "import bot.__main__, bot.polling, bot.launch, bot.app, bot.telegram\n"
        "from bot.telegram.templates import default_renderer\n"
        "renderer = default_renderer()\n"
        "print(*sorted(m for m in ('jinja2', 'aiohttp.web', 'watchfiles',"
        " 'concurrent.futures.process') if m in sys.modules))\n"
        "from bot.models import Article\n"
        "from bot.parser import parse\n"
        "from tests.helpers import MSK, REAL_SEED\n"
        "p = parse(REAL_SEED.read_bytes(), mtime=0.0, tz=MSK)\n"
        "a = Article(**{f: getattr(p, f) for f in p.__dataclass_fields__}, id=1, source='x')\n"
        "print(renderer.render(a, MSK, 'newsbot').startswith('<b>'))\n"
        "print('jinja2' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["", "True", "True"]

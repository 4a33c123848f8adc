"""Channel post and subscriber card format, and how Telegram's refusals map to outbox rules."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage

from bot.models import Article
from bot.services.sending import (
    BadMessage,
    ChatMigrated,
    ChatUnavailable,
    RetryAfter,
    TransientError,
)
from bot.telegram.formatting import utf16_len
from bot.telegram.handlers.admin import chunks
from bot.telegram.posts import READ_MORE, channel_post, subscriber_alert
from bot.telegram.publisher import chat_ref, classify

MSK = ZoneInfo("Europe/Moscow")
WHEN = datetime(2025, 5, 21, 10, 37, tzinfo=MSK)


def article(body: tuple[str, ...], lead: str = "Лид <статьи> & подробности.") -> Article:
    return Article(
        id=7,
        source="a.txt",
        title="Заголовок <b>не тег</b>",
        published_at=WHEN,
        lead=lead,
        body=body,
        credit="Иван Петров / ТАСС",
        promo=("Подписывайтесь на наш канал!",),
    )


def test_short_article_is_posted_whole_without_button_or_promo() -> None:
    post = channel_post(article(("Первый абзац.", "Второй абзац.")), MSK, "newsbot")
    assert post.markup is None
    assert post.text.startswith("<b>Заголовок &lt;b&gt;не тег&lt;/b&gt;</b>\n")
    assert "21.05.2025 10:37" in post.text and "Иван Петров / ТАСС" in post.text
    assert "Лид &lt;статьи&gt; &amp; подробности." in post.text
    assert "Второй абзац." in post.text
    assert "Подписывайтесь" not in post.text


def test_long_article_gets_lead_and_deep_link_button() -> None:
    body = tuple("Очень длинный абзац текста статьи. " * 40 for _ in range(5))
    post = channel_post(article(body), MSK, "newsbot")
    assert utf16_len(post.text) <= 4096
    assert "Очень длинный" not in post.text and "Лид &lt;статьи&gt;" in post.text
    assert post.markup is not None
    button = post.markup.inline_keyboard[0][0]
    assert button.text == READ_MORE
    assert button.url == "https://t.me/newsbot?start=a_7"


def test_huge_lead_is_clipped_to_one_message() -> None:
    post = channel_post(article(("x " * 3000,), lead="слово " * 2000), MSK, "newsbot")
    assert utf16_len(post.text) <= 4096 and post.text.endswith("…</i>")


def test_subscriber_alert_is_a_compact_card() -> None:
    post = subscriber_alert(article(("Абзац.",), lead="Лид. " * 500), MSK, "newsbot")
    assert utf16_len(post.text) < 1300
    assert post.markup is not None and post.markup.inline_keyboard[0][0].url.endswith("a_7")
    assert "Абзац." not in post.text


def test_classify_maps_every_refusal() -> None:
    m = SendMessage(chat_id=-100, text="x")
    retry = classify(TelegramRetryAfter(m, "Too Many Requests: retry after 7", 7))
    assert isinstance(retry, RetryAfter) and retry.seconds == 7
    moved = classify(TelegramMigrateToChat(m, "upgraded", -1009))
    assert isinstance(moved, ChatMigrated) and moved.new_chat_id == -1009
    blocked = classify(TelegramForbiddenError(m, "Forbidden: bot was blocked by the user"))
    assert isinstance(blocked, ChatUnavailable)
    assert isinstance(
        classify(TelegramBadRequest(m, "Bad Request: chat not found")), ChatUnavailable
    )
    for text in (
        "Bad Request: message is too long",
        "Bad Request: can't parse entities: Unclosed start tag at byte offset 3",
    ):
        assert isinstance(classify(TelegramBadRequest(m, text)), BadMessage)
    assert isinstance(classify(TelegramServerError(m, "Internal Server Error")), TransientError)
    assert isinstance(classify(TelegramNetworkError(m, "Connection reset")), TransientError)
    assert isinstance(classify(TimeoutError()), TransientError)
    assert chat_ref("@news") == "@news" and chat_ref("-100123") == -100123


def test_admin_chunks_fit_telegram() -> None:
    lines = [f"• <code>file{i}.txt</code> — причина номер {i}" for i in range(400)]
    parts = chunks(lines)
    assert len(parts) > 1
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert "\n".join(parts).split("\n") == lines

"""Every user-facing string of the bot in Russian (default) and English, kept in one place."""

from __future__ import annotations

from typing import Literal

Lang = Literal["ru", "en"]

TEXTS: dict[str, dict[str, str]] = {
    "ru": {
        "start": (
            "Здравствуйте! Я новостной бот: читаю статьи издания и ищу по ним.\n\n"
            "Что я умею:\n"
            "• /latest — последние статьи\n"
            "• /search &lt;запрос&gt; — поиск по статьям\n"
            "• /article &lt;номер&gt; — статья целиком\n"
            "• /subscribe — получать новые статьи\n"
            "• в любом чате: <code>@{bot} запрос</code> — поделиться статьёй\n\n"
            "Все команды: /help"
        ),
        "help": (
            "<b>Команды</b>\n"
            "/latest [n] — последние статьи (по умолчанию 5, не больше 20)\n"
            "/search &lt;запрос&gt; — поиск по словам с учётом форм слова\n"
            "/article &lt;номер&gt; — открыть статью\n"
            "/subscribe [слова] — подписаться на новые статьи (можно по словам)\n"
            "/subscriptions — мои подписки\n"
            "/unsubscribe — отписаться\n"
            "/help — эта справка\n\n"
            "Инлайн-режим: наберите <code>@{bot} запрос</code> в любом чате."
        ),
        "latest_title": "Последние статьи",
        "latest_usage": "Использование: <code>/latest [n]</code>, где n — от 1 до {max}.",
        "no_articles": "Статей пока нет.",
        "search_usage": (
            "Что искать? Напишите запрос после команды, например: <code>/search партнёр</code>"
        ),
        "search_nothing": "В запросе нет слов, по которым можно искать. Попробуйте другие слова.",
        "search_none": "По запросу «{query}» ничего не найдено.",
        "search_found": "Найдено: {total} · запрос «{query}»",
        "search_expired": "Этот поиск устарел — повторите /search.",
        "page": "стр. {page} из {pages}",
        "article_usage": "Укажите номер статьи, например: <code>/article 1</code>",
        "article_missing": "Статьи с номером {id} нет. Последние статьи: /latest",
        "open_article": "Открыть: /article {id}",
        "read_in_bot": "Читать полностью в боте",
        "unknown_command": "Не знаю такой команды. Список команд: /help",
        "plain_text": (
            "Чтобы найти статьи, напишите <code>/search {query}</code>. Все команды: /help"
        ),
        "inline_latest": "Последние статьи",
        "prev": "◀ Назад",
        "next": "Вперёд ▶",
        "cmd_start": "Начало работы",
        "cmd_help": "Справка по командам",
        "cmd_latest": "Последние статьи",
        "cmd_search": "Поиск по статьям",
        "cmd_article": "Открыть статью по номеру",
        "cmd_subscribe": "Подписаться на новые статьи",
        "cmd_subscriptions": "Мои подписки",
        "cmd_unsubscribe": "Отписаться",
        "cmd_reload": "Перечитать папку статей",
        "cmd_stats": "Статистика бота",
        "cmd_pause": "Приостановить публикацию в канал",
        "cmd_resume": "Возобновить публикацию в канал",
        "cmd_post": "Опубликовать статью в канал",
    },
    "en": {
        "start": (
            "Hello! I am a news bot: I read the publisher's articles and search them.\n\n"
            "What I can do:\n"
            "• /latest — the newest articles\n"
            "• /search &lt;query&gt; — search the articles\n"
            "• /article &lt;id&gt; — a whole article\n"
            "• /subscribe — get new articles\n"
            "• in any chat: <code>@{bot} query</code> — share an article\n\n"
            "All commands: /help"
        ),
        "help": (
            "<b>Commands</b>\n"
            "/latest [n] — the newest articles (5 by default, at most 20)\n"
            "/search &lt;query&gt; — search by words, any word form\n"
            "/article &lt;id&gt; — open an article\n"
            "/subscribe [words] — get new articles (optionally only matching words)\n"
            "/subscriptions — my subscriptions\n"
            "/unsubscribe — unsubscribe\n"
            "/help — this help\n\n"
            "Inline mode: type <code>@{bot} query</code> in any chat."
        ),
        "latest_title": "Latest articles",
        "latest_usage": "Usage: <code>/latest [n]</code> with n from 1 to {max}.",
        "no_articles": "There are no articles yet.",
        "search_usage": "What should I look for? Put the query after the command: "
        "<code>/search partner</code>",
        "search_nothing": "The query has no words to search for. Try other words.",
        "search_none": "Nothing found for “{query}”.",
        "search_found": "Found: {total} · query “{query}”",
        "search_expired": "This search has expired — please run /search again.",
        "page": "page {page} of {pages}",
        "article_usage": "Give an article number, e.g. <code>/article 1</code>",
        "article_missing": "There is no article number {id}. Latest articles: /latest",
        "open_article": "Open: /article {id}",
        "read_in_bot": "Read the whole article in the bot",
        "unknown_command": "I don't know that command. All commands: /help",
        "plain_text": "To find articles, send <code>/search {query}</code>. All commands: /help",
        "inline_latest": "Latest articles",
        "prev": "◀ Back",
        "next": "Next ▶",
        "cmd_start": "Get started",
        "cmd_help": "Command help",
        "cmd_latest": "Latest articles",
        "cmd_search": "Search the articles",
        "cmd_article": "Open an article by number",
        "cmd_subscribe": "Subscribe to new articles",
        "cmd_subscriptions": "My subscriptions",
        "cmd_unsubscribe": "Unsubscribe",
        "cmd_reload": "Re-read the articles folder",
        "cmd_stats": "Bot statistics",
        "cmd_pause": "Pause channel posting",
        "cmd_resume": "Resume channel posting",
        "cmd_post": "Post an article to the channel",
    },
}


def lang_of(language_code: str | None) -> Lang:
    """English for users whose Telegram language starts with "en", Russian for everyone else."""
    return "en" if (language_code or "").lower().startswith("en") else "ru"


def t(lang: str, key: str, **values: object) -> str:
    """The text ``key`` in ``lang`` (HTML, safe as is); ``values`` must already be escaped."""
    table = TEXTS.get(lang, TEXTS["ru"])
    template = table.get(key) or TEXTS["ru"][key]
    return template.format(**values) if values else template

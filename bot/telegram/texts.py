"""Every string a reader or admin sees, in Russian (default) and English: the one catalogue.

Templates are Telegram HTML; the values put into them must already be escaped. Reader texts exist
in both languages (tests/test_texts.py checks it). Texts for admins and for the channel exist in
Russian only (the publisher's staff and audience read Russian): ``t`` falls back to Russian.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["ru", "en"]

READER: dict[Lang, dict[str, str]] = {
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
        "search_searched": "Показаны результаты по запросу „{query}“",
        "search_as_typed": "Искать как написано: {query}",
        "search_expired": "Этот поиск устарел — повторите /search.",
        "page": "стр. {page} из {pages}",
        "article_usage": "Укажите номер статьи, например: <code>/article 1</code>",
        "article_missing": "Статьи с номером {id} нет. Последние статьи: /latest",
        "open_article": "Открыть: /article {id}",
        "read_in_bot": "Читать полностью в боте",
        "read_on_site": "Читать на сайте",
        "teaser_note": "Это анонс статьи. Полностью — на сайте: {link}",
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
        "cmd_preview": "Как статья выглядит в канале",
        "cmd_post": "Опубликовать статью в канал",
        "photo": "Фото",
        "error": "Что-то пошло не так. Попробуйте ещё раз чуть позже.",
        # subscriptions
        "sub_added_all": (
            "Готово: буду присылать каждую новую статью.\nМои подписки: /subscriptions"
        ),
        "sub_added_q": (
            "Готово: пришлю новые статьи по запросу «{q}».\nМои подписки: /subscriptions"
        ),
        "sub_exists_all": "Вы уже подписаны на все новые статьи. Мои подписки: /subscriptions",
        "sub_exists_q": "Подписка на «{q}» уже есть. Мои подписки: /subscriptions",
        "sub_nothing": "В «{q}» нет слов, по которым можно искать. Попробуйте другие слова.",
        "sub_too_long": "Слишком длинный запрос: не больше {n} символов.",
        "sub_too_many": "Подписок уже {n} — это максимум. Удалите лишние: /subscriptions",
        "sub_none": (
            "Подписок нет.\n/subscribe — все новые статьи\n/subscribe слова — только по словам"
        ),
        "sub_list": "<b>Мои подписки</b> (кнопка — удалить):",
        "sub_all": "все новые статьи",
        "sub_removed": "Подписка удалена",
        "sub_gone": "Этой подписки уже нет",
        "sub_unsub": "Вы отписались от всех подписок ({n}).",
        "sub_unsub_none": "У вас не было подписок.",
        "sub_private": "Подписки работают только в личном чате со мной — напишите мне в личку.",
        # approval (APPROVAL=on): an admin's preview, its buttons and answers, /pending; plain
        # text where it answers a button press (answerCallbackQuery shows no HTML)
        "cmd_pending": "Статьи, ждущие одобрения",
        "approval_publish": "Опубликовать",
        "approval_silent": "Без звука",
        "approval_skip": "Пропустить",
        "approval_published": "✅ Опубликовано — {who}",
        "approval_silently": "🔕 Опубликовано без звука — {who}",
        "approval_skipped": "⏭ Пропущено — {who}",
        "approval_by_timeout": "по таймауту",
        "approval_on_hold": "⏸ Статья снята с публикации: решение подождёт её возвращения.",
        "approval_already": "Уже решено: {what}",
        "approval_unknown": "Эта статья не ждёт одобрения.",
        "approval_refused": "Решать о публикации могут только администраторы бота.",
        "admin_only": "Эта команда только для администраторов бота.",
        "pending_none": "Ничего не ждёт одобрения.",
        "pending_title": "<b>Ждут одобрения: {n}</b>",
        "pending_item": "• {id} — {title}{withdrawn}\n  с {since} · срок: {deadline}",
        "pending_no_deadline": "без срока",
        "pending_withdrawn": " (снята)",
        "stats_pending": "Ждут одобрения: {n}",
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
        "search_searched": "Showing results for “{query}”",
        "search_as_typed": "Search as typed: {query}",
        "search_expired": "This search has expired — please run /search again.",
        "page": "page {page} of {pages}",
        "article_usage": "Give an article number, e.g. <code>/article 1</code>",
        "article_missing": "There is no article number {id}. Latest articles: /latest",
        "open_article": "Open: /article {id}",
        "read_in_bot": "Read the whole article in the bot",
        "read_on_site": "Read on the site",
        "teaser_note": "This is the article's teaser. Read it in full on the site: {link}",
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
        "cmd_preview": "How an article looks in the channel",
        "cmd_post": "Post an article to the channel",
        "photo": "Photo",
        "error": "Something went wrong. Please try again a little later.",
        # subscriptions
        "sub_added_all": (
            "Done: I will send you every new article.\nMy subscriptions: /subscriptions"
        ),
        "sub_added_q": (
            "Done: I will send new articles matching “{q}”.\nMy subscriptions: /subscriptions"
        ),
        "sub_exists_all": "You already get every new article. My subscriptions: /subscriptions",
        "sub_exists_q": "You are already subscribed to “{q}”. My subscriptions: /subscriptions",
        "sub_nothing": "“{q}” has no words to search for. Try other words.",
        "sub_too_long": "The query is too long: at most {n} characters.",
        "sub_too_many": (
            "You already have {n} subscriptions, the maximum. Remove some: /subscriptions"
        ),
        "sub_none": (
            "No subscriptions.\n/subscribe — every new article\n/subscribe words — by words"
        ),
        "sub_list": "<b>My subscriptions</b> (tap to remove):",
        "sub_all": "every new article",
        "sub_removed": "Subscription removed",
        "sub_gone": "That subscription no longer exists",
        "sub_unsub": "You are unsubscribed from everything ({n}).",
        "sub_unsub_none": "You had no subscriptions.",
        "sub_private": "Subscriptions work only in a private chat with me — message me directly.",
        # approval (APPROVAL=on)
        "cmd_pending": "Articles waiting for approval",
        "approval_publish": "Publish",
        "approval_silent": "Publish silently",
        "approval_skip": "Skip",
        "approval_published": "✅ Published — {who}",
        "approval_silently": "🔕 Published silently — {who}",
        "approval_skipped": "⏭ Skipped — {who}",
        "approval_by_timeout": "on timeout",
        "approval_on_hold": "⏸ The article was withdrawn: the decision waits for its return.",
        "approval_already": "Already decided: {what}",
        "approval_unknown": "This article does not wait for approval.",
        "approval_refused": "Only the bot's admins can decide what is posted.",
        "admin_only": "This command is for the bot's admins only.",
        "pending_none": "Nothing waits for approval.",
        "pending_title": "<b>Waiting for approval: {n}</b>",
        "pending_item": "• {id} — {title}{withdrawn}\n  since {since} · deadline: {deadline}",
        "pending_no_deadline": "none",
        "pending_withdrawn": " (withdrawn)",
        "stats_pending": "Waiting for approval: {n}",
    },
}

RUSSIAN_ONLY: dict[str, str] = {
    # the channel post and subscriber alert button; a withdrawn article's post
    "read_more": "Читать полностью",
    "withdrawn_notice": "<i>Материал снят с публикации редакцией.</i>",
    # admins: refusal, /reload, /stats, /pause, /resume, /post, the pause alert
    "reload_done": "<b>Папка статей перечитана</b>",
    "reload_counts": (
        "добавлено {added}, обновлено {updated}, без изменений {unchanged}, "
        "снято {withdrawn}, с ошибками {failed}"
    ),
    "reload_queued": "в очередь: в канал {channel}, подписчикам {subscribers}",
    "reload_settling": "ещё записываются (ждут SETTLE_SECONDS): {n}, войдут позже",
    "reload_moved": "переименовано или перенесено: {n} (та же статья, без нового поста)",
    "reload_duplicates": "<b>Дубликаты</b> (та же статья в другом файле, не добавлены):",
    "reload_duplicate_file": "• <code>{name}</code>",
    "reload_broken": "<b>Не удалось разобрать:</b>",
    "reload_broken_file": "• <code>{name}</code> — {reason}",
    "reload_failed": "Не удалось перечитать папку: {error}",
    "stats_title": "<b>Статистика</b>",
    "stats_articles": "Статей: {n}",
    "stats_queued": "В очереди: в канал {channel}, подписчикам {subscribers}",
    "stats_sent": "Отправлено: {sent} · не доставлено: {failed} · отменено: {cancelled}",
    "stats_subscribers": "Подписчиков: {subscribers} (подписок: {subscriptions})",
    "stats_channel": "Канал: {channel}",
    "stats_last_post": "Последний пост в канал: {when}",
    "stats_never": "ещё не было",
    "stats_failures": "Последние сбои:",
    "stats_failure": "• статья {article} → {chat}: {error}",
    "stats_note": "заметка",
    "stats_feeds": "<b>Ленты</b>",
    "stats_feed": "• {url}\n  успешно: {success} · ошибка: {error} · записей в ленте: {items}",
    "stats_feed_no_error": "нет",
    "feed_failing": (
        "⚠️ Лента {url} не читается больше часа (с {since}).\nПоследняя ошибка: {error}"
    ),
    "feed_recovered": "✅ Лента {url} снова читается (сбой длился с {since}).",
    "channel_unset": "не настроен (CHANNEL_ID пуст) — работают только подписки",
    "channel_stopped": "{channel} — <b>приостановлен</b>: {reason}",
    "channel_running": "{channel} — публикация идёт",
    "pause_no_channel": "Канал не настроен (CHANNEL_ID пуст): приостанавливать нечего.",
    "pause_reason": "приостановлено администратором {who}",
    "paused": "Публикация в канал приостановлена. Очередь сохранена; /resume — дальше.",
    "resumed": "Публикация в канал возобновлена.",
    "not_paused": "Публикация и не была остановлена.",
    "post_usage": "Использование: <code>/post &lt;номер статьи&gt; [pin] [silent]</code>",
    "post_paused": "Публикация сейчас приостановлена: /resume.",
    "post_no_channel": "Канал не настроен (CHANNEL_ID пуст).",
    "post_missing": "Статьи {id} нет.",
    "preview_usage": (
        "Использование: <code>/preview &lt;номер статьи&gt;</code> — пост в том виде, "
        "в каком он уйдёт в канал."
    ),
    "stats_corrections": (
        "Исправления: статей {articles} (правок {corrections}) · сообщений изменено {edited}, "
        "в очереди {queued}, не удалось {failed}"
    ),
    "correction_note": "✏️ <b>Статья исправлена</b>: {title}\nИзменено: {fields}\n{article}",
    "field_title": "заголовок",
    "field_text": "текст",
    "field_date": "дата",
    "field_credit": "подпись к фото",
    # issue 13: several targets, /post pin silent, /resume <chat> [topic], /stats per target
    "target_paused": (
        "⚠️ Публикация в {target} приостановлена.\n"
        "Причина: {reason}\n\n"
        "Остальные цели работают, очередь этой сохранена. Исправьте права бота и отправьте "
        "/resume."
    ),
    "pin_failed": (
        "📌 Не удалось закрепить пост в {target}: {reason}\n"
        "Пост опубликован и остаётся.\n{article}"
    ),
    "target_name": "{chat} (тема {topic})",
    "stats_targets": "<b>Цели</b>",
    "stats_target": (
        "• {target}: в очереди {queued}, отправлено {sent}, изменено {edited}, "
        "не удалось {failed}{paused}"
    ),
    "stats_target_paused": " — ⏸ приостановлена: {reason}",
    "post_now": "Статья {id} уходит вне очереди во все цели ({n}){how}.",
    "post_how_pin": ", с закреплением",
    "post_how_silent": ", без звука",
    "resume_target": "Публикация в {target} возобновлена.",
    "resume_target_not_paused": "{target} и не была приостановлена.",
    "resume_target_unknown": "Цели {target} нет среди целей публикации.",
    "resume_usage": "Использование: <code>/resume [@канал|id [тема]]</code>",
}

TEXTS: dict[Lang, dict[str, str]] = {
    "ru": READER["ru"] | RUSSIAN_ONLY,
    "en": READER["en"],
}


def lang_of(language_code: str | None) -> Lang:
    """English for users whose Telegram language starts with "en", Russian for everyone else."""
    return "en" if (language_code or "").lower().startswith("en") else "ru"


def t(lang: Lang, key: str, **values: object) -> str:
    """The text ``key`` in ``lang`` (HTML, safe as is); ``values`` must already be escaped."""
    table = TEXTS.get(lang, TEXTS["ru"])
    template = table.get(key) or TEXTS["ru"][key]
    return template.format(**values) if values else template

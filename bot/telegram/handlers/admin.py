"""Admin commands (/reload, /stats, /pause, /resume, /post, /preview) for ADMIN_IDS; a refusal
for others.

The router holds two sub-routers: ``admin_only`` with the router-level ``IsAdmin()`` filter, and
``refusals`` that answers anyone else who sends an admin command, so nothing happens for them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.config import Settings
from bot.models import IngestReport
from bot.services.ingest import IngestError
from bot.services.publishing import PostOutcome, PublishingService, PublishingStatus, Queued
from bot.services.search import SearchService
from bot.services.targets import ResumeOutcome, TargetStatus
from bot.store.feeds import FeedState
from bot.telegram.commands import ADMIN_COMMANDS
from bot.telegram.filters import IsAdmin
from bot.telegram.formatting import (
    MAX_MESSAGE_LEN,
    escape,
    fmt_date,
    shorten,
    target_name,
    utf16_len,
)
from bot.telegram.posts import channel_post
from bot.telegram.templates import PostRenderer
from bot.telegram.texts import Lang, t

log = logging.getLogger(__name__)


def chunks(lines: list[str], limit: int = MAX_MESSAGE_LEN) -> list[str]:
    """Join short lines into as few messages as fit ``limit`` UTF-16 units."""
    out: list[str] = []
    cur = ""
    for line in lines:
        if cur and utf16_len(cur) + 1 + utf16_len(line) > limit:
            out.append(cur)
            cur = line
        else:
            cur = f"{cur}\n{line}" if cur else line
    if cur:
        out.append(cur)
    return out


def _short(text: str, n: int) -> str:
    return escape(shorten(text, n))


def reload_lines(report: IngestReport, queued: Queued, lang: Lang) -> list[str]:
    """The /reload answer: counts, what was queued, renames, files still settling, duplicates
    by name, and every file that cannot be parsed now."""
    lines = [
        t(lang, "reload_done"),
        t(
            lang,
            "reload_counts",
            added=report.added,
            updated=report.updated + report.restored,
            unchanged=report.unchanged,
            withdrawn=report.withdrawn,
            failed=len(report.failed),
        ),
        t(lang, "reload_queued", channel=queued.channel, subscribers=queued.subscribers),
    ]
    if report.moved:
        lines.append(t(lang, "reload_moved", n=report.moved))
    if report.settling:
        lines.append(t(lang, "reload_settling", n=report.settling))
    if report.duplicates:
        lines += ["", t(lang, "reload_duplicates")]
        lines += [t(lang, "reload_duplicate_file", name=_short(n, 300)) for n in report.duplicates]
    if report.failed:
        lines += ["", t(lang, "reload_broken")]
        lines += [
            t(lang, "reload_broken_file", name=_short(f.name, 300), reason=_short(f.reason, 500))
            for f in report.failed
        ]
    return lines


def _when(ts: float | None, tz: ZoneInfo, lang: Lang) -> str:
    return t(lang, "stats_never") if ts is None else fmt_date(datetime.fromtimestamp(ts, UTC), tz)


def _channel_state(s: PublishingStatus, lang: Lang) -> str:
    if s.channel is None:
        return t(lang, "channel_unset")
    if s.paused:
        return t(lang, "channel_stopped", channel=escape(s.channel), reason=escape(s.paused))
    return t(lang, "channel_running", channel=escape(s.channel))


def stats_text(s: PublishingStatus, tz: ZoneInfo, lang: Lang) -> str:
    """The /stats answer."""
    o, c = s.outbox, s.corrections
    lines = [
        t(lang, "stats_title"),
        t(lang, "stats_articles", n=s.articles),
        t(lang, "stats_queued", channel=o.queued_channel, subscribers=o.queued_subscribers),
        t(lang, "stats_sent", sent=o.sent, failed=o.failed, cancelled=o.cancelled),
        t(lang, "stats_subscribers", subscribers=s.subscribers, subscriptions=s.subscriptions),
        t(lang, "stats_channel", channel=_channel_state(s, lang)),
        t(lang, "stats_last_post", when=_when(o.last_channel_post_at, tz, lang)),
        t(
            lang,
            "stats_corrections",
            articles=c.articles,
            corrections=c.corrections,
            edited=c.edited,
            queued=c.queued,
            failed=c.failed,
        ),
    ]
    if s.pending_approvals is not None:
        lines.append(t(lang, "stats_pending", n=s.pending_approvals))
    if o.recent_failures:
        lines.append(t(lang, "stats_failures"))
        lines += [
            t(
                lang,
                "stats_failure",
                article=t(lang, "stats_note") if d.article_id is None else d.article_id,
                chat=escape(d.chat_id),
                error=_short(d.last_error or "?", 300),
            )
            for d in o.recent_failures
        ]
    if s.targets:
        lines.append(t(lang, "stats_targets"))
        lines += [target_line(x, lang) for x in s.targets]
    if s.feeds:
        lines.append(t(lang, "stats_feeds"))
        lines += [feed_line(f, tz, lang) for f in s.feeds]
    return "\n".join(lines)


def target_line(x: TargetStatus, lang: Lang) -> str:
    """One target in /stats: its posts queued and sent, edits, failures, and its pause."""
    c = x.counts
    paused = t(lang, "stats_target_paused", reason=_short(x.paused, 200)) if x.paused else ""
    return t(
        lang,
        "stats_target",
        target=target_name(x.chat, x.topic, lang),
        queued=c.queued,
        sent=c.sent,
        edited=c.edited,
        failed=c.failed,
        paused=paused,
    )


def feed_line(f: FeedState, tz: ZoneInfo, lang: Lang) -> str:
    """One feed in /stats: last success, last error (with its time) and the items it lists."""
    error = t(lang, "stats_feed_no_error")
    if f.last_error:
        error = f"{_short(f.last_error, 200)} ({_when(f.last_error_at, tz, lang)})"
    return t(
        lang,
        "stats_feed",
        url=_short(f.url, 200),
        success=_when(f.last_success_at, tz, lang),
        error=error,
        items=f.item_count,
    )


async def reload(message: Message, publishing: PublishingService, lang: Lang) -> None:
    """Scan now, queue what is new, wake the deliverer, report counts and broken files."""
    try:
        result = await publishing.tick()
    except IngestError as exc:  # the folder is missing or unreadable: the admin can fix that
        await message.answer(t(lang, "reload_failed", error=escape(str(exc))))
        return
    for text in chunks(reload_lines(result.report, result.queued, lang)):
        await message.answer(text)


async def stats(
    message: Message, publishing: PublishingService, settings: Settings, lang: Lang
) -> None:
    """Articles, queue, deliveries, subscribers, last channel post, paused or not."""
    await message.answer(stats_text(await publishing.status(), settings.source_tz, lang))


async def pause(message: Message, publishing: PublishingService, lang: Lang) -> None:
    """Pause channel posting (the queue is kept)."""
    if await publishing.channel_chat() is None:
        await message.answer(t(lang, "pause_no_channel"))
        return
    who = message.from_user.id if message.from_user else "?"
    await publishing.pause(t(lang, "pause_reason", who=who))
    await message.answer(t(lang, "paused"))


async def resume(
    message: Message, command: CommandObject, publishing: PublishingService, lang: Lang
) -> None:
    """Resume channel posting and every paused target (``/resume <chat> [topic]``: that one)
    and send what waited."""
    words = (command.args or "").split()
    if not words:
        was_paused = await publishing.resume()
        await message.answer(t(lang, "resumed" if was_paused else "not_paused"))
        return
    if len(words) > 2 or (len(words) == 2 and not words[1].isdigit()):
        await message.answer(t(lang, "resume_usage"))
        return
    topic = int(words[1]) if len(words) == 2 else None
    outcome = await publishing.resume_target(words[0], topic)
    key = {
        ResumeOutcome.RESUMED: "resume_target",
        ResumeOutcome.NOT_PAUSED: "resume_target_not_paused",
        ResumeOutcome.UNKNOWN_TARGET: "resume_target_unknown",
    }[outcome]
    await message.answer(t(lang, key, target=target_name(words[0], topic, lang)))


def _article_id(command: CommandObject) -> int | None:
    """The article id given after the command, or None when there is no number."""
    arg = (command.args or "").strip()
    return int(arg) if arg.isdigit() else None


POST_WORDS = frozenset({"pin", "silent"})
"""What may follow the article id in /post."""


def post_args(args: str | None) -> tuple[int, frozenset[str]] | None:
    """``<id> [pin] [silent]`` (in any order) → the id and the words; None: not that."""
    words = (args or "").split()
    if not words or not words[0].isdigit() or not set(words[1:]) <= POST_WORDS:
        return None
    return int(words[0]), frozenset(words[1:])


async def post(
    message: Message, command: CommandObject, publishing: PublishingService, lang: Lang
) -> None:
    """Post an article now to every target, ahead of the paced queue, optionally pinned and
    without a notification."""
    parsed = post_args(command.args)
    if parsed is None:
        await message.answer(t(lang, "post_usage"))
        return
    arg, words = parsed
    outcome = await publishing.post(arg, pin="pin" in words, silent="silent" in words)
    if outcome is PostOutcome.QUEUED:
        how = "".join(t(lang, f"post_how_{w}") for w in ("pin", "silent") if w in words)
        text = t(lang, "post_now", id=arg, n=len(publishing.targets.targets), how=how)
        if (await publishing.status()).paused:
            text += " " + t(lang, "post_paused")
    elif outcome is PostOutcome.NO_CHANNEL:
        text = t(lang, "post_no_channel")
    else:
        text = t(lang, "post_missing", id=arg)
    await message.answer(text)


async def preview(
    message: Message,
    command: CommandObject,
    bot: Bot,
    search: SearchService,
    renderer: PostRenderer,
    settings: Settings,
    lang: Lang,
) -> None:
    """The exact channel post of an article (template, buttons, image preview), as a reply to
    the admin."""
    arg = _article_id(command)
    if arg is None:
        await message.answer(t(lang, "preview_usage"))
        return
    article = await search.article(arg)
    if article is None:
        await message.answer(t(lang, "post_missing", id=arg))
        return
    username = (await bot.me()).username
    tz, utm = settings.source_tz, settings.utm_params
    post = channel_post(article, tz, username, renderer=renderer, utm=utm)
    await message.reply(post.text, reply_markup=post.markup, link_preview_options=post.preview)


async def refuse(message: Message, lang: Lang) -> None:
    """Anyone not in ADMIN_IDS: a short refusal, nothing else."""
    log.info("refused admin command from %s", message.from_user.id if message.from_user else "?")
    await message.answer(t(lang, "admin_only"))


def make_router() -> Router:
    """Admin commands behind the router-level IsAdmin filter, then refusals for everyone else."""
    admin_only = Router(name=f"{__name__}.admin_only")
    admin_only.message.filter(IsAdmin())
    admin_only.callback_query.filter(IsAdmin())
    admin_only.message.register(reload, Command("reload"))
    admin_only.message.register(stats, Command("stats"))
    admin_only.message.register(pause, Command("pause"))
    admin_only.message.register(resume, Command("resume"))
    admin_only.message.register(post, Command("post"))
    admin_only.message.register(preview, Command("preview"))
    refusals = Router(name=f"{__name__}.refusals")
    refusals.message.register(refuse, Command(*ADMIN_COMMANDS))
    router = Router(name=__name__)
    router.include_routers(admin_only, refusals)
    return router

"""Admin commands (/reload, /stats, /pause, /resume, /post) for ADMIN_IDS; a refusal for others.

``router`` holds two sub-routers: ``admin_only`` with the router-level ``IsAdmin()`` filter, and
``refusals`` that answers anyone else who sends an admin command, so nothing happens for them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.config import Settings
from bot.models import IngestReport
from bot.services.publishing import PostOutcome, PublishingService, PublishingStatus, Queued
from bot.telegram.filters import IsAdmin
from bot.telegram.formatting import MAX_MESSAGE_LEN, escape, fmt_date, utf16_len

log = logging.getLogger(__name__)

COMMANDS = ("reload", "stats", "pause", "resume", "post")

router = Router(name=__name__)
admin_only = Router(name=f"{__name__}.admin_only")
admin_only.message.filter(IsAdmin())
refusals = Router(name=f"{__name__}.refusals")
router.include_routers(admin_only, refusals)

REFUSAL = "Эта команда только для администраторов бота."


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
    return escape(text if len(text) <= n else text[: n - 1] + "…")


def reload_lines(report: IngestReport, queued: Queued) -> list[str]:
    """The /reload answer: counts, what was queued, and every file that cannot be parsed now."""
    lines = [
        "<b>Папка статей перечитана</b>",
        f"добавлено {report.added}, обновлено {report.updated + report.restored}, "
        f"без изменений {report.unchanged}, снято {report.withdrawn}, "
        f"с ошибками {len(report.failed)}",
        f"в очередь: в канал {queued.channel}, подписчикам {queued.subscribers}",
    ]
    if report.failed:
        lines.append("")
        lines.append("<b>Не удалось разобрать:</b>")
        lines += [
            f"• <code>{_short(f.name, 300)}</code> — {_short(f.reason, 500)}"
            for f in report.failed
        ]
    return lines


def _when(ts: float | None, tz: ZoneInfo) -> str:
    return "ещё не было" if ts is None else fmt_date(datetime.fromtimestamp(ts, UTC), tz)


def stats_text(s: PublishingStatus, tz: ZoneInfo) -> str:
    """The /stats answer."""
    if s.channel is None:
        channel = "не настроен (CHANNEL_ID пуст) — работают только подписки"
    elif s.paused:
        channel = f"{escape(s.channel)} — <b>приостановлен</b>: {escape(s.paused)}"
    else:
        channel = f"{escape(s.channel)} — публикация идёт"
    o = s.outbox
    lines = [
        "<b>Статистика</b>",
        f"Статей: {s.articles}",
        f"В очереди: в канал {o.queued_channel}, подписчикам {o.queued_subscribers}",
        f"Отправлено: {o.sent} · не доставлено: {o.failed} · отменено: {o.cancelled}",
        f"Подписчиков: {s.subscribers} (подписок: {s.subscriptions})",
        f"Канал: {channel}",
        f"Последний пост в канал: {_when(o.last_channel_post_at, tz)}",
    ]
    if o.recent_failures:
        lines.append("Последние сбои:")
        lines += [
            f"• статья {d.article_id} → {escape(d.chat_id)}: {_short(d.last_error or '?', 300)}"
            for d in o.recent_failures
        ]
    return "\n".join(lines)


@admin_only.message(Command("reload"))
async def reload(message: Message, publishing: PublishingService) -> None:
    """Scan now, queue what is new, wake the deliverer, report counts and broken files."""
    try:
        result = await publishing.tick()
    except Exception as exc:
        log.exception("/reload failed")
        await message.answer(f"Не удалось перечитать папку: {escape(str(exc))}")
        return
    for text in chunks(reload_lines(result.report, result.queued)):
        await message.answer(text)


@admin_only.message(Command("stats"))
async def stats(message: Message, publishing: PublishingService, settings: Settings) -> None:
    """Articles, queue, deliveries, subscribers, last channel post, paused or not."""
    await message.answer(stats_text(await publishing.status(), settings.source_tz))


@admin_only.message(Command("pause"))
async def pause(message: Message, publishing: PublishingService) -> None:
    """Pause channel posting (the queue is kept)."""
    if await publishing.channel_chat() is None:
        await message.answer("Канал не настроен (CHANNEL_ID пуст): приостанавливать нечего.")
        return
    who = message.from_user.id if message.from_user else "?"
    await publishing.pause(f"приостановлено администратором {who}")
    await message.answer("Публикация в канал приостановлена. Очередь сохранена; /resume — дальше.")


@admin_only.message(Command("resume"))
async def resume(message: Message, publishing: PublishingService) -> None:
    """Resume channel posting and send what waited."""
    was_paused = await publishing.resume()
    await message.answer(
        "Публикация в канал возобновлена." if was_paused else "Публикация и не была остановлена."
    )


@admin_only.message(Command("post"))
async def post(message: Message, command: CommandObject, publishing: PublishingService) -> None:
    """Queue an article for the channel again on purpose."""
    arg = (command.args or "").strip()
    if not arg.isdigit():
        await message.answer("Использование: <code>/post &lt;номер статьи&gt;</code>")
        return
    outcome = await publishing.post(int(arg))
    paused = outcome is PostOutcome.QUEUED and (await publishing.status()).paused
    await message.answer(
        {
            PostOutcome.QUEUED: f"Статья {arg} поставлена в очередь канала."
            + (" Публикация сейчас приостановлена: /resume." if paused else ""),
            PostOutcome.NO_CHANNEL: "Канал не настроен (CHANNEL_ID пуст).",
            PostOutcome.NOT_FOUND: f"Статьи {arg} нет.",
        }[outcome]
    )


@refusals.message(Command(*COMMANDS))
async def refuse(message: Message) -> None:
    """Anyone not in ADMIN_IDS: a short refusal, nothing else."""
    log.info("refused admin command from %s", message.from_user.id if message.from_user else "?")
    await message.answer(REFUSAL)

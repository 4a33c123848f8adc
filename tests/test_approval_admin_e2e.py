"""Approval end to end, the admins' side: a restart while pending, previews in the admin's
language, a correction while pending, /pending, /stats and bad settings at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.store import outbox
from tests.approval_helpers import (
    ADMIN2,
    EN_BUTTONS,
    RU_BUTTONS,
    STRANGER,
    approval_bot,
    decided,
    labels,
    new_article,
)
from tests.fake_telegram import FakeTelegram
from tests.helpers import ADMIN, channel, say, wait_until, write_seed
from tests.test_cli import TOKEN, run_bot


async def test_buttons_keep_working_after_a_restart(
    settings: Settings, fake: FakeTelegram
) -> None:
    async with approval_bot(settings, fake, timeout=60.0) as (_, cfg):
        first, second = await new_article(fake, cfg)
    async with approval_bot(settings, fake, timeout=60.0):  # a new App on the same database
        await fake.settle(0.8)
        assert len(fake.sent_messages(ADMIN)) == 1  # no second preview after the restart
        press = fake.press_button(ADMIN2, "Опубликовать", message_id=second.message_id)
        assert (await fake.wait_for_callback_answer(press))["text"] == "✅ Опубликовано — Борис"
        await fake.wait_for_messages(channel(fake), 1)
        for preview in (first, second):
            await fake.wait_for(lambda p=preview: decided(fake, p, "✅ Опубликовано — Борис"))


async def test_an_english_admin_gets_english_buttons(
    settings: Settings, fake: FakeTelegram
) -> None:
    async with approval_bot(settings, fake) as (_app, cfg):
        [nothing] = await say(fake, ADMIN2, "/pending", lang="en")
        assert nothing.text == "Nothing waits for approval."
        first, second = await new_article(fake, cfg)
        assert (labels(first), labels(second)) == (RU_BUTTONS, EN_BUTTONS)
        press = fake.press_button(ADMIN2, "Publish", message_id=second.message_id)
        assert (await fake.wait_for_callback_answer(press))["text"] == "✅ Published — Борис"
        await fake.wait_for(lambda: decided(fake, second, "✅ Published — Борис"))
        await fake.wait_for(lambda: decided(fake, first, "✅ Опубликовано — Борис"))


async def test_a_correction_while_pending_edits_the_previews(
    settings: Settings, fake: FakeTelegram
) -> None:
    async with approval_bot(settings, fake) as (bot, cfg):
        first, second = await new_article(fake, cfg)
        write_seed(cfg.seeds_dir, "new.txt", "Армия начала манёвры", ["Манёвры отменили."])
        for p in (first, second):
            await fake.wait_for(
                lambda p=p: "Манёвры отменили." in fake.message(p.chat.id, p.message_id).text,
                timeout=10,
            )
        assert labels(fake.message(ADMIN, first.message_id)) == RU_BUTTONS  # still pending

        async def settled() -> bool:
            rows = await outbox.all_deliveries(bot.app.conn)
            return all(d.status != "queued" for d in rows)

        await wait_until(settled)
        # the previews show the correction: no «Статья исправлена» note besides them
        assert [m.message_id for m in fake.sent_messages(ADMIN)] == [first.message_id]
        assert not any(d.kind == "note" for d in await outbox.all_deliveries(bot.app.conn))
        edited_html = fake.message(ADMIN, first.message_id).html
        fake.press_button(ADMIN, "Опубликовать", message_id=first.message_id)
        [post] = await fake.wait_for_messages(channel(fake), 1)
        assert post.html == edited_html and "Начались манёвры" not in post.text


async def test_a_withdrawal_while_pending_puts_the_decision_on_hold(
    settings: Settings, fake: FakeTelegram
) -> None:
    async with approval_bot(settings, fake) as (_app, cfg):
        first, second = await new_article(fake, cfg)
        data = first.buttons[-3]["callback_data"]
        path = cfg.seeds_dir / "new.txt"
        text = path.read_text("utf-8")
        path.unlink()
        on_hold = "⏸ Статья снята с публикации"
        for p in (first, second):
            await fake.wait_for(lambda p=p: decided(fake, p, on_hold), timeout=10)
        press = fake.push_callback(ADMIN, data, message_id=first.message_id, check=False)
        assert (await fake.wait_for_callback_answer(press))["text"].startswith(on_hold)
        [listing] = await say(fake, ADMIN, "/pending")
        assert "(снята)" in listing.text
        path.write_text(text, "utf-8")  # back: the previews ask again
        await fake.wait_for(lambda: labels(fake.message(ADMIN, first.message_id)), timeout=10)
        assert fake.sent_messages(channel(fake)) == []
        fake.press_button(ADMIN, "Опубликовать", message_id=first.message_id)
        await fake.wait_for_messages(channel(fake), 1)


async def test_pending_lists_the_waiting_articles_for_admins_only(
    settings: Settings, fake: FakeTelegram
) -> None:
    async with approval_bot(settings, fake, timeout=30.0) as (_app, cfg):
        [none] = await say(fake, ADMIN, "/pending")
        assert none.text == "Ничего не ждёт одобрения."
        first, _ = await new_article(fake, cfg)
        article_id = first.buttons[-1]["callback_data"].split(":")[1]
        [listing] = await say(fake, ADMIN, "/pending")
        head, item, when = listing.text.splitlines()
        assert head == "Ждут одобрения: 1"
        assert item == f"• {article_id} — Армия начала манёвры"
        assert when.startswith("  с ") and " · срок: " in when and "без срока" not in when
        [stats] = await say(fake, ADMIN, "/stats")
        assert "Ждут одобрения: 1" in stats.text
        [refused] = await say(fake, STRANGER, "/pending")
        assert refused.text == "Эта команда только для администраторов бота."
        assert "pending" in [c["command"] for c in fake.resolve_commands(ADMIN)]
        for lang in ("ru", "en"):
            reader = fake.resolve_commands(STRANGER, language_code=lang)
            assert "pending" not in [c["command"] for c in reader]


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"APPROVAL": "maybe"}, "APPROVAL"),
        ({"APPROVAL": "on", "APPROVAL_TIMEOUT": "-5"}, "APPROVAL_TIMEOUT"),
        ({"APPROVAL": "on", "APPROVAL_DEFAULT": "later"}, "APPROVAL_DEFAULT"),
    ],
)
def test_bad_approval_setting_stops_the_start_with_exit_2(
    env: dict[str, str], name: str, tmp_path: Path
) -> None:
    result = run_bot("ingest", env={**env, "ADMIN_IDS": "900", "BOT_TOKEN": TOKEN}, cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert name in line and TOKEN not in result.stderr + result.stdout

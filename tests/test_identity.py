"""The identity rule (same title, date and text after normalisation) and visible changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.identity import identity_key, visible_changes
from bot.models import ParsedArticle
from bot.parser import parse
from tests.helpers import MSK, REAL_SEED, seed_text

WHEN = datetime(2025, 5, 21, 10, 37, tzinfo=MSK)
BASE = ParsedArticle(
    title="Учения «Запад-2025» прошли в Минске",
    published_at=WHEN,
    lead="Военные провели учения.",
    body=("Второй абзац.", "Третий абзац."),
    credit="Фото: Иван Петров / ТАСС",
    promo=("Читайте нас в Telegram.",),
)


def test_the_real_seed_parsed_twice_is_one_article() -> None:
    data = REAL_SEED.read_bytes()
    a = parse(data, mtime=0, tz=MSK)
    b = parse(data.replace(b"\n", b"\r\n"), mtime=1e9, tz=MSK)
    assert identity_key(a) == identity_key(b)


def test_normalisation_ignores_case_yo_quotes_dashes_and_spacing() -> None:
    other = replace(
        BASE,
        title='УЧЕНИЯ "Запад – 2025"  прошли в Минске!',
        lead="Военные  провели учёния.".replace("учёния", "учения"),
    )
    assert identity_key(other) == identity_key(BASE)
    assert identity_key(replace(BASE, title=BASE.title.replace("Минске", "Мінске"))) != (
        identity_key(BASE)
    )


def test_credit_and_promo_are_not_part_of_the_identity() -> None:
    assert identity_key(replace(BASE, credit=None, promo=())) == identity_key(BASE)


def test_title_date_and_text_are() -> None:
    key = identity_key(BASE)
    assert identity_key(replace(BASE, title="Учения прошли в Бресте")) != key
    assert identity_key(replace(BASE, published_at=WHEN.replace(minute=38))) != key
    assert identity_key(replace(BASE, body=("Второй абзац.",))) != key
    assert identity_key(replace(BASE, lead="Военные провели манёвры.")) != key


def test_a_date_taken_from_the_mtime_does_not_count() -> None:
    text = seed_text("Новость без даты", ["Текст новости."], date="")
    a = parse(text.encode(), mtime=1_700_000_000, tz=MSK)
    b = parse(text.encode(), mtime=1_700_090_000, tz=MSK)
    assert a.date_from_mtime and a.published_at != b.published_at
    assert identity_key(a) == identity_key(b)


def test_visible_changes_name_the_fields() -> None:
    assert visible_changes(BASE, BASE) == ()
    assert visible_changes(BASE, replace(BASE, promo=("Подписывайтесь на наш канал.",))) == ()
    assert visible_changes(BASE, replace(BASE, title="Учения прошли")) == ("title",)
    assert visible_changes(BASE, replace(BASE, body=("Новый абзац.",))) == ("text",)
    assert visible_changes(BASE, replace(BASE, lead="Другой лид.")) == ("text",)
    assert visible_changes(BASE, replace(BASE, published_at=WHEN.replace(hour=11))) == ("date",)
    assert visible_changes(BASE, replace(BASE, credit="Фото: РИА Новости")) == ("credit",)
    both = replace(BASE, title="Т", credit=None)
    assert visible_changes(BASE, both) == ("title", "credit")


def test_a_fixed_quote_is_a_correction_but_not_a_new_identity() -> None:
    fixed = replace(BASE, title=BASE.title.replace("«", '"').replace("»", '"'))
    assert visible_changes(BASE, fixed) == ("title",)
    assert identity_key(fixed) == identity_key(BASE)

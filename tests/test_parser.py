"""Parser tests: field-exact on the real seed, variants built from it, and property tests."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.models import ParsedArticle
from bot.parser import MAX_FILE_SIZE, ParseError, parse

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_9778a571ca4719d4.txt"
TZ = ZoneInfo("Europe/Moscow")
MTIME = datetime(2025, 6, 1, 12, 0, 30, tzinfo=TZ).timestamp()

TITLE = (
    "В России назвали Беларусь стратегическим партнером в сфере военно-технического сотрудничества"
)
CREDIT = "Виктор Толочко / РИА Новости"
LEAD = (
    "В Федеральной службе по военно-техническому сотрудничеству России назвали Беларусь "
    "стратегическим партнером страны. Об этом 21 мая заявили в пресс-службе ФСВТС накануне "
    "международной выставки вооружений и военной техники MILEX-2025. Там также раскрыли, как это "
    "помогает обеспечивать безопасность Союзного государства."
)
BODY = (
    "Военно-техническому сотрудничеству России и Беларуси сегодня отводится особая роль, заявили "
    "в пресс-службе Федеральной службе по военно-техническому сотрудничеству (ФСВТС) в преддверии "
    "выставки MILEX-2025 в Минске.",
    "«Белоруссия является для России стратегическим партнером. Кроме того, ВТС является "
    "важнейшим инструментом, обеспечивающим последовательную политику по созданию системы "
    "коллективной безопасности, противодействию проявлениям международного терроризма и "
    "экстремизма, обеспечению безопасности внешних границ, укреплению политических, экономических "
    "и гуманитарных связей на пространстве СНГ и, в частности, на территории Союзного государства "
    "России и Белоруссии», – отметили в ФСВТС.",
    "Напомним, в ОДКБ на протяжении прошлого года фиксировали наращивание инфраструктуры НАТО "
    "вблизи границ Союзного государства. На этом фоне Россия и Беларусь создают единое оборонное "
    "пространство, укрепляют боевой потенциал совместной региональной группировки войск и "
    "военно-техническое сотрудничество.",
    "Ранее Москва и Минск скорректировали мероприятия по реализации гарантий безопасности, в том "
    "числе параметры предстоящего белорусско-российского учения «Запад-2025». По словам министра "
    "обороны Беларуси Виктора Хренина, они согласовали «дальнейшие шаги по поддержанию и "
    "укреплению оборонного потенциала, необходимого для предотвращения угроз военной безопасности "
    "и отражения агрессии в случае ее развязывания».",
)
PROMO = (
    "Подробнее о том, какой вклад в обеспечение безопасности республики вносит интеграция в "
    "рамках Союзного государства, читайте в материале «Евразия.Эксперт».",
    "Читайте актуальные новости и аналитические статьи в Telegram-канале «Евразия.Эксперт».",
)
SIDEBAR = (
    "Комментарии",
    "20 мая",
    "РЕДАКТОРСК",
    "Инфографика",
    "Цифра недели",
    "$7 млрд",
    "Сенат",
)

RAW = SEED.read_bytes()
TEXT = RAW.decode("utf-8")
LINES = TEXT.split("\n")
EXPECTED = ParsedArticle(
    title=TITLE,
    published_at=datetime(2025, 5, 21, 10, 37, tzinfo=TZ),
    lead=LEAD,
    body=BODY,
    credit=CREDIT,
    promo=PROMO,
    date_from_mtime=False,
)


def run(text: str, *, mtime: float = MTIME, tz: ZoneInfo = TZ) -> ParsedArticle:
    return parse(text.encode("utf-8"), mtime=mtime, tz=tz)


def replaced(old: str, new: str, text: str = TEXT) -> str:
    """The seed with one line/fragment replaced (asserting it was there)."""
    assert old in text
    return text.replace(old, new, 1)


def with_date(line: str) -> str:
    return replaced("21 мая 2025 г. 10:37", line)


def all_text(a: ParsedArticle) -> str:
    return "\n".join([a.title, a.lead, *a.body, *a.promo, a.credit or ""])


# --- the real seed, field by field ---------------------------------------------------------------


def test_real_seed_is_parsed_exactly() -> None:
    article = parse(RAW, mtime=MTIME, tz=TZ)
    assert article == EXPECTED
    assert article.published_at.tzinfo is TZ
    assert article.published_at.utcoffset().total_seconds() == 3 * 3600


def test_real_seed_title_once_and_no_sidebar() -> None:
    article = parse(RAW, mtime=MTIME, tz=TZ)
    rest = "\n".join([article.lead, *article.body, *article.promo])
    assert TITLE not in rest
    for junk in SIDEBAR:
        assert junk not in rest and junk not in article.title


def test_real_seed_spaces_normalised_words_kept() -> None:
    article = parse(RAW, mtime=MTIME, tz=TZ)
    text = all_text(article)
    assert "\xa0" not in text and "  " not in text
    assert "фиксировали наращивание" in article.body[2]
    assert "Подробнее о том, какой" in article.promo[0]
    assert all(p == p.strip() for p in (article.lead, *article.body))


def test_date_is_wall_clock_in_given_tz() -> None:
    article = parse(RAW, mtime=MTIME, tz=ZoneInfo("UTC"))
    assert article.published_at == datetime(2025, 5, 21, 10, 37, tzinfo=UTC)


def test_parse_error_has_reason() -> None:
    with pytest.raises(ParseError) as info:
        parse(b"", mtime=MTIME, tz=TZ)
    assert info.value.reason == str(info.value) == "file is empty"


# --- encodings and whitespace --------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(TEXT.encode("cp1251"), id="cp1251"),
        pytest.param(TEXT.encode("utf-8-sig"), id="utf8-bom"),
        pytest.param(TEXT.encode("utf-16"), id="utf16-bom"),
        pytest.param(TEXT.replace("\n", "\r\n").encode(), id="crlf"),
        pytest.param(TEXT.replace("\n", "\r").encode(), id="cr"),
        pytest.param(TEXT.replace("\n", " \t \n").encode(), id="trailing-tabs"),
        pytest.param(TEXT.replace(" ", "\t").encode(), id="tabs"),
        pytest.param(TEXT.replace(" ", "  ").encode(), id="doubled-spaces"),
        pytest.param(TEXT.replace(" ", "\xa0").encode(), id="all-nbsp"),
        pytest.param(TEXT.replace(" ", " \u202f\u2009").encode(), id="thin-spaces"),
        pytest.param(TEXT.replace("\n", "\n\n").encode(), id="extra-blank-lines"),
        pytest.param(TEXT.replace("\n\n", "\n").encode(), id="no-blank-lines"),
        pytest.param(("\ufeff" + TEXT.replace("\n", "\u200b\n")).encode(), id="invisible-chars"),
        pytest.param(RAW + b"\n\n\n", id="trailing-newlines"),
        pytest.param(RAW[:-1], id="utf8-cut-mid-character"),
    ],
)
def test_encoding_and_whitespace_variants(data: bytes) -> None:
    assert parse(data, mtime=MTIME, tz=TZ) == EXPECTED


def test_cp1251_is_not_mojibake() -> None:
    article = parse(TEXT.encode("cp1251"), mtime=MTIME, tz=TZ)
    assert article.title == TITLE and "«Запад-2025»" in article.body[3]


# --- header: credit, breadcrumb, image alt -------------------------------------------------------


def test_no_credit_line() -> None:
    article = run(replaced("Фото: Виктор Толочко / РИА Новости\n", ""))
    assert article.credit is None
    assert article.lead == LEAD and article.body == BODY


@pytest.mark.parametrize(
    "line",
    [
        "Фото: Виктор Толочко / РИА Новости",
        "фото: Виктор Толочко / РИА Новости",
        "Фото:Виктор Толочко / РИА Новости",
        "Фото: © Виктор Толочко / РИА Новости",
        "Фото © Виктор Толочко / РИА Новости",
        "Фотография: Виктор Толочко / РИА Новости",
        "Источник фото: Виктор Толочко / РИА Новости",
        "Иллюстрация: Виктор Толочко / РИА Новости",
        "© Виктор Толочко / РИА Новости",
    ],
)
def test_credit_variants(line: str) -> None:
    assert run(replaced("Фото: Виктор Толочко / РИА Новости", line)) == EXPECTED


def test_first_credit_wins_and_inline_credits_are_dropped() -> None:
    extra = f"{BODY[0]}\n\nПодпись ко второму снимку\nФото: Иван Петров / ТАСС\n"
    article = run(replaced(f"{BODY[0]}\n", extra))
    assert article == EXPECTED


def test_caption_above_credit_is_dropped() -> None:
    text = replaced(f"\n{TITLE}\nФото:", "\nМинистр обороны Беларуси Виктор Хренин\nФото:")
    assert run(text) == EXPECTED


def test_paragraph_right_above_a_credit_is_kept() -> None:
    text = replaced(f"{BODY[0]}\n", f"{BODY[0]}\nФото: Иван Петров / ТАСС\n")
    assert run(text).body == BODY


@pytest.mark.parametrize(
    "crumb",
    [
        "",
        f"Главная / Новости / {TITLE}",
        f"Главная › Политика › {TITLE}",
        "Главная / Новости / Политика",
        f"{TITLE}.",
        TITLE.upper(),
    ],
)
def test_breadcrumb_variants(crumb: str) -> None:
    lines = [line for line in LINES if line != f"/ {TITLE}"]
    text = "\n".join(lines).replace(f"{TITLE}\nФото", f"{crumb}\nФото" if crumb else "Фото")
    article = run(text)
    assert article == EXPECTED


def test_no_date_no_breadcrumb_no_credit() -> None:
    text = "\n\n".join([TITLE, LEAD, *BODY])
    article = run(text)
    assert article.title == TITLE and article.lead == LEAD and article.body == BODY
    assert article.credit is None and article.promo == ()
    assert article.date_from_mtime


def test_title_starting_with_breadcrumb_slash() -> None:
    article = run(replaced(f"{TITLE}\n\n/ {TITLE}", f"/ {TITLE}"))
    assert article == EXPECTED


@pytest.mark.parametrize(
    "title",
    ["Учения «Щит» начались", "Минск › Москва: «Запад-2025» в цифрах", "Цена > 100 рублей"],
)
def test_breadcrumb_of_a_title_holding_separator_characters(title: str) -> None:
    text = TEXT.replace(TITLE, title)
    article = run(text)
    assert article.title == title
    assert article.lead == LEAD and article.body == BODY


# --- dates ---------------------------------------------------------------------------------------

GENITIVE = "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
NOMINATIVE = "январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь"
ABBREVIATED = "янв фев мар апр мая июн июл авг сен окт ноя дек"


@pytest.mark.parametrize("form", [GENITIVE, NOMINATIVE, ABBREVIATED.replace(" ", ". ") + "."])
@pytest.mark.parametrize("month", range(1, 13))
def test_every_month_name(form: str, month: int) -> None:
    name = form.split()[month - 1]
    article = run(with_date(f"7 {name} 2024 г. 08:05"))
    assert article.published_at == datetime(2024, month, 7, 8, 5, tzinfo=TZ)
    assert not article.date_from_mtime and article.title == TITLE


@pytest.mark.parametrize("month", range(1, 13))
def test_month_name_case_and_yo_insensitive(month: int) -> None:
    name = GENITIVE.split()[month - 1].upper()
    assert run(with_date(f"1 {name} 2023")).published_at == datetime(2023, month, 1, tzinfo=TZ)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("21 мая 2025 г. 10:37", (2025, 5, 21, 10, 37)),
        ("21 мая 2025 г.", (2025, 5, 21, 0, 0)),
        ("21 мая 2025", (2025, 5, 21, 0, 0)),
        ("21 мая 2025, 10:37", (2025, 5, 21, 10, 37)),
        ("21 мая 2025 года в 10:37", (2025, 5, 21, 10, 37)),
        ("21 мая 2025 10:37 мск", (2025, 5, 21, 10, 37)),
        ("Среда, 21 мая 2025, 10:37", (2025, 5, 21, 10, 37)),
        ("Опубликовано: 21 мая 2025 г. 10:37", (2025, 5, 21, 10, 37)),
        ("10:37 21.05.2025", (2025, 5, 21, 10, 37)),
        ("10:37, 21 мая 2025", (2025, 5, 21, 10, 37)),
        ("21.05.2025 10:37", (2025, 5, 21, 10, 37)),
        ("21.05.2025", (2025, 5, 21, 0, 0)),
        ("21/05/2025 10:37", (2025, 5, 21, 10, 37)),
        ("1.5.2025 9:05", (2025, 5, 1, 9, 5)),
        ("21.05.25 10:37", (2025, 5, 21, 10, 37)),
        ("2025-05-21 10:37", (2025, 5, 21, 10, 37)),
        ("2025-05-21 10:37:59", (2025, 5, 21, 10, 37)),
        ("2025-05-21T10:37:00", (2025, 5, 21, 10, 37)),
        ("2025-05-21T10:37:00+03:00", (2025, 5, 21, 10, 37)),
        ("2025-05-21T07:37:00Z", (2025, 5, 21, 10, 37)),
        ("2025-05-21T09:37+0200", (2025, 5, 21, 10, 37)),
        ("21 мая 10:37", (2025, 5, 21, 10, 37)),
        ("21 мая", (2025, 5, 21, 0, 0)),
    ],
)
def test_date_formats(line: str, expected: tuple[int, ...]) -> None:
    article = run(with_date(line))
    assert article.published_at == datetime(*expected, tzinfo=TZ)
    assert article.published_at.tzinfo is TZ
    assert not article.date_from_mtime
    assert article.title == TITLE and article.lead == LEAD


def test_missing_year_never_lands_in_the_future() -> None:
    new_year = datetime(2026, 1, 2, 9, 0, tzinfo=TZ).timestamp()
    article = run(with_date("31 декабря 23:50"), mtime=new_year)
    assert article.published_at == datetime(2025, 12, 31, 23, 50, tzinfo=TZ)
    leap = run(with_date("29 февраля"), mtime=MTIME)
    assert leap.published_at == datetime(2024, 2, 29, tzinfo=TZ)


def test_date_line_after_the_title() -> None:
    text = replaced(f"21 мая 2025 г. 10:37\n\n{TITLE}\n", f"{TITLE}\n21.05.2025 10:37\n")
    assert run(text) == EXPECTED


def test_first_valid_of_several_date_lines() -> None:
    text = with_date("32 мая 2025 г. 10:37\nОбновлено: 22 мая 2025 г. 12:00\n21 мая 2025")
    article = run(text)
    assert article.published_at == datetime(2025, 5, 22, 12, 0, tzinfo=TZ)
    assert article.title == TITLE


def fallback() -> datetime:
    return datetime.fromtimestamp(MTIME, TZ)


@pytest.mark.parametrize(
    "line",
    [
        "32 мая 2025 г. 10:37",
        "31 февраля 2025",
        "21 мая 2025 г. 25:61",
        "21.13.2025 10:37",
        "2025-02-30",
        "21 мая 1812 г.",
        "вчера, 10:37",
        "Сегодня 10:37",
        "май 2025",
        "2025-05-21T10:37:00+99:00",
    ],
)
def test_unparseable_date_falls_back_to_mtime(line: str) -> None:
    article = run(with_date(line))
    assert article.date_from_mtime
    assert article.published_at == fallback() and article.published_at.tzinfo is TZ
    assert article.title == TITLE and article.lead == LEAD and article.body == BODY


def test_missing_date_line_falls_back_to_mtime() -> None:
    article = run(replaced("21 мая 2025 г. 10:37\n\n", ""))
    assert article == ParsedArticle(
        TITLE, fallback(), LEAD, BODY, CREDIT, PROMO, date_from_mtime=True
    )


@pytest.mark.parametrize("title", ["8 марок", "2025", "5 причин сходить в кино 21 мая"])
def test_title_starting_with_numbers_is_not_a_date(title: str) -> None:
    article = run(replaced("21 мая 2025 г. 10:37\n\n", "").replace(TITLE, title))
    assert article.title == title and article.date_from_mtime


def test_invalid_mtime_without_date_is_a_parse_error() -> None:
    text = replaced("21 мая 2025 г. 10:37\n\n", "")
    with pytest.raises(ParseError, match="file time"):
        run(text, mtime=math.nan)
    assert run(TEXT, mtime=math.nan) == EXPECTED  # the date line does not need the file time


# --- junk, promo, end of article -----------------------------------------------------------------


@pytest.mark.parametrize(
    "marker",
    [
        "Комментарии",
        "КОММЕНТАРИИ",
        "Комментарии:",
        "Комментарии (12)",
        "Комментарии 3",
        "Похожие новости",
        "Материалы по теме",
        "Редакторская колонка",
        "Цифра недели",
        "© 2025 Евразия.Эксперт. Все права защищены.",
        "© 2010–2025 Евразия.Эксперт",
        "© Евразия.Эксперт. All rights reserved",
    ],
)
def test_sidebar_markers_end_the_article(marker: str) -> None:
    assert run(replaced("Комментарии", marker)) == EXPECTED


def test_file_without_sidebar() -> None:
    assert run(TEXT[: TEXT.index("Комментарии")]) == EXPECTED


def test_sidebar_glued_to_the_promo() -> None:
    text = replaced("«Евразия.Эксперт».\n\n\n\nКомментарии", "«Евразия.Эксперт».\nКомментарии")
    assert run(text) == EXPECTED


def test_related_links_block_goes_to_promo() -> None:
    teasers = ["Читайте также:", "В Минске открылась выставка MILEX-2025", "Учения «Запад-2025»"]
    block = "\n".join(teasers)
    text = replaced(f"{BODY[1]}\n", f"{BODY[1]}\n\n{block}\n")
    article = run(text)
    assert article.body == BODY and article.promo == (*teasers, *PROMO)


def test_stand_alone_date_lines_in_the_body_are_dropped() -> None:
    text = replaced(f"{BODY[0]}\n", f"{BODY[0]}\n\n20 мая\n\nОбновлено: 22.05.2025 09:00\n")
    assert run(text) == EXPECTED


def test_word_commentary_inside_a_paragraph_is_not_a_marker() -> None:
    text = replaced(f"{BODY[0]}\n", f"{BODY[0]}\n\nКомментарии экспертов разошлись.\n")
    assert run(text).body == (BODY[0], "Комментарии экспертов разошлись.", *BODY[1:])


@pytest.mark.parametrize(
    "line",
    [
        "Читайте также: В Минске открылась выставка MILEX-2025",
        "Подписывайтесь на наш канал в Дзене",
        "Все новости — в нашем Telegram-канале",
        "Подробнее о выставке читайте в нашем материале.",
        "Смотрите также",
        "Присоединяйтесь к нам во ВКонтакте!",
    ],
)
def test_promo_lines_anywhere_go_to_promo(line: str) -> None:
    article = run(replaced(f"{BODY[1]}\n", f"{BODY[1]}\n\n{line}\n"))
    assert article.body == BODY and article.lead == LEAD
    assert article.promo == (line, *PROMO)


def test_ordinary_sentences_are_not_promo() -> None:
    lines = ["Подробнее о ситуации рассказал министр.", "Ранее Минск сообщал о выставке."]
    text = replaced(f"{BODY[0]}\n", f"{BODY[0]}\n\n" + "\n\n".join(lines) + "\n")
    assert run(text).body == (BODY[0], *lines, *BODY[1:])


def test_ad_labels_are_dropped() -> None:
    text = replaced(f"{BODY[0]}\n", f"{BODY[0]}\n\nРеклама\n\nПоделиться\n")
    assert run(text) == EXPECTED


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b" \n\t\r\n  \r", "only whitespace"),
        ("\xa0\u2009\n\u3000".encode(), "only whitespace"),
        (b"\xef\xbb\xbf", "only whitespace"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "NUL"),
        (RAW[:500] + b"\x00" + RAW[500:], "NUL"),
        (bytes(range(1, 32)) * 20, "control"),
        (b"\x81\x98\xff\xfe\xc3\x28" * 50, "neither UTF-8 nor windows-1251"),
        (b"\xff\xfe\x00\xd8", "UTF-16"),
        (b"a" * (MAX_FILE_SIZE + 1), "too large"),
        (RAW + b" " * (MAX_FILE_SIZE + 1 - len(RAW)), "too large"),
        ("21 мая 2025 г. 10:37\n\n".encode(), "only a date"),
        (f"21 мая 2025 г. 10:37\n\n{TITLE}\n".encode(), "no article text"),
        (f"{TITLE}\n/ {TITLE}\n{TITLE}\nФото: X\n".encode(), "no article text"),
        (f"{TITLE}\n\n{PROMO[1]}\n".encode(), "no article text"),
        (f"{TITLE}\n\nКомментарии\n\n{LEAD}".encode(), "no article text"),
        (("Очень длинная строка. " * 30).encode(), "too long"),
    ],
)
def test_parse_errors(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse(data, mtime=MTIME, tz=TZ)


def test_file_of_exactly_max_size_is_accepted() -> None:
    filler = ("Абзац текста. " * 40).strip()
    text = TEXT[: TEXT.index("Комментарии")] + f"{filler}\n" * 5000
    data = text.encode()[:MAX_FILE_SIZE]
    data = data[: data.rindex(b"\n")]
    data += b" " * (MAX_FILE_SIZE - len(data))
    article = parse(data, mtime=MTIME, tz=TZ)
    assert article.title == TITLE and article.body[-1] == filler


# --- properties ----------------------------------------------------------------------------------

PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_error(data: bytes) -> ParsedArticle | None:
    try:
        article = parse(data, mtime=MTIME, tz=TZ)
    except ParseError as exc:
        assert exc.reason and str(exc) == exc.reason
        return None
    assert isinstance(article, ParsedArticle)
    assert article.title and article.lead and article.published_at.tzinfo is TZ
    for text in (article.title, article.lead, *article.body, *article.promo):
        assert text == text.strip() and "\n" not in text and "  " not in text
    return article


@PROPS
@given(st.binary(max_size=2000))
def test_any_bytes_give_article_or_parse_error(data: bytes) -> None:
    parse_or_error(data)


@PROPS
@given(st.text(max_size=1000))
def test_any_text_gives_article_or_parse_error(text: str) -> None:
    parse_or_error(text.encode("utf-8", "surrogatepass"))


LINE_PARTS = st.sampled_from(
    [
        "",
        " ",
        "\xa0",
        "\t",
        "21 мая 2025 г. 10:37",
        "32 мая",
        "Комментарии",
        "Фото: ",
        "© ",
        "/ ",
        "Читайте ",
        "Подробнее ",
        "Главная / ",
        "мая",
        "10:37",
        "Слово",
        "текст.",
        "«Цитата»",
        " – ",
    ]
)
LINES_ST = st.lists(st.lists(LINE_PARTS, max_size=4).map("".join), max_size=12).map("\n".join)


@PROPS
@given(LINES_ST, st.sampled_from(["utf-8", "cp1251", "utf-8-sig"]))
def test_seed_like_text_never_invents_words(text: str, encoding: str) -> None:
    article = parse_or_error(text.encode(encoding))
    if article is not None:
        source = " ".join(text.split())
        for part in (article.title, article.lead, *article.body, *article.promo):
            assert part.lstrip("/ ") in source

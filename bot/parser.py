"""Pure seed-file parser: bytes of one scraped article → ParsedArticle, or ParseError(reason)."""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo

from bot.models import ParsedArticle

log = logging.getLogger(__name__)

MAX_FILE_SIZE = 2 * 1024 * 1024
MAX_TITLE_LEN = 500  # longer: a paragraph, not a headline (real titles reach ~370 chars)
MAX_CONTROL_SHARE = 0.05  # more control characters than this means binary, not text
MAX_CAPTION_LEN = 200

_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ufffd]")
_NEWLINE = re.compile(r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))

_MONTHS = {
    form: number
    for number, forms in enumerate(
        (
            "января январь янв",
            "февраля февраль фев февр",
            "марта март мар",
            "апреля апрель апр",
            "мая май",
            "июня июнь июн",
            "июля июль июл",
            "августа август авг",
            "сентября сентябрь сен сент",
            "октября октябрь окт",
            "ноября ноябрь ноя нояб",
            "декабря декабрь дек",
        ),
        start=1,
    )
    for form in forms.split()
}
_WEEKDAYS = "понедельник вторник среда четверг пятница суббота воскресенье пн вт ср чт пт сб вс"
_DATE_WORDS = frozenset([*_MONTHS, *_WEEKDAYS.split(), "г", "год", "года", "в", "t", "z"])
_RELATIVE = frozenset({"сегодня", "вчера", "позавчера"})
_WD = rf"(?:(?:{'|'.join(_WEEKDAYS.split())})\.?,?\s*)?"
_YEAR_WORD = r"(?:\s*(?:г\.?|года?)(?=[\s,|]|$))?"
_TIME = r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::\d{2}(?:\.\d+)?)?(?P<tz>z|[+-]\d{2}:?\d{2})?"
_DAYS = (
    rf"(?P<d>\d{{1,2}})\s*(?P<mon>[а-я]+)\.?(?:,?\s*(?P<y>\d{{4}}){_YEAR_WORD})?",
    rf"(?P<d>\d{{1,2}})(?P<s>[./-])(?P<m>\d{{1,2}})(?P=s)(?P<y>\d{{4}}|\d{{2}}){_YEAR_WORD}",
    r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})",
)
_DATE_RES = tuple(
    re.compile(pattern)
    for day in _DAYS
    for pattern in (
        rf"{_WD}{day}(?:\s*[,|]?\s*(?:в\s*)?{_TIME})?",
        rf"{_TIME}\s*[,|]?\s*{_WD}{day}",
    )
)
_DIGIT = re.compile(r"\d")
_LABEL = re.compile(r"^(?:опубликовано|обновлено|дата публикации|дата)\s*:?\s*")
_MSK = re.compile(r"\s*\(?мск\)?$")

_END_MARKERS = frozenset(
    {
        *("комментарии", "комментарий", "комментировать", "оставить комментарий"),
        *("добавить комментарий", "обсуждение", "теги", "метки", "похожие новости"),
        *("похожие материалы", "похожие статьи", "материалы по теме", "новости по теме"),
        *("другие новости", "последние новости", "лента новостей", "главные новости"),
        *("новости партнеров", "популярное", "самое популярное", "самое читаемое"),
        *("самое обсуждаемое", "редакторская колонка", "колонка редактора", "цифра недели"),
        *("инфографика", "мнения", "выбор редакции"),
    }
)
_TEASER_HEADINGS = frozenset({"читайте также", "смотрите также", "также по теме", "по теме"})
_DROPPED = frozenset({"реклама", "поделиться", "поделитесь", "фото", "фото:"})
_FOOTER = re.compile(r"^©\s*(?:\d{4}\b|.*(?:все права защищены|all rights reserved))")
_CTA = r"(?:читайте|подписывайтесь|подпишитесь|присоединяйтесь|смотрите|слушайте|следите)"
_PROMO = re.compile(
    rf"^(?:{_CTA}\b|(?:подробнее|больше|также|все|еще)\b.*\b{_CTA}\b|также по теме$)"
    r"|\b(?:наш|нашем|нашего)\s+(?:telegram|телеграм|tg|дзен|vk|вк)"
)
_CREDIT = re.compile(
    r"^(?:(?:фото(?:графия)?|источник фото|фото и видео|иллюстрация|изображение|кадр)\s*[:©]"
    r"|©)\s*(?:©\s*)?(?P<who>.+)$",
    re.IGNORECASE,
)
_CRUMB_SEP = re.compile(r"\s*(?:/|›|»|>|→|\|)\s*")
_CRUMB_CHARS = "/›»>→|"
_CRUMB_HOME = re.compile(r"^главная\s*(?:/|›|»|>|→|\|)")
_TERMINAL = tuple(".!?…:;")
_SOURCE_URL = re.compile(r"^(?:url|источник)\s*:\s*(?P<url>https?://[^\s<>\"]+)$", re.IGNORECASE)


class ParseError(Exception):
    """Why a seed file cannot become an article, in words an operator can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Stamp(NamedTuple):
    """A date line's parts; ``year`` is None when the line omits it."""

    year: int | None
    month: int
    day: int
    hour: int
    minute: int
    offset: timezone | None


def parse(data: bytes, *, mtime: float, tz: ZoneInfo) -> ParsedArticle:
    """Parse one seed file; ``mtime`` (unix seconds) dates files without a usable date line."""
    if len(data) > MAX_FILE_SIZE:
        raise ParseError(f"file too large: {len(data)} bytes (limit {MAX_FILE_SIZE})")
    if not data:
        raise ParseError("file is empty")
    text = _decode(data)
    controls = len(text) - len(_CONTROL.sub("", text))
    if controls > MAX_CONTROL_SHARE * len(text):
        raise ParseError(f"binary file: {controls} of {len(text)} characters are control codes")
    lines = _lines(text)
    url = _take_url(lines)
    if not any(lines):
        raise ParseError("file contains only whitespace")
    start, stamp, seen_date = _title_index(lines)
    title = re.sub(r"^[/›|]\s*", "", lines[start]) or lines[start]
    if len(title) > MAX_TITLE_LEN:
        raise ParseError(f"no title: the first line has {len(title)} characters, too long")
    paragraphs, promo, credit, late_stamp = _content(lines[start + 1 :], _key(title))
    stamp = stamp or late_stamp
    if not paragraphs:
        raise ParseError("no article text after the title")
    published = _published(stamp, mtime, tz) if stamp else None
    if published is None:
        log.debug("no usable date line (date-like line seen: %s)", seen_date)
    return ParsedArticle(
        title=title,
        published_at=published or _from_mtime(mtime, tz),
        lead=paragraphs[0],
        body=tuple(paragraphs[1:]),
        credit=credit,
        promo=tuple(promo),
        date_from_mtime=published is None,
        url=url,
    )


def _take_url(lines: list[str]) -> str | None:
    """The article's address from a ``URL: https://…`` or ``Источник: https://…`` line of its
    own (the first one wins); every such line is blanked, so it is never text or a title."""
    found: str | None = None
    for i, line in enumerate(lines):
        match = _SOURCE_URL.match(line)
        if match:
            found = found or match["url"]
            lines[i] = ""
    return found


def _content(
    lines: list[str], title_key: str
) -> tuple[list[str], list[str], str | None, _Stamp | None]:
    """Paragraphs, promo lines, photo credit and a date line found right below the title."""
    paragraphs: list[str] = []
    promo: list[str] = []
    credit: str | None = None
    stamp: _Stamp | None = None
    at_top = True  # the date line may also sit right below the title
    prev = ""  # what the previous line (no blank line between) was: "", "paragraph", "teasers"
    for line in lines:
        before, prev = prev, ""
        if not line:
            continue
        is_date, parts = _read_date(line)
        if is_date:  # a stand-alone date/time line is never article text
            stamp = stamp or (parts if at_top else None)
            prev = before
            continue
        at_top = False
        folded = _key(line)
        if _is_end(folded):
            break
        if folded in _DROPPED or _CRUMB_HOME.match(folded) or _echoes(line, title_key):
            continue
        found = _CREDIT.match(line)
        if found and len(line) <= MAX_CAPTION_LEN:
            credit = credit or found["who"]
            if before == "paragraph" and _is_caption(paragraphs[-1]):
                paragraphs.pop()  # the image's alt text/caption sits right above its credit
        elif folded.rstrip(" :") in _TEASER_HEADINGS or (
            before == "teasers" and _is_caption(line)
        ):
            promo.append(line)  # "Читайте также" and the link titles listed right below it
            prev = "teasers"
        elif _PROMO.search(folded):
            promo.append(line)
        else:
            paragraphs.append(line)
            prev = "paragraph"
    return paragraphs, promo, credit, stamp


def _title_index(lines: list[str]) -> tuple[int, _Stamp | None, bool]:
    """Index of the title (first non-empty, non-date line), the date before it, any date seen."""
    stamp, seen_date = None, False
    for index, line in enumerate(lines):
        if line:
            is_date, parts = _read_date(line)
            if not is_date:
                return index, stamp, seen_date
            seen_date, stamp = True, stamp or parts
    raise ParseError("no title: the file has only a date line" if seen_date else "no title")


def _decode(data: bytes) -> str:
    """Text of the file: UTF-8 (BOM optional), UTF-16 with a BOM, or windows-1251."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ParseError("not text: UTF-16 byte-order mark but invalid UTF-16") from None
    if b"\x00" in data:
        raise ParseError("binary file: contains NUL bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    loose = data.decode("utf-8-sig", errors="replace")
    bad = loose.count("\ufffd")
    good = len(loose) - len(loose.encode("ascii", "ignore")) - bad
    if good >= 20 * bad:  # UTF-8 with a few broken bytes (e.g. cut mid-character): keep it UTF-8
        log.debug("dropping %d invalid UTF-8 sequences", bad)
        return loose.replace("\ufffd", "")
    try:
        return data.decode("cp1251")
    except UnicodeDecodeError:
        raise ParseError("not text: neither UTF-8 nor windows-1251") from None


def _lines(text: str) -> list[str]:
    """Lines with every whitespace run (nbsp, tabs, doubled spaces) as one space, trimmed."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = _CONTROL.sub(" ", _NEWLINE.sub("\n", text))
    return [" ".join(line.split()) for line in text.split("\n")]


def _key(text: str) -> str:
    """Comparison form of a line: case-folded, ё as е, no trailing full stop."""
    return text.casefold().replace("ё", "е").rstrip(" .")


def _echoes(line: str, title_key: str) -> bool:
    """True for a repeat of the title: image alt text or a breadcrumb ending in the title.

    The title itself may hold a separator character (the closing quote of «Щит» is also a
    breadcrumb arrow), so the line is matched by its end, not only split at separators.
    """
    key = _key(line)
    if key == title_key:
        return True
    if title_key and key.endswith(title_key):
        head = key[: -len(title_key)].rstrip()
        if head and head[-1] in _CRUMB_CHARS:
            return True
    return _key(_CRUMB_SEP.split(line)[-1]) == title_key


def _is_end(folded: str) -> bool:
    """True for a sidebar heading or footer: the article ends before it."""
    if len(folded) > 60:
        return bool(_FOOTER.match(folded))
    marker = re.sub(r"\s*\(?\d+\)?$", "", folded.rstrip(" :"))
    return marker in _END_MARKERS or bool(_FOOTER.match(folded))


def _is_caption(line: str) -> bool:
    """A short line without closing punctuation is a caption, not a paragraph."""
    return len(line) <= MAX_CAPTION_LEN and not line.endswith(_TERMINAL)


def _read_date(line: str) -> tuple[bool, _Stamp | None]:
    """(is this a date line, its parts); an impossible date ("32 мая") is (True, None)."""
    if len(line) > 80 or not _DIGIT.search(line):
        return False, None
    text = _MSK.sub("", _LABEL.sub("", _key(line)))
    text = re.sub(r"(?<=\d)t(?=\d)", " ", text).strip()
    for regex in _DATE_RES:
        found = regex.fullmatch(text)
        if found:
            stamp = _stamp(found.groupdict())
            if stamp:
                return True, stamp
    return _looks_like_date(text), None


def _stamp(g: dict[str, str | None]) -> _Stamp | None:
    """Validated parts of a matched date, or None if no such day/time exists."""
    month = _MONTHS.get(g["mon"] or "") if g.get("mon") else int(g["m"] or 0)
    year = int(g["y"]) if g["y"] else None
    if year is not None and len(g["y"] or "") == 2:
        year += 2000
    hour, minute = int(g["H"] or 0), int(g["M"] or 0)
    try:
        offset = _offset(g["tz"]) if g["tz"] else None
        datetime(year or 2000, month or 0, int(g["d"] or 0), hour, minute)
    except ValueError:
        return None
    if year is not None and not 1900 <= year <= 2100:
        return None
    return _Stamp(year, month or 0, int(g["d"] or 0), hour, minute, offset)


def _offset(text: str) -> timezone:
    """A UTC offset written as ``z``, ``+03:00`` or ``+0300``."""
    if text == "z":
        return UTC
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:])
    return timezone(timedelta(minutes=-minutes if text[0] == "-" else minutes))


def _looks_like_date(text: str) -> bool:
    """True for a short line of numbers and date words that did not make a real date."""
    if len(text) > 60 or not re.fullmatch(r"[\w\s.,:/|+()\-]+", text):
        return False
    words = re.findall(r"[^\W\d_]+", text)
    numbers = re.findall(r"\d+", text)
    if not numbers or any(w not in _DATE_WORDS and w not in _RELATIVE for w in words):
        return False
    return len(numbers) >= 2 or any(w in _MONTHS or w in _RELATIVE for w in words)


def _published(stamp: _Stamp, mtime: float, tz: ZoneInfo) -> datetime | None:
    """The date in ``tz``; without a year, the latest year not after the file time (+2 days)."""
    zone = stamp.offset or tz
    if stamp.year is not None:
        return datetime(*stamp[:5], tzinfo=zone).astimezone(tz)
    limit = _from_mtime(mtime, tz) + timedelta(days=2)
    for year in range(limit.year, limit.year - 8, -1):
        try:
            candidate = datetime(year, *stamp[1:5], tzinfo=zone).astimezone(tz)
        except ValueError:  # 29 февраля in a common year
            continue
        if candidate <= limit:
            return candidate
    return None


def _from_mtime(mtime: float, tz: ZoneInfo) -> datetime:
    """The file's modification time in ``tz``, to the second."""
    try:
        return datetime.fromtimestamp(mtime, tz).replace(microsecond=0)
    except (OverflowError, OSError, ValueError):
        raise ParseError(f"no usable date line and the file time {mtime!r} is invalid") from None

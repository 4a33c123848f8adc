"""Helpers shared by tests: the real seed's location and seed-format files built on the fly."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
REAL_SEED = SEEDS / "000_9778a571ca4719d4.txt"


def copy_seeds(dest: Path) -> Path:
    """A private copy of the project's real seeds folder."""
    shutil.copytree(SEEDS, dest)
    return dest


def seed_text(
    title: str,
    paragraphs: list[str],
    *,
    date: str = "21 мая 2025 г. 10:37",
    credit: str | None = "Фото: Иван Петров / ТАСС",
) -> str:
    """A seed file in the publisher's format: date, title, breadcrumb, credit, paragraphs, junk."""
    lines = [date, "", title, "", f"/ {title}", title]
    if credit:
        lines.append(credit)
    lines.append("")
    for p in paragraphs:
        lines += [p, ""]
    lines += ["", "Комментарии", "20 мая", "РЕДАКТОРСКая КОЛОНКа", "", "Цифра недели", "$7 млрд"]
    return "\n".join(lines) + "\n"


def write_seed(folder: Path, name: str, title: str, paragraphs: list[str], **kw: object) -> Path:
    """Write ``seed_text(...)`` to ``folder/name`` as UTF-8 and return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(seed_text(title, paragraphs, **kw), encoding="utf-8")  # type: ignore[arg-type]
    return path

"""The targets file: valid files become Target tuples, bad ones one line naming file, target and
problem; the example in deploy/ is valid; without a file CHANNEL_ID is the one target."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings
from bot.models import Target
from bot.targets import TargetsError, load_targets, parse_targets
from tests.helpers import ROOT

GOOD = """
[[target]]
chat = "@news"

[[target]]
chat = -1001234567890
topic = 42
keywords = ["Беларусь", "  военно-техническое   сотрудничество ", "Беларусь"]
silent = true
template = "short.html"

[[target]]
chat = "-1001234567890"   # the same chat, another topic
topic = 7
"""


def test_a_good_file_becomes_targets() -> None:
    news, forum, other = parse_targets(GOOD, "t.toml", Path("/etc/bot"))
    assert news == Target(chat="@news")
    assert forum == Target(
        chat="-1001234567890",
        topic=42,
        keywords=("Беларусь", "военно-техническое сотрудничество"),
        silent=True,
        template=Path("/etc/bot/short.html"),
    )
    assert (other.chat, other.topic, other.keywords, other.silent) == (
        "-1001234567890", 7, (), False,
    )  # fmt: skip
    assert str(forum) == "-1001234567890 topic 42" and str(news) == "@news"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[[target]]\nchat = "@news"\ntopik = 1', "target 1 (chat @news): unknown key 'topik'"),
        ('[[target]]\nchat = "news"', "target 1 (chat news): chat must be '@name'"),
        ('[[target]]\nchat = "@ab"', "chat must be '@name'"),
        ("[[target]]\nchat = 0", "chat id 0"),
        ("[[target]]\nchat = true", "not true/false"),
        ("[[target]]\nchat = 1.5", "got float"),
        ("[[target]]\ntopic = 3", "target 1: chat is missing"),
        ('[[target]]\nchat = "@news"\ntopic = 0', "topic must be a positive"),
        ('[[target]]\nchat = "@news"\ntopic = "3"', "topic must be a positive"),
        ('[[target]]\nchat = "@news"\ntopic = true', "topic must be a positive"),
        ('[[target]]\nchat = "@news"\ntopic = 99999999999999999999', "topic must be a positive"),
        ("[[target]]\nchat = -99999999999999999999", "chat must be '@name'"),
        ('[[target]]\nchat = "@news"\nsilent = "yes"', "silent must be true or false"),
        ('[[target]]\nchat = "@news"\nkeywords = "МЧС"', "keywords must be a list"),
        ('[[target]]\nchat = "@news"\nkeywords = [1]', "keywords must be a list"),
        ('[[target]]\nchat = "@news"\nkeywords = ["-все"]', "no words to search for"),
        ('[[target]]\nchat = "@news"\nkeywords = ["' + "д" * 201 + '"]', "longer than 200"),
        ('[[target]]\nchat = "@news"\ntemplate = 5', "template must be a file path"),
        (
            '[[target]]\nchat = "@news"\n[[target]]\nchat = "@NEWS"',
            "target 2 (chat @NEWS): duplicate of target 1",
        ),
        (
            "[[target]]\nchat = -100\ntopic = 5\n[[target]]\nchat = '-100'\ntopic = 5",
            "target 2 (chat -100): duplicate of target 1",
        ),
        ('chat = "@news"', "unknown key 'chat' (use [[target]])"),
        ("", "no targets"),
        ('[[target]]\nchat = "@news', "not valid TOML"),
        ("target = 5", "no targets"),
        ("target = [1]", "target 1: must be a [[target]] table"),
    ],
)
def test_bad_files_name_the_file_target_and_problem(text: str, problem: str) -> None:
    with pytest.raises(TargetsError) as caught:
        parse_targets(text, "deploy/t.toml")
    message = str(caught.value)
    assert message.startswith("TARGETS_FILE deploy/t.toml: ")
    assert problem in message and "\n" not in message


def test_missing_file_and_the_example(tmp_path: Path) -> None:
    with pytest.raises(TargetsError, match=r"nope\.toml: cannot read it"):
        load_targets(tmp_path / "nope.toml")
    example = load_targets(ROOT / "deploy" / "targets.toml")
    assert len(example) >= 2 and any(t.topic for t in example) and any(t.keywords for t in example)
    for target in example:
        assert target.template is None or target.template.is_file()


def test_settings_read_the_file_or_fall_back_to_channel_id(tmp_path: Path) -> None:
    assert Settings.from_env({}).targets == ()
    assert Settings.from_env({"CHANNEL_ID": "@news"}).targets == (Target(chat="@news"),)
    path = tmp_path / "targets.toml"
    path.write_text(GOOD, encoding="utf-8")
    s = Settings.from_env({"TARGETS_FILE": str(path), "CHANNEL_ID": "@old"})
    assert [t.chat for t in s.targets] == ["@news", "-1001234567890", "-1001234567890"]
    assert s.targets[1].template == tmp_path / "short.html"
    path.write_text('[[target]]\nchat = "@news"\nfilter = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^TARGETS_FILE .*target 1 \(chat @news\): unknown"):
        Settings.from_env({"TARGETS_FILE": str(path)})

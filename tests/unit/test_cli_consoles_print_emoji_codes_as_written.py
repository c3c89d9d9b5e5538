"""rich replaces ``:name:`` emoji codes in plain strings unless a Console is made with
``emoji=False``: ``podium dlq`` and ``podium console`` printed a dead letter's or an
error's ``arn:aws:sns:...:on:x`` as "arn:aws:sns:...🔛x". Every Console the CLI makes
prints user text as written."""

from __future__ import annotations

import ast
from pathlib import Path

import podium.cli

CLI = Path(podium.cli.__file__).parent


def _consoles_with_emoji_codes() -> list[str]:
    found = []
    for path in sorted(CLI.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name != "Console":
                continue
            emoji = [k for k in node.keywords if k.arg == "emoji"]
            if not emoji or not (
                isinstance(emoji[0].value, ast.Constant) and emoji[0].value.value is False
            ):
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_every_cli_console_prints_emoji_codes_as_written() -> None:
    assert _consoles_with_emoji_codes() == []


def test_a_dead_letters_text_keeps_its_colons() -> None:
    from podium.cli import dlq_commands

    console = dlq_commands._out()
    with console.capture() as captured:
        console.print("arn:aws:sns:eu-west-1:123:on:x")
    assert captured.get().strip() == "arn:aws:sns:eu-west-1:123:on:x"

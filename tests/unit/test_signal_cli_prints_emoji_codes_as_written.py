"""The signal CLI's rich Consoles were made with emoji codes on: what it prints is the
user's text (a signal's name, a param, a trigger's error), so a `:x:` in it would have
printed as an emoji had it reached a Console as a string (every print went through
``Text``, which rich does not replace codes in). They are made with ``emoji=False``."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from podium.cli import signal_command
from podium.cli.main import app


def test_the_consoles_replace_no_emoji_code() -> None:
    assert signal_command._err()._emoji is False


def test_a_name_and_a_param_with_codes_printed_as_written(tmp_path: Path) -> None:
    home = str(tmp_path / "h")
    result = CliRunner().invoke(app, ["signal", "send", "go:x:", "--home", home])
    assert result.exit_code == 0, result.output
    assert "signal go:x: sent" in result.output
    result = CliRunner().invoke(app, ["signal", "send", "go", "-p", ":smile:=1", "--home", home])
    assert result.exit_code == 1, result.output
    assert "-p :smile:: " in result.output, result.output

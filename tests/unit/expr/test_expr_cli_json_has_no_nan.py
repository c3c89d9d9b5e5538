"""`podium expr --json` printed a NaN or Infinity result bare (``NaN``), which no JSON
reader takes. With --json it is now an error saying the value has no JSON form, as a
step refusing it says; without --json it is still shown to be read."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from podium.cli.expr_command import expr_command

app = typer.Typer()
app.command("expr")(expr_command)


@app.command("noop")
def _noop() -> None:
    """A second command keeps `expr` a subcommand, as in the real app."""


def test_nan_with_json_is_an_error_in_json() -> None:
    result = CliRunner().invoke(app, ["expr", "[1, 0.0 / 0.0]", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)  # one line of JSON, not wrapped
    assert "NaN at [1] has no JSON form" in data["error"]


def test_nan_without_json_is_shown() -> None:
    result = CliRunner().invoke(app, ["expr", "0.0 / 0.0"])
    assert (result.exit_code, result.output) == (0, "NaN\n")

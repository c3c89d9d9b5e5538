"""Plain `podium expr` printed a map with keys ``1`` and ``'1'`` with a repeated key
(review R31e).

``podium expr "{1: 'a', '1': 'b'}"`` printed ``{"1": "a", "1": "b"}``: one key twice, so
a JSON reader kept ``"b"`` and lost ``"a"``. ``--json`` refused the same value ("the map
key '1' ... appears twice once keys are JSON text"), and so did a step and a template;
the plain output (podium/cli/expr_command.py) skipped that check. It now runs it too,
still printing NaN and Infinity for a person to read.
"""

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


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["expr", *args])
    return result.exit_code, result.output


def test_keys_1_and_1_are_refused_as_with_json() -> None:
    code, out = run("{1: 'a', '1': 'b'}")
    assert code == 1
    assert "the map key '1'" in out and "appears twice" in out
    code, out = run("[{true: 1, 'true': 2}]")
    assert code == 1 and "the map key 'true' at [0] appears twice" in out


def test_distinct_keys_print_as_their_text() -> None:
    """Guard (passed before): int, uint and bool keys print as their text."""
    code, out = run("{1: 'a', 2u: 'b', true: 'c', 'd': [b'ab', duration('90m')]}")
    assert code == 0
    assert json.loads(out) == {"1": "a", "2": "b", "true": "c", "d": ["YWI=", "5400s"]}


def test_nan_and_infinity_still_print_for_a_person() -> None:
    """Guard: the check does not refuse what only --json refuses."""
    code, out = run("{1: 0.0 / 0.0, '2': [1.0 / 0.0, -1.0 / 0.0]}")
    assert (code, out) == (0, '{"1": NaN, "2": [Infinity, -Infinity]}\n')

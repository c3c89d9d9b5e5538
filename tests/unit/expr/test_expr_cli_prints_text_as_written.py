"""`podium expr` (and the other CLI consoles) rewrote ``:name:`` emoji codes (review R31e).

podium/cli/expr_command.py printed through rich Consoles made with ``markup=False`` but
rich's default ``emoji=True``, so any ``:name:`` that is an emoji code was replaced in
the printed JSON and in the error excerpt: ``'a:x:b'`` printed ``"a❌b"``, an ARN part
``:on:`` printed ``🔛``. docs/expressions.md: "Results print as JSON" (of the value).
The result is now written straight to stdout, and every console the CLI prints with
(cli/main.py, cli/output.py) is made with ``emoji=False``.
"""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from podium.cli import main, output
from tests.unit.expr.test_expr_cli import run


def test_a_string_result_with_an_emoji_code_prints_unchanged() -> None:
    """``podium expr "'a:x:b'"`` printed ``"a❌b"``."""
    code, out = run("'a:x:b'")
    assert code == 0
    assert json.loads(out) == "a:x:b"


def test_json_output_and_bindings_are_not_rewritten() -> None:
    """``--json`` and a bound value went through the same console: an SNS ARN bound with
    ``-b`` came back as ``arn:aws:sns:eu-west-1:123🔛x``."""
    arn = "arn:aws:sns:eu-west-1:123:on:x"
    code, out = run("topic", "-b", f"topic={arn}", "--json")
    assert code == 0
    assert json.loads(out) == arn


def test_template_results_are_not_rewritten() -> None:
    code, out = run("-t", "prefix/:x:/${p}", "-b", "p=x")
    assert code == 0
    assert json.loads(out) == "prefix/:x:/x"


def test_the_error_excerpt_shows_the_expression_as_written() -> None:
    """The caret excerpt showed ``'a❌b' + 1`` (and the caret no longer lined up)."""
    code, out = run("'a:x:b' + 1")
    assert code == 1
    assert "'a:x:b' + 1" in out


def test_a_json_error_shows_the_expression_as_written() -> None:
    code, out = run("{':x:': 1}[':on:']", "--json")
    assert code == 1
    assert json.loads(out)["error"] == "no such key: ':on:'"


def test_a_long_result_is_one_line_of_json() -> None:
    """Each ``:x:`` came back as ❌; written straight to stdout, a result wider than the
    terminal also stays one line (a newline inside a JSON string would not be JSON)."""
    code, out = run("podium.range(0, 200).map(i, 'word :x:')")
    assert code == 0
    assert out.count("\n") == 1
    assert json.loads(out) == ["word :x:"] * 200


@pytest.mark.parametrize(
    "console",
    [output.out, output.err, lambda: main.console, lambda: main.errors],
    ids=["output.out", "output.err", "main.console", "main.errors"],
)
def test_the_cli_consoles_print_emoji_codes_as_written(
    console: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every command prints paths, outputs and errors through these: ``:x:`` printed ❌."""
    assert callable(console)
    made = console()
    assert isinstance(made, Console)
    made.print("s3://bucket/a:x:b :on:", highlight=False)
    captured = capsys.readouterr()
    assert "s3://bucket/a:x:b :on:" in captured.out + captured.err

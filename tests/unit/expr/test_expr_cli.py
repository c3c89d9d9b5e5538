"""`podium expr` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from podium.cli.expr_command import expr_command

app = typer.Typer()
app.command("expr")(expr_command)


@app.command("noop")
def _noop() -> None:
    """A second command keeps `expr` a subcommand, as in the real app."""


runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["expr", *args])
    return result.exit_code, result.output


def test_evaluates_and_prints_json() -> None:
    assert run("1 + 2") == (0, "3\n")
    assert run("'a' + 'b'") == (0, '"ab"\n')
    assert run("[1, 2].map(x, x * 2)") == (0, "[2, 4]\n")
    assert run("timestamp('2024-01-01T00:00:00Z')")[1] == '"2024-01-01T00:00:00Z"\n'


def test_typed_values_print_as_a_step_gets_them() -> None:
    """The preview printed 2024-05-01T10:00:00.500000Z, 1e+06s and {"bytes": ...}: not
    what a step is sent (core.expr.json_values)."""
    assert run("timestamp('2024-05-01T10:00:00.5Z')")[1] == '"2024-05-01T10:00:00.5Z"\n'
    assert run("duration('1000000s')")[1] == '"1000000s"\n'
    assert run("b'ab'")[1] == '"YWI="\n'


def test_bindings() -> None:
    code, out = run("params.x * 2 + size(rows)", "-b", "params.x=20", "--bind", "rows=[1, 2]")
    assert (code, out) == (0, "42\n")
    assert run("name + '!'", "-b", "name=world") == (0, '"world!"\n')


def test_templates() -> None:
    assert run("-t", "s3://b/${r}/x", "-b", "r=eu") == (0, '"s3://b/eu/x"\n')


def test_errors_exit_1_with_a_caret() -> None:
    code, out = run("1 +")
    assert code == 1
    assert "missing operand" in out
    assert "^" in out
    code, out = run("1 / 0", "--json")
    assert code == 1
    assert json.loads(out)["kind"] == "runtime"
    assert run("a", "b")[0] == 2


def test_case_files(tmp_path: Path) -> None:
    cases = [
        {"section": "s", "name": "ok", "expr": "1 + 1", "value": {"int": "2"}},
        {"section": "s", "name": "bad", "expr": "1 + 1", "value": {"int": "3"}},
        {"section": "s", "name": "err", "expr": "1 / 0", "error": "divide by zero"},
    ]
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(cases))
    code, out = run("--cases", str(path))
    assert code == 1
    assert "mine.json" in out and "total" in out and "s/bad" in out
    code, out = run("--cases", str(tmp_path), "--json")
    data = json.loads(out)
    assert (data["passed"], data["failed"]) == (2, 1)
    assert data["files"]["mine.json"]["failures"][0]["case"] == "s/bad"
    assert run("--cases")[0] == 2

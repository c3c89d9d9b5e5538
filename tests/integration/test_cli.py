"""The podium command: validate, schema and run (exit codes, output, --json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`podium run` keeps its home in the working directory: not the repository's."""
    monkeypatch.setenv("PODIUM_HOME", str(tmp_path / "home"))


ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_validate_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", "name: ok\nsteps:\n  - {id: a, type: noop}\n")
    bad = write(
        tmp_path,
        "bad.yaml",
        "name: bad\nsteps:\n  - {id: extract, type: noop}\n"
        "  - {id: load, type: noop, depends_on: [extrct]}\n  - {id: x, type: lamda}\n",
    )
    result = runner.invoke(app, ["validate", str(good)])
    assert result.exit_code == 0 and "workflow 'ok', 1 steps" in result.output
    result = runner.invoke(app, ["validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert "2 problem(s)" in result.output
    assert (
        "steps[1].depends_on[0]: unknown step 'extrct' (did you mean 'extract'?)" in result.output
    )
    assert "steps[2].type: unknown step type 'lamda'" in result.output


def test_validate_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "cannot read" in result.output


def test_schema_is_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output)["title"] == "Podium workflow definition"


def test_run_json_success_and_failure_exit_codes(tmp_path: Path) -> None:
    ok = write(
        tmp_path,
        "ok.yaml",
        "name: ok\nsteps:\n  - {id: a, type: noop}\n"
        "  - {id: b, type: sleep, seconds: 3600, depends_on: [a]}\n",
    )
    result = runner.invoke(app, ["run", str(ok), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["run"]["status"] == "SUCCEEDED"
    assert [s["status"] for s in body["steps"]] == ["SUCCEEDED", "SUCCEEDED"]

    failing = write(tmp_path, "f.yaml", "name: f\nsteps:\n  - {id: a, type: fail, message: nope}\n")
    result = runner.invoke(app, ["run", str(failing)])
    assert result.exit_code == 1
    assert "run failed" in result.output and "a: nope" in result.output


def test_run_params_are_typed_and_checked(tmp_path: Path) -> None:
    wf = write(
        tmp_path, "p.yaml", "name: p\nparams:\n  n: {type: int}\nsteps:\n  - {id: a, type: noop}\n"
    )
    result = runner.invoke(app, ["run", str(wf), "-p", "n=3", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["run"]["params"] == {"n": 3}
    result = runner.invoke(app, ["run", str(wf), "-p", "n=three"])
    assert result.exit_code == 1 and "params.n: expected int" in result.output
    result = runner.invoke(app, ["run", str(wf), "-p", "n"])
    assert result.exit_code == 2 and "use key=value" in result.output


def test_the_sales_etl_example_moves_data_through_s3() -> None:
    result = runner.invoke(
        app, ["run", str(ROOT / "examples/sales_etl/workflow.yaml"), "-p", "date=2026-03-01"]
    )
    assert result.exit_code == 0, result.output
    assert "Sales report for 2026-03-01: total revenue" in result.output
    for region in ("emea", "amer", "apac"):
        assert region in result.output


def test_the_fanout_example_runs() -> None:
    result = runner.invoke(app, ["run", str(ROOT / "examples/fanout.yaml"), "--json"])
    assert result.exit_code == 0
    body = json.loads(result.output)
    assert body["run"]["status"] == "SUCCEEDED" and len(body["steps"]) == 202

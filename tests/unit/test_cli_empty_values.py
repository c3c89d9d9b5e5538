"""Empty values given to the CLI (an unset shell variable: ``--home "$HOME_DIR"``,
``--since "$SINCE"``) are usage errors naming the option, not a silent default: an empty
``--home`` was the current directory (a new home made there unasked) and an empty
``--since`` no filter at all. Each test failed before its fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app


@pytest.mark.parametrize(
    "args",
    [
        ["runs", "list", "--home", ""],
        ["runs", "show", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "--home", " "],
        ["run", "wf.yaml", "--home", ""],
        ["runs", "prune", "--older-than", "7d", "--home", ""],
        ["unblock", "wf", "--home", ""],
        ["dev", "--home", ""],
    ],
    ids=["runs-list", "runs-show", "run", "prune", "unblock", "dev"],
)
def test_an_empty_home_is_refused_and_nothing_is_made(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wf.yaml").write_text("name: wf\nsteps:\n  - {id: a, type: noop}\n")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "--home" in result.output and "empty" in result.output
    assert sorted(os.listdir(tmp_path)) == ["wf.yaml"], "a home was made in the cwd"


def test_an_empty_since_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    CliRunner().invoke(app, ["run", "--home", str(home), str(_workflow(tmp_path))])
    result = CliRunner().invoke(app, ["runs", "list", "--home", str(home), "--since", ""])
    assert result.exit_code == 2, result.output
    assert "use a duration ago" in " ".join(result.output.split())


def _workflow(where: Path) -> Path:
    path = where / "wf.yaml"
    path.write_text("name: wf\nsteps:\n  - {id: a, type: noop}\n")
    return path


@pytest.mark.parametrize("bad", ["", "has space", "x" * 129, "é"])
def test_a_request_id_the_api_would_refuse_is_refused_locally_too(bad: str, tmp_path: Path) -> None:
    """An action's --request-id was any text on the local home (spaces, 300
    characters) while the API takes ^[A-Za-z0-9_.:-]{1,128}$: refused the same way."""
    args = ["runs", "stop", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "--request-id", bad]
    result = CliRunner().invoke(app, [*args, "--home", str(tmp_path / "h")])
    assert result.exit_code == 2, result.output
    assert "--request-id" in result.output, result.output

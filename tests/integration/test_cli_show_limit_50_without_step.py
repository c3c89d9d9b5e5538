"""``podium runs show RUN --limit 50`` without ``--step`` could not be told from the
default (``--limit`` defaulted to 50, the page size, and was refused only when it
differed): the option, which only pages a loop step's iterations, was silently ignored
and the whole run shown. An explicit ``--limit`` without ``--step`` is a usage error
naming ``--step`` now, whatever its value, locally and against a stack."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.cli.main import app
from podium.local.runtime import LocalRuntime

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path) -> tuple[Path, str]:
    """A local home with one run that succeeded."""
    with LocalRuntime(store="sqlite", clock=ManualClock(), home=tmp_path) as rt:
        run_id = rt.run({"name": "tiny", "steps": [{"id": "a", "type": "noop"}]}).run.run_id
    return tmp_path, run_id


@pytest.mark.parametrize("value", ["50", "7"])
def test_limit_without_step_is_a_usage_error_locally(home: tuple[Path, str], value: str) -> None:
    path, run_id = home
    done = runner.invoke(app, ["runs", "show", run_id, "--limit", value, "--home", str(path)])
    assert done.exit_code == 2, done.output
    assert "--limit" in done.output and "--step" in done.output, done.output


def test_limit_without_step_is_a_usage_error_against_a_stack() -> None:
    """Refused before any request is made (nothing listens on the endpoint)."""
    done = runner.invoke(
        app, ["runs", "show", "r1", "--limit", "50", "--endpoint", "http://127.0.0.1:9"]
    )
    assert done.exit_code == 2, done.output
    assert "--limit" in done.output and "--step" in done.output, done.output


def test_without_limit_the_run_is_shown_and_with_step_the_limit_pages(
    home: tuple[Path, str],
) -> None:
    path, run_id = home
    shown = runner.invoke(app, ["runs", "show", run_id, "--home", str(path)])
    assert shown.exit_code == 0, shown.output
    step = runner.invoke(
        app, ["runs", "show", run_id, "--step", "a", "--limit", "50", "--home", str(path)]
    )
    assert step.exit_code == 0, step.output
    assert "a · run" in step.output

"""``podium break clear WF --iteration N`` without a step, and ``podium break set WF STEP
--iteration N`` on a step outside a loop, exited 1 (a refusal, as a missing workflow
is), where the CLI's usage errors exit 2 (cli/workflow_commands.py: "2 usage"). They
are usage errors now, naming the option, said before the home or the stack is asked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.cli.main import app
from podium.local.runtime import LocalRuntime

LOOPED = {
    "name": "looped",
    "steps": [
        {"id": "first", "type": "noop"},
        {
            "id": "loop",
            "type": "foreach",
            "over": {"i": [1, 2]},
            "depends_on": ["first"],
            "steps": [{"id": "work", "type": "noop"}],
        },
    ],
}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    where = tmp_path_factory.mktemp("break") / "home"
    with LocalRuntime(store="sqlite", home=str(where), clock=ManualClock()) as rt:
        rt.push(LOOPED)
    yield where


def _said(done: object) -> str:
    return " ".join(done.output.split())  # type: ignore[attr-defined]


def test_clear_with_an_iteration_and_no_step_is_a_usage_error(home: Path) -> None:
    done = CliRunner().invoke(
        app, ["break", "clear", "looped", "--iteration", "1", "--home", str(home)]
    )
    assert done.exit_code == 2, done.output
    assert "--iteration needs the LOOP/STEP to clear" in _said(done)


@pytest.mark.parametrize("command", ["set", "clear"])
def test_an_iteration_of_a_step_outside_a_loop_is_a_usage_error(home: Path, command: str) -> None:
    done = CliRunner().invoke(
        app, ["break", command, "looped", "first", "--iteration", "1", "--home", str(home)]
    )
    assert done.exit_code == 2, done.output
    said = _said(done)
    assert "--iteration takes LOOP/STEP" in said and "'first' is not one" in said, said


def test_an_iteration_of_a_loops_step_is_still_taken(home: Path) -> None:
    done = CliRunner().invoke(
        app, ["break", "set", "looped", "loop/work", "--iteration", "1", "--home", str(home)]
    )
    assert done.exit_code == 0, done.output
    done = CliRunner().invoke(
        app, ["break", "clear", "looped", "loop/work", "--iteration", "1", "--home", str(home)]
    )
    assert done.exit_code == 0, done.output

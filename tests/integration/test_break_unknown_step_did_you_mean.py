"""``podium break set`` / ``break clear`` with a step id that is not in the workflow (or
a LOOP/ that is not a loop) said only that it is not there and listed every step id,
however many: no "did you mean", which the other refusals of a name give (difflib,
core.dsl.errors.did_you_mean). They now give it, locally and through the API, and list
the ids only when few (a workflow of hundreds is pointed to its definition)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.cli.main import app
from podium.local.dev_server import DevServer
from podium.local.runtime import LocalRuntime
from tests.integration import test_tags as tags_tests
from tests.integration.test_cli_local import podium

DEMO: dict[str, Any] = {
    "name": "demo",
    "steps": [
        {"id": "extract", "type": "noop"},
        {
            "id": "per_day",
            "type": "foreach",
            "over": {"i": [1, 2]},
            "depends_on": ["extract"],
            "steps": [{"id": "load", "type": "noop"}],
        },
    ],
}
WIDE: dict[str, Any] = {
    "name": "wide",
    "steps": [{"id": f"step_{n:03}", "type": "noop"} for n in range(40)],
}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    where = tmp_path_factory.mktemp("brk") / "home"
    with LocalRuntime(store="sqlite", home=str(where), clock=ManualClock()) as rt:
        rt.push(DEMO)
        rt.push(WIDE)
    yield where


@pytest.mark.parametrize("command", ["set", "clear"])
@pytest.mark.parametrize(
    ("step", "said"),
    [
        ("extrct", "'demo' has no step 'extrct' (did you mean 'extract'?); one of: extract,"),
        ("per_dy/load", "'per_dy' is not a loop step of 'demo' (did you mean 'per_day'?)"),
        ("per_day/lod", "has no step 'lod' (did you mean 'load'?); one of: load"),
    ],
)
def test_a_mistyped_step_is_told_the_step_it_meant(
    home: Path, command: str, step: str, said: str
) -> None:
    done = podium(home, "break", command, "demo", step)
    assert done.returncode == 1
    assert said in done.stderr, done.stderr


def test_a_step_of_a_workflow_of_many_is_not_followed_by_all_of_them(home: Path) -> None:
    done = podium(home, "break", "set", "wide", "stepp_007")
    assert done.returncode == 1
    assert "(did you mean 'step_007'?)" in done.stderr, done.stderr
    assert "step_039" not in done.stderr  # 40 ids: pointed to the definition instead
    assert "its 40 steps are in its definition (podium workflows show wide)" in done.stderr


dev = tags_tests.dev  # podium dev on a home under tmp_path


def test_through_the_api_too(dev: DevServer) -> None:
    dev.runtime.push(DEMO)
    done = CliRunner().invoke(app, ["break", "set", "demo", "extrct", "--endpoint", dev.url])
    assert done.exit_code == 1
    assert "(did you mean 'extract'?)" in done.output, done.output

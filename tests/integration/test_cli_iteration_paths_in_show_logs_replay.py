"""``podium runs show --step``, ``runs logs`` and ``runs replay`` with a step of a loop
iteration (LOOP/INDEX/STEP), as the step actions and restart take it.

``runs show --step`` did not take the path at all; ``runs logs`` and ``runs replay`` did,
but an iteration that never ran was told of a derived run id the user never wrote. They
now read the path as the step actions do (service/step_paths.walk_iteration_path), and a
part that does not exist is named with what does."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app
from podium.local.dev_server import DevServer
from tests.integration import test_tags as tags_tests
from tests.integration.test_cli_local import podium, run_id_of

LOOPY = """
name: loopy
steps:
  - {id: first, type: noop}
  - id: per_day
    type: foreach
    over: {i: [1, 2, 3]}
    depends_on: [first]
    steps:
      - {id: x, type: noop}
      - {id: y, type: fail, message: boom, depends_on: [x]}
"""


@pytest.fixture(scope="module")
def looped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A home with one failed run of LOOPY (x succeeded in every iteration, y failed)."""
    base = tmp_path_factory.mktemp("paths")
    home = base / "home"
    (base / "wf.yaml").write_text(LOOPY)
    ran = podium(home, "run", "wf.yaml", cwd=base)
    assert ran.returncode == 1, ran.stderr
    return home, run_id_of(home, "loopy")


def test_runs_show_step_takes_an_iteration_step_path(looped: tuple[Path, str]) -> None:
    """``podium runs logs/replay RUN per_day/0/x`` and the step actions took a loop
    iteration's step as LOOP/INDEX/STEP, but ``podium runs show RUN --step per_day/0/x``
    answered "run RUN has no step 'per_day/0/x' (yet)" ("yet": as if to wait), with no
    word of the path or of the iteration's run (cli/local_commands.show_step did not
    resolve it as step_in_its_run does). It shows the step of that iteration now."""
    home, run_id = looped
    done = podium(home, "runs", "show", run_id, "--step", "per_day/0/x", "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["step"]["step"] == "x" and shown["step"]["status"] == "SUCCEEDED", shown
    assert shown["run"]["run_id"] == f"{run_id}.per_day.0", shown["run"]


@pytest.mark.parametrize("command", ["logs", "replay", "show"])
def test_an_iteration_that_never_ran_is_named_as_written(
    looped: tuple[Path, str], command: str
) -> None:
    """``podium runs logs RUN per_day/9/x`` (3 iterations ran) said "run
    'RUN.per_day.9' not found": a run id the user never wrote. The step actions and
    restart say "iteration 9 of 'per_day' never ran in run RUN (iterations 0 to 2 ran)";
    logs, replay and show say the same now, naming the iteration and what ran."""
    home, run_id = looped
    args = ("--step", "per_day/9/x") if command == "show" else ("per_day/9/x",)
    done = podium(home, "runs", command, run_id, *args)
    assert done.returncode == 1, done.stderr
    assert f"{run_id}.per_day.9" not in done.stderr, done.stderr
    assert "iteration 9" in done.stderr and "0 to 2" in done.stderr, done.stderr


def test_a_path_through_a_step_that_is_not_a_loop_names_the_path_to_write(
    looped: tuple[Path, str],
) -> None:
    """``runs logs RUN per_day/0/x/1/y`` went on through 'x' (a noop step) to a run id
    that does not exist, and said it was not found. It now says 'x' is not a loop and
    which path names it."""
    home, run_id = looped
    done = podium(home, "runs", "logs", run_id, "per_day/0/x/1/y")
    assert done.returncode == 1, done.stderr
    assert "'x' is a noop step" in done.stderr and "per_day/0/x instead" in done.stderr


NESTED = """
name: nested
steps:
  - id: outer
    type: foreach
    over: {a: [1, 2]}
    steps:
      - id: inner
        type: foreach
        over: {b: [1, 2, 3]}
        steps:
          - {id: w, type: noop}
"""


dev = tags_tests.dev  # the fixture: podium dev on a home under tmp_path
_get = tags_tests._get


def test_runs_show_step_through_an_endpoint_takes_an_iteration_path(
    dev: DevServer, tmp_path: Path
) -> None:
    """Against an endpoint, ``runs show RUN --step outer/1/inner`` asked the API for the
    iterations of a step named 'outer/1/inner' of the top run, which has none. It now
    asks for those of 'inner' in outer's iteration 1, as locally."""
    cli = CliRunner()
    wf = tmp_path / "nested.yaml"
    wf.write_text(NESTED)
    assert cli.invoke(app, ["push", str(wf), "--endpoint", dev.url]).exit_code == 0
    started = cli.invoke(app, ["start", "nested", "--json", "--endpoint", dev.url])
    assert started.exit_code == 0, started.output
    run_id = json.loads(started.stdout)["run_id"]
    deadline = time.monotonic() + 60
    while _get(f"{dev.url}/runs/{run_id}")["run"]["status"] != "SUCCEEDED":
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.1)
    shown = cli.invoke(
        app, ["runs", "show", run_id, "--step", "outer/1/inner", "--json", "--endpoint", dev.url]
    )
    assert shown.exit_code == 0, shown.output
    page = json.loads(shown.stdout)
    assert [it["index"] for it in page["iterations"]] == [0, 1, 2], page
    assert all(it["status"] == "SUCCEEDED" for it in page["iterations"]), page

"""``podium runs show RUN`` exited 1 for a failed run read from the local home and 0 for
the same run read from a stack (--stack), though docs/operations.md says it exits 1 for
it; ``--step LOOP`` of a failed loop did the same. Its ``--json`` had ``steps_total``
and ``events_omitted`` only from a stack (``events_omitted`` only when the stack left
events out). Both answer alike now: exit 1 for a failed run (or step), 0 otherwise, and
both fields in both answers (``events_omitted`` 0 when nothing was left out)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from podium import bootstrap
from podium.cli.main import app
from podium.local.runtime import LocalRuntime
from tests.integration import test_remote_cli as remote
from tests.integration.test_remote_cli import Deployed, on_stack, write

deployed = remote.deployed
user = remote.user

FAILING = """\
name: show_exit_fail
steps:
  - {id: a, type: noop}
  - {id: boom, type: fail, message: "disk full", depends_on: [a]}
"""
PASSING = "name: show_exit_ok\nsteps:\n  - {id: a, type: noop}\n"
FAILED_LOOP = """\
name: show_exit_loop
steps:
  - id: each
    type: foreach
    over: {i: [1, 2]}
    steps:
      - {id: boom, type: fail, message: "bad row"}
"""


def _local(tmp_path: Path, text: str) -> tuple[Path, str]:
    """The run in a local home; the stack's wiring (which the runtime replaces while it
    runs) put back after it."""
    home = tmp_path / "home"
    stack = bootstrap.services()
    try:
        with LocalRuntime(store="sqlite", home=home) as rt:
            view = rt.run(text)
    finally:
        bootstrap.install(stack)
    return home, view.run.run_id


def _local_show(home: Path, *args: str) -> tuple[int, str]:
    shown = CliRunner().invoke(app, ["runs", "show", *args, "--home", str(home)])
    return shown.exit_code, shown.stdout


def _remote_run(tmp_path: Path, deployed: Deployed, text: str, run_id: str) -> str:
    assert on_stack("push", str(write(tmp_path, f"{run_id}.yaml", text))).exit_code == 0
    started = on_stack("start", text.split()[1], "--run-id", run_id)
    assert started.exit_code == 0, started.output
    deployed.pump()
    return run_id


def test_a_failed_run_exits_1_locally_and_on_a_stack(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    home, local_id = _local(tmp_path, FAILING)
    remote_id = _remote_run(tmp_path, deployed, FAILING, "show-exit-fail")
    assert _local_show(home, local_id)[0] == 1
    shown = on_stack("runs", "show", remote_id)
    assert "run failed" in shown.output
    assert shown.exit_code == 1, shown.output
    assert on_stack("runs", "show", remote_id, "--json").exit_code == 1

    _, passing_id = _local(tmp_path / "ok", PASSING)
    assert _local_show(tmp_path / "ok" / "home", passing_id)[0] == 0
    ok = _remote_run(tmp_path, deployed, PASSING, "show-exit-ok")
    assert on_stack("runs", "show", ok).exit_code == 0


def test_a_failed_loop_step_exits_1_locally_and_on_a_stack(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    home, local_id = _local(tmp_path, FAILED_LOOP)
    remote_id = _remote_run(tmp_path, deployed, FAILED_LOOP, "show-exit-loop")
    assert _local_show(home, local_id, "--step", "each")[0] == 1
    shown = on_stack("runs", "show", remote_id, "--step", "each")
    assert "bad row" in shown.output
    assert shown.exit_code == 1, shown.output


def test_the_json_of_a_run_has_the_same_fields_locally_and_on_a_stack(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    home, local_id = _local(tmp_path, PASSING)
    remote_id = _remote_run(tmp_path, deployed, PASSING, "show-json-ok")
    code, text = _local_show(home, local_id, "--json")
    assert code == 0, text
    local = json.loads(text)
    shown = on_stack("runs", "show", remote_id, "--json")
    assert shown.exit_code == 0, shown.output
    stack = json.loads(shown.stdout)
    assert set(local) == set(stack), (sorted(local), sorted(stack))
    for body in (local, stack):
        assert body["steps_total"] == len(body["steps"]) == 1
        assert body["events_omitted"] == 0

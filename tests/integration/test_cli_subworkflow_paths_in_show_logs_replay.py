"""``podium runs show --step``, ``runs logs`` and ``runs replay`` with a step of the run a
``wait: true`` subworkflow step started (SUBWORKFLOW_STEP/STEP, ``call/work``), locally
and against an endpoint.

The step actions and ``restart --from`` took such a path, but show, logs and replay
refused it ("step path 'call/work': write STEP, or LOOP_STEP/INDEX/STEP for a step of an
iteration"): they read paths with core.engine.actions.resolve_step_path, which knew only
loop iterations. They now read it as the step actions do: the step of the child run the
subworkflow step started last (locally through service/step_paths, through the API from
the step's child runs)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.cli.main import app
from podium.core.engine.identity import child_run_id
from podium.local.dev_server import DevServer
from podium.local.runtime import LocalRuntime
from tests.integration import test_tags as tags_tests
from tests.integration.test_cli_local import ROOT, podium


def work(event: dict[str, Any]) -> dict[str, Any]:
    print("working in the child")
    return {"done": True}


LEAF = {
    "name": "leaf",
    "steps": [
        {"id": "work", "type": "lambda", "function": f"{__name__}:work"},
        {
            "id": "fan",
            "type": "foreach",
            "over": {"i": [1, 2, 3]},
            "depends_on": ["work"],
            "steps": [{"id": "x", "type": "noop"}],
        },
    ],
}
TOP = {
    "name": "top",
    "steps": [
        {"id": "first", "type": "noop"},
        {"id": "call", "type": "subworkflow", "workflow": "leaf", "depends_on": ["first"]},
    ],
}
DETACHED = {
    "name": "detached",
    "steps": [{"id": "call", "type": "subworkflow", "workflow": "leaf", "wait": False}],
}


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str]]:
    """A SQLite home with one succeeded run of TOP and one of DETACHED."""
    home = tmp_path_factory.mktemp("subpaths") / "home"
    with LocalRuntime(store="sqlite", home=str(home), clock=ManualClock()) as rt:
        for doc in (LEAF, TOP, DETACHED):
            rt.push(doc)
        top = rt.start_run("top").run_id
        detached = rt.start_run("detached").run_id
        rt.pump()
        assert rt.describe(top).run.status.value == "SUCCEEDED"
    yield home, top, detached


def test_runs_show_step_takes_a_subworkflow_path(ran: tuple[Path, str, str]) -> None:
    home, top, _ = ran
    done = podium(home, "runs", "show", top, "--step", "call/work", "--json", cwd=ROOT)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["run"]["run_id"] == child_run_id(top, "call", 0), shown["run"]
    assert shown["step"]["step"] == "work" and shown["step"]["status"] == "SUCCEEDED"


def test_runs_logs_and_replay_take_a_subworkflow_path(ran: tuple[Path, str, str]) -> None:
    home, top, _ = ran
    logs = podium(home, "runs", "logs", top, "call/work", "--json", cwd=ROOT)
    assert logs.returncode == 0, logs.stderr
    assert any("working in the child" in e["text"] for e in json.loads(logs.stdout)["logs"])
    replayed = podium(home, "runs", "replay", top, "call/work", "--json", cwd=ROOT)
    assert replayed.returncode == 0, replayed.stderr
    body = json.loads(replayed.stdout)
    assert body["run_id"] == child_run_id(top, "call", 0) and body["same"] is True, body


def test_a_path_through_a_subworkflow_then_a_loop(ran: tuple[Path, str, str]) -> None:
    home, top, _ = ran
    done = podium(home, "runs", "show", top, "--step", "call/fan/2/x", "--json", cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["run"]["run_id"] == child_run_id(
        child_run_id(top, "call", 0), "fan", 2
    )


def test_a_subworkflow_that_does_not_wait_is_named_as_the_step_actions_name_it(
    ran: tuple[Path, str, str],
) -> None:
    home, _, detached = ran
    done = podium(home, "runs", "logs", detached, "call/work", cwd=ROOT)
    assert done.returncode == 1
    assert "wait: false" in done.stderr and child_run_id(detached, "call", 0) in done.stderr


dev = tags_tests.dev  # podium dev on a home under tmp_path
_get = tags_tests._get


def test_through_an_endpoint_show_and_replay_take_a_subworkflow_path(dev: DevServer) -> None:
    cli = CliRunner()
    for doc in (LEAF, TOP):
        dev.runtime.push(doc)
    # Started over HTTP, not through the CLI: the run's steps print on the dev server's
    # threads, into whatever a CliRunner has made sys.stdout meanwhile.
    request = urllib.request.Request(
        f"{dev.url}/workflows/top/runs",
        data=b"{}",
        method="POST",
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        top = json.loads(response.read())["run_id"]
    deadline = time.monotonic() + 60
    while _get(f"{dev.url}/runs/{top}")["run"]["status"] != "SUCCEEDED":
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.1)
    shown = cli.invoke(
        app, ["runs", "show", top, "--step", "call/fan", "--json", "--endpoint", dev.url]
    )
    assert shown.exit_code == 0, shown.output
    assert [it["index"] for it in json.loads(shown.stdout)["iterations"]] == [0, 1, 2]
    replayed = cli.invoke(
        app, ["runs", "replay", top, "call/work", "--json", "--endpoint", dev.url]
    )
    assert replayed.exit_code == 0, replayed.output
    body = json.loads(replayed.stdout)
    assert body["run_id"] == child_run_id(top, "call", 0) and body["same"] is True, body
    wrong = cli.invoke(app, ["runs", "show", top, "--step", "first/x", "--endpoint", dev.url])
    assert wrong.exit_code == 1
    assert "'first' is a noop step" in wrong.output, wrong.output

"""A signal trigger that failed on a signal sent through the API or the CLI was recorded
on the trigger, but the answer did not say so, although the docs said it did. The
answer now lists it under ``failed`` and ``podium signal send`` prints it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.cli.main import app
from podium.local.dev_server import DevServer
from podium.local.runtime import LocalRuntime
from podium.service.triggers import list_triggers
from tests.integration.dev_support import memory_dev_server, post
from tests.integration.test_api import call

WF: dict[str, Any] = {
    "name": "wf",
    "params": {"n": {"type": "int"}},
    "steps": [{"id": "a", "type": "noop"}],
    "triggers": [
        {
            "id": "t",
            "signal": {"names": ["go"]},
            "params": {"n": "${event.signals.go.params.x}"},
        }
    ],
}


def test_post_signals_answers_with_the_triggers_failure(runtime: LocalRuntime) -> None:
    """The bug: docs/workflow-language.md (Triggers, signal) says "A trigger that fails
    on a signal records it as its last failure; the API and the CLI also answer with
    the error, an emit or a bus event does not". But a trigger whose run params did not
    validate for the signal (service/triggers.py start_triggered, non-strict) returned
    None after recording the failure, and service/signal_triggers.py on_signal only
    raised exceptions: POST /signals answered a plain 201 ``created`` and the sender
    never learned that its signal was consumed by a set whose run did not start (the
    failure was only on `podium triggers list`).

    Expected: the 201 body lists the failure under ``failed`` (the workflow, the trigger
    and the error naming ``triggers.t.params.n``), as the events function's answer lists
    its failures under ``failed``."""
    runtime.push(WF)
    runtime.clock.advance(1000)
    status, answer = call(
        "POST", "/signals", {"name": "go", "params": {"x": "abc"}, "request_id": "q1"}
    )
    [state] = list_triggers(runtime.services, "wf")
    assert "triggers.t.params.n" in state["last_failure"]["error"]  # recorded there
    assert status == 201
    [failure] = answer["failed"]
    assert failure["workflow"] == "wf" and failure["trigger"] == "t"
    assert failure["error"] == state["last_failure"]["error"]  # as the trigger records it

    # Sent again (the same request id): the consumed set's start is tried again, and
    # fails again, answered again.
    status, again = call(
        "POST", "/signals", {"name": "go", "params": {"x": "abc"}, "request_id": "q1"}
    )
    assert status == 200 and not again["created"]
    assert [f["trigger"] for f in again["failed"]] == ["t"]


def test_a_signal_that_starts_its_run_is_answered_with_no_failure(runtime: LocalRuntime) -> None:
    runtime.push(WF)
    runtime.clock.advance(1000)
    status, answer = call("POST", "/signals", {"name": "go", "params": {"x": 5}})
    assert status == 201 and answer["failed"] == [], answer
    [state] = list_triggers(runtime.services, "wf")
    assert state.get("last_failure") is None


def test_a_condition_that_cannot_be_evaluated_is_answered(runtime: LocalRuntime) -> None:
    """A trigger whose ``condition`` fails to evaluate for the set is answered too."""
    wf = {
        **WF,
        "triggers": [
            {
                "id": "t",
                "signal": {
                    "names": ["go"],
                    "condition": "event.signals.go.params.missing > 1",
                },
                "params": {"n": "${event.signals.go.params.x}"},
            }
        ],
    }
    runtime.push(wf)
    runtime.clock.advance(1000)
    status, answer = call("POST", "/signals", {"name": "go", "params": {"x": 5}})
    assert status == 201
    [failure] = answer["failed"]
    assert "triggers.t.signal.condition" in failure["error"], failure


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, ["signal", "send", *args])


def test_podium_signal_send_prints_the_failure_on_the_local_home(tmp_path: Path) -> None:
    """`podium signal send` printed "sent" alike: it now prints each trigger that could
    not start its run, and the signal being stored, the exit code stays 0 (--json has
    the answer's ``failed``)."""
    home = tmp_path / "home"
    with LocalRuntime(store="sqlite", home=str(home)) as local:
        local.push(WF)
    result = _cli("go", "-p", "x=abc", "--home", str(home))
    assert result.exit_code == 0, result.output
    assert "signal go sent" in result.output
    assert "trigger t of wf did not start its run" in result.output, result.output
    assert "triggers.t.params.n" in result.output
    as_json = _cli("go", "-p", "x=abc", "--home", str(home), "--json")
    assert as_json.exit_code == 0, as_json.output
    [failure] = json.loads(as_json.stdout)["failed"]
    assert failure["trigger"] == "t" and "triggers.t.params.n" in failure["error"]


@pytest.fixture
def dev() -> Iterator[DevServer]:
    with memory_dev_server() as server:
        yield server


def test_podium_signal_send_prints_the_failure_from_the_api(dev: DevServer) -> None:
    """The same through the API (``--endpoint``: podium dev, as a deployed stack)."""
    assert post(dev, "/workflows", WF)[0] == 201
    result = _cli("go", "-p", "x=abc", "--endpoint", dev.url)
    assert result.exit_code == 0, result.output
    assert "trigger t of wf did not start its run" in result.output, result.output
    assert "triggers.t.params.n" in result.output

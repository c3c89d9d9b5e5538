"""Typed values (a timestamp, NaN) in the other places a rendered value is stored or
sent: step params left the run RUNNING (the step item's write raised), a subworkflow
whose outputs held a timestamp left its parent waiting until its 10-day timeout (the
message dead-lettered), and an emit payload with one was refused as "not JSON"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime

START = "2026-01-01T00:00:00Z"  # run.start_time on the ManualClock


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = {"home": ":memory:"} if request.param == "sqlite" else {}
    with LocalRuntime(store=request.param, clock=ManualClock(), **home) as runtime:
        yield runtime


def test_step_params_are_stored_as_json_and_nan_fails_the_step(rt: LocalRuntime) -> None:
    noop = {"id": "a", "type": "noop", "params": {"t": "${run.start_time}"}}
    view = rt.run({"name": "typed_params", "steps": [noop]})
    assert view.run.status is RunStatus.SUCCEEDED
    assert view.steps[0].params == {"t": START}
    bad = {"id": "a", "type": "noop", "params": {"n": "${0.0/0.0}"}}
    view = rt.run({"name": "nan_params", "steps": [bad]})
    assert view.run.status is RunStatus.FAILED  # not left RUNNING
    assert view.steps[0].status is StepStatus.FAILED
    assert "NaN at params.n" in (view.steps[0].error or "")


def test_a_subworkflow_output_with_a_timestamp_reaches_its_parent(rt: LocalRuntime) -> None:
    rt.push(
        {
            "name": "child",
            "outputs": {"t": "${run.start_time}"},
            "steps": [{"id": "a", "type": "noop"}],
        }
    )
    view = rt.run(
        {"name": "parent", "steps": [{"id": "c", "type": "subworkflow", "workflow": "child"}]}
    )
    assert view.run.status is RunStatus.SUCCEEDED
    assert view.steps[0].output == {"t": START}
    assert rt.dead_letters() == []


def test_an_emit_payload_with_a_timestamp_is_sent(rt: LocalRuntime) -> None:
    step = {
        "id": "a",
        "type": "noop",
        "emit": [{"signal": "ready", "params": {"k": "x"}, "payload": {"at": "${run.start_time}"}}],
    }
    view = rt.run({"name": "emits", "steps": [step]})
    assert view.run.status is RunStatus.SUCCEEDED
    assert rt.services.signals is not None
    (signal,) = rt.services.signals.find("ready", [], now=rt.services.now(), since=0, limit=10)
    assert signal.payload == {"at": START}

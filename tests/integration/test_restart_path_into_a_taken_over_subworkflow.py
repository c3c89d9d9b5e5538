"""A restart ``--from call/STEP`` of a run whose subworkflow step ``call`` was taken
over by an earlier restart (it had succeeded in the run that restart restarted).

The path was accepted: the walk (service/step_paths.py ``_child_of``) follows the taken
over step back to the run where it ran (``loop_home``) and checks the step names against
that child, and the refusal hint of the old child names exactly this restart. But the
new run's child, made by ``restarted_subworkflow`` (service/reuse.py), was looked for
under the run restarted only: it is not there (the step was taken over, its child ran
in the run before), so the child ran in full and the named step was silently ignored
(``extract`` ran again though the path asked for a restart from ``load``). Both find
the old child the same way now (``step_paths.old_child``)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import ActionRefused, RunAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, RestartRequest, run_action

HERE = "tests.integration.test_restart_path_into_a_taken_over_subworkflow"
_LOCK = threading.Lock()
CALLS: Counter[str] = Counter()
BROKEN = {"report": True}
ME = Actor("alice")


def extract(event: dict[str, Any]) -> dict[str, Any]:
    with _LOCK:
        CALLS["extract"] += 1
    return {"rows": 30}


def load(event: dict[str, Any]) -> str:
    with _LOCK:
        CALLS["load"] += 1
    return f"loaded {event['payload']['rows']}"


def report(event: dict[str, Any]) -> str:
    with _LOCK:
        CALLS["report"] += 1
    if BROKEN["report"]:
        raise ValueError("report broken")
    return "reported"


ETL = {
    "name": "etl_of_two",
    "outputs": {"loaded": "${steps.load.output}"},
    "steps": [
        {"id": "extract", "type": "lambda", "function": f"{HERE}:extract"},
        {
            "id": "load",
            "type": "lambda",
            "function": f"{HERE}:load",
            "payload": {"rows": "${steps.extract.output.rows}"},
            "depends_on": ["extract"],
        },
    ],
}
CALLER = {
    "name": "calls_etl_then_reports",
    "steps": [
        {"id": "call", "type": "subworkflow", "workflow": "etl_of_two"},
        {
            "id": "report",
            "type": "lambda",
            "function": f"{HERE}:report",
            "depends_on": ["call"],
        },
    ],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    CALLS.clear()
    BROKEN["report"] = True
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        runtime.push(ETL)
        runtime.push(CALLER)
        yield runtime


def _taken_over_twice(rt: LocalRuntime) -> tuple[str, str]:
    """(R, R-r1): ``call`` succeeded in R (its child R.call.0), ``report`` failed; R-r1,
    R's restart from incomplete, took ``call`` over and failed at ``report`` again."""
    old = rt.start_run("calls_etl_then_reports").run_id
    rt.pump()
    assert rt.describe(old).run.status is RunStatus.FAILED
    first = run_action(rt.services, old, RunAction.RESTART, ME).new_run
    assert first is not None
    rt.pump()
    assert rt.describe(first).run.status is RunStatus.FAILED
    call = {s.step: s for s in rt.describe(first).steps}["call"]
    assert call.status.value == "SUCCEEDED" and old in (call.reason or "")  # taken over
    CALLS.clear()
    BROKEN["report"] = False
    return old, first


def test_a_path_into_a_taken_over_subworkflow_step_restarts_its_child_from_that_step(
    rt: LocalRuntime,
) -> None:
    old, first = _taken_over_twice(rt)
    # The old child's refusal names this very restart (the newest run, --from call/...).
    with pytest.raises(ActionRefused) as refused:
        run_action(rt.services, child_run_id(old, "call", 0), RunAction.RESTART, ME)
    assert f"podium runs restart {first} --from call/<step>" in str(refused.value)
    request = RestartRequest("call/load")  # accepted: the walk finds R.call.0
    new = run_action(rt.services, first, RunAction.RESTART, ME, request).new_run
    assert new is not None
    rt.pump()
    assert rt.describe(new).run.status is RunStatus.SUCCEEDED
    child = rt.describe(child_run_id(new, "call", 0))
    # The child restarts the one that ran (R.call.0) from load: extract is taken over.
    # Before the fix: restart_of None and {"extract": 1, "load": 1, "report": 1}.
    assert child.run.restart_of == child_run_id(old, "call", 0)
    assert dict(CALLS) == {"load": 1, "report": 1}

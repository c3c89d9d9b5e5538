"""A restarted parent restarts its failed subworkflow's child from incomplete, and a
waited-for child is not restarted on its own.

Run P calls workflow ``etl`` (extract, then load) in a subworkflow step that waits for
it; ``load`` fails, so the child fails and P fails. Restarting P from incomplete reran
the subworkflow step with a child that ran ``etl`` from scratch: ``extract`` ran again
though it had succeeded (Maestro restarts a subworkflow's run from incomplete). The new
child is now a restart of the old one (``restart_of``): ``extract`` is taken over with
its output and only ``load`` runs. A restart from the subworkflow step still runs the
child in full, as does a child called with other params.

Restarting the failed child itself was allowed and made a run of ``etl`` that P never
saw (P stayed FAILED, its step failed); it is refused now, naming the restart to make
(its parent's), as an iteration's run is refused. A ``wait: false`` child is a run of
its own and is still restarted alone."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.actions import ActionRefused, RunAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, RestartRequest, run_action
from podium.service.console_views import run_page

HERE = "tests.integration.test_restart_subworkflow_child"
_LOCK = threading.Lock()
CALLS: Counter[str] = Counter()
BROKEN = {"load": True}
ME = Actor("alice")


def extract(event: dict[str, Any]) -> dict[str, Any]:
    with _LOCK:
        CALLS["extract"] += 1
    return {"rows": 10 * int(event["payload"]["day"])}


def load(event: dict[str, Any]) -> str:
    with _LOCK:
        CALLS["load"] += 1
    if BROKEN["load"]:
        raise ValueError("load broken")
    return f"loaded {event['payload']['rows']}"


ETL = {
    "name": "etl",
    "params": {"day": {"type": "int", "default": 1}},
    "outputs": {"loaded": "${steps.load.output}"},
    "steps": [
        {
            "id": "extract",
            "type": "lambda",
            "function": f"{HERE}:extract",
            "payload": {"day": "${params.day}"},
        },
        {
            "id": "load",
            "type": "lambda",
            "function": f"{HERE}:load",
            "payload": {"rows": "${steps.extract.output.rows}"},
            "depends_on": ["extract"],
        },
    ],
}


def _caller(wait: bool = True) -> dict[str, Any]:
    return {
        "name": "caller" if wait else "fire_and_forget",
        "params": {"day": {"type": "int", "default": 3}},
        "steps": [
            {
                "id": "call",
                "type": "subworkflow",
                "workflow": "etl",
                "params": {"day": "${params.day}"},
                "wait": wait,
            },
        ],
    }


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    CALLS.clear()
    BROKEN["load"] = True
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        runtime.push(ETL)
        runtime.push(_caller())
        yield runtime


def _failed_parent(rt: LocalRuntime) -> tuple[str, str]:
    """(P, its child): the child's ``load`` failed, and with it P."""
    run = rt.start_run("caller")
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.FAILED
    child = child_run_id(run.run_id, "call", 0)
    assert rt.describe(child).run.status is RunStatus.FAILED
    assert dict(CALLS) == {"extract": 1, "load": 1}
    BROKEN["load"] = False
    CALLS.clear()
    return run.run_id, child


def test_a_restarted_parent_restarts_its_failed_child_from_incomplete(rt: LocalRuntime) -> None:
    parent, old_child = _failed_parent(rt)
    new = run_action(rt.services, parent, RunAction.RESTART, ME).new_run
    assert new is not None
    rt.pump()
    after = rt.describe(new)
    assert after.run.status is RunStatus.SUCCEEDED
    # Before the fix: {"extract": 1, "load": 1} (the child ran etl from scratch).
    assert dict(CALLS) == {"load": 1}
    child = rt.describe(child_run_id(new, "call", 0))
    assert child.run.restart_of == old_child
    by_step = {s.step: s for s in child.steps}
    assert by_step["extract"].output == {"rows": 30}  # taken over with its output
    assert by_step["extract"].reason is not None and old_child in by_step["extract"].reason
    assert after.steps[0].output == {"loaded": "loaded 30"}


def test_a_restart_from_the_subworkflow_step_runs_its_child_in_full(rt: LocalRuntime) -> None:
    parent, _ = _failed_parent(rt)
    new = run_action(rt.services, parent, RunAction.RESTART, ME, RestartRequest("call")).new_run
    assert new is not None
    rt.pump()
    assert rt.describe(new).run.status is RunStatus.SUCCEEDED
    assert dict(CALLS) == {"extract": 1, "load": 1}
    assert rt.describe(child_run_id(new, "call", 0)).run.restart_of is None


def test_a_child_called_with_other_params_runs_in_full(rt: LocalRuntime) -> None:
    parent, _ = _failed_parent(rt)
    request = RestartRequest(params={"day": 4})
    new = run_action(rt.services, parent, RunAction.RESTART, ME, request).new_run
    assert new is not None
    rt.pump()
    assert rt.describe(new).run.status is RunStatus.SUCCEEDED
    assert dict(CALLS) == {"extract": 1, "load": 1}
    child = rt.describe(child_run_id(new, "call", 0))
    assert child.run.restart_of is None
    assert {s.step: s.output for s in child.steps}["extract"] == {"rows": 40}


def test_a_waited_for_child_is_not_restarted_on_its_own(rt: LocalRuntime) -> None:
    parent, child = _failed_parent(rt)
    with pytest.raises(ActionRefused) as refused:
        run_action(rt.services, child, RunAction.RESTART, ME)
    message = str(refused.value)
    assert f"subworkflow step call of run {parent}, which waits for it" in message, message
    assert f"podium runs restart {parent}" in message, message
    # Nothing was made: the parent's restart is still the one to make.
    assert rt.describe(parent).run.status is RunStatus.FAILED
    # The console offers no restart on the child's page, and still one on the parent's.
    assert "restart" not in run_page(rt.services, child)["actions"]
    assert "restart" in run_page(rt.services, parent)["actions"]


def test_a_detached_child_is_still_restarted_on_its_own(rt: LocalRuntime) -> None:
    rt.push(_caller(wait=False))
    run = rt.start_run("fire_and_forget")
    rt.pump()
    child = child_run_id(run.run_id, "call", 0)
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED
    assert rt.describe(child).run.status is RunStatus.FAILED
    BROKEN["load"] = False
    new = run_action(rt.services, child, RunAction.RESTART, ME).new_run
    assert new is not None
    rt.pump()
    assert rt.describe(new).run.status is RunStatus.SUCCEEDED
    # Its page offers pause and resume of its own (it does not follow its parent).
    actions = run_page(rt.services, child)["actions"]
    assert "restart" not in actions  # restarted already


def test_a_running_detached_child_offers_its_own_pause(rt: LocalRuntime) -> None:
    """The console offered no pause on a detached child's page (it counted every child
    as one that pauses with its parent), though the API pauses it on its own."""
    rt.push({"name": "nap", "steps": [{"id": "z", "type": "sleep", "seconds": 600}]})
    rt.push(
        {
            "name": "starts_a_nap",
            "steps": [{"id": "call", "type": "subworkflow", "workflow": "nap", "wait": False}],
        }
    )
    run = rt.start_run("starts_a_nap")
    rt.pump(advance_time=False)  # the nap's timer not reached
    child = child_run_id(run.run_id, "call", 0)
    assert rt.describe(child).run.status is RunStatus.RUNNING
    assert "pause" in run_page(rt.services, child)["actions"]
    run_action(rt.services, child, RunAction.PAUSE, ME)  # as the API does


REPORTED: Counter[str] = Counter()
REPORT_BROKEN = {"yes": True}


def report(event: dict[str, Any]) -> str:
    with _LOCK:
        REPORTED["report"] += 1
    if REPORT_BROKEN["yes"]:
        raise ValueError("report broken")
    return "reported"


def _then_report(name: str, call: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "steps": [
            call,
            {
                "id": "report",
                "type": "lambda",
                "function": f"{HERE}:report",
                "depends_on": [call["id"]],
            },
        ],
    }


def _report_failed(rt: LocalRuntime) -> str:
    """A run of ``etl_then_report`` whose ``call`` (etl) succeeded and ``report`` failed."""
    BROKEN["load"] = False
    REPORT_BROKEN["yes"] = True
    rt.push(
        _then_report("etl_then_report", {"id": "call", "type": "subworkflow", "workflow": "etl"})
    )
    old = rt.start_run("etl_then_report").run_id
    rt.pump()
    assert rt.describe(old).run.status is RunStatus.FAILED  # report failed; etl succeeded
    return old


def test_a_restart_from_a_step_inside_the_subworkflow_reruns_it_there(rt: LocalRuntime) -> None:
    """Maestro's restart from a specific step reaches into a subworkflow: ``--from
    call/load`` reruns ``call``, whose child takes ``extract`` over and runs ``load``
    again although it had succeeded; a path through a loop into it works the same."""
    old = _report_failed(rt)
    CALLS.clear()
    REPORT_BROKEN["yes"] = False
    request = RestartRequest("call/load")
    new = run_action(rt.services, old, RunAction.RESTART, ME, request).new_run
    assert new is not None
    rt.pump()
    assert rt.describe(new).run.status is RunStatus.SUCCEEDED
    assert dict(CALLS) == {"load": 1}  # extract taken over, load run again
    child = rt.describe(child_run_id(new, "call", 0))
    assert child.run.restart_of == child_run_id(old, "call", 0)
    assert rt.describe(new).run.restart_from == "call/load"


def test_a_path_through_a_loop_into_a_subworkflow(rt: LocalRuntime) -> None:
    BROKEN["load"] = False
    REPORT_BROKEN["yes"] = True
    per_day = {
        "id": "per_day",
        "type": "foreach",
        "over": {"day": [1, 2]},
        "steps": [
            {
                "id": "call",
                "type": "subworkflow",
                "workflow": "etl",
                "params": {"day": "${iteration.day}"},
            }
        ],
    }
    rt.push(_then_report("days_then_report", per_day))
    old = rt.start_run("days_then_report").run_id
    rt.pump()
    assert rt.describe(old).run.status is RunStatus.FAILED
    CALLS.clear()
    REPORT_BROKEN["yes"] = False
    request = RestartRequest("per_day/1/call/extract")
    new = run_action(rt.services, old, RunAction.RESTART, ME, request).new_run
    assert new is not None
    rt.pump()
    assert rt.describe(new).run.status is RunStatus.SUCCEEDED
    # Iteration 1's child from extract (both steps again); iteration 0 takes everything over.
    assert dict(CALLS) == {"extract": 1, "load": 1}


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("call/nope", "the run of 'call' (etl) has no step 'nope'; one of: extract, load"),
        ("call/0/load", "'call' is a subworkflow step: name a step of its run without an index"),
        ("nope/load", "no step 'nope' in 'caller'; one of: call"),
    ],
)
def test_a_bad_path_into_a_subworkflow_names_the_fix(
    rt: LocalRuntime, path: str, said: str
) -> None:
    parent, _ = _failed_parent(rt)
    with pytest.raises(DefinitionError) as refused:
        run_action(rt.services, parent, RunAction.RESTART, ME, RestartRequest(path))
    assert said in str(refused.value), str(refused.value)


def test_a_path_into_a_detached_subworkflow_is_refused(rt: LocalRuntime) -> None:
    """A ``wait: false`` child is a run of its own: restarted on its own, not by a path."""
    detached_call = {"id": "call", "type": "subworkflow", "workflow": "etl", "wait": False}
    rt.push(
        {
            "name": "starts_and_fails",
            "steps": [
                detached_call,
                {"id": "z", "type": "fail", "message": "no", "depends_on": ["call"]},
            ],
        }
    )
    run = rt.start_run("starts_and_fails").run_id
    rt.pump()
    assert rt.describe(run).run.status is RunStatus.FAILED
    with pytest.raises(DefinitionError) as refused:
        run_action(rt.services, run, RunAction.RESTART, ME, RestartRequest("call/load"))
    assert "does not wait for its run (wait: false)" in str(refused.value)


def test_a_path_into_a_subworkflow_step_a_restart_took_over(rt: LocalRuntime) -> None:
    """R's ``call`` succeeded and ``report`` failed; R-r1 took ``call`` over (its child
    ran in R) and failed again. ``restart R-r1 --from call/load`` was accepted (the
    path's check follows the takeover) but the new child looked for the old one under
    R-r1 only: not there, so it ran in full (``extract`` again). Both look where the
    step ran now (``step_paths.old_child``)."""
    old = _report_failed(rt)
    first = run_action(rt.services, old, RunAction.RESTART, ME).new_run
    assert first is not None
    rt.pump()
    assert rt.describe(first).run.status is RunStatus.FAILED
    call = {s.step: s for s in rt.describe(first).steps}["call"]
    assert call.status.value == "SUCCEEDED" and old in (call.reason or "")  # taken over
    # The old child's refusal names this very restart (the newest run, --from call/...).
    with pytest.raises(ActionRefused) as refused:
        run_action(rt.services, child_run_id(old, "call", 0), RunAction.RESTART, ME)
    assert f"podium runs restart {first} --from call/<step>" in str(refused.value)
    CALLS.clear()
    REPORT_BROKEN["yes"] = False
    request = RestartRequest("call/load")
    new = run_action(rt.services, first, RunAction.RESTART, ME, request).new_run
    assert new is not None
    rt.pump()
    assert rt.describe(new).run.status is RunStatus.SUCCEEDED
    assert rt.describe(child_run_id(new, "call", 0)).run.restart_of == child_run_id(old, "call", 0)
    assert dict(CALLS) == {"load": 1}  # extract taken over from R's child

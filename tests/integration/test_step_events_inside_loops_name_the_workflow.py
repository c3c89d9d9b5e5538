"""The events of a step inside a loop iteration name it as users know it: a step status
change (and a callback token) of an iteration's step said ``workflow: "loopy/each"``
(the loop body's internal name), ``trigger: "foreach"`` and the iteration's run id,
none of which docs/events.md listed, so a rule on ``detail.workflow: [loopy]`` missed
every failure inside the workflow's loops, and a ``bus: podium`` trigger on its own
workflow's failures was not refused as self-started there."""

from __future__ import annotations

from typing import Any

from podium.adapters.clock import ManualClock
from podium.core.engine.identity import child_run_id
from podium.core.engine.schedule import parse_iso
from podium.core.engine.trigger_events import MAX_CHAIN
from podium.local.runtime import LocalRuntime
from tests.conftest import foreach

STEP_CHANGE = "Podium Step Status Change"


def _published(rt: LocalRuntime, detail_type: str) -> list[dict[str, Any]]:
    events = rt.services.events.published  # type: ignore[union-attr]
    return [e["detail"] for e in events if e["detail-type"] == detail_type]


def test_a_failure_inside_a_loop_names_its_workflow_top_run_and_path() -> None:
    wf = {
        "name": "loopy",
        "steps": [
            foreach("each", {"x": [1, 2]}, {"id": "inner", "type": "fail", "message": "boom"})
        ],
    }
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        view = rt.run(wf)
        inner = [d for d in _published(rt, STEP_CHANGE) if d["step"] == "inner"]
    top = view.run.run_id
    assert inner, "no step event for the iteration's failed step"
    assert {d["workflow"] for d in inner} == {"loopy"}
    assert {d["top_run_id"] for d in inner} == {top}
    assert {d["trigger"] for d in inner} == {view.run.trigger}  # the run's, not "foreach"
    # run_id stays the run holding the step (de-duplication: run_id + step + ...).
    assert {(d["run_id"], d["step_path"]) for d in inner if d["status"] == "FAILED"} == {
        (child_run_id(top, "each", 0), "each/0/inner"),
        (child_run_id(top, "each", 1), "each/1/inner"),
    }


def test_a_step_of_the_top_run_is_its_own_place() -> None:
    wf = {"name": "flat", "steps": [{"id": "a", "type": "fail", "message": "boom"}]}
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        view = rt.run(wf)
        (failed,) = [d for d in _published(rt, STEP_CHANGE) if d["status"] == "FAILED"]
    run_id = view.run.run_id
    assert (failed["workflow"], failed["run_id"], failed["top_run_id"]) == ("flat", run_id, run_id)
    assert failed["step_path"] == "a"


def test_nested_loops_give_the_whole_path() -> None:
    bad_step = {"id": "bad", "type": "fail", "message": "boom"}
    wf = {
        "name": "nest",
        "steps": [foreach("outer", {"x": [1, 2]}, foreach("inner", {"y": [1]}, bad_step))],
    }
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        view = rt.run(wf)
        bad = [d for d in _published(rt, STEP_CHANGE) if d["step"] == "bad"]
    assert {(d["workflow"], d["top_run_id"]) for d in bad} == {("nest", view.run.run_id)}
    assert {d["step_path"] for d in bad} == {"outer/0/inner/0/bad", "outer/1/inner/0/bad"}


def test_a_callback_token_inside_a_loop_names_its_workflow_and_path() -> None:
    wf = {
        "name": "acks",
        "steps": [
            foreach("each", {"x": [1]}, {"id": "ack", "type": "wait_for_callback", "timeout": "1h"})
        ],
    }
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.push(wf)
        run = rt.start_run("acks")
        rt.pump(wait=False)
        (token,) = _published(rt, "Podium Callback Token")
    assert (token["workflow"], token["top_run_id"], token["step_path"]) == (
        "acks",
        run.run_id,
        "each/0/ack",
    )
    assert token["run_id"] == child_run_id(run.run_id, "each", 0)


def test_a_trigger_on_its_own_failures_inside_loops_is_refused_as_self_started() -> None:
    """A workflow started by its own step failures (bus: podium) started a run from each
    failure inside its loops (``trigger: foreach`` never matched its own label), down
    to the chain limit; it is now refused from its own runs as at the top level."""
    wf = {
        "name": "again",
        "steps": [foreach("each", {"x": [1]}, {"id": "inner", "type": "fail", "message": "boom"})],
        "triggers": [
            {
                "id": "on_fail",
                "event": {
                    "bus": "podium",
                    "pattern": {
                        "source": ["podium"],
                        "detail-type": [STEP_CHANGE],
                        "detail": {"status": ["FAILED"]},
                    },
                },
            }
        ],
    }
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as rt:
        rt.push(wf)
        rt.start_run("again")
        for _ in range(3 * MAX_CHAIN):
            rt.pump(max_deliveries=200)
        chains = sorted(r.chain for r in rt.store.list_runs("again", 1000))
    # The run by hand, and one per failure of its own (the loop step's, the iteration
    # step's): theirs are their trigger's own, refused.
    assert chains == [0, 1, 1], chains


def test_the_place_is_read_from_the_iterations_id() -> None:
    from podium.core.engine.event_places import Place, place_of

    top = "01KDVDNA00AD3DAJ2JEGH4GZTS"
    sub = child_run_id(top, "call", 0)  # a subworkflow's run: its own workflow's top
    iteration = child_run_id(child_run_id(sub, "outer", 12), "inner", 3)
    assert place_of(iteration, "child/outer/inner", "work") == Place(
        "child", sub, "outer/12/inner/3/work"
    )
    assert place_of(top, "flat", "a") == Place("flat", top, "a")
    # An id that does not read as its body's iteration is its own top (never written).
    assert place_of("odd", "w/each", "s") == Place("w/each", "odd", "s")

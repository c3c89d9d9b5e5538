"""Operators' actions reaching into loops: a restart from incomplete reruns only the
iterations that did not succeed, a breakpoint in a loop's body holds every iteration
(each resumed alone by its path), and stopping a run stops its loop's children."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import ActionRefused, RunAction, StepAction
from podium.core.engine.errors import RunNotFound
from podium.core.engine.identity import child_run_id
from podium.core.engine.loops import body_workflow
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, RestartRequest, run_action, step_action
from podium.service.breakpoints import clear_breakpoints, set_breakpoint
from podium.service.runs import start_run

HERE = "tests.unit.test_actions_loops"
_LOCK = threading.Lock()
CALLS: Counter[int] = Counter()
BROKEN = {"on": True}


def work(event: dict[str, Any]) -> int:
    i = int(event["payload"]["i"])
    with _LOCK:
        CALLS[i] += 1
    if BROKEN["on"] and i % 10 == 3:
        raise ValueError(f"bad partition {i}")
    return i * 2


def fe(n: int, **loop: Any) -> dict[str, Any]:
    return {
        "name": "fe",
        "steps": [
            {"id": "prep", "type": "noop"},
            {
                "id": "loop",
                "type": "foreach",
                "over": {"i": f"${{podium.range(0, {n})}}"},
                "depends_on": ["prep"],
                **loop,
                "steps": [
                    {
                        "id": "work",
                        "type": "lambda",
                        "function": f"{HERE}:work",
                        "payload": {"i": "${iteration.i}"},
                    },
                    {"id": "after", "type": "noop", "depends_on": ["work"]},
                ],
            },
        ],
    }


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    CALLS.clear()
    BROKEN["on"] = True
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


ME = Actor("alice")


def test_restart_from_incomplete_in_a_foreach_of_100_reruns_only_the_failed_iterations(
    rt: LocalRuntime,
) -> None:
    rt.push(fe(100, on_failure="continue", concurrency=20))
    run = rt.start_run("fe")
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.FAILED
    assert sum(CALLS.values()) == 100
    BROKEN["on"] = False  # the fix
    CALLS.clear()
    result = run_action(rt.services, run.run_id, RunAction.RESTART, ME)
    assert result.new_run is not None
    rt.pump()
    view = rt.describe(result.new_run)
    assert view.run.status is RunStatus.SUCCEEDED
    assert sorted(CALLS) == [i for i in range(100) if i % 10 == 3]  # the 10 that failed
    assert all(n == 1 for n in CALLS.values())
    loop = next(s for s in view.steps if s.step == "loop")
    assert loop.output["outputs"]["work"] == [i * 2 for i in range(100)]  # reused + rerun
    child = rt.services.store.get_run(child_run_id(result.new_run, "loop", 4))
    assert child.restart_of == child_run_id(run.run_id, "loop", 4)


def test_a_breakpoint_in_a_foreach_of_5_holds_5_attempts_resumed_one_by_one(
    rt: LocalRuntime,
) -> None:
    BROKEN["on"] = False
    rt.push(fe(5))
    set_breakpoint(rt.services, "fe", "loop/work")
    run = rt.start_run("fe")
    rt.pump()
    held = [
        rt.services.store.get_step(child_run_id(run.run_id, "loop", i), "work") for i in range(5)
    ]
    assert [h.status if h else None for h in held] == [StepStatus.PAUSED] * 5
    assert not CALLS
    for i in range(5):
        step_action(rt.services, run.run_id, f"loop/{i}/work", StepAction.RESUME, ME)
        rt.pump()
        assert sorted(CALLS) == list(range(i + 1))
        expected = RunStatus.SUCCEEDED if i == 4 else RunStatus.RUNNING
        assert rt.describe(run.run_id).run.status is expected
    assert clear_breakpoints(rt.services, "fe", "loop/work").steps == ["loop/work"]


def test_clearing_a_loop_breakpoint_resumes_every_iteration(rt: LocalRuntime) -> None:
    BROKEN["on"] = False
    rt.push(fe(3))
    set_breakpoint(rt.services, "fe", "loop/work")
    run = rt.start_run("fe")
    rt.pump()
    cleared = clear_breakpoints(rt.services, "fe", "loop/work")
    assert len(cleared.resumed) == 3
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED


def test_clearing_every_breakpoint_clears_the_loops_bodies_too(rt: LocalRuntime) -> None:
    """``break clear WF`` cleared only the workflow's own steps: the loop body's
    breakpoint that ``break list`` showed stayed, holding every iteration."""
    from podium.service.breakpoints import list_breakpoints

    BROKEN["on"] = False
    rt.push(fe(3))
    set_breakpoint(rt.services, "fe", "loop/work")
    set_breakpoint(rt.services, "fe", "loop/after", iteration=1)
    set_breakpoint(rt.services, "fe", "prep")
    run = rt.start_run("fe")
    rt.pump()
    cleared = clear_breakpoints(rt.services, "fe")
    assert sorted(cleared.steps) == ["loop/after#1", "loop/work", "prep"]
    assert list_breakpoints(rt.services, "fe") == []
    assert cleared.resumed == [f"{run.run_id}/prep"]
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED


def test_stopping_a_run_stops_its_loops_children(rt: LocalRuntime) -> None:
    rt.push(
        {
            "name": "sleepy_loop",
            "steps": [
                {
                    "id": "loop",
                    "type": "foreach",
                    "over": {"i": [1, 2, 3]},
                    "steps": [{"id": "nap", "type": "sleep", "seconds": 3600}],
                }
            ],
        }
    )
    run = rt.start_run("sleepy_loop")
    for _ in range(30):
        rt.pump(max_deliveries=1)
        children = [
            rt.services.store.get_step(child_run_id(run.run_id, "loop", i), "nap") for i in range(3)
        ]
        if all(c is not None and c.status is StepStatus.RUNNING for c in children):
            break
    run_action(rt.services, run.run_id, RunAction.STOP, ME)
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.STOPPED
    for i in range(3):
        child = rt.services.store.get_run(child_run_id(run.run_id, "loop", i))
        assert child.status is RunStatus.STOPPED
        nap = rt.services.store.get_step(child.run_id, "nap")
        assert nap is not None and nap.status is StepStatus.STOPPED


def test_a_bad_loop_breakpoint_names_the_fix(rt: LocalRuntime) -> None:
    from podium.core.dsl.errors import DefinitionError

    rt.push(fe(2))
    with pytest.raises(DefinitionError) as bad:
        set_breakpoint(rt.services, "fe", "prep/work")
    assert "'prep' is not a loop step" in bad.value.issues[0].message
    with pytest.raises(DefinitionError) as bad:
        set_breakpoint(rt.services, "fe", "loop/nope")
    assert "one of: work, after" in bad.value.issues[0].message


def test_pausing_a_run_pauses_its_loops_children_and_resume_lets_them_go_on(
    rt: LocalRuntime,
) -> None:
    BROKEN["on"] = False
    rt.push(
        {
            "name": "paused_loop",
            "steps": [
                {
                    "id": "loop",
                    "type": "foreach",
                    "over": {"i": [0, 1, 2, 3]},
                    "concurrency": 2,
                    "steps": [
                        {"id": "nap", "type": "sleep", "seconds": 60},
                        {
                            "id": "work",
                            "type": "lambda",
                            "function": f"{HERE}:work",
                            "payload": {"i": "${iteration.i}"},
                            "depends_on": ["nap"],
                        },
                    ],
                }
            ],
        }
    )
    run = rt.start_run("paused_loop")
    first = [child_run_id(run.run_id, "loop", i) for i in range(2)]
    for _ in range(40):
        rt.pump(max_deliveries=1)
        naps = [rt.services.store.get_step(c, "nap") for c in first]
        if all(n is not None and n.status is StepStatus.RUNNING for n in naps):
            break
    run_action(rt.services, run.run_id, RunAction.PAUSE, ME)
    assert [rt.services.store.get_run(c).status for c in first] == [RunStatus.PAUSED] * 2
    rt.pump()  # the naps end; the work after them is held; no new iteration starts
    assert not CALLS
    assert [rt.services.store.get_step(c, "work").status for c in first] == [  # type: ignore[union-attr]
        StepStatus.PAUSED
    ] * 2
    # A child pauses and resumes with its parent: alone, the sweeper resumed a paused
    # iteration of a running parent (as a parent's resume cut short) within minutes.
    with pytest.raises(ActionRefused, match=f"pause or resume|resume run {run.run_id}"):
        run_action(rt.services, first[0], RunAction.RESUME, ME)
    run_action(rt.services, run.run_id, RunAction.RESUME, ME)
    with pytest.raises(ActionRefused, match=f"pause run {run.run_id}, or set a breakpoint"):
        run_action(rt.services, first[1], RunAction.PAUSE, ME)
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED
    assert sorted(CALLS) == [0, 1, 2, 3]


def test_an_iteration_breakpoint_holds_only_that_iteration_and_its_resume_ends_the_run(
    rt: LocalRuntime,
) -> None:
    BROKEN["on"] = False
    rt.push(fe(5))
    change = set_breakpoint(rt.services, "fe", "loop/work", iteration=2)
    assert change.steps == ["loop/work#2"]
    run = rt.start_run("fe")
    rt.pump()
    held = {
        i: rt.services.store.get_step(child_run_id(run.run_id, "loop", i), "work") for i in range(5)
    }
    assert {i: h.status if h else None for i, h in held.items()} == {
        0: StepStatus.SUCCEEDED,
        1: StepStatus.SUCCEEDED,
        2: StepStatus.PAUSED,
        3: StepStatus.SUCCEEDED,
        4: StepStatus.SUCCEEDED,
    }
    assert sorted(CALLS) == [0, 1, 3, 4]
    assert rt.describe(run.run_id).run.status is RunStatus.RUNNING
    done = step_action(rt.services, run.run_id, "loop/2/work", StepAction.RESUME, ME)
    assert done.status == "READY"
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED
    assert sorted(CALLS) == [0, 1, 2, 3, 4] and CALLS[2] == 1
    # A second run holds at iteration 2 again (the breakpoint stays until cleared) ...
    again = rt.start_run("fe")
    rt.pump()
    second = rt.services.store.get_step(child_run_id(again.run_id, "loop", 2), "work")
    assert second is not None and second.status is StepStatus.PAUSED
    # ... and clearing the step's breakpoints (every iteration's, and single ones) resumes it.
    cleared = clear_breakpoints(rt.services, "fe", "loop/work")
    assert cleared.steps == ["loop/work#2"]
    assert cleared.resumed == [f"{child_run_id(again.run_id, 'loop', 2)}/work"]
    rt.pump()
    assert rt.describe(again.run_id).run.status is RunStatus.SUCCEEDED


def test_clearing_one_iteration_leaves_the_every_iteration_breakpoint(rt: LocalRuntime) -> None:
    BROKEN["on"] = False
    rt.push(fe(3))
    set_breakpoint(rt.services, "fe", "loop/work")
    set_breakpoint(rt.services, "fe", "loop/work", iteration=1)
    run = rt.start_run("fe")
    rt.pump()
    cleared = clear_breakpoints(rt.services, "fe", "loop/work", iteration=1)
    assert cleared.steps == ["loop/work#1"] and cleared.resumed == []  # still held by "work"
    assert rt.services.store.breakpoints(body_workflow("fe", "loop")) == frozenset({"work"})
    assert not CALLS
    cleared = clear_breakpoints(rt.services, "fe", "loop/work")
    assert cleared.steps == ["loop/work"] and len(cleared.resumed) == 3
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED


def test_an_iteration_breakpoint_needs_a_loop_step(rt: LocalRuntime) -> None:
    from podium.core.dsl.errors import DefinitionError

    rt.push(fe(2))
    with pytest.raises(DefinitionError) as bad:
        set_breakpoint(rt.services, "fe", "prep", iteration=1)
    assert "--iteration takes LOOP/STEP" in bad.value.issues[0].message
    with pytest.raises(DefinitionError):
        clear_breakpoints(rt.services, "fe", None, iteration=1)


def _reused(rt: LocalRuntime, run_id: str, step: str) -> bool:
    record = rt.services.store.get_step(run_id, step)
    assert record is not None and record.status is StepStatus.SUCCEEDED, (run_id, step)
    return (record.reason or "").startswith("reused from run")


def test_restart_from_a_step_of_one_iteration(rt: LocalRuntime) -> None:
    rt.push(fe(6, on_failure="continue"))
    run = rt.start_run("fe")
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.FAILED  # iteration 3 failed
    BROKEN["on"] = False
    CALLS.clear()
    result = run_action(
        rt.services,
        run.run_id,
        RunAction.RESTART,
        ME,
        RestartRequest(start_from="loop/1/after"),
    )
    assert result.new_run is not None
    rt.pump()
    new = result.new_run
    assert rt.describe(new).run.status is RunStatus.SUCCEEDED
    assert rt.services.store.get_run(new).restart_from == "loop/1/after"
    # Iteration 3 failed: it reruns from incomplete; iteration 1 reruns from 'after' only.
    assert sorted(CALLS) == [3]
    assert _reused(rt, new, "prep") and not _reused(rt, new, "loop")
    one = child_run_id(new, "loop", 1)
    assert _reused(rt, one, "work") and not _reused(rt, one, "after")
    for i in (0, 2, 4, 5):
        kid = child_run_id(new, "loop", i)
        assert _reused(rt, kid, "work") and _reused(rt, kid, "after")
    assert not _reused(rt, child_run_id(new, "loop", 3), "work")
    loop = next(s for s in rt.describe(new).steps if s.step == "loop")
    assert loop.output["outputs"]["work"] == [i * 2 for i in range(6)]

    # From 'work' of an iteration that succeeded: its function is called again.
    CALLS.clear()
    again = run_action(
        rt.services, new, RunAction.RESTART, ME, RestartRequest(start_from="loop/4/work")
    )
    rt.pump()
    assert again.new_run is not None
    assert rt.describe(again.new_run).run.status is RunStatus.SUCCEEDED
    assert sorted(CALLS) == [4]


def nested_work(event: dict[str, Any]) -> int:
    n = int(event["payload"]["n"])
    with _LOCK:
        CALLS[n] += 1
    return n


NESTED = {
    "name": "nest",
    "steps": [
        {
            "id": "outer",
            "type": "foreach",
            "over": {"i": [0, 1]},
            "steps": [
                {
                    "id": "inner",
                    "type": "foreach",
                    "over": {"j": [0, 1, 2]},
                    "steps": [
                        {
                            "id": "work",
                            "type": "lambda",
                            "function": f"{HERE}:nested_work",
                            "payload": {"n": "${iteration.parent.i * 10 + iteration.j}"},
                        }
                    ],
                },
                {"id": "sum", "type": "noop", "depends_on": ["inner"]},
            ],
        }
    ],
}


def test_restart_from_a_step_of_a_nested_iteration(rt: LocalRuntime) -> None:
    rt.push(NESTED)
    run = rt.start_run("nest")
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED
    assert sorted(CALLS) == [0, 1, 2, 10, 11, 12]
    CALLS.clear()
    result = run_action(
        rt.services,
        run.run_id,
        RunAction.RESTART,
        ME,
        RestartRequest(start_from="outer/1/inner/2/work"),
    )
    assert result.new_run is not None
    rt.pump()
    assert rt.describe(result.new_run).run.status is RunStatus.SUCCEEDED
    assert sorted(CALLS) == [12]
    outer1 = child_run_id(result.new_run, "outer", 1)
    assert not _reused(rt, outer1, "inner") and not _reused(rt, outer1, "sum")
    assert _reused(rt, child_run_id(outer1, "inner", 1), "work")
    assert _reused(rt, child_run_id(result.new_run, "outer", 0), "sum")


def test_a_refused_action_in_an_ended_iteration_hints_a_restart_that_works(
    rt: LocalRuntime,
) -> None:
    """The hint named the iteration's own run, which is never restarted on its own."""
    rt.push(fe(6, on_failure="continue"))
    run = rt.start_run("fe")
    rt.pump()
    with pytest.raises(ActionRefused) as refused:
        step_action(rt.services, run.run_id, "loop/3/work", StepAction.RETRY, ME)
    message = refused.value.message
    assert f"step loop/3/work of run {run.run_id}:" in message
    hinted = f"podium runs restart {run.run_id} --from loop/3/work"
    assert hinted in message, message
    BROKEN["on"] = False
    done = run_action(
        rt.services, run.run_id, RunAction.RESTART, ME, RestartRequest(start_from="loop/3/work")
    )
    assert done.new_run is not None


@pytest.mark.parametrize("start_from", ["beginning", "prep", "loop"])
def test_a_restart_from_the_beginning_or_a_step_above_a_loop_reruns_every_iteration(
    rt: LocalRuntime, start_from: str
) -> None:
    """The iterations of a loop that reruns took the old ones' outputs over (they were
    restarted from incomplete), so a restart meant to run everything ran no body."""
    BROKEN["on"] = False
    rt.push(fe(4))
    run = rt.start_run("fe")
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED
    CALLS.clear()
    result = run_action(
        rt.services, run.run_id, RunAction.RESTART, ME, RestartRequest(start_from=start_from)
    )
    assert result.new_run is not None
    rt.pump()
    assert rt.describe(result.new_run).run.status is RunStatus.SUCCEEDED
    assert sorted(CALLS) == [0, 1, 2, 3]
    assert rt.services.store.get_run(result.new_run).restart_from == start_from
    for i in range(4):
        kid = rt.services.store.get_run(child_run_id(result.new_run, "loop", i))
        assert kid.restart_of is None and not _reused(rt, kid.run_id, "work")


def test_a_restart_from_a_nested_loop_of_one_iteration_reruns_all_its_iterations(
    rt: LocalRuntime,
) -> None:
    rt.push(NESTED)
    run = rt.start_run("nest")
    rt.pump()
    CALLS.clear()
    result = run_action(
        rt.services, run.run_id, RunAction.RESTART, ME, RestartRequest(start_from="outer/1/inner")
    )
    assert result.new_run is not None
    rt.pump()
    assert rt.describe(result.new_run).run.status is RunStatus.SUCCEEDED
    assert sorted(CALLS) == [10, 11, 12]  # all of outer 1's inner loop; none of outer 0's
    assert _reused(rt, child_run_id(result.new_run, "outer", 0), "inner")
    outer1 = child_run_id(result.new_run, "outer", 1)
    assert not _reused(rt, outer1, "inner") and not _reused(rt, outer1, "sum")
    assert rt.services.store.get_run(child_run_id(outer1, "inner", 2)).restart_of is None


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("nope/1/work", "no step 'nope' in 'fe'; one of: prep, loop"),
        ("prep/0/work", "'prep' is a noop step of 'fe', not a loop"),
        ("loop/7/work", "iteration 7 of 'loop' never ran in run R (iterations 0 to 5 ran)"),
        ("loop/1/zz", "the body of 'loop' has no step 'zz'; one of: work, after"),
        ("loop/x/work", "must be an iteration index"),
    ],
)
def test_a_bad_restart_path_names_the_path_and_the_fix(
    rt: LocalRuntime, path: str, says: str
) -> None:
    from podium.core.dsl.errors import DefinitionError

    rt.push(fe(6, on_failure="continue"))
    run = start_run(rt.services, "fe", run_id="R")
    rt.pump()
    with pytest.raises(DefinitionError) as bad:
        run_action(rt.services, run.run_id, RunAction.RESTART, ME, RestartRequest(path))
    message = bad.value.issues[0].message
    assert says in message and (path in message or "iteration index" in says)
    with pytest.raises(RunNotFound):
        rt.services.store.get_run("R-r1")  # nothing was created

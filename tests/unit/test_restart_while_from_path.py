"""A restart of a while loop reuses an old iteration only when the new one starts with
the state the old one started with: each iteration starts from what the one before it
left, so once an iteration reruns (``--from LOOP/K/STEP``) the old outputs after it may
have been computed from another state (the foreach rule, "every other iteration
restarts from incomplete", gave 30 stale iterations instead of 4 fresh ones)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction, restarts_iteration
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, RestartRequest, run_action

HERE = "tests.unit.test_restart_while_from_path"
CALLS: list[int] = []
STEP = {"up": 1, "broken_at": -1}
ME = Actor("alice")


def inc(event: dict[str, Any]) -> dict[str, int]:
    n = int(event["payload"]["n"])
    CALLS.append(n)
    if n == STEP["broken_at"]:
        raise ValueError(f"broken at {n}")
    return {"n": n + STEP["up"]}


def counter(limit: str = "30") -> dict[str, Any]:
    return {
        "name": "count",
        "params": {"start": {"type": "int", "default": 0}},
        "steps": [
            {
                "id": "loop",
                "type": "while",
                "state": {"n": "${params.start}"},
                "condition": f"state.n < {limit}",
                "update": {"n": "${steps.s.output.n}"},
                "steps": [
                    {
                        "id": "s",
                        "type": "lambda",
                        "function": f"{HERE}:inc",
                        "payload": {"n": "${state.n}"},
                    }
                ],
            }
        ],
    }


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    CALLS.clear()
    STEP.update(up=1, broken_at=-1)
    home = {"home": ":memory:"} if request.param == "sqlite" else {}
    with LocalRuntime(store=request.param, clock=ManualClock(), **home) as runtime:
        yield runtime


def _loop_output(rt: LocalRuntime, run_id: str) -> Any:
    return next(s for s in rt.describe(run_id).steps if s.step == "loop").output


def _reused(rt: LocalRuntime, run_id: str) -> bool:
    record = rt.services.store.get_step(run_id, "s")
    assert record is not None and record.status is StepStatus.SUCCEEDED, run_id
    return (record.reason or "").startswith("reused from run")


def _restart(rt: LocalRuntime, run_id: str, **request: Any) -> str:
    result = run_action(rt.services, run_id, RunAction.RESTART, ME, RestartRequest(**request))
    assert result.new_run is not None
    rt.pump()
    return result.new_run


def test_iterations_after_the_one_restarted_from_run_from_the_new_state(rt: LocalRuntime) -> None:
    rt.push(counter())
    run = rt.start_run("count")
    rt.pump()
    assert _loop_output(rt, run.run_id) == {"iterations": 30, "state": {"n": 30}}
    CALLS.clear()
    STEP["up"] = 10  # the fix: each iteration now adds 10
    new = _restart(rt, run.run_id, start_from="loop/1/s")
    assert rt.describe(new).run.status is RunStatus.SUCCEEDED
    # 0 -> 1 (iteration 0, reused), then 1 -> 11 -> 21 -> 31: four iterations in all.
    assert _loop_output(rt, new) == {"iterations": 4, "state": {"n": 31}}
    assert CALLS == [1, 11, 21]
    kids = [rt.services.store.get_run(child_run_id(new, "loop", i)) for i in range(4)]
    assert [k.iteration for k in kids] == [
        {"index": i, "state": {"n": n}} for i, n in enumerate([0, 1, 11, 21])
    ]
    assert _reused(rt, kids[0].run_id) and kids[0].restart_of is not None
    assert kids[1].restart_of is not None and not _reused(rt, kids[1].run_id)
    for kid in kids[2:]:  # another state than the old iteration's: run in full
        assert kid.restart_of is None and not _reused(rt, kid.run_id)


def test_iterations_after_it_are_still_reused_when_the_state_is_the_same(
    rt: LocalRuntime,
) -> None:
    """The rerun iteration left the state it left before: the old outputs after it were
    computed from the very same state, and are taken over as in a foreach."""
    rt.push(counter("5"))
    run = rt.start_run("count")
    rt.pump()
    CALLS.clear()
    new = _restart(rt, run.run_id, start_from="loop/2/s")
    assert _loop_output(rt, new) == {"iterations": 5, "state": {"n": 5}}
    assert CALLS == [2]
    for i in (0, 1, 3, 4):
        assert _reused(rt, child_run_id(new, "loop", i))


def test_a_restart_from_incomplete_reuses_the_iterations_before_the_failed_one(
    rt: LocalRuntime,
) -> None:
    rt.push(counter("6"))
    STEP["broken_at"] = 3
    run = rt.start_run("count")
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.FAILED
    CALLS.clear()
    STEP["broken_at"] = -1
    new = _restart(rt, run.run_id)
    assert rt.describe(new).run.status is RunStatus.SUCCEEDED
    assert _loop_output(rt, new) == {"iterations": 6, "state": {"n": 6}}
    assert CALLS == [3, 4, 5]
    for i in (0, 1, 2):
        assert _reused(rt, child_run_id(new, "loop", i))
    failed = rt.services.store.get_run(child_run_id(new, "loop", 3))
    assert failed.restart_of == child_run_id(run.run_id, "loop", 3)  # from incomplete


def test_a_restart_with_other_params_reruns_every_iteration_of_another_state(
    rt: LocalRuntime,
) -> None:
    rt.push(counter("4"))
    STEP["broken_at"] = 2
    run = rt.start_run("count")
    rt.pump()
    CALLS.clear()
    STEP["broken_at"] = -1
    new = _restart(rt, run.run_id, params={"start": 1})
    assert _loop_output(rt, new) == {"iterations": 3, "state": {"n": 4}}
    assert CALLS == [1, 2, 3]  # none of the old iterations (started from 0) is taken over


def test_the_rule() -> None:
    old = {"index": 2, "state": {"n": 2}}
    assert restarts_iteration(old, {"index": 2, "state": {"n": 2}})
    assert not restarts_iteration(old, {"index": 2, "state": {"n": 11}})
    assert not restarts_iteration(None, {"index": 2, "state": {"n": 2}})
    # A foreach's iteration too: the same index over another item (other params) is
    # another iteration (it was restarted whatever its item, until session 20).
    item = {"index": 2, "i": 7}
    assert restarts_iteration(item, {"index": 2, "i": 7})
    assert not restarts_iteration(item, {"index": 2, "i": 8})

"""Whole runs on the embedded runtime: the real handlers, DynamoDB on moto."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.testing import step_of
from tests.conftest import chain, fan

CALLS: Counter[str] = Counter()


def counted(event: dict[str, Any]) -> dict[str, Any]:
    """A local function that records each (step, attempt) it is invoked for."""
    CALLS[f"{event['run']['id']}/{event['step']}/{event['attempt']}"] += 1
    return {"step": event["step"], "attempt": event["attempt"]}


def flaky(event: dict[str, Any]) -> dict[str, Any]:
    CALLS[f"{event['run']['id']}/{event['step']}/{event['attempt']}"] += 1
    if event["attempt"] < event["payload"]["succeed_on"]:
        raise RuntimeError(f"flaky attempt {event['attempt']}")
    return {"ok": event["attempt"]}


FN = "tests.integration.test_runs:counted"


def statuses(view: Any) -> dict[str, str]:
    return {s.step: s.status.value for s in view.steps}


def test_chain_runs_in_order(runtime: LocalRuntime) -> None:
    view = runtime.run(chain("c", 20))
    assert view.run.status is RunStatus.SUCCEEDED
    assert len(view.steps) == 20
    starts = [step_of(view, f"s{i}").started_at for i in range(20)]
    assert starts == sorted(starts)
    assert all(s.attempt == 1 for s in view.steps)


def test_diamond_join_waits_for_both_branches(runtime: LocalRuntime) -> None:
    wf = {
        "name": "diamond",
        "steps": [
            {"id": "a", "type": "lambda", "function": FN},
            {"id": "b", "type": "lambda", "function": FN, "depends_on": ["a"]},
            {"id": "c", "type": "sleep", "seconds": 120, "depends_on": ["a"]},
            {"id": "d", "type": "lambda", "function": FN, "depends_on": ["b", "c"]},
        ],
    }
    view = runtime.run(wf)
    assert view.run.status is RunStatus.SUCCEEDED
    d, c = step_of(view, "d"), step_of(view, "c")
    assert d.started_at is not None and c.ended_at is not None
    assert d.started_at >= c.ended_at >= c.started_at + 120_000  # the sleep really waited
    assert step_of(view, "b").output == {"step": "b", "attempt": 1}


def test_fan_out_and_fan_in_of_500(runtime: LocalRuntime) -> None:
    view = runtime.run(fan("fan500", 500))
    assert view.run.status is RunStatus.SUCCEEDED
    assert Counter(statuses(view).values()) == {"SUCCEEDED": 502}
    join = step_of(view, "join")
    assert join.arrived == 500 and join.failed_arrivals == 0
    assert join.started_at is not None
    assert all(
        s.ended_at is not None and s.ended_at <= join.started_at
        for s in view.steps
        if s.step.startswith("p")
    )


def test_failure_skips_downstream_lets_running_steps_finish_then_fails(
    runtime: LocalRuntime,
) -> None:
    wf = {
        "name": "failing",
        "steps": [
            {"id": "start", "type": "noop"},
            {"id": "pre", "type": "sleep", "seconds": 10, "depends_on": ["start"]},
            {"id": "boom", "type": "fail", "message": "bad input", "depends_on": ["pre"]},
            {"id": "after_boom", "type": "noop", "depends_on": ["boom"]},
            {"id": "slow", "type": "sleep", "seconds": 60, "depends_on": ["start"]},
            {"id": "after_slow", "type": "noop", "depends_on": ["slow"]},
            {"id": "end", "type": "noop", "depends_on": ["after_boom", "after_slow"]},
        ],
    }
    view = runtime.run(wf)
    assert view.run.status is RunStatus.FAILED
    assert view.run.error == "boom: bad input"
    assert statuses(view) == {
        "start": "SUCCEEDED",
        "pre": "SUCCEEDED",
        "boom": "FAILED",
        "after_boom": "SKIPPED",
        "slow": "SUCCEEDED",  # was running: it finishes
        "after_slow": "SKIPPED",  # would start after the failure: it does not
        "end": "SKIPPED",
    }
    assert step_of(view, "after_boom").reason == "upstream failed"
    assert step_of(view, "after_slow").reason == "run is failing: no new step starts"
    assert view.run.ended_at is not None


def test_retries_with_fixed_delay_then_success(runtime: LocalRuntime) -> None:
    wf = {
        "name": "retrying",
        "steps": [
            {
                "id": "flaky",
                "type": "lambda",
                "function": "tests.integration.test_runs:flaky",
                "payload": {"succeed_on": 3},
                "retries": 3,
                "retry_delay_seconds": 30,
            },
            {"id": "after", "type": "noop", "depends_on": ["flaky"]},
        ],
    }
    view = runtime.run(wf)
    assert view.run.status is RunStatus.SUCCEEDED
    flaky_step = step_of(view, "flaky")
    assert flaky_step.attempt == 3 and flaky_step.output == {"ok": 3}
    retries = [e for e in view.events if e.kind == "retry"]
    assert [(e.attempt, e.detail["next_attempt"]) for e in retries] == [(1, 2), (2, 3)]
    assert retries[1].at - retries[0].at >= 30_000
    assert all("flaky attempt" in e.detail["error"] for e in retries)


def test_retries_exhausted_fail_the_run(runtime: LocalRuntime) -> None:
    wf = {
        "name": "exhausted",
        "steps": [
            {
                "id": "flaky",
                "type": "lambda",
                "function": "tests.integration.test_runs:flaky",
                "payload": {"succeed_on": 9},
                "retries": 1,
                "retry_delay_seconds": 1,
            }
        ],
    }
    view = runtime.run(wf)
    assert view.run.status is RunStatus.FAILED
    step = step_of(view, "flaky")
    assert (step.status, step.attempt) == (StepStatus.FAILED, 2)
    assert "RuntimeError: flaky attempt 2" in (step.error or "")


def test_params_reach_functions_and_overrides_are_checked(runtime: LocalRuntime) -> None:
    wf = {
        "name": "with_params",
        "params": {"n": {"type": "int", "default": 1}},
        "steps": [{"id": "a", "type": "lambda", "function": FN}],
    }
    runtime.push(wf)
    run = runtime.start_run("with_params", {"n": 5})
    assert run.params == {"n": 5}
    from podium.core.dsl.errors import DefinitionError

    with pytest.raises(DefinitionError, match=r"params\.n: expected int"):
        runtime.start_run("with_params", {"n": "five"})


def test_missing_local_function_fails_the_step_with_a_clear_error(runtime: LocalRuntime) -> None:
    wf = {"name": "nofn", "steps": [{"id": "a", "type": "lambda", "function": "nope.mod:fn"}]}
    view = runtime.run(wf)
    assert view.run.status is RunStatus.FAILED
    assert "cannot load nope.mod:fn" in (step_of(view, "a").error or "")


def test_every_message_twice_and_out_of_order_gives_the_same_result() -> None:
    wf = {
        "name": "dupes",
        "steps": [
            {"id": "a", "type": "lambda", "function": FN},
            *(
                {"id": f"b{i}", "type": "lambda", "function": FN, "depends_on": ["a"]}
                for i in range(12)
            ),
            {"id": "c", "type": "sleep", "seconds": 5, "depends_on": ["a"]},
            {
                "id": "d",
                "type": "lambda",
                "function": FN,
                "depends_on": [*(f"b{i}" for i in range(12)), "c"],
            },
            {"id": "e", "type": "lambda", "function": FN, "depends_on": ["d"]},
        ],
    }
    from podium.adapters.clock import ManualClock

    with LocalRuntime(clock=ManualClock(), deliver_twice=True, shuffle_seed=7) as rt:
        view = rt.run(wf)
    assert view.run.status is RunStatus.SUCCEEDED
    assert set(statuses(view).values()) == {"SUCCEEDED"}
    run_calls = {k: v for k, v in CALLS.items() if k.startswith(view.run.run_id)}
    assert len(run_calls) == 15 and set(run_calls.values()) == {1}  # once per attempt


@pytest.mark.slow
def test_a_10000_step_run_completes() -> None:
    from podium.adapters.clock import ManualClock

    wf = {
        "name": "big",
        "steps": [
            {"id": "root", "type": "noop"},
            *(
                {
                    "id": f"c{b}_{i}",
                    "type": "noop",
                    "depends_on": ["root" if i == 0 else f"c{b}_{i - 1}"],
                }
                for b in range(50)
                for i in range(199)
            ),
            *({"id": f"t{b}", "type": "noop", "depends_on": [f"c{b}_198"]} for b in range(49)),
        ],
    }
    assert len(wf["steps"]) == 10_000
    with LocalRuntime(clock=ManualClock()) as rt:
        view = rt.run(wf)
    assert view.run.status is RunStatus.SUCCEEDED
    assert len(view.steps) == 10_000
    assert {s.status for s in view.steps} == {StepStatus.SUCCEEDED}

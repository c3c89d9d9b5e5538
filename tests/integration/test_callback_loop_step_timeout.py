"""A loop or subworkflow step's own ``timeout`` bounds its child runs, as its run's does.

The step (a foreach, a while, a subworkflow that waits) has ``timeout: 60`` and no run
timeout; its child run waits for a callback. Before, the step's timeout stopped the
child and dropped a result the API had accepted (202) in time, and a result after the
step's deadline was accepted (202) too, then applied or dropped by whichever of its
done and the step's timer came first. Now a child inherits the step's deadline
(``ancestor_deadline``, with its run's): a result received by it is kept when the
step's timeout stops the child, one after it is refused (409 ``deadline_passed``); a
loop whose pass is handled past its deadline (its timer late) times out there, starting
nothing. On the memory store, the SQLite home and DynamoDB on moto."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.core.engine.callbacks import token_of
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.inbox import handle_event
from tests.integration.keyed_queue import STORES, keyed_runtime
from tests.integration.test_callback_late_results import clock
from tests.integration.test_callback_parent_deadline import assert_child_kept

from .test_api import call

STEP_TIMEOUT_S = 60
WAIT = {"id": "wait", "type": "wait_for_callback", "payload": {"t": 1}}
STEPS: dict[str, dict[str, Any]] = {
    "subworkflow": {"id": "inner", "type": "subworkflow", "workflow": "child_wf"},
    "foreach": {
        "id": "inner",
        "type": "foreach",
        "over": {"i": [1, 2]},
        "concurrency": 1,
        "steps": [WAIT],
    },
    "while": {
        "id": "inner",
        "type": "while",
        "condition": "iteration.index < 3",
        "steps": [WAIT],
    },
}


@pytest.fixture(params=[*STORES, "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    with keyed_runtime(request.param) as runtime:
        yield runtime


def begin(rt: LocalRuntime, kind: str) -> tuple[str, str, int]:
    """(the parent's run id, its first child's, the step's deadline)."""
    rt.push({"name": "child_wf", "steps": [WAIT]})
    step = {**STEPS[kind], "timeout": STEP_TIMEOUT_S}
    rt.push({"name": "parent_wf", "steps": [step]})
    parent = rt.start_run("parent_wf").run_id
    rt.pump(wait=False)
    child = child_run_id(parent, "inner", 0)
    waiting = rt.store.get_step(child, "wait")
    assert waiting is not None and waiting.status is StepStatus.RUNNING
    inner = rt.store.get_step(parent, "inner")
    assert inner is not None and inner.started_at is not None
    deadline = inner.started_at + STEP_TIMEOUT_S * 1000
    assert rt.store.get_run(child).ancestor_deadline == deadline
    return parent, child, deadline


def post(run_id: str, body: dict[str, Any]) -> tuple[int, Any]:
    return call("POST", f"/callbacks/{token_of(f'{run_id}/wait/1')}", body)


def step_timer(rt: LocalRuntime, parent: str, deadline: int, late_ms: int = 1_000) -> None:
    """The step's deadline timer, handled before anything else queued."""
    clock(rt).advance_to(deadline + late_ms)
    timer = messages.Done(parent, "inner", 1, messages.DEADLINE_EVENT)
    handle_event(rt.services, messages.encode(timer))
    inner = rt.store.get_step(parent, "inner")
    assert inner is not None and inner.status is StepStatus.TIMED_OUT, inner


@pytest.mark.parametrize("late_ms", [0, 1_000], ids=["timer at the deadline", "timer late"])
@pytest.mark.parametrize("kind", sorted(STEPS))
def test_a_childs_result_accepted_by_the_steps_deadline_is_kept(
    rt: LocalRuntime, kind: str, late_ms: int
) -> None:
    parent, child, deadline = begin(rt, kind)
    clock(rt).advance_to(deadline - 1_000)
    status, body = post(child, {"success": {"rows": 9}})
    assert status == 202, body
    step_timer(rt, parent, deadline, late_ms)
    assert_child_kept(rt, parent, child, {"rows": 9})


@pytest.mark.parametrize("kind", sorted(STEPS))
def test_a_childs_result_after_the_steps_deadline_is_refused(rt: LocalRuntime, kind: str) -> None:
    parent, child, deadline = begin(rt, kind)
    clock(rt).advance_to(deadline + 500)
    status, body = post(child, {"success": 1})
    assert (status, body["code"]) == (409, "deadline_passed"), body
    # The refusal names the step whose deadline passed, not only its run.
    assert f"the deadline of its parent step 'inner' of run {parent}" in body["message"], body
    step_timer(rt, parent, deadline)
    rt.pump(advance_time=False)
    waiting = rt.store.get_step(child, "wait")
    assert waiting is not None and waiting.status in (StepStatus.STOPPED, StepStatus.TIMED_OUT)
    assert rt.store.get_run(parent).status is RunStatus.TIMED_OUT


@pytest.mark.parametrize("kind", ["foreach", "while"])
def test_a_loop_whose_timer_is_late_times_out_at_its_next_pass(rt: LocalRuntime, kind: str) -> None:
    """The first iteration's result came in time, its done after the deadline (the
    step's timer is late): the loop starts no next iteration, it times out."""
    schedule = rt.services.at

    def late_step_timer(message: Any, due_ms: int, *, queue: str) -> None:
        late = isinstance(message, messages.Done) and message.event == messages.DEADLINE_EVENT
        if not (late and message.step == "inner"):
            schedule(message, due_ms, queue=queue)

    rt.services.at = late_step_timer  # type: ignore[method-assign]
    parent, child, deadline = begin(rt, kind)
    clock(rt).advance_to(deadline)
    status, body = post(child, {"success": {"rows": 1}})
    assert status == 202, body
    clock(rt).advance_to(deadline + 1_000)
    rt.pump(advance_time=False)  # the result's done, the child's end, the loop's pass
    waiting = rt.store.get_step(child, "wait")
    assert waiting is not None and waiting.status is StepStatus.SUCCEEDED, waiting
    inner = rt.store.get_step(parent, "inner")
    assert inner is not None and inner.status is StepStatus.TIMED_OUT, inner
    assert inner.children_launched == 1  # no second iteration
    assert rt.store.get_run(parent).status is RunStatus.TIMED_OUT

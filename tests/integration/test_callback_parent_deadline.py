"""A callback result accepted in time inside a child run survives its parent's deadline.

A loop iteration or a subworkflow is a child run; when its parent's own ``timeout``
ends the parent, the parent's loop or subworkflow step stops the child. A callback
result the API had accepted (202) for a step of that child before the parent's deadline,
whose ``done`` was not handled yet, was dropped: the child's step ended STOPPED. As in a
run its own deadline ends, the step now ends with that result (the child still ends
STOPPED, the parent TIMED_OUT), and a plain stop keeps none. The parent's deadline
bounds its children as their own would (``ancestor_deadline``, set at their creation):
a result received after it is refused (409 ``deadline_passed``), not applied, where it
was accepted (202) and applied when its done came before the parent's timer. On the memory store, the SQLite home and DynamoDB on moto."""

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
from podium.service.lifecycle import stop_run
from tests.integration.keyed_queue import STORES, keyed_runtime
from tests.integration.test_callback_late_results import clock

from .test_api import call

RUN_TIMEOUT_S = 60
WAIT = {"id": "wait", "type": "wait_for_callback", "payload": {"t": 1}}
PARENTS: dict[str, dict[str, Any]] = {
    "subworkflow": {"id": "inner", "type": "subworkflow", "workflow": "child_wf"},
    "foreach": {"id": "inner", "type": "foreach", "over": {"i": [1]}, "steps": [WAIT]},
}


@pytest.fixture(params=[*STORES, "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    with keyed_runtime(request.param) as runtime:
        yield runtime


def begin(rt: LocalRuntime, kind: str) -> tuple[str, str]:
    """A parent with a 60 s timeout around a child run waiting for a callback: (the
    parent's run id, the child's)."""
    rt.push({"name": "child_wf", "steps": [WAIT]})
    rt.push({"name": "parent_wf", "timeout": RUN_TIMEOUT_S, "steps": [PARENTS[kind]]})
    parent = rt.start_run("parent_wf").run_id
    rt.pump(wait=False)
    child = child_run_id(parent, "inner", 0)  # the first attempt's, the first iteration's
    assert rt.store.get_run(child).parent_run == parent
    waiting = rt.store.get_step(child, "wait")
    assert waiting is not None and waiting.status is StepStatus.RUNNING
    return parent, child


def deadline_of(rt: LocalRuntime, run_id: str) -> int:
    run = rt.store.get_run(run_id)
    started = run.started_at if run.started_at is not None else run.created_at
    return started + RUN_TIMEOUT_S * 1000


def post(run_id: str, body: dict[str, Any]) -> int:
    status, _ = call("POST", f"/callbacks/{token_of(f'{run_id}/wait/1')}", body)
    return status


def parent_timer(rt: LocalRuntime, parent: str) -> None:
    """The parent's deadline timer, handled before the child's result's done."""
    clock(rt).advance_to(deadline_of(rt, parent) + 1_000)
    handle_event(rt.services, messages.encode(messages.RunDeadline(parent)))
    assert rt.store.get_run(parent).status is RunStatus.TIMED_OUT


@pytest.mark.parametrize("kind", sorted(PARENTS))
def test_a_childs_result_accepted_before_the_parents_deadline_is_kept(
    rt: LocalRuntime, kind: str
) -> None:
    parent, child = begin(rt, kind)
    clock(rt).advance_to(deadline_of(rt, parent) - 1_000)
    assert post(child, {"success": {"rows": 9}}) == 202
    parent_timer(rt, parent)
    assert_child_kept(rt, parent, child, {"rows": 9})


def assert_child_kept(rt: LocalRuntime, parent: str, child: str, output: Any) -> None:
    """The result's done handled after the parent's deadline stopped the child: it
    closes nothing twice, and the child's step kept the result accepted in time."""
    rt.pump(advance_time=False)
    waiting = rt.store.get_step(child, "wait")
    assert waiting is not None
    assert (waiting.status, waiting.output) == (StepStatus.SUCCEEDED, output)
    assert rt.store.get_run(child).status is RunStatus.STOPPED
    assert rt.store.get_run(parent).status is RunStatus.TIMED_OUT


@pytest.mark.parametrize("kind", sorted(PARENTS))
def test_a_childs_result_after_the_parents_deadline_is_refused_and_not_kept(
    rt: LocalRuntime, kind: str
) -> None:
    """The child has no timeout of its own: its parent's deadline bounds it (it was 202,
    and applied when its done came before the parent's timer)."""
    schedule = rt.services.at

    def late_run_timer(message: Any, due_ms: int, *, queue: str) -> None:
        if not isinstance(message, messages.RunDeadline):  # the parent's timer: late
            schedule(message, due_ms, queue=queue)

    rt.services.at = late_run_timer  # type: ignore[method-assign]
    parent, child = begin(rt, kind)
    assert rt.store.get_run(child).ancestor_deadline == deadline_of(rt, parent)
    clock(rt).advance_to(deadline_of(rt, parent) + 500)
    status, body = call("POST", f"/callbacks/{token_of(f'{child}/wait/1')}", {"success": 1})
    assert (status, body["code"]) == (409, "deadline_passed"), body
    assert f"after the deadline of its parent step 'inner' of run {parent}" in body["message"]
    rt.pump(advance_time=False)  # its done (sent all the same) times the child out
    waiting = rt.store.get_step(child, "wait")
    assert waiting is not None and waiting.status is StepStatus.TIMED_OUT, waiting
    child_run = rt.store.get_run(child)
    assert child_run.status is RunStatus.TIMED_OUT, child_run
    assert f"the deadline of its parent step 'inner' of run {parent}" in (child_run.error or "")
    parent_timer(rt, parent)  # the parent's own timer, whenever it comes
    assert rt.store.get_run(parent).status is RunStatus.TIMED_OUT


def test_a_grandchild_inherits_the_earliest_deadline(rt: LocalRuntime) -> None:
    """A subworkflow with a longer timeout of its own, inside a parent with 60 s: the
    child's own deadline is later, its parent's bounds it."""
    rt.push({"name": "child_wf", "timeout": 3600, "steps": [WAIT]})
    rt.push({"name": "parent_wf", "timeout": RUN_TIMEOUT_S, "steps": [PARENTS["subworkflow"]]})
    parent = rt.start_run("parent_wf").run_id
    rt.pump(wait=False)
    child = rt.store.get_run(child_run_id(parent, "inner", 0))
    assert child.ancestor_deadline == deadline_of(rt, parent)
    clock(rt).advance_to(deadline_of(rt, parent) + 500)
    status, body = call("POST", f"/callbacks/{token_of(f'{child.run_id}/wait/1')}", {"success": 1})
    assert (status, body["code"]) == (409, "deadline_passed"), body


def test_a_parent_stopped_keeps_no_childs_result(rt: LocalRuntime) -> None:
    parent, child = begin(rt, "subworkflow")
    assert post(child, {"success": {"rows": 9}}) == 202
    stop_run(rt.services, parent, "stopped by test")
    rt.pump(advance_time=False)
    waiting = rt.store.get_step(child, "wait")
    assert waiting is not None and waiting.status is StepStatus.STOPPED, waiting

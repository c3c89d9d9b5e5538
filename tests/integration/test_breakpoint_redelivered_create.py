"""A redelivered claim-by-create message does not hold again a step an operator resumed
past its breakpoint.

``after`` becomes ready when ``first`` (a sleep) ends on the event queue: its work
message is a claim-by-create ``Exec(create=True)``. It stops at its breakpoint (PAUSED,
created by ``pausing.hold``). The operator resumes it: READY, marked ``resumed past its
breakpoint (attempt 1)``, and its claim message is sent. SQS delivers at least once:
the first work message comes again before that claim. ``stops_at_breakpoint`` skipped
the ``passed_breakpoint`` check for a create message, and ``hold``, finding the item
existing (StepExists), holds the READY step again at its breakpoint, overwriting the
resume's marker. The resume's own claim then finds the step PAUSED and is dropped: the
step the operator let through (and the API answered READY for) sits PAUSED at its
breakpoint again, until someone resumes it a second time.

docs/operations.md (Breakpoints): "``podium steps resume RUN STEP`` lets that one
attempt pass, and it is not held there again"; DESIGN.md: a message can arrive twice.
(Fixed: a create message is checked against the step's record as any other.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import StepAction
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, step_action
from podium.service.breakpoints import set_breakpoint
from podium.service.inbox import handle_work
from podium.service.pausing import BREAKPOINT

ME = Actor("alice", "testing")


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(clock=ManualClock(), store=request.param, home=home) as runtime:
        yield runtime


def _record(rt: LocalRuntime, run_id: str) -> Any:
    record = rt.store.get_step(run_id, "after")
    assert record is not None
    return record


def test_a_redelivered_create_message_does_not_hold_a_resumed_step_again(
    rt: LocalRuntime,
) -> None:
    rt.push({"name": "gate", "steps": [
        {"id": "first", "type": "sleep", "seconds": 1},
        {"id": "after", "type": "noop", "depends_on": ["first"]}]})  # fmt: skip
    set_breakpoint(rt.services, "gate", "after")
    run_id = rt.start_run("gate").run_id

    sent: list[Any] = []
    queue = rt.services.work_queue
    send, send_many = queue.send, queue.send_many

    def spy(body: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(body)
        return send(body, *args, **kwargs)

    def spy_many(bodies: Any) -> Any:
        sent.extend(bodies)
        return send_many(bodies)

    queue.send, queue.send_many = spy, spy_many  # type: ignore[method-assign]
    rt.pump()
    queue.send, queue.send_many = send, send_many  # type: ignore[method-assign]
    record = _record(rt, run_id)
    assert (record.status, record.reason) == (StepStatus.PAUSED, BREAKPOINT)
    bodies = [json.loads(b) if isinstance(b, str) else dict(b) for b in sent]
    creates = [b for b in bodies if b.get("step") == "after" and b.get("c")]
    assert creates, bodies  # the claim-by-create message that held it
    first_message = creates[0]

    step_action(rt.services, run_id, "after", StepAction.RESUME, ME)
    assert _record(rt, run_id).status is StepStatus.READY

    handle_work(rt.services, first_message)  # the same message, delivered again
    rt.pump()
    record = _record(rt, run_id)
    assert (record.status, record.attempt) == (StepStatus.SUCCEEDED, 1), (
        record.status,
        record.reason,
    )
    assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED

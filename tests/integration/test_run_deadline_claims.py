"""Nothing starts past a run's deadline, however late its timer is.

A step's claim message handled after the run's deadline, before the run's timer (a
timer can be late: a crash, throttling, EventBridge Scheduler's minute; or the message
itself was), claimed the step and started it: its function ran after the run's
deadline, and only its completion timed the run out. The claim now times the run out
instead (the step is never claimed, its function never called); so does the start of
a successor its predecessor's worker claimed in process just before the deadline (it
ends TIMED_OUT with the run, never started). Found by the
simulation's ``past_run_deadline`` invariant (``callback_run_deadline`` seed 65). On
the memory store, the SQLite home and DynamoDB on moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.inbox import handle_event
from tests.integration.keyed_queue import STORES, keyed_runtime
from tests.integration.test_callback_late_results import clock

CALLS: list[dict[str, Any]] = []
RUN_TIMEOUT_S = 60


def load(event: dict[str, Any]) -> dict[str, Any]:
    CALLS.append(event)
    return {"rows": 1}


@pytest.fixture(params=[*STORES, "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    CALLS.clear()
    with keyed_runtime(request.param) as runtime:
        yield runtime


def test_a_claim_after_the_runs_deadline_times_the_run_out_and_starts_nothing(
    rt: LocalRuntime,
) -> None:
    schedule = rt.services.at

    def late_run_timer(message: Any, due_ms: int, *, queue: str) -> None:
        if not isinstance(message, messages.RunDeadline):  # the run's timer: late
            schedule(message, due_ms, queue=queue)

    rt.services.at = late_run_timer  # type: ignore[method-assign]
    rt.push(
        {
            "name": "late_claim",
            "timeout": RUN_TIMEOUT_S,
            "steps": [
                {"id": "nap", "type": "sleep", "seconds": 30},
                {
                    "id": "b",
                    "type": "lambda",
                    "function": f"{__name__}:load",
                    "depends_on": ["nap"],
                },
            ],
        }
    )
    run_id = rt.start_run("late_claim").run_id
    rt.pump(wait=False)
    run = rt.store.get_run(run_id)
    started = run.started_at if run.started_at is not None else run.created_at
    # The nap's done is handled on time: b's claim message is sent, not handled yet.
    clock(rt).advance_to(started + 30_000)
    for m in rt.event_queue.receive(10):
        handle_event(rt.services, json.loads(m.body))
        rt.event_queue.delete(m.receipt)
    nap = rt.store.get_step(run_id, "nap")
    assert nap is not None and nap.status is StepStatus.SUCCEEDED
    # b's message comes after the run's deadline, before the run's (late) timer.
    clock(rt).advance_to(started + RUN_TIMEOUT_S * 1000 + 5_000)
    rt.pump(advance_time=False)
    assert CALLS == []
    assert rt.store.get_run(run_id).status is RunStatus.TIMED_OUT
    b = rt.store.get_step(run_id, "b")
    assert b is None or (b.status.terminal and b.started_at is None), b


CLOCK: list[Any] = []


def first(event: dict[str, Any]) -> dict[str, Any]:
    """Ends 1 ms before the run's deadline (the test's clock moves while it runs)."""
    clock_, deadline = CLOCK
    clock_.advance_to(deadline - 1)
    return {"ok": True}


def test_an_in_process_successor_claimed_just_by_the_deadline_starts_nothing(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``a`` completes in time and its worker claims ``b`` in process (no message, the
    run's status from its cache); the deadline passes before ``b`` starts: the run
    times out there, ``b`` ends TIMED_OUT with it and its function is never called."""
    from podium.service import attempts

    rt.push(
        {
            "name": "inline_claim",
            "timeout": RUN_TIMEOUT_S,
            "steps": [
                {"id": "a", "type": "lambda", "function": f"{__name__}:first"},
                {"id": "b", "type": "lambda", "function": f"{__name__}:load", "depends_on": ["a"]},
            ],
        }
    )
    hold = attempts.hold_continuation

    def deadline_passes(ctx: Any, run: Any, step: str) -> bool:
        clock(rt).advance_to(CLOCK[1] + 2_000)  # between b's claim and its start
        return hold(ctx, run, step)

    monkeypatch.setattr(attempts, "hold_continuation", deadline_passes)
    run_id = rt.start_run("inline_claim").run_id
    run = rt.store.get_run(run_id)
    started = run.started_at if run.started_at is not None else run.created_at
    CLOCK[:] = [clock(rt), started + RUN_TIMEOUT_S * 1000]
    rt.pump(advance_time=False)
    a = rt.store.get_step(run_id, "a")
    assert a is not None and a.status is StepStatus.SUCCEEDED
    b = rt.store.get_step(run_id, "b")
    assert b is not None and b.status is StepStatus.TIMED_OUT, b  # claimed, never started
    assert CALLS == []
    assert rt.store.get_run(run_id).status is RunStatus.TIMED_OUT

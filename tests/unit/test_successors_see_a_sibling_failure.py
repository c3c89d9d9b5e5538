"""fail_after_running with a slow branch: a step that succeeds after a sibling branch
failed must not release its successors (workflow-language.md, Failure modes: "no new
step starts, except handlers ... steps already decided ready or running finish").

The worker of a synchronous step (a lambda, minutes long on AWS) reads its run once,
before it invokes the function, and decides the step's successors from that read when
the function returns. A failure of another branch in between (another worker) was not
seen: the successors were decided READY in a run that was failing, and they ran. The
step's end decides on a read of the last second now (service/run_reads.py).

Driven on the memory store with a manual clock: while ``b``'s function runs, the claim
message of the parallel root ``a`` is handled (as another worker would), and ``a``
fails. Everything else is the real service code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.decide import RUN_FAILING
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import inbox, messages

HERE = "tests.unit.test_successors_see_a_sibling_failure"
RUNTIME: list[LocalRuntime] = []
INVOKED: list[str] = []


def breaks(event: dict[str, Any]) -> None:
    raise ValueError("the source table is empty")


def slow_branch(event: dict[str, Any]) -> str:
    # While this function runs, another worker handles the parallel root's claim: it
    # fails (no retries), and the run is flagged failing.
    run_id = event["run"]["id"]
    ctx = RUNTIME[0].services
    inbox.handle_work(ctx, messages.encode(messages.Exec(run_id, "check", 1)))
    assert ctx.store.get_run(run_id).failing  # the failure is recorded before we return
    clock = RUNTIME[0].clock
    assert isinstance(clock, ManualClock)
    clock.advance(120_000)  # the load goes on for two more minutes
    return "loaded"


def publish(event: dict[str, Any]) -> str:
    INVOKED.append(event["step"])
    return "published"


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    INVOKED.clear()
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        RUNTIME[:] = [runtime]
        yield runtime
    RUNTIME.clear()


def test_successors_of_a_step_that_ends_after_a_sibling_failed_do_not_start(
    rt: LocalRuntime,
) -> None:
    view = rt.run(
        {
            "name": "slow_branch_after_failure",
            "steps": [
                {"id": "load", "type": "lambda", "function": f"{HERE}:slow_branch"},
                {"id": "check", "type": "lambda", "function": f"{HERE}:breaks"},
                # Two successors: one the worker would run in-process, one by message.
                {
                    "id": "publish",
                    "type": "lambda",
                    "function": f"{HERE}:publish",
                    "depends_on": ["load"],
                },
                {
                    "id": "notify",
                    "type": "lambda",
                    "function": f"{HERE}:publish",
                    "depends_on": ["load"],
                },
            ],
        }
    )
    steps = {s.step: s for s in view.steps}
    assert view.run.status is RunStatus.FAILED
    assert steps["check"].status is StepStatus.FAILED
    assert steps["load"].status is StepStatus.SUCCEEDED
    # "check" failed before "load" ended: nothing below "load" may start.
    assert INVOKED == [], f"started in a failing run: {INVOKED}"
    for succ in ("publish", "notify"):
        assert steps[succ].status is StepStatus.SKIPPED, (succ, steps[succ])
        assert steps[succ].reason == RUN_FAILING

"""A step error's type was stored unclipped.

DESIGN.md: "the 400 KB DynamoDB item limit is never reached by user data". A failed
attempt's message was clipped to 2,048 characters and its traceback to 16 KiB
(core/engine/step_error.py StepError.of), but its ``type`` was kept whole: it is the
exception's class name locally (adapters/runners.py, ``type(exc).__name__``) and
Lambda's ``errorType`` deployed (LambdaFunctionRunner._result), both chosen by the
user's code. It is written twice on the step item (``et``, and ``er`` = "type: message")
by the attempt's end, and to the run's error. Past 400 KB the end's write was refused
(ValidationException: Item size to update has exceeded the maximum allowed size): the
worker failed, the attempt stayed RUNNING until its lease passed, and it was then
retried as a lost worker, invoking the function again each time, though the step has no
retries at all.

Now the type is clipped as the message is (``MAX_TYPE_BYTES``: 1 KiB, above any name a
retrier can match), and the step fails once, with its error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.sweep import sweep

HERE = "tests.integration.test_payload_error_type_clipped"
CALLS: list[int] = []
# A class made at run time (a library naming errors after the data it rejected).
LongNamed = type("InvalidRecord_" + "x" * 450_000, (Exception,), {})


def refuses(event: dict[str, Any]) -> None:
    CALLS.append(1)
    raise LongNamed("bad record")


WF = {
    "name": "long_error_type",
    "steps": [{"id": "a", "type": "lambda", "function": f"{HERE}:refuses"}],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    CALLS.clear()
    with LocalRuntime(store="moto", clock=ManualClock()) as runtime:  # DynamoDB's limits
        yield runtime


def test_a_long_error_type_fails_the_step_once(rt: LocalRuntime) -> None:
    rt.push(WF)
    run_id = rt.start_run("long_error_type").run_id
    for _ in range(3):  # the sweeper's passes over an hour and a half
        rt.pump()
        a = {s.step: s for s in rt.describe(run_id).steps}["a"]
        if a.status.terminal:
            break
        rt.clock.advance(30 * 60 * 1000)  # type: ignore[union-attr]
        sweep(rt.services, rt.store)
    a = {s.step: s for s in rt.describe(run_id).steps}["a"]
    # Before: RETRY_WAIT at attempt 3 ("Podium.PlatformError: the worker running this
    # attempt stopped before it recorded a result"), the function called 3 times.
    assert a.status is StepStatus.FAILED, (a.status, a.attempt, (a.error or "")[:120])
    assert len(CALLS) == 1
    assert a.error is not None and len(a.error.encode()) < 64 * 1024

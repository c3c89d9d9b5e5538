"""A duplicate of an attempt's claim message, delivered after the attempt failed and its
retry was scheduled (SQS delivers at least once), must not rewrite the attempt's error.

workflow-language.md: "A failed attempt's error is structured: {type, message,
retryable, details} plus the traceback when there is one. The step keeps a one-line
summary (error, error_type); the whole error is a timeline event (retry or failed) of
the run, shown by the API and podium runs show."

The lost claim of the duplicate redoes the retry's follow-ups (service/attempts.
after_retry_wait, for a worker that died after the RETRY_WAIT write) and records the
retry event again from the step item's one-line summary, under the same id: the
structured error was overwritten, its message said the type twice
("ValueError: ValueError: ...") and its traceback was gone. A replay writes the event
only if the first write never happened now (put_event_once)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import messages

HERE = "tests.unit.test_retry_error_kept_on_replay"


def flaky(event: dict[str, Any]) -> str:
    if event["attempt"] == 1:
        raise ValueError("row 7 has no id")
    return "ok"


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def _retry_event(rt: LocalRuntime, run_id: str) -> Any:
    (event,) = [e for e in rt.store.list_events(run_id) if e.event_id == "retry-load-1"]
    return event


def test_a_duplicate_claim_after_a_retry_keeps_the_structured_error(rt: LocalRuntime) -> None:
    rt.push(
        {
            "name": "dup_claim_after_retry",
            "steps": [
                {
                    "id": "load",
                    "type": "lambda",
                    "function": f"{HERE}:flaky",
                    "retries": 2,
                    "retry_delay_seconds": 30,
                }
            ],
        }
    )
    run = rt.start_run("dup_claim_after_retry")
    rt.pump(wait=False)  # attempt 1 fails; attempt 2 is due in 30 s
    step = rt.store.get_step(run.run_id, "load")
    assert step is not None and step.status is StepStatus.RETRY_WAIT and step.attempt == 1
    first = _retry_event(rt, run.run_id).detail
    assert first["error_detail"]["message"].startswith("row 7 has no id")
    assert "traceback" in first["error_detail"]

    # The claim message of attempt 1 is delivered again.
    rt.work_queue.send(messages.encode(messages.Exec(run.run_id, "load", 1)))
    rt.pump(wait=False)

    again = _retry_event(rt, run.run_id).detail
    assert again["error_detail"]["message"] == first["error_detail"]["message"], again
    assert again["error"] == first["error"]
    assert again["error_detail"].get("traceback") == first["error_detail"]["traceback"]

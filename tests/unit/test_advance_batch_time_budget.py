"""The advance function is deployed with a 60 s timeout and batches of 10
(infra/podium_cdk/functions.py handler_specs, props.advance_batch_size), so a fresh
invocation has a little under 60,000 ms left. handlers/_sqs.run_batch gave back, as a
batch item failure, every record after the first once no more than CONTINUE_MARGIN_MS
(60,000 ms) was left: on the advance function that was always. So 9 of every 10 event
messages were returned unhandled on every delivery; each return counts as a receive, and
after 5 of them (maxReceiveCount) a healthy start/done/timer message was dead-lettered.
A fresh invocation handles its whole batch (the margin is at most half of what the
batch began with)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium import bootstrap
from podium.adapters.clock import ManualClock
from podium.core.engine.status import StepStatus
from podium.handlers import advance
from podium.local.runtime import LocalRuntime
from tests.unit.test_sqs_batches import record

# A fresh invocation of the deployed advance function (timeout 60 s).
FRESH_ADVANCE_MS = 59_800


class FreshAdvanceContext:
    function_name = "podium-advance"
    aws_request_id = "r24"

    def get_remaining_time_in_millis(self) -> int:
        return FRESH_ADVANCE_MS


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def test_a_fresh_advance_invocation_handles_every_record_of_its_batch(rt: LocalRuntime) -> None:
    rt.push(
        {
            "name": "r24_budget",
            "run_strategy": {"parallel": 5},
            "steps": [{"id": "only", "type": "noop"}],
        }
    )
    runs = [rt.start_run("r24_budget").run_id for _ in range(3)]
    event = {"Records": [record(f"m{i}", {"t": "start", "run": r}) for i, r in enumerate(runs)]}

    answer = advance.handler(event, FreshAdvanceContext())

    # Was: [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}] (NoTimeLeft: "59800 ms
    # left: given back unclaimed") although the invocation had not even begun.
    assert answer["batchItemFailures"] == []
    store = bootstrap.services().store
    for run_id in runs:  # every run's root was made ready (its exec message sent)
        step = store.get_step(run_id, "only")
        assert step is not None and step.status is StepStatus.READY, run_id

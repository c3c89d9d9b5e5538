"""Nothing the events function is sent makes it raise (a retry could not fix a malformed
event: it is dropped). An ECS state change whose ``containers`` is not a list, and a
Step Functions one whose ``outputDetails`` is not an object, raised while the event was
trimmed (service/external_events.py): the Lambda failed and EventBridge retried the
same event into the dead-letter queue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.handlers import events
from podium.local.runtime import LocalRuntime

BASE = {
    "version": "0",
    "id": "e-1",
    "account": "123456789012",
    "time": "2026-01-01T00:00:00Z",
    "region": "us-east-1",
    "resources": [],
}


@pytest.fixture
def wired() -> Iterator[None]:
    with LocalRuntime(store="memory", clock=ManualClock()):
        yield


@pytest.mark.parametrize(
    "event",
    [
        {
            **BASE,
            "source": "aws.ecs",
            "detail-type": "ECS Task State Change",
            "detail": {"startedBy": "run1/step/1", "lastStatus": "STOPPED", "containers": 5},
        },
        {
            **BASE,
            "source": "aws.states",
            "detail-type": "Step Functions Execution Status Change",
            "detail": {"name": "run1.step.1", "status": "SUCCEEDED", "outputDetails": "x"},
        },
        {
            **BASE,
            "source": "aws.states",
            "detail-type": "Step Functions Execution Status Change",
            "detail": {"name": "run1.step.1", "status": "SUCCEEDED", "outputDetails": [1]},
        },
    ],
    ids=["ecs-containers-int", "sfn-outputDetails-str", "sfn-outputDetails-list"],
)
def test_a_malformed_external_state_change_is_dropped_not_raised(
    wired: None, event: dict[str, Any]
) -> None:
    # Was: TypeError ('int' object is not iterable, external_events.py _ecs_trim) or
    # AttributeError ('str' object has no attribute 'get', _sfn_trim).
    answer = events.handler(event, None)
    assert isinstance(answer, dict)

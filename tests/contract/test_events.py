"""Contract suite for the Events port, run on both adapters: EventBridge (on moto, a rule
on the bus sending everything Podium puts there to a queue, as a user's rule would) and
the in-memory one the embedded runtime keeps (and routes to its own bus triggers).

The contract: every event given to ``publish`` is put on the bus once, as ``source:
podium`` with its ``detail-type`` and ``detail``, whatever the number in one call
(PutEvents takes 10 at a time); nothing is put for an empty call. Delivery to consumers
is at least once on AWS: consumers de-duplicate (docs/events.md), so this suite only
checks that each event arrives."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium.adapters.events import EventBridgeEvents, MemoryEvents

Delivered = Callable[[], list[dict[str, Any]]]


@pytest.fixture(params=["eventbridge", "memory"])
def bus(request: pytest.FixtureRequest) -> Iterator[tuple[Any, Delivered]]:
    if request.param == "memory":
        memory = MemoryEvents()
        yield memory, lambda: [{"source": "podium", **e} for e in memory.published]
        return
    with mock_aws():
        events = boto3.client("events", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        events.create_event_bus(Name="podium-bus")
        url = sqs.create_queue(QueueName="everything")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        events.put_rule(
            Name="all", EventBusName="podium-bus", EventPattern=json.dumps({"source": ["podium"]})
        )
        events.put_targets(
            Rule="all",
            EventBusName="podium-bus",
            Targets=[{"Id": "q", "Arn": arn["Attributes"]["QueueArn"]}],
        )

        def delivered() -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
                "Messages", []
            ):
                for m in got:
                    body = json.loads(m["Body"])
                    out.append({k: body[k] for k in ("source", "detail-type", "detail")})
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            return out

        yield EventBridgeEvents(events, "podium-bus"), delivered


def event(n: int) -> dict[str, Any]:
    return {"detail-type": "Podium Run Status Change", "detail": {"run_id": f"r{n}", "n": n}}


def key(e: dict[str, Any]) -> int:
    return int(e["detail"]["n"])


def test_each_event_is_put_once_as_podiums(bus: tuple[Any, Delivered]) -> None:
    events, delivered = bus
    events.publish([event(1), event(2)])
    events.publish([event(3)])
    got = sorted(delivered(), key=key)  # a standard queue keeps no order
    assert got == [{"source": "podium", **event(n)} for n in (1, 2, 3)]


def test_more_than_one_put_events_call_holds(bus: tuple[Any, Delivered]) -> None:
    events, delivered = bus
    events.publish([event(n) for n in range(23)])  # PutEvents takes 10 at a time
    assert sorted(key(e) for e in delivered()) == list(range(23))


def test_an_empty_publish_puts_nothing(bus: tuple[Any, Delivered]) -> None:
    events, delivered = bus
    events.publish([])
    assert delivered() == []


def test_memory_events_keep_only_the_newest_once_routed() -> None:
    """A long-running podium dev kept every event the engine ever published."""
    from podium.adapters.events import MemoryEvents

    events = MemoryEvents(keep=3)
    events.publish([{"detail-type": "x", "detail": {"n": n}} for n in range(5)])
    assert [e["detail"]["n"] for e in events.take_unrouted()] == [0, 1, 2, 3, 4]
    assert [e["detail"]["n"] for e in events.published] == [2, 3, 4]
    events.publish([{"detail-type": "x", "detail": {"n": 5}}])
    assert [e["detail"]["n"] for e in events.take_unrouted()] == [5]
    assert [e["detail"]["n"] for e in events.published] == [3, 4, 5]

"""The batch sizes the bench prices a deployment at are the deployment's defaults
(infra/podium_cdk/props.py), and the embedded runtime can deliver each queue in its own
batch size."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from podium.bench.engine import BATCH_SIZES
from podium.local.runtime import LocalRuntime

PROPS = Path(__file__).parents[2] / "infra" / "podium_cdk" / "props.py"


def _default(field: str) -> int:
    """``PodiumProps.<field>``'s default, read from its source (importing the CDK
    construct would start node)."""
    found = re.search(rf"^\s*{field}: int = (\d+)", PROPS.read_text(), re.M)
    assert found, f"PodiumProps.{field} not found"
    return int(found.group(1))


def test_the_bench_batch_sizes_are_the_deployed_defaults() -> None:
    """What was wrong: the bench counted invocations, receives and deletes at the
    embedded runtime's batch of 10 messages on both queues, where a deployment's work
    function takes 1 (``work_batch_size``) and its advance function 10
    (``advance_batch_size``); nothing tied the bench's figures to the deployment's.
    Expected: engine.BATCH_SIZES holds PodiumProps' defaults."""
    assert dict(BATCH_SIZES) == {
        "work": _default("work_batch_size"),
        "events": _default("advance_batch_size"),
    }


def _two_work_messages_and_two_events(rt: LocalRuntime) -> None:
    for body in ("w1", "w2"):
        rt.work_queue.send({"t": body})
    for body in ("e1", "e2"):
        rt.event_queue.send({"t": body})


def test_each_queue_is_delivered_in_its_own_batch_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """What was wrong: LocalRuntime had one ``batch_size`` for both queues, so the
    bench could not deliver the work queue one message at a time (as a deployment's
    work function takes them) and the event queue ten at a time.
    Expected: ``work_batch_size`` and ``event_batch_size`` each set their queue's batch;
    ``batch_size`` alone still sets both."""
    batches: list[tuple[str, int]] = []

    def record(queue: object, handler: object, batch: list[object], context: object) -> int:
        batches.append((getattr(queue, "name", "?"), len(batch)))
        return len(batch)

    with LocalRuntime(store="memory", work_batch_size=1, event_batch_size=10) as rt:
        monkeypatch.setattr(rt, "_handle", record)
        _two_work_messages_and_two_events(rt)
        while rt._deliver(rt.work_queue, lambda *_: {}, None):
            pass
        rt._deliver(rt.event_queue, lambda *_: {}, None)
    assert batches == [("work", 1), ("work", 1), ("events", 2)]
    with LocalRuntime(store="memory", batch_size=1) as rt:
        assert (rt.work_batch_size, rt.event_batch_size) == (1, 1)
    with pytest.raises(ValueError):
        LocalRuntime(store="memory", work_batch_size=0)

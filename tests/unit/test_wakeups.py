"""Loop wake-ups: one per loop per batch (service/wakeups.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.wakeups import collected, wake_loop
from tests.conftest import queued_noop_loop


@pytest.fixture(params=["memory", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    with LocalRuntime(store=request.param, clock=ManualClock()) as runtime:
        yield runtime


def _wakeups(rt: LocalRuntime) -> list[dict[str, Any]]:
    """Record the counted wake-ups the event queue is sent."""
    seen: list[dict[str, Any]] = []
    queue = rt.event_queue
    send, send_many = queue.send, queue.send_many

    def keep(body: Any) -> None:
        data = body if isinstance(body, dict) else json.loads(body)
        if data.get("t") == "done" and data.get("e", {}).get("counted"):
            seen.append(data)

    def one(message: Any, delay_seconds: int = 0) -> None:
        keep(message)
        send(message, delay_seconds)

    def many(batch: Any) -> None:
        for message in batch:
            keep(message)
        send_many(batch)

    queue.send, queue.send_many = one, many  # type: ignore[method-assign]
    return seen


def test_the_iterations_ended_in_one_batch_wake_their_loop_once(rt: LocalRuntime) -> None:
    # Each work batch (10 messages) ends up to 10 iterations of the loop: it sends one
    # wake-up for them, not ten; the loop still runs every iteration once.
    seen = _wakeups(rt)
    view = rt.run(queued_noop_loop(60, concurrency=100))
    assert view.run.status is RunStatus.SUCCEEDED
    each = rt.services.store.get_step(view.run.run_id, "each")
    assert each is not None and (each.children_ok, each.children_launched) == (60, 60)
    assert 0 < len(seen) <= 60 // 10 + 2, len(seen)


def test_a_wake_up_outside_a_batch_is_sent_at_once_and_inside_one_per_loop() -> None:
    sent: list[Any] = []

    class Queue:
        def send(self, message: Any, delay_seconds: int = 0) -> None:
            sent.append([message])

        def send_many(self, batch: Any) -> None:
            sent.append(list(batch))

    class Ctx:
        event_queue = Queue()

    ctx: Any = Ctx()

    def done(step: str, index: int) -> messages.Done:
        return messages.Done("r1", step, 1, {"kind": "child", "index": index, "counted": True})

    wake_loop(ctx, done("a", 0))
    assert len(sent) == 1
    with pytest.raises(RuntimeError), collected(ctx):
        wake_loop(ctx, done("a", 1))
        wake_loop(ctx, done("a", 2))
        wake_loop(ctx, done("b", 0))
        assert len(sent) == 1  # kept until the batch ends
        raise RuntimeError("a record failed: the others' wake-ups still go")
    assert [[m["step"] for m in batch] for batch in sent] == [["a"], ["a", "b"]]
    wake_loop(ctx, done("a", 3))  # the batch is over: at once again
    assert len(sent) == 3
    with pytest.raises(KeyboardInterrupt), collected(ctx):
        wake_loop(ctx, done("c", 0))
        raise KeyboardInterrupt  # the process goes down: nothing more is sent
    assert len(sent) == 3


def test_a_batchs_deferred_counts_are_written_together_before_its_wake_ups() -> None:
    # Iterations ended in one batch with their counts deferred: one count_children per
    # loop and outcome at the batch's end, then the wake-ups; a process going down
    # writes and sends nothing (the loop's poll counts them).
    calls: list[Any] = []

    class Queue:
        def send(self, message: Any, delay_seconds: int = 0) -> None:
            calls.append(("send", message["step"]))

        def send_many(self, batch: Any) -> None:
            calls.append(("send_many", [m["step"] for m in batch]))

    class Store:
        def count_children(self, run: str, step: str, indexes: list[int], outcome: str) -> int:
            calls.append(("count", step, sorted(indexes), outcome))
            if step == "b":
                raise RuntimeError("throttled: the poll counts these")
            return len(indexes)

    class Ctx:
        event_queue = Queue()
        store = Store()

    ctx: Any = Ctx()

    def done(step: str, index: int) -> messages.Done:
        return messages.Done("r1", step, 1, {"kind": "child", "index": index, "counted": True})

    with collected(ctx):
        wake_loop(ctx, done("a", 4), (4, "ok"))
        wake_loop(ctx, done("b", 0), (0, "ok"))
        wake_loop(ctx, done("a", 5), (5, "ok"))
        wake_loop(ctx, done("a", 6))  # counted with its end already
        assert calls == []
    assert calls == [
        ("count", "a", [4, 5], "ok"),
        ("count", "b", [0], "ok"),  # its failure does not stop the wake-ups
        ("send_many", ["a", "b"]),
    ]
    calls.clear()
    with pytest.raises(KeyboardInterrupt), collected(ctx):
        wake_loop(ctx, done("a", 7), (7, "ok"))
        raise KeyboardInterrupt
    assert calls == []
    with pytest.raises(AssertionError):  # a deferred count needs a batch to write it
        wake_loop(ctx, done("a", 8), (8, "ok"))

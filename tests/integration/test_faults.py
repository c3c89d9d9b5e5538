"""Fault injection: a crash between any two store calls, throttling, lost messages.

The invariants: the run still ends in the same state, no (step, attempt) is invoked
twice, and nothing stays stuck (redelivery and the sweeper re-drive everything)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.sweep import sweep

CALLS: Counter[str] = Counter()


def counted(event: dict[str, Any]) -> str:
    CALLS[f"{event['run']['id']}/{event['step']}/{event['attempt']}"] += 1
    return event["step"]


FN = "tests.integration.test_faults:counted"
WORKFLOW = {
    "name": "faulty",
    "steps": [
        # One retry each: a crash right after a claim loses that attempt (its lease
        # expires and it counts as failed), and the retry must then succeed.
        {"id": "a", "type": "lambda", "function": FN, "retries": 1},
        {"id": "b", "type": "lambda", "function": FN, "depends_on": ["a"], "retries": 1},
        {"id": "c", "type": "lambda", "function": FN, "depends_on": ["a"], "retries": 1},
        {"id": "d", "type": "lambda", "function": FN, "depends_on": ["b", "c"], "retries": 1},
        {"id": "e", "type": "lambda", "function": FN, "depends_on": ["d"], "retries": 1},
        {"id": "f", "type": "fail", "depends_on": ["e"], "retries": 1, "retry_delay_seconds": 1},
    ],
}
WRITES = (
    "create_step",
    "transition_step",
    "arrive",
    "mark_run_failing",
    "transition_run",
    "put_event",
)


class Crash(Exception):
    """The Lambda died right after this call returned."""


class CrashAfter:
    """Wraps a store: the n-th write succeeds, then the process 'dies'."""

    def __init__(self, inner: Any, n: int) -> None:
        self._inner, self._n, self.writes = inner, n, 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in WRITES:
            return attr

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            self.writes += 1
            if self.writes == self._n:
                raise Crash(f"died after write {self._n} ({name})")
            return result

        return wrapped


def run_with_crash(n: int) -> tuple[Any, int]:
    with LocalRuntime(clock=ManualClock()) as rt:
        rt.push(WORKFLOW)
        crashing = CrashAfter(rt.store, n)
        rt.services.store = crashing  # type: ignore[assignment]
        run = rt.start_run("faulty")
        for _ in range(5):  # redeliveries first, then sweeps for what no message covers
            rt.pump()
            rt.clock.advance(rt.services.stale_ready_ms + rt.services.lease_ms)
            sweep(rt.services, rt.store)
        rt.pump()
        return rt.describe(run.run_id), crashing.writes


def test_baseline_without_crash() -> None:
    view, writes = run_with_crash(10_000)
    assert view.run.status is RunStatus.FAILED
    assert {s.step: s.status for s in view.steps}["e"] is StepStatus.SUCCEEDED
    assert writes > 10


@pytest.mark.parametrize("n", range(1, 22))
def test_crash_after_any_write_loses_nothing_and_runs_nothing_twice(n: int) -> None:
    view, _ = run_with_crash(n)
    assert view.run.status is RunStatus.FAILED, [(s.step, s.status) for s in view.steps]
    by_step = {s.step: s for s in view.steps}
    for name in "abcde":
        assert by_step[name].status is StepStatus.SUCCEEDED, name
    assert by_step["f"].status is StepStatus.FAILED and by_step["f"].attempt == 2
    invoked = {k: v for k, v in CALLS.items() if k.startswith(view.run.run_id)}
    assert set(invoked.values()) == {1}, invoked  # at most once per attempt


def test_a_lost_work_message_is_redriven_by_the_sweeper() -> None:
    with LocalRuntime(clock=ManualClock()) as rt:
        rt.push(WORKFLOW)
        run = rt.start_run("faulty")
        rt._deliver(
            rt.event_queue, __import__("podium.handlers.advance", fromlist=["x"]).handler, None
        )
        while rt.work_queue.receive(10):  # the work message for 'a' is lost
            pass
        rt.work_queue = rt.services.work_queue  # unchanged queue object, now drained
        rt.clock.advance(rt.services.stale_ready_ms + 1)
        report = sweep(rt.services, rt.store)
        assert report.redriven == [f"{run.run_id}/a"]
        rt.clock.advance(10_000_000)  # the lost message's visibility ends too
        rt.pump()
        view = rt.describe(run.run_id)
    assert view.run.status is RunStatus.FAILED
    assert {s.step for s in view.steps if s.status is StepStatus.SUCCEEDED} == set("abcde")


def test_throttled_and_lost_replies_are_retried_harmlessly() -> None:
    """ProvisionedThroughputExceeded on every other call (60 in all, within botocore's
    retry quota). On moto the throttled write is also applied, so this is the harder
    fault too: a write that succeeded but whose reply was lost. The standard retry mode
    backs off and repeats, and the conditional writes turn the repeat into a no-op."""
    from botocore.awsrequest import AWSResponse

    throttled = Counter[str]()

    def throttle(request: Any, **_: Any) -> AWSResponse | None:
        if throttled["seen"] % 2 == 0 and throttled["throttled"] < 60:
            throttled["seen"] += 1
            throttled["throttled"] += 1
            body = b'{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}'
            return AWSResponse(request.url, 400, {}, _Raw(body))
        throttled["seen"] += 1
        return None

    with LocalRuntime(clock=ManualClock()) as rt:
        rt.dynamodb.meta.events.register_first("before-send.dynamodb", throttle)
        rt.push(WORKFLOW)
        run = rt.start_run("faulty")
        for _ in range(4):  # a claim whose reply was lost is recovered by its lease
            rt.pump()
            rt.clock.advance(rt.services.stale_ready_ms + rt.services.lease_ms)
            sweep(rt.services, rt.store)
        rt.pump()
        view = rt.describe(run.run_id)
    assert throttled["throttled"] > 10
    # Half of all calls faulted: attempts may be lost (and the run may fail on them),
    # but the run is never stuck and no attempt ran twice.
    assert view.run.status.terminal
    assert all(s.status.terminal for s in view.steps)
    invoked = {k: v for k, v in CALLS.items() if k.startswith(view.run.run_id)}
    assert set(invoked.values()) <= {1}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any) -> bytes:
        body, self._body = self._body, b""
        return body


def test_a_run_whose_check_raises_does_not_stop_the_sweep_of_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two runs lost their work messages; checking the first raises (a bug, a payload it
    # cannot read, throttling past the retries). The second is still re-driven, and the
    # first stays due: the next pass looks at it again.
    from podium.service import sweep as sweeping

    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        for name in ("one", "two"):
            rt.push({"name": name, "steps": [{"id": "a", "type": "noop"}]})
        first, second = rt.start_run("one").run_id, rt.start_run("two").run_id
        from podium.handlers import advance

        rt._deliver(rt.event_queue, advance.handler, None)
        while rt.work_queue.receive(10):  # both runs' work messages are lost
            pass
        rt.clock.advance(rt.services.stale_ready_ms + 1)
        check = sweeping._check_run

        def broken(ctx: Any, run: Any, now: int, report: Any) -> None:
            if run.run_id == first:
                raise RuntimeError("this run cannot be checked")
            check(ctx, run, now, report)

        monkeypatch.setattr(sweeping, "_check_run", broken)
        report = sweep(rt.services, rt.store)
        assert report.failed == [f"run {first}"]
        assert report.redriven == [f"{second}/a"]
        assert first in rt.store.list_due_run_ids(rt.clock.now_ms(), 10)
        monkeypatch.setattr(sweeping, "_check_run", check)
        assert sweep(rt.services, rt.store).redriven == [f"{first}/a"]

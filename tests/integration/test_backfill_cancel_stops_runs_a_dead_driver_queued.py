"""A backfill's driver that a crash cut short, between the runs it queued and its second
read of the cancel count, while a cancel landed in between (``podium backfill --cancel``).

The cancel's own sweep of the QUEUED runs came before the driver queued its run; the
driver's re-read of the count (``_stop_if_cancelled``) is what stops such a run. When the
worker died before that re-read, the redelivery found the backfill cancelled at its
first read and returned at once: the run queued the first time was never stopped and
ran once the slot freed. The redelivery now stops the runs it could have queued."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.schedule import parse_iso
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.actions import Actor, run_action
from podium.service.backfill import BackfillRequest, backfill_request, cancel, on_driver

WF = {
    "name": "bf_crash",
    "steps": [{"id": "work", "type": "sleep", "seconds": 3600}],
    "triggers": [{"id": "daily", "cron": "0 6 * * *"}],
}


class Crash(BaseException):
    """The worker died here (as a Lambda killed at its timeout: nothing catches it)."""


class _Hooked:
    """A port wrapper that calls ``before[name]`` before a call of ``name``."""

    def __init__(self, inner: Any, before: dict[str, Callable[[], None]]) -> None:
        self._inner = inner
        self._before = before

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        hook = self._before.get(name)
        if hook is None or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            hook()
            return attr(*args, **kwargs)

        return call


class _Store(_Hooked):
    """The store, with hooks on its run slots and trigger states too."""

    def __init__(self, inner: Any, slots: dict[str, Callable[[], None]], states: Any) -> None:
        super().__init__(inner, {})
        self._slots = slots
        self._states = states

    def run_slots(self) -> Any:
        return _Hooked(self._inner.run_slots(), self._slots)

    def trigger_states(self) -> Any:
        return _Hooked(self._inner.trigger_states(), self._states)


def test_a_driver_redelivered_after_a_crash_stops_the_run_it_queued_past_a_cancel() -> None:
    clock = ManualClock(start_ms=parse_iso("2026-04-01T12:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as rt:
        rt.push(WF)
        holder = rt.start_run("bf_crash")  # holds the one slot (sequential) for an hour
        rt.pump(wait=False)
        body = {"from": "2026-03-01", "to": "2026-03-03", "max_active": 1}
        summary = backfill_request(rt.services, "bf_crash", BackfillRequest.model_validate(body))
        first = summary["started"][0]
        second = summary["entries"][1]["run_id"]
        drivers = [b for b in rt.event_queue.bodies() if b.get("t") == "backfill"]
        assert len(drivers) == 1
        driver, _ = messages.decode(drivers[0])
        assert isinstance(driver, messages.BackfillDriver)
        # The first time's run is stopped while QUEUED: the driver has room for the next.
        run_action(rt.services, first, RunAction.STOP, Actor("op"))

        # Its first delivery: a cancel lands after its read of the count and before the
        # run it starts is queued; the worker dies right before it reads the count again.
        answers: list[dict[str, Any]] = []
        reads = {"n": 0}

        def cancel_once() -> None:
            if not answers:
                answers.append(cancel(rt.services, "bf_crash", None, "op"))

        def die_at_the_second_read() -> None:
            reads["n"] += 1
            if reads["n"] == 2:
                raise Crash("the worker died before it read the cancel count again")

        store = _Store(rt.store, {"enqueue": cancel_once}, {"get_state": die_at_the_second_read})
        faulty = dataclasses.replace(rt.services, store=store)
        try:
            on_driver(faulty, driver)
        except Crash:
            pass
        else:  # pragma: no cover - the set-up failed, not the code under test
            raise AssertionError("the crash was not injected")
        assert answers and answers[0]["stopped_queued"] == []  # it came before the run
        assert rt.store.get_run(second).status is RunStatus.QUEUED

        # The message is delivered again (its delete never happened).
        on_driver(rt.services, driver)

        status = rt.store.get_run(second).status
        assert status is RunStatus.STOPPED, (
            f"the cancelled backfill's run {second} is {status.value} after the redelivery:"
            " it runs once the holder's slot frees"
        )
        assert rt.store.get_run(holder.run_id).status is RunStatus.RUNNING

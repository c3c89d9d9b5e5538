"""Copies of a backfill's driver message (SQS delivers a message at least once) each
started a chain of their own, and the chains multiplied without bound.

A backfill with ``max_active`` is driven by a message that re-sends itself every
``DRIVER_INTERVAL_MS`` while runs are left to start, and for as long as the backfill is
paused. Every delivered copy re-sent itself, and each re-sent message could be copied
again: the copies doubled at each duplicated tick (a reviewer saw about 300 in flight
for a 24-time backfill under the simulation's fault rates). Run ids are fixed, so no run
started twice, but each copy cost a delivery, a read per active run and a send, every
30 seconds, for ever while paused. Now the trigger's state holds the driver's tick and a
copy whose tick has moved on drops itself: one driver message in flight per backfill,
whatever is copied, paused, resumed or cancelled; a message sent before drivers had ids
is adopted, its copies one chain."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import parse_iso
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.backfill import (
    DRIVER_INTERVAL_MS,
    BackfillRequest,
    backfill_request,
    cancel,
    on_driver,
    pause,
)
from tests.integration.test_backfill_cancel_stops_runs_a_dead_driver_queued import Crash, _Store

WF = {
    "name": "bf_copies",
    "steps": [{"id": "work", "type": "sleep", "seconds": 60}],
    "triggers": [{"id": "daily", "cron": "0 6 * * *"}],
}
FIVE_DAYS = {"from": "2026-03-01", "to": "2026-03-05", "max_active": 1}
DATES = [f"2026-03-0{d}" for d in range(1, 6)]
COPIES = 5


def backfill_runtime(store: str = "memory", *, twice: bool = False) -> LocalRuntime:
    """The embedded runtime on ``store``, its manual clock at 2026-04-01 12:00 UTC (after
    the backfills' ranges); ``twice``: every batch delivered twice."""
    clock = ManualClock(start_ms=parse_iso("2026-04-01T12:00:00Z"))
    home: Any = ":memory:" if store == "sqlite" else None
    return LocalRuntime(store=store, home=home, clock=clock, deliver_twice=twice)


@pytest.fixture(params=["memory", "sqlite", "moto"])
def store(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def rt(store: str) -> Iterator[LocalRuntime]:
    with backfill_runtime(store) as runtime:
        runtime.push(WF)
        yield runtime


def _drivers(rt: LocalRuntime) -> list[dict[str, Any]]:
    return [b for b in rt.event_queue.bodies() if b.get("t") == "backfill"]


def _tick(rt: LocalRuntime) -> int:
    """One driver interval passes, what is due delivered: the driver messages in flight."""
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    clock.advance(DRIVER_INTERVAL_MS)
    rt.pump(wait=False)
    return len(_drivers(rt))


def _ticks_while_driven(rt: LocalRuntime, limit: int = 40) -> None:
    """Tick until no driver is left, never more than one in flight at once; then the
    last runs run to their end."""
    for n in range(limit):
        flying = _tick(rt)
        assert flying <= 1, f"{flying} driver messages in flight after tick {n + 1}"
        if flying == 0:
            rt.pump()
            return
    raise AssertionError(f"the driver still ticks after {limit} ticks")


def _ask(rt: LocalRuntime) -> dict[str, Any]:
    return backfill_request(rt.services, "bf_copies", BackfillRequest.model_validate(FIVE_DAYS))


def _copy_the_driver(rt: LocalRuntime, times: int = COPIES) -> dict[str, Any]:
    """The driver message in flight, sent ``times`` more times (due when it is)."""
    (body,) = _drivers(rt)
    for _ in range(times):
        rt.event_queue.send(body, DRIVER_INTERVAL_MS // 1000)
    return body


def _dates(rt: LocalRuntime, status: RunStatus | None = None) -> list[str]:
    runs = rt.store.list_runs("bf_copies", 100)
    return sorted(r.logical_date or "" for r in runs if status is None or r.status is status)


def _no_driver_kept(rt: LocalRuntime) -> None:
    state = rt.store.trigger_states().get_state("bf_copies", "daily")
    assert state is not None and dict(state.backfill_drivers) == {}, state


def _dies_before_the_tick_moves_on(rt: LocalRuntime, driver: messages.BackfillDriver) -> None:
    """``driver`` delivered to a worker that dies between its send of the next message and
    its write of the tick."""

    def die() -> None:
        raise Crash("the worker died before it moved the tick on")

    faulty = dataclasses.replace(
        rt.services, store=_Store(rt.store, {}, {"advance_backfill_driver": die})
    )
    with pytest.raises(Crash):
        on_driver(faulty, driver)


def test_copies_of_the_driver_message_drop_themselves(rt: LocalRuntime) -> None:
    summary = _ask(rt)
    assert summary["waiting_for_max_active"] == 4
    _copy_the_driver(rt)
    assert len(_drivers(rt)) == COPIES + 1
    _ticks_while_driven(rt)
    assert _dates(rt, RunStatus.SUCCEEDED) == DATES
    _no_driver_kept(rt)


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_every_message_delivered_twice_keeps_one_driver(store: str) -> None:
    """``deliver_twice``: every batch handed to the handlers twice (each driver tick
    too, where each delivery re-sent its message: twice as many at every tick)."""
    with backfill_runtime(store, twice=True) as rt:
        rt.push(WF)
        _ask(rt)
        _ticks_while_driven(rt)
        assert _dates(rt, RunStatus.SUCCEEDED) == DATES
        _no_driver_kept(rt)


def test_a_paused_driver_copied_stays_one_and_resumes(rt: LocalRuntime) -> None:
    _ask(rt)
    pause(rt.services, "bf_copies", None, True)
    _copy_the_driver(rt)
    for n in range(20):  # ten minutes paused: each copy re-sent itself every tick
        flying = _tick(rt)
        assert flying == 1, f"{flying} driver messages in flight after paused tick {n + 1}"
    assert _dates(rt) == ["2026-03-01"]
    _copy_the_driver(rt)
    pause(rt.services, "bf_copies", None, False)
    _ticks_while_driven(rt)
    assert _dates(rt, RunStatus.SUCCEEDED) == DATES
    _no_driver_kept(rt)


def test_a_cancel_stops_every_copy(rt: LocalRuntime) -> None:
    _ask(rt)
    _copy_the_driver(rt)
    cancel(rt.services, "bf_copies", None, "op")
    assert _tick(rt) == 0
    for _ in range(10):
        _tick(rt)
    assert _dates(rt) == ["2026-03-01"]
    _no_driver_kept(rt)


def test_a_driver_message_from_before_driver_ids_is_adopted_once(rt: LocalRuntime) -> None:
    """A message the release before this one sent has no id and no tick: read, it is
    adopted (its runs' driver, one tick started); its copies are one chain."""
    body = {**FIVE_DAYS, "dry_run": True}
    planned = backfill_request(rt.services, "bf_copies", BackfillRequest.model_validate(body))
    todo = [
        [parse_iso(e["time"]), e["run_id"], None, e["logical_date"]] for e in planned["entries"]
    ]
    legacy = messages.encode(messages.BackfillDriver("bf_copies", "daily", todo, [], 1))
    assert "id" not in legacy and "tick" not in legacy
    for _ in range(COPIES):
        rt.event_queue.send(legacy)
    _ticks_while_driven(rt)
    assert _dates(rt, RunStatus.SUCCEEDED) == DATES
    _no_driver_kept(rt)


def test_a_crash_between_the_send_and_the_tick_keeps_the_backfill_going(
    rt: LocalRuntime,
) -> None:
    """A tick sends the next message, then moves the tick on: a worker that dies between
    the two leaves the tick where it was, and the redelivery does the tick again (the
    extra message it sends drops itself at its tick). The other order would leave a
    tick no message holds: the redelivery would drop itself, and the backfill stop."""
    _ask(rt)
    (body,) = _drivers(rt)
    driver, _ = messages.decode(body)
    assert isinstance(driver, messages.BackfillDriver) and driver.tick == 1
    _dies_before_the_tick_moves_on(rt, driver)
    on_driver(rt.services, driver)  # delivered again (its delete never happened)
    ticks = sorted(b["tick"] for b in _drivers(rt))
    assert ticks == [1, 2, 2], ticks  # the message itself, and the next sent twice
    _ticks_while_driven(rt)
    assert _dates(rt, RunStatus.SUCCEEDED) == DATES
    _no_driver_kept(rt)


def test_a_driver_message_keeps_its_id_and_tick() -> None:
    msg = messages.BackfillDriver("wf", "tr", [], [], 2, cancels=1, driver="abc", tick=7)
    body = messages.encode(msg)
    assert (body["id"], body["tick"]) == ("abc", 7)
    assert messages.decode(body)[0] == msg


def test_a_driver_whose_message_died_after_it_sent_the_next_goes_on(rt: LocalRuntime) -> None:
    """The sender of a driver message died between the send and its write of the tick,
    and its own message was never delivered again (it went to the dead-letter queue):
    the message it sent finds the tick one behind its own, and is the backfill's driver
    all the same."""
    _ask(rt)
    rt.pump(wait=False)
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    clock.advance(DRIVER_INTERVAL_MS)
    received = rt.event_queue.receive(10)
    assert [json.loads(m.body)["t"] for m in received] == ["backfill"]
    rt.event_queue.delete(received[0].receipt)  # gone: to the dead-letter queue
    driver, _ = messages.decode(json.loads(received[0].body))
    assert isinstance(driver, messages.BackfillDriver)
    _dies_before_the_tick_moves_on(rt, driver)
    assert [b["tick"] for b in _drivers(rt)] == [2]
    _ticks_while_driven(rt)
    assert _dates(rt, RunStatus.SUCCEEDED) == DATES
    _no_driver_kept(rt)

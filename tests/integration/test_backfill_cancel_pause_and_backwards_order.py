"""Backfills under faults (a pause, a cancel racing a driver, a cancel of a backfill made
in parts, a trigger changed under a paused driver) and their order under the sequential
run strategy with --backwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from podium.service import backfill
from podium.service.backfill import BackfillRequest, backfill_request, cancel, pause
from tests.integration import test_backfill_cancel as cancel_tests
from tests.integration.test_backfill_cancel import WF
from tests.integration.test_backfill_pause import _a_while, _ask

rt = cancel_tests.rt


def test_a_paused_driver_of_a_trigger_turned_into_an_s3_trigger_stops(
    rt: LocalRuntime,
) -> None:
    """A trigger whose id was kept but which was no longer a schedule (pushed as an s3
    trigger) while its backfill was paused: the driver ticked on for ever (a message
    every 30 s) and neither --resume nor --cancel could reach it ('no cron or rate
    trigger'). It stops now, as it does for a removed trigger."""
    first = _ask(rt)
    assert first["waiting_for_max_active"] == 4
    pause(rt.services, "bf_cancel", None, True)
    rt.push({**WF, "triggers": [{"id": "daily", "s3": {"bucket": "landing", "prefix": "raw/"}}]})
    _a_while(rt, 5)
    stuck = len(rt.event_queue) != 0
    if stuck:
        try:
            cancel(rt.services, "bf_cancel", "daily", "op")
        except DefinitionError as exc:
            pytest.fail(
                "the paused driver still ticks and cannot be cancelled: "
                f"{exc}; queue holds {len(rt.event_queue)} message(s)"
            )
        _a_while(rt, 2)
    assert len(rt.event_queue) == 0, "the paused driver of a no-longer-scheduled trigger ticks on"


DAYS = {
    "name": "bf_back",
    "params": {"day": {"type": "string", "default": "${run.logical_date}"}},
    "steps": [{"id": "wait", "type": "sleep", "seconds": 3600}],
    "triggers": [{"id": "daily", "cron": "0 6 * * *", "timezone": "Europe/Berlin"}],
}


@pytest.fixture
def seq() -> Iterator[LocalRuntime]:
    with LocalRuntime(clock=ManualClock(start_ms=parse_iso("2026-04-01T00:00:00Z"))) as runtime:
        runtime.push(DAYS)  # run_strategy: sequential (the default)
        yield runtime


def test_backwards_runs_newest_first_under_the_sequential_strategy(seq: LocalRuntime) -> None:
    """`podium backfill --backwards` on a sequential workflow ran the newest day first,
    then the oldest, then on forwards: the queue ordered runs started in one millisecond
    by run id, whose time part is the scheduled time, not by the order they were queued.
    The runs start newest first now, in the order the plan gives."""
    plan = backfill.plan(seq.services, "bf_back", "2026-03-01", "2026-03-05", backwards=True)
    assert [e.logical_date for e in plan.entries] == [f"2026-03-0{d}" for d in (5, 4, 3, 2, 1)]
    backfill.execute(seq.services, plan)
    seq.pump()
    runs = sorted(seq.store.list_runs("bf_back", 100), key=lambda r: r.started_at or 0)
    order = [r.logical_date for r in runs]
    assert order == [f"2026-03-0{d}" for d in (5, 4, 3, 2, 1)], f"started in order {order}"


LONG = {
    "name": "bf_race",
    "steps": [{"id": "work", "type": "sleep", "seconds": 3600}],
    "triggers": [{"id": "daily", "cron": "0 6 * * *"}],
}


def test_a_cancel_landing_during_a_driver_tick_leaves_no_backfill_run_queued(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A cancel that landed while a driver tick was starting its next run (after the
    tick read the cancel count, before its start): the cancel's sweep of QUEUED runs
    came before that run was queued, the driver then queued it, and it ran later
    although the backfill was cancelled. The driver reads the cancel again after its
    starts and stops that run."""
    from podium.core.engine.actions import RunAction
    from podium.core.engine.status import RunStatus
    from podium.service.actions import Actor, run_action

    clock = ManualClock(start_ms=parse_iso("2026-04-01T12:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as rt:
        rt.push(LONG)
        holder = rt.start_run("bf_race")  # holds the sequential slot for an hour
        body = {"from": "2026-03-01", "to": "2026-03-05", "max_active": 1}
        first = backfill_request(rt.services, "bf_race", BackfillRequest.model_validate(body))
        [day1] = first["started"]
        assert rt.store.get_run(day1).status is RunStatus.QUEUED
        # An operator stops the queued first run: the driver's next tick starts day 2.
        run_action(rt.services, day1, RunAction.STOP, Actor("op"))

        real_start = backfill._start
        cancelled: list[dict[str, object]] = []

        def start_racing_a_cancel(*args: object, **kwargs: object) -> object:
            if not cancelled:  # the cancel lands between the tick's check and its start
                cancelled.append(cancel(rt.services, "bf_race", None, "op"))
            return real_start(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(backfill, "_start", start_racing_a_cancel)
        _a_while(rt, 2)  # the driver ticks
        assert cancelled, "the driver did not tick"
        left = [
            (r.logical_date, r.status.value)
            for r in rt.store.list_runs("bf_race", 100)
            if r.run_id != holder.run_id and not r.status.terminal
        ]
        assert rt.store.get_run(holder.run_id).status is RunStatus.RUNNING
        assert left == [], f"cancelled backfill runs still waiting to run: {left}"


def test_a_cancel_stops_every_queued_run_of_a_backfill_made_in_parts() -> None:
    """A range over 1,000 times was backfilled in parts, as the refusal says; a cancel
    then stopped only the first 1,000 QUEUED runs it read (one page of
    MAX_BACKFILL_RUNS) and the rest of the cancelled backfill ran anyway. The cancel
    pages through the whole queue now."""
    wf = {
        "name": "bf_parts",
        "steps": [{"id": "w", "type": "sleep", "seconds": 3600}],
        "triggers": [{"id": "daily", "cron": "0 6 * * *"}],
    }
    clock = ManualClock(start_ms=parse_iso("2026-04-01T12:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as rt:
        rt.push(wf)
        for start, end in (("2023-07-06", "2026-03-31"), ("2023-06-01", "2023-07-05")):
            body = BackfillRequest.model_validate({"from": start, "to": end})
            backfill_request(rt.services, "bf_parts", body)
        answer = cancel(rt.services, "bf_parts", None, "op")
        left = [r for r in rt.store.list_runs("bf_parts", 5000) if r.status.value == "QUEUED"]
        assert left == [], (
            f"{len(left)} run(s) of the cancelled backfill still QUEUED"
            f" (stopped {len(answer['stopped_queued'])})"
        )

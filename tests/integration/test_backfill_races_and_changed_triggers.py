"""Backfills whose trigger changed under an unpaused driver, and a cancel racing the
start of a backfill's first runs (podium backfill / POST /workflows/{name}/backfill)."""

from __future__ import annotations

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import parse_iso
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service import backfill
from podium.service.backfill import BackfillRequest, backfill_request, cancel
from tests.integration.test_backfill_pause import _a_while

S3_PARAMS = {
    "name": "bf_turned",
    "params": {"key": {"type": "string"}},
    "steps": [{"id": "work", "type": "sleep", "seconds": 60}],
    "triggers": [{"id": "daily", "cron": "0 6 * * *", "params": {"key": "scheduled"}}],
}


def test_an_unpaused_driver_of_a_trigger_turned_into_an_s3_trigger_starts_nothing() -> None:
    """A backfill's driver whose trigger kept its id but became an s3 trigger went on
    starting the backfill's runs, with the s3 trigger's params rendered from a
    backfill's event (``_start`` looked for the id only)."""
    clock = ManualClock(start_ms=parse_iso("2026-04-01T12:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as rt:
        rt.push(S3_PARAMS)
        body = {"from": "2026-03-01", "to": "2026-03-04", "max_active": 1}
        first = backfill_request(rt.services, "bf_turned", BackfillRequest.model_validate(body))
        assert len(first["started"]) == 1 and first["waiting_for_max_active"] == 3
        s3 = {"id": "daily", "s3": {"bucket": "landing"}, "params": {"key": "${event.kind}"}}
        rt.push({**S3_PARAMS, "triggers": [s3]})
        _a_while(rt, 10)
        runs = rt.store.list_runs("bf_turned", 100)
        assert [r.logical_date for r in runs] == ["2026-03-01"], "the driver started runs"
        assert len(rt.event_queue) == 0, "the driver ticks on"


RACE = {
    "name": "bf_request_race",
    "steps": [{"id": "work", "type": "sleep", "seconds": 3600}],
    "triggers": [{"id": "daily", "cron": "0 6 * * *"}],
}


def test_a_cancel_landing_while_a_backfill_request_starts_its_runs_stops_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A cancel landing between a backfill request's read of the cancel count and its
    starts swept the QUEUED runs before the request queued its own: they ran although
    the backfill was cancelled. The request reads the count again after its starts."""
    clock = ManualClock(start_ms=parse_iso("2026-04-01T12:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as rt:
        rt.push(RACE)
        holder = rt.start_run("bf_request_race")  # holds the sequential slot
        real_execute = backfill.execute
        answers: list[dict[str, object]] = []

        def execute_racing_a_cancel(*args: object, **kwargs: object) -> object:
            answers.append(cancel(rt.services, "bf_request_race", None, "op"))
            return real_execute(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(backfill, "execute", execute_racing_a_cancel)
        body = {"from": "2026-03-01", "to": "2026-03-03"}
        summary = backfill_request(
            rt.services, "bf_request_race", BackfillRequest.model_validate(body)
        )
        assert len(summary["started"]) == 3 and answers
        left = [
            (r.logical_date, r.status.value)
            for r in rt.store.list_runs("bf_request_race", 100)
            if r.run_id != holder.run_id and not r.status.terminal
        ]
        assert left == [], f"runs of the cancelled backfill still waiting to run: {left}"
        stopped = [
            r for r in rt.store.list_runs("bf_request_race", 100) if r.run_id != holder.run_id
        ]
        assert {r.status for r in stopped} == {RunStatus.STOPPED}
        assert all("backfill of daily cancelled" in (r.reason or "") for r in stopped)


FIRST_ONLY = {
    "name": "bf_first_only",
    "run_strategy": "first_only",
    "steps": [{"id": "work", "type": "sleep", "seconds": 60}],
    "triggers": [{"id": "daily", "cron": "0 6 * * *"}],
}


def test_a_later_backfill_starts_the_times_first_only_discarded() -> None:
    """A backfill into a first_only workflow runs its first time and the strategy
    DISCARDS the others; a later backfill of the range skipped those times as "a run
    exists (discarded)", though they never ran."""
    clock = ManualClock(start_ms=parse_iso("2026-04-01T12:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as rt:
        rt.push(FIRST_ONLY)
        body = {"from": "2026-03-01", "to": "2026-03-03"}
        backfill_request(rt.services, "bf_first_only", BackfillRequest.model_validate(body))
        rt.pump()
        ended = {r.logical_date: r.status for r in rt.store.list_runs("bf_first_only", 100)}
        assert ended == {
            "2026-03-01": RunStatus.SUCCEEDED,
            "2026-03-02": RunStatus.DISCARDED,
            "2026-03-03": RunStatus.DISCARDED,
        }
        again = backfill_request(
            rt.services, "bf_first_only", BackfillRequest.model_validate({**body, "max_active": 1})
        )
        assert (again["to_start"], again["skipped"]) == (2, 1), again["entries"]
        rt.pump()
        latest: dict[str, RunStatus] = {}
        for run in sorted(rt.store.list_runs("bf_first_only", 100), key=lambda r: r.created_at):
            latest[run.logical_date or ""] = run.status
        assert set(latest.values()) == {RunStatus.SUCCEEDED}, latest

"""When the sweeper next looks at an admitted run (core/engine/checks.py): an admission
moves the run's check to a start's horizon, and a RUNNING run with no step yet (its
start message lost) is due once that start had ``stale_ms`` to arrive, not half an
hour out."""

from __future__ import annotations

from podium.core.engine.checks import MAX_CHECK_MS, MIN_CHECK_MS, admitted_check, next_check
from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus

STALE = 300_000


def _run(status: RunStatus = RunStatus.RUNNING, started_at: int | None = None) -> RunRecord:
    return RunRecord("r", "wf", 1, status, {}, created_at=0, sinks_total=1, started_at=started_at)


def test_an_admission_checks_the_run_once_its_start_had_time_to_arrive() -> None:
    assert admitted_check(1_000, stale_ms=STALE) == 1_000 + STALE
    assert admitted_check(1_000, stale_ms=1) == 1_000 + MIN_CHECK_MS  # never sooner


def test_a_running_run_with_no_step_is_due_a_stale_period_after_its_start() -> None:
    now = 40 * 60_000  # it waited QUEUED half an hour, then was admitted a minute ago
    admitted = _run(started_at=now - 60_000)
    assert next_check(admitted, [], now, stale_ms=STALE) == now - 60_000 + STALE
    # Started long ago and still no step: looked at again a minute later.
    assert next_check(_run(started_at=0), [], now, stale_ms=STALE) == now + MIN_CHECK_MS
    # Not running: unchanged (its slot is reconciled by the workflow's runs).
    queued = _run(RunStatus.QUEUED)
    assert next_check(queued, [], now, stale_ms=STALE) == now + MAX_CHECK_MS

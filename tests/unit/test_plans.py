"""The finish plan: one pure decision of how an attempt ends."""

from __future__ import annotations

from dataclasses import replace

import pytest

from podium.core.dsl.models import NoopStep
from podium.core.engine.checks import FIRST_CHECK_MS, MAX_CHECK_MS, MIN_CHECK_MS, next_check
from podium.core.engine.plans import (
    WAIT_GRACE_MS,
    LostClaim,
    Reclaim,
    claimed_item,
    ends_settled,
    lease_of,
    plan_claim,
    plan_finish,
    plan_give_back,
    plan_lost_claim,
    plan_reclaim,
    plan_run_end,
)
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.status import CLAIMABLE, RunStatus, StepStatus
from podium.core.engine.step_error import timeout_error, user_error


def test_success_stores_the_output_and_clears_the_error() -> None:
    plan = plan_finish(NoopStep(id="s", type="noop"), "r", "s", 1, 1000, output={"n": 1})
    assert plan.to is StepStatus.SUCCEEDED and plan.error is None
    assert plan.changes == {
        "ended_at": 1000,
        "lease_until": None,
        "output": {"n": 1},
        "error": None,
        "error_type": None,
    }


def test_a_retried_failure_waits_with_its_due_time_and_counts() -> None:
    spec = NoopStep(id="s", type="noop", retries=2, retry_delay_seconds=30)
    plan = plan_finish(spec, "r", "s", 1, 1000, error=user_error("boom"), retry_counts={})
    assert plan.to is StepStatus.RETRY_WAIT and plan.retry is not None
    assert plan.changes["due_at"] == 31_000 and plan.changes["retry_counts"] == {"0": 1}


def test_final_failures_follow_the_failure_mode_but_timeouts_stay_timeouts() -> None:
    ignored = NoopStep(id="s", type="noop", failure_mode="ignore_failure")
    assert (
        plan_finish(ignored, "r", "s", 1, 0, error=user_error("x")).to is StepStatus.FAILED_IGNORED
    )
    assert plan_finish(ignored, "r", "s", 1, 0, error=timeout_error("t")).to is StepStatus.TIMED_OUT
    plain = NoopStep(id="s", type="noop")
    assert plan_finish(plain, "r", "s", 1, 0, error=user_error("x")).to is StepStatus.FAILED


def test_permit_keys_of_a_run() -> None:
    from podium.core.engine.compiled import CompiledWorkflow

    compiled = CompiledWorkflow.of(
        {
            "name": "w",
            "max_parallel_steps": 2,
            "steps": [
                {"id": "a", "type": "noop", "concurrency": {"key": "db", "limit": 1}},
                {"id": "b", "type": "noop"},
            ],
        }
    )
    assert compiled.permit_keys("r1") == {"db", "run:r1"}
    assert compiled.permit_keys("r2") == {"db", "run:r2"}


# --- claim, lost claim, give back, reclaim, run end, and the sweeper's next check -------


def test_a_claim_creates_the_first_attempt_or_moves_a_claimable_one() -> None:
    first = plan_claim(1, create=True, now=5, lease_until=99)
    item = claimed_item("r", "a", first)
    assert (item.status, item.attempt, item.started_at, item.ready_at, item.lease_until) == (
        StepStatus.RUNNING,
        1,
        5,
        5,
        99,
    )
    retry = plan_claim(3, create=False, now=7, lease_until=50)
    assert retry.expected == CLAIMABLE and retry.previous_attempt == 2
    assert retry.changes == {"attempt": 3, "started_at": 7, "lease_until": 50, "ended_at": None}


@pytest.mark.parametrize(
    ("status", "current", "want"),
    [
        (None, 0, LostClaim.NOTHING),
        (StepStatus.SUCCEEDED, 1, LostClaim.REPLAY_TERMINAL),
        (StepStatus.SKIPPED, 0, LostClaim.REPLAY_TERMINAL),
        (StepStatus.RETRY_WAIT, 2, LostClaim.REDO_RETRY),
        (StepStatus.RETRY_WAIT, 1, LostClaim.NOTHING),  # an older attempt's message
        (StepStatus.RUNNING, 2, LostClaim.RESUME_WAITING),
        (StepStatus.RUNNING, 3, LostClaim.NOTHING),  # a newer attempt runs
        (StepStatus.READY, 0, LostClaim.NOTHING),
    ],
)
def test_a_lost_claim_owes_exactly_its_follow_ups(
    status: StepStatus | None, current: int, want: LostClaim
) -> None:
    assert plan_lost_claim(status, current, 2) is want


def test_giving_a_claim_back_restores_the_previous_attempt() -> None:
    assert plan_give_back(4) == {"attempt": 3, "started_at": None, "lease_until": None}


def test_leases() -> None:
    sync = lease_of(0, synchronous=True, wait_ms=0, timeout_ms=None, worker_lease_ms=960_000)
    assert sync == 960_000
    assert (
        lease_of(0, synchronous=True, wait_ms=0, timeout_ms=30_000, worker_lease_ms=960_000)
        == 30_000
    )
    wait = lease_of(0, synchronous=False, wait_ms=3_600_000, timeout_ms=None, worker_lease_ms=1)
    assert wait == 3_600_000 + WAIT_GRACE_MS


def test_reclaim_and_run_end() -> None:
    assert plan_reclaim(10, 10) is Reclaim.TIME_OUT and plan_reclaim(9, 10) is Reclaim.POLL
    ok = plan_run_end(RunStatus.SUCCEEDED, 5, 100)
    assert (ok.cancel_unfinished, ok.ended_check_at) == (False, None)
    failed = plan_run_end(RunStatus.FAILED, 5, 100)
    assert failed.cancel_unfinished and failed.ended_check_at == 105


@pytest.mark.parametrize("status", [s for s in RunStatus if s.terminal])
def test_only_a_succeeded_iteration_without_permit_keys_settles_with_its_end(
    status: RunStatus,
) -> None:
    settles = ends_settled(status, iteration=True, holds_permit_keys=False)
    assert settles is (status is RunStatus.SUCCEEDED)
    assert not ends_settled(status, iteration=False, holds_permit_keys=False)
    assert not ends_settled(status, iteration=True, holds_permit_keys=True)


def _run(status: RunStatus = RunStatus.RUNNING) -> RunRecord:
    return RunRecord("r", "wf", 1, status, {}, created_at=0, sinks_total=1)


def test_the_next_check_is_when_something_can_next_be_due() -> None:
    now = 10 * 60_000
    assert FIRST_CHECK_MS > 0
    lease = StepRecord(
        "r", "a", StepStatus.RUNNING, attempt=1, started_at=now, lease_until=now + 16 * 60_000
    )
    assert next_check(_run(), [lease], now, stale_ms=300_000) == now + 16 * 60_000
    soon = StepRecord("r", "b", StepStatus.RUNNING, attempt=1, lease_until=now + 1)
    assert next_check(_run(), [lease, soon], now, stale_ms=300_000) == now + MIN_CHECK_MS
    sleeping = StepRecord("r", "c", StepStatus.RUNNING, attempt=1, lease_until=now + 86_400_000)
    assert next_check(_run(), [sleeping], now, stale_ms=300_000) == now + MAX_CHECK_MS
    retry = StepRecord("r", "d", StepStatus.RETRY_WAIT, attempt=1, due_at=now + 120_000)
    assert next_check(_run(), [retry], now, stale_ms=300_000) == now + 420_000
    ready = StepRecord("r", "e", StepStatus.READY, ready_at=now)
    assert next_check(_run(), [ready], now, stale_ms=300_000) == now + 300_000
    assert (
        next_check(_run(), [sleeping], now, stale_ms=300_000, deadline=now + 200_000)
        == now + 200_000
    )
    assert next_check(_run(), [sleeping], now, stale_ms=300_000, acted=True) == now + 300_000
    assert next_check(_run(RunStatus.QUEUED), [], now, stale_ms=300_000) == now + MAX_CHECK_MS
    assert next_check(_run(RunStatus.FAILED), [], now, stale_ms=300_000) == now + MIN_CHECK_MS
    # A loop waiting on its children is polled a stale period later (a lost wake-up of
    # an iteration counted with its end), however far its own deadline is.
    loop = replace(sleeping, step="loop", children_launched=3)
    assert next_check(_run(), [loop], now, stale_ms=300_000) == now + 300_000

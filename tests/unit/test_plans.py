"""The finish plan: one pure decision of how an attempt ends."""

from __future__ import annotations

from podium.core.dsl.models import NoopStep
from podium.core.engine.plans import plan_finish
from podium.core.engine.status import StepStatus
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
    assert plan_finish(ignored, "r", "s", 1, 0, error=user_error("x")).to is StepStatus.FAILED_IGNORED
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

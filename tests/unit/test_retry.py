"""Retry policies: ordered retriers, per-retrier counts, default budgets by category,
backoff with a cap, deterministic full jitter, conditions over `error`."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from podium.core.dsl.models import NoopStep
from podium.core.engine.retry import Retry, plan_retry
from podium.core.engine.step_error import (
    PLATFORM_ERROR,
    TIMEOUT,
    StepError,
    platform_error,
    timeout_error,
    user_error,
)


def step(**kw: object) -> NoopStep:
    return NoopStep(id="s", type="noop", **kw)  # type: ignore[arg-type]


def test_no_policy_retries_no_user_error_but_platform_errors_ten_times() -> None:
    s = step()
    assert plan_retry(s.retriers, user_error("x"), 1, {}, "k") is None
    assert plan_retry(s.retriers, timeout_error("x"), 1, {}, "k") is None
    first = plan_retry(s.retriers, platform_error("lost"), 1, {}, "k")
    assert first is not None and first.counter == "platform"
    assert plan_retry(s.retriers, platform_error("lost"), 11, {"platform": 10}, "k") is None


def test_first_matching_retrier_decides_with_its_own_count() -> None:
    s = step(
        retry=[
            {"errors": ["ValueError"], "max_attempts": 1, "interval": 3},
            {"errors": ["Podium.UserError"], "max_attempts": 2, "interval": 5, "backoff_rate": 1},
        ]
    )
    value = StepError.of("ValueError", "bad")
    assert plan_retry(s.retriers, value, 1, {}, "k") == Retry(2, 3, "0")
    # As Step Functions: the first matching retrier decides, also once it is used up.
    assert plan_retry(s.retriers, value, 2, {"0": 1}, "k") is None
    assert plan_retry(s.retriers, StepError.of("KeyError", "k"), 1, {}, "k") == Retry(2, 5, "1")


def test_backoff_is_capped_and_jitter_is_deterministic() -> None:
    s = step(retry=[{"max_attempts": 10, "interval": "10s", "backoff_rate": 2, "max_delay": "1m"}])
    delays = [plan_retry(s.retriers, user_error("x"), n + 1, {"0": n}, "k") for n in range(5)]
    assert [d.delay_seconds for d in delays if d] == [10, 20, 40, 60, 60]
    j = step(retry=[{"max_attempts": 5, "interval": 100, "jitter": "full"}])
    a = plan_retry(j.retriers, user_error("x"), 1, {}, "run/s/1")
    b = plan_retry(j.retriers, user_error("x"), 1, {}, "run/s/1")
    assert a == b and a is not None and 0 <= a.delay_seconds <= 100


def test_non_retryable_errors_are_never_retried() -> None:
    s = step(retry=[{"errors": ["Podium.ALL"], "max_attempts": 5}])
    assert plan_retry(s.retriers, user_error("bad data", retryable=False), 1, {}, "k") is None


def test_condition_over_error() -> None:
    s = step(retry=[{"max_attempts": 3, "when": "error.message.contains('throttl')"}])
    assert plan_retry(s.retriers, user_error("throttled"), 1, {}, "k") is not None
    assert plan_retry(s.retriers, user_error("bad input"), 1, {}, "k") is None


def test_timeouts_retried_only_when_named() -> None:
    s = step(retry=[{"errors": ["Podium.Timeout"], "max_attempts": 1, "interval": 0}])
    assert plan_retry(s.retriers, timeout_error("slow"), 1, {}, "k") == Retry(2, 0, "0")
    assert StepError.of(TIMEOUT, "x").category == TIMEOUT
    assert StepError.of(PLATFORM_ERROR, "x").matches(("Podium.ALL",))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("retry", [{"when": "params.x > 1"}], "only error.type"),
        ("retry", [{"interval": "soon"}], "not a duration"),
        ("timeout", "0s", "between 1 and"),
    ],
)
def test_policy_errors_name_the_fix(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        step(**{field: value})


def test_shorthand_and_policy_are_exclusive() -> None:
    with pytest.raises(ValidationError, match="either 'retry'"):
        step(retries=2, retry=[{"max_attempts": 1}])


def test_long_messages_are_clipped() -> None:
    err = StepError.of("ValueError", "x" * 500_000, traceback="t" * 100_000)
    assert len(err.message) <= 2048 and "characters cut" in err.message
    assert err.traceback is not None and len(err.traceback) <= 16 * 1024

"""A start that did nothing (its look-up was throttled) is given back, not retried: the
pure plan (core/engine/plans.plan_start_give_back) and its backoff (retry.give_back_delay)."""

from __future__ import annotations

from podium.core.dsl.models import NoopStep
from podium.core.engine.plans import plan_finish, plan_start_give_back
from podium.core.engine.retry import (
    FIRST_GIVE_BACK_SECONDS,
    MAX_GIVE_BACK_SECONDS,
    MAX_START_GIVE_BACKS,
    give_back_delay,
    give_backs_counter,
    was_given_back,
    without_give_backs,
)
from podium.core.engine.status import StepStatus, can_transition
from podium.core.engine.step_error import platform_error


def test_the_backoff_grows_is_capped_and_is_the_same_when_replayed() -> None:
    for seed in ("r/s/1", "r/s/2", "other/step/7"):
        delays = [give_back_delay(n, seed) for n in range(MAX_START_GIVE_BACKS)]
        for n, delay in enumerate(delays):
            ceiling = min(MAX_GIVE_BACK_SECONDS, FIRST_GIVE_BACK_SECONDS * 2**n)
            assert delay is not None and max(1, ceiling // 2) <= delay <= ceiling
        assert delays == [give_back_delay(n, seed) for n in range(MAX_START_GIVE_BACKS)]
    total = sum(give_back_delay(n, "r/s/1") or 0 for n in range(MAX_START_GIVE_BACKS))
    assert total <= 10 * 60  # a service down for good ends the attempt within minutes


def test_the_attempt_has_a_bounded_number_of_give_backs() -> None:
    assert give_back_delay(MAX_START_GIVE_BACKS - 1, "r/s/1") is not None
    assert give_back_delay(MAX_START_GIVE_BACKS, "r/s/1") is None


def test_a_give_back_makes_the_same_attempt_ready_again_at_its_due_time() -> None:
    counts = {"platform": 1, "0": 2}
    plan = plan_start_give_back("r", "s", 3, 1_000, counts)
    assert plan is not None and plan.given == 1
    assert can_transition(StepStatus.RUNNING, StepStatus.READY)
    # The previous number: the next claim (attempt 3 again) moves it from 2 to 3.
    assert plan.changes["attempt"] == 2
    assert plan.changes["started_at"] is None and plan.changes["lease_until"] is None
    assert plan.changes["ready_at"] == plan.due > 1_000
    # No retry spent: the retry counts are as they were, plus this attempt's give-back.
    assert plan.changes["retry_counts"] == {"platform": 1, "0": 2, give_backs_counter(3): 1}
    assert counts == {"platform": 1, "0": 2}  # not mutated


def test_the_give_backs_are_counted_per_attempt_and_end_at_the_cap() -> None:
    counts: dict[str, int] = {}
    for n in range(MAX_START_GIVE_BACKS):
        plan = plan_start_give_back("r", "s", 1, 0, counts)
        assert plan is not None and plan.given == n + 1
        counts = plan.changes["retry_counts"]
    assert plan_start_give_back("r", "s", 1, 0, counts) is None
    # A later attempt (a retry, under a new key) has give-backs of its own.
    assert plan_start_give_back("r", "s", 2, 0, counts) is not None


def test_an_attempts_end_does_not_carry_its_give_backs_forward() -> None:
    counts = {give_backs_counter(1): MAX_START_GIVE_BACKS}
    spec = NoopStep(id="s", type="noop")
    plan = plan_finish(spec, "r", "s", 1, 0, error=platform_error("throttled"), retry_counts=counts)
    assert plan.to is StepStatus.RETRY_WAIT
    assert plan.changes["retry_counts"] == {"platform": 1}


def test_an_attempt_given_back_is_known_by_its_count_until_it_ends() -> None:
    """Claimed again, a given-back attempt is the same attempt going on: it passes its
    breakpoint and says RUNNING no second time (service/breakpoints.py, execute.py)."""
    plan = plan_start_give_back("r", "s", 2, 0, {"platform": 1})
    assert plan is not None
    counts = plan.changes["retry_counts"]
    assert was_given_back(counts, 2)
    assert not was_given_back(counts, 1) and not was_given_back(counts, 3)
    assert not was_given_back({"platform": 1}, 2)
    # Its end (a retry) carries no give-back forward: the next attempt is a new one.
    assert not was_given_back(without_give_backs(counts), 2)

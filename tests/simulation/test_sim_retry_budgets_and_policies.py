"""The simulation uses up retry budgets and drives retry policies (sim/shapes.py
``retry_policies``; sim/invariants.py ``retry_over_budget``, ``Shape.attempts`` and
per-retry ``Shape.retry_delays``). Found by a mutation review of the simulation (r34d):
no shape used up a budget, attempt counts were never compared with ``retries``, and a
policy's backoff, ``max_delay``, ``errors`` and ``when`` were never driven."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.simulation.test_sim_reads_loop_outputs_and_judges_timer_leaks import (
    _bulk_violations,
)


def test_one_retry_past_the_budget_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Promised: ``retries: N`` (a retrier's ``max_attempts``) allows N retries, then the
    failure is final (docs/workflow-language.md, "Retries"); a Lambda step's function
    runs at most N + 1 times. Broken here: every budget allows one retry more (a
    ``fail`` step with ``retries: 1`` ends at attempt 3). Caught by ``retry_policies``,
    whose steps use their budgets up: more failed attempts than the retries allow
    (``retry_over_budget``), and another attempt count than the fault-free one says."""
    from podium.core.engine import retry

    real = retry._within

    def one_more(budget: Any, counter: str, attempt: int, counts: Any, seed: str) -> Any:
        wider = dataclasses.replace(budget, max_attempts=budget.max_attempts + 1)
        return real(wider, counter, attempt, counts, seed)

    monkeypatch.setattr(retry, "_within", one_more)
    assert _bulk_violations(), "a retry past the budget went unnoticed"


def test_one_retry_short_of_the_budget_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The other way: a budget one short changes no status (the step fails all the
    same), only its attempts, which the fault-free world compares exactly."""
    from podium.core.engine import retry

    real = retry._within

    def one_less(budget: Any, counter: str, attempt: int, counts: Any, seed: str) -> Any:
        narrower = dataclasses.replace(budget, max_attempts=max(0, budget.max_attempts - 1))
        return real(narrower, counter, attempt, counts, seed)

    monkeypatch.setattr(retry, "_within", one_less)
    assert "unexpected_result" in _bulk_violations(("retry_policies",))


def test_a_retry_backoff_ignored_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Promised: a retrier waits ``interval x backoff_rate^n`` (capped by ``max_delay``)
    before retry n + 1 (docs/workflow-language.md, "Retries"). Broken here: every wait
    is the bare interval. Caught by ``retry_policies``' policy step, whose delays
    (2 s, 6 s, 10 s capped from 18, then 1 s by another retrier) are judged one by one
    without faults (``retry_early``, ``late_fault_free``)."""
    from podium.core.engine import retry

    def no_backoff(budget: Any, used: int, seed: str) -> int:
        return max(1, int(budget.interval + 0.5)) if budget.interval > 0 else 0

    monkeypatch.setattr(retry, "delay_of", no_backoff)
    assert _bulk_violations(), "retries without their backoff went unnoticed"


@pytest.mark.parametrize(
    ("change", "caught"),
    [
        ({"max_delay": None}, "late_fault_free"),  # 18 s, not 10
        ({"when": None}, "retry_early"),  # the first retrier takes every error, 1 s
        ({"errors": None}, "unexpected_result"),  # sim.Other on sim.Flaky's spent budget
    ],
    ids=["max_delay_ignored", "when_ignored", "errors_ignored"],
)
def test_a_retriers_cap_condition_or_errors_ignored_are_caught(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, Any], caught: str
) -> None:
    """Each field of a retrier the policy step relies on, dropped (``errors`` dropped:
    every retrier names every error)."""
    from podium.core.engine import retry

    real = retry._budget
    real_plan = retry.plan_retry

    if "max_delay" in change:
        monkeypatch.setattr(
            retry, "_budget", lambda r: dataclasses.replace(real(r), max_delay=None)
        )
    else:

        def plan(retriers: Any, *rest: Any) -> Any:
            field = next(iter(change))
            value = ["Podium.ALL"] if field == "errors" else None
            loose = tuple(r.model_copy(update={field: value}) for r in retriers)
            return real_plan(loose, *rest)

        monkeypatch.setattr(retry, "plan_retry", plan)
        from podium.core.engine import plans

        monkeypatch.setattr(plans, "plan_retry", plan)
    assert caught in _bulk_violations(("retry_policies",))

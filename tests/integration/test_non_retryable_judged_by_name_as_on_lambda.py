"""Which errors fail an attempt for good: locally as deployed.

Lambda reports an error by its class's name alone, so the deployed runner fails for good
an error named ``NonRetryable``, while the local runner asked ``isinstance(exc,
podium.NonRetryable)``. A function's own ``class NonRetryable(Exception)`` (a Lambda
without Podium installed) was retried locally but not deployed, and a subclass of
Podium's was failed for good locally but retried deployed. Both runners judge by name."""

from __future__ import annotations

from typing import Any

import pytest

from podium import NonRetryable as PodiumNonRetryable
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime

HERE = "tests.integration.test_non_retryable_judged_by_name_as_on_lambda"
CALLS: list[str] = []


class NonRetryable(Exception):  # a Lambda's own, named as Podium's
    """What a deployed function defines when Podium is not installed beside it."""


class BadInput(PodiumNonRetryable):
    """A subclass: Lambda reports it as ``BadInput``."""


def own_class(event: dict[str, Any]) -> None:
    CALLS.append("own")
    raise NonRetryable("row 7 has no id")


def subclass(event: dict[str, Any]) -> None:
    CALLS.append("sub")
    raise BadInput("row 7 has no id")


@pytest.mark.parametrize(("fn", "attempts"), [("own_class", 1), ("subclass", 3)])
def test_an_error_fails_for_good_by_its_name_as_lambda_reports_it(
    home_rt: LocalRuntime, fn: str, attempts: int
) -> None:
    CALLS.clear()
    step = {"id": "a", "type": "lambda", "function": f"{HERE}:{fn}", "retries": 2}
    home_rt.push({"name": "named", "steps": [{**step, "retry_delay_seconds": 1}]})
    run = home_rt.start_run("named")
    home_rt.pump()
    assert home_rt.store.get_run(run.run_id).status is RunStatus.FAILED
    assert len(CALLS) == attempts, CALLS

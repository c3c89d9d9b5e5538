"""Found by a review (each test failed before its fix): props that take a bad value without a clear ValueError.

docs/deploy.md ("Construct props"): "A mistyped name is a TypeError, and an invalid value
is a ValueError at synthesis." These values are either accepted silently (and break the
deployment or every function later) or fail deep inside jsii with a CDK traceback.
No synthesis here: building the construct is enough to see whether the value is refused.
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from infra_support import cdk_context


def _build(**options: Any) -> None:
    from podium_cdk import Podium

    app = App(context=cdk_context())
    Podium(Stack(app, "S"), "Podium", **options)


def test_log_level_that_python_logging_does_not_know_is_refused() -> None:
    """log_level is copied to LOG_LEVEL unchecked (props.py: ``log_level: str``; no check
    in ``__post_init__``; podium.py ``_environment``). Powertools' Logger, built by
    bootstrap._structured_logs on every cold start, raises
    ``ValueError: Unknown level: 'VERBOSE'`` for such a value, so every one of the five
    functions fails before handling anything, after a deployment that succeeded.
    Right behaviour: PodiumProps refuses a level other than DEBUG/INFO/WARNING/ERROR/
    CRITICAL (any case) with a ValueError at synthesis."""
    with pytest.raises(ValueError, match="log_level"):
        _build(log_level="verbose")


def test_memory_above_lambdas_maximum_is_refused() -> None:
    """memory_mb values are not checked (props.py ``__post_init__`` checks only the
    handler names). 20480 MB synthesizes cleanly (CloudFormation's own validation at
    synth checks only the 128 MB minimum) and fails at deploy time: Lambda allows
    128..10240 MB. Right behaviour: a ValueError naming memory_mb at synthesis."""
    with pytest.raises(ValueError, match="memory"):
        _build(memory_mb={"work": 20480})


def test_payload_expiration_of_zero_days_is_refused() -> None:
    """payload_expiration_days is not checked (props.py has no check; payloads.py turns
    it into ``Duration.days(n)``). 0 synthesizes and is refused by S3 at deploy time
    (a lifecycle rule's ExpirationInDays must be a positive integer). Right behaviour:
    a ValueError like run_retention_days' ("must be >= 1")."""
    with pytest.raises(ValueError, match="payload_expiration_days"):
        _build(payload_expiration_days=0)


def test_negative_payload_expiration_is_a_clear_error() -> None:
    """A negative payload_expiration_days surfaces as a jsii RuntimeError from deep
    inside aws_s3 (``DurationAmountsCannotNegative``), not the documented ValueError
    naming the prop. Right behaviour: ValueError naming payload_expiration_days."""
    with pytest.raises(ValueError, match="payload_expiration_days"):
        _build(payload_expiration_days=-5)


@pytest.mark.parametrize("interval", [Duration.seconds(30), Duration.seconds(90)])
def test_sweep_interval_that_is_not_whole_minutes_is_a_clear_error(interval: Duration) -> None:
    """sweep_interval is passed to ``events.Schedule.rate`` unchecked (eventing.py
    Triggers). A value that is not a whole number of minutes (or under a minute) fails
    with a jsii RuntimeError ``CannotConvertedIntoWhole`` from inside aws_events, not
    the documented ValueError naming the prop. Right behaviour: PodiumProps checks it
    (whole minutes, >= 1 minute) and raises ValueError naming sweep_interval."""
    with pytest.raises(ValueError, match="sweep_interval"):
        _build(sweep_interval=interval)


def test_work_timeout_that_is_not_whole_seconds_is_a_clear_error() -> None:
    """work_timeout is only checked against the 15-minute maximum (props.py). A
    sub-second remainder fails inside aws_lambda/aws_sqs with a jsii RuntimeError
    (``'1500 millis' cannot be converted into a whole number of seconds``), and 0 is
    only caught by CloudFormation validation. Right behaviour: ValueError naming
    work_timeout (whole seconds, >= 1 s)."""
    with pytest.raises(ValueError, match="work_timeout"):
        _build(work_timeout=Duration.millis(1500))

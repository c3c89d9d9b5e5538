"""The ready stack had no ``-c podium:<key>`` for several plain-value props, so
docs/deploy.md's cost table ("turn it off: ``dashboard=False``, ``tracing=False``,
``point_in_time_recovery=False``") could not be followed without editing code: the
ready stack took only the keys of stack.py's table, and any other was refused."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App

from podium_cdk import props_from_context

# key -> (value as typed, the prop, the value it gets)
_KEYS: list[tuple[str, object, str, Any]] = [
    ("tracing", "false", "tracing", False),
    ("alarms", "false", "alarms", False),
    ("dashboard", "False", "dashboard", False),
    ("dashboard", True, "dashboard", True),  # a JSON boolean in cdk.json
    ("pointInTimeRecovery", "false", "point_in_time_recovery", False),
    ("logLevel", "DEBUG", "log_level", "DEBUG"),
    ("workBatchSize", "3", "work_batch_size", 3),
    ("advanceBatchSize", 5, "advance_batch_size", 5),  # a JSON number in cdk.json
    ("payloadExpirationDays", "400", "payload_expiration_days", 400),
    ("payloadExpirationDays", "none", "payload_expiration_days", None),
]


def test_the_sweep_interval_is_set_in_minutes() -> None:
    """The cost table's `sweep_interval=Duration.minutes(5)` had no key either."""
    props = props_from_context(App(context={"podium:sweepIntervalMinutes": "5"}))
    assert props.sweep_interval.to_minutes() == 5


@pytest.mark.parametrize(("key", "value", "field", "expected"), _KEYS)
def test_a_plain_prop_is_set_from_context(
    key: str, value: object, field: str, expected: Any
) -> None:
    props = props_from_context(App(context={f"podium:{key}": value}))
    assert getattr(props, field) == expected


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("tracing", "off", "-c podium:tracing: true or false; got 'off'"),
        ("workBatchSize", "ten", "-c podium:workBatchSize: a whole number; got 'ten'"),
        (
            "workBatchSize",
            "11",
            "-c podium:workBatchSize: batch sizes must be within 1..10; podium:workBatchSize is 11",
        ),
        (
            "advanceBatchSize",
            "0",
            "-c podium:advanceBatchSize: batch sizes must be within 1..10; podium:advanceBatchSize is 0",
        ),
        ("logLevel", "loud", "-c podium:logLevel: 'loud': use one of DEBUG"),
        ("payloadExpirationDays", "0", "-c podium:payloadExpirationDays: must be >= 1"),
        ("sweepIntervalMinutes", "0", "-c podium:sweepIntervalMinutes: must be whole minutes"),
    ],
)
def test_a_bad_value_is_refused_naming_its_key(key: str, value: str, said: str) -> None:
    with pytest.raises(ValueError) as refused:
        props_from_context(App(context={f"podium:{key}": value}))
    assert str(refused.value).startswith(said), str(refused.value)


def test_the_cost_tables_switches_are_context_keys() -> None:
    """Every "turn it off" of the idle-cost table that is a plain prop can be given as
    `-c`: an idle stack with neither dashboard nor alarms, tracing or PITR."""
    props = props_from_context(
        App(
            context={
                "podium:dashboard": "false",
                "podium:alarms": "false",
                "podium:tracing": "false",
                "podium:pointInTimeRecovery": "false",
            }
        )
    )
    assert (props.dashboard, props.alarms, props.tracing, props.point_in_time_recovery) == (
        False,
        False,
        False,
        False,
    )

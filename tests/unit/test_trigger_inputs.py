"""Trigger and signal fields a definition gets wrong: each message says what that field
takes (every pattern mismatch once read as a step id's rules, and following them
- `_nightly` - was refused again), and S3 or bus values that can never match an event
are refused at push (they were accepted, and the trigger never fired)."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition
from podium.core.engine.compiled import CompiledWorkflow


def issues(**parts: Any) -> list[str]:
    doc = {"name": "w", "steps": [{"id": "a", "type": "noop"}], **parts}
    with pytest.raises(DefinitionError) as exc:
        validate_definition(doc)
    return [str(i) for i in exc.value.issues]


def test_each_pattern_says_what_its_field_takes() -> None:
    step = {
        "id": "a",
        "type": "noop",
        "concurrency": {"key": "bad key", "limit": 1},
        "wait_for": [{"signal": "_ready"}],
    }
    found = issues(
        steps=[step],
        triggers=[
            {"id": "_nightly", "cron": "0 5 * * *"},
            {"id": "s", "signal": {"names": ["ok"], "join_keys": ["1day"]}},
        ],
    )
    assert found == [
        "steps[0].concurrency.key: 'bad key' is not a concurrency key: 1-80 letters, digits"
        " and _ . : -",
        "steps[0].wait_for[0].signal: '_ready' is not a signal name: 1-128 letters, digits"
        " and _ . : / -, starting with a letter or digit (e.g. sales_ready, team/etl:done)",
        "triggers[0].id: '_nightly' is not a trigger id: 1-40 letters, digits, _ and -,"
        " starting with a letter (e.g. nightly, on-upload)",
        "triggers[1].signal.join_keys[0]: '1day' is not a param name: 1-64 letters, digits"
        " and _, not starting with a digit",
    ]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"bucket": "s3://landing"}, "write the bucket's name without s3://"),
        ({"bucket": "arn:aws:s3:::landing"}, "write the bucket's name, not its ARN"),
        ({"bucket": "landing/raw"}, "write the bucket's name alone, and the path in prefix"),
        ({"bucket": "My_Bucket"}, "is not an S3 bucket name"),
        ({"bucket": "landing", "prefix": "/raw/"}, "an S3 key does not start with '/'"),
    ],
)
def test_s3_values_that_never_match_are_refused(source: dict[str, str], message: str) -> None:
    (found,) = issues(triggers=[{"id": "up", "s3": source}])
    assert found.startswith("triggers[0].s3.") and message in found


def test_an_empty_bus_is_refused_and_good_values_pass() -> None:
    (found,) = issues(triggers=[{"id": "e", "event": {"pattern": {"source": ["x"]}, "bus": ""}}])
    assert "triggers[0].event.bus: '' is not an event bus name" in found
    validate_definition(
        {
            "name": "w",
            "steps": [{"id": "a", "type": "noop"}],
            "triggers": [
                {"id": "up", "s3": {"bucket": "landing.data-1", "prefix": "raw/"}},
                {"id": "e", "event": {"pattern": {"source": ["x"]}, "bus": "team/etl-bus"}},
            ],
        }
    )


def test_a_stored_version_with_such_a_trigger_still_loads() -> None:
    CompiledWorkflow.of(
        {
            "name": "w",
            "steps": [{"id": "a", "type": "noop"}],
            "triggers": [{"id": "up", "s3": {"bucket": "s3://landing", "prefix": "/raw/"}}],
        }
    )

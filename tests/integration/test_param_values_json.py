"""A run's params are JSON, however they came: a list or map param whose ``${...}``
default renders a timestamp, a duration or bytes keeps their JSON form (as everywhere a
rendered value leaves an expression), and NaN or Infinity inside it is refused naming
the default. Before, the first answered 500 (the DynamoDB codec's json.dumps) and the
second stored ``[Infinity]`` and answered text that is not JSON."""

from __future__ import annotations

import json

import pytest

from podium.local.runtime import LocalRuntime

from .test_api import call


def push_and_start(kind: str, default: str) -> tuple[int, dict[str, object]]:
    wf = {
        "name": "tpl",
        "params": {"v": {"type": kind, "default": default}},
        "steps": [{"id": "a", "type": "noop"}],
    }
    status, _ = call("POST", "/workflows", wf)
    assert status == 201
    status, body = call("POST", "/workflows/tpl/runs", {})
    json.dumps(body, allow_nan=False)  # the answer is JSON whatever it says
    return status, body


@pytest.mark.parametrize(
    ("default", "shown"),
    [
        ("${[timestamp('2024-01-01T00:00:00Z')]}", "2024-01-01T00:00:00Z"),
        ("${[duration('1h')]}", "3600s"),
        ("${[b'ab']}", "YWI="),
    ],
)
def test_a_list_default_rendering_a_timestamp_duration_or_bytes_keeps_its_json_form(
    runtime: LocalRuntime, default: str, shown: str
) -> None:
    status, body = push_and_start("list", default)
    assert status == 202, body
    assert body["params"] == {"v": [shown]}, body


@pytest.mark.parametrize(
    ("kind", "default"), [("list", "${[1.0/0.0]}"), ("map", "${{'a': double('nan')}}")]
)
def test_a_list_or_map_default_rendering_nan_or_infinity_is_refused(
    runtime: LocalRuntime, kind: str, default: str
) -> None:
    status, body = push_and_start(kind, default)
    assert status == 400, body
    errors = body["errors"]
    assert isinstance(errors, list) and errors[0]["path"] == "params.v.default", body
    assert "has no JSON form" in errors[0]["message"], body

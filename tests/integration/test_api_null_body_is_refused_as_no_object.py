"""A request body of JSON ``null`` is JSON but no object: the routes that take an object
(or no body) refuse it as they refuse ``[]``, ``42`` or ``"text"``; it was read as no body."""

from __future__ import annotations

import pytest

from podium.local.runtime import LocalRuntime
from tests.integration.test_api import call

WORKFLOW = {
    "name": "nullbody",
    "params": {"n": {"type": "int", "default": 1}},
    "triggers": [{"id": "daily", "cron": "0 6 * * *"}],
    "steps": [{"id": "a", "type": "noop"}],
}


def test_a_null_body_starts_no_run(memory_rt: LocalRuntime) -> None:
    """POST /workflows/{name}/runs with the body ``null`` (a client that serialised a
    missing request object: ``json.dumps(None)``, ``JSON.stringify(null)``) answered 202
    and started a run with the default params (handlers/api.py ``_body`` returned None for
    it, as for no body), where ``[1, 2]`` was a 400 "must be a JSON object" at ``body``."""
    assert call("POST", "/workflows", WORKFLOW)[0] == 201
    assert call("POST", "/workflows/nullbody/runs", "[1, 2]")[0] == 400  # control
    status, body = call("POST", "/workflows/nullbody/runs", "null")
    runs = call("GET", "/workflows/nullbody/runs")[1]["runs"]
    assert (status, runs) == (400, []), (status, body, runs)
    assert body["code"] == "invalid_request", body
    assert [e["path"] for e in body["errors"]] == ["body"], body
    assert "must be a JSON object" in body["errors"][0]["message"], body


def test_no_body_and_an_empty_object_still_start_a_run(memory_rt: LocalRuntime) -> None:
    """The body may still be left out (or blank, or ``{}``): only ``null`` is refused."""
    assert call("POST", "/workflows", WORKFLOW)[0] == 201
    for body in (None, "  ", {}):
        assert call("POST", "/workflows/nullbody/runs", body)[0] == 202, body


@pytest.mark.parametrize(
    "path",
    [
        "/workflows/nullbody/unblock",
        "/workflows/nullbody/triggers/daily/disable",
        "/workflows/nullbody/backfill/cancel",
        "/workflows/nullbody/backfill/pause",
    ],
)
def test_a_null_body_is_refused_by_the_routes_that_take_none(
    memory_rt: LocalRuntime, path: str
) -> None:
    """The routes that take no body (or ``{}``) acted on the body ``null`` (200), though
    they refused ``[]`` or ``42`` with 400 "must be a JSON object"."""
    assert call("POST", "/workflows", WORKFLOW)[0] == 201
    assert call("POST", path, "[]")[0] == 400  # control
    status, body = call("POST", path, "null")
    assert status == 400, (status, body)
    assert [e["path"] for e in body["errors"]] == ["body"], body

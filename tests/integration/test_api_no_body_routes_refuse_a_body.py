"""``POST /workflows/{name}/unblock`` and ``.../triggers/{id}/enable|disable`` take no
body (or ``{}``), and now refuse another, as rollback does: they did not read theirs."""

from __future__ import annotations

import pytest

from podium.local.runtime import LocalRuntime
from tests.integration.test_api import call

WORKFLOW = {
    "name": "nobody",
    "run_strategy": "strict_sequential",
    "triggers": [{"id": "daily", "cron": "0 6 * * *"}],
    "steps": [{"id": "a", "type": "noop"}],
}
ROUTES = [
    "/workflows/nobody/unblock",
    "/workflows/nobody/triggers/daily/enable",
    "/workflows/nobody/triggers/daily/disable",
]


@pytest.mark.parametrize("path", ROUTES)
def test_a_malformed_body_is_refused_not_ignored(memory_rt: LocalRuntime, path: str) -> None:
    """``{`` (cut short) was answered 200 and acted on, where every other POST route
    answers 400 ``invalid_json``."""
    assert call("POST", "/workflows", WORKFLOW)[0] == 201
    status, body = call("POST", path, "{")
    assert (status, body.get("code")) == (400, "invalid_json"), body


@pytest.mark.parametrize("path", ROUTES)
def test_no_body_or_an_empty_object_is_taken(memory_rt: LocalRuntime, path: str) -> None:
    """What the CLI sends (``{}``) and no body at all still act."""
    assert call("POST", "/workflows", WORKFLOW)[0] == 201
    assert call("POST", path, {})[0] == 200
    assert call("POST", path)[0] == 200


@pytest.mark.parametrize(
    ("verb", "sent", "other"), [("enable", False, "disable"), ("disable", True, "enable")]
)
def test_a_switch_refuses_an_enabled_field_naming_the_other_route(
    memory_rt: LocalRuntime, verb: str, sent: bool, other: str
) -> None:
    """``POST .../triggers/daily/enable {"enabled": false}`` enabled the trigger, the
    field silently ignored (200, enabled: true). It is a 400 at ``body.enabled`` naming
    the route that does what was meant, and the trigger is left as it was."""
    assert call("POST", "/workflows", WORKFLOW)[0] == 201
    before = call("GET", "/workflows/nobody/triggers")[1]["triggers"][0]["enabled"]
    status, body = call("POST", f"/workflows/nobody/triggers/daily/{verb}", {"enabled": sent})
    assert status == 400, body
    assert [e["path"] for e in body["errors"]] == ["body.enabled"], body
    assert f"/triggers/{{trigger}}/{other}" in body["errors"][0]["message"], body
    assert call("GET", "/workflows/nobody/triggers")[1]["triggers"][0]["enabled"] == before


def test_unblock_refuses_a_field(memory_rt: LocalRuntime) -> None:
    """``{"workflow": ...}`` or any field sent to unblock was ignored; it is refused."""
    assert call("POST", "/workflows", WORKFLOW)[0] == 201
    status, body = call("POST", "/workflows/nobody/unblock", {"force": True})
    assert status == 400, body
    assert [e["path"] for e in body["errors"]] == ["body.force"], body

"""``POST /workflows?activate=`` read as the API's other boolean query flags are."""

from __future__ import annotations

import pytest

from podium.local.runtime import LocalRuntime
from tests.integration.test_api import call

DEFINITION = {"name": "flag_wf", "steps": [{"id": "a", "type": "noop"}]}


@pytest.mark.parametrize("flag", ["FALSE", "False", "false"])
def test_activate_false_in_any_case_stores_without_activating(
    memory_rt: LocalRuntime, flag: str
) -> None:
    """``POST /workflows?activate=FALSE`` was refused ("query.activate: must be true or
    false", which it is), while ``?failed_only=TRUE`` is read in any case
    (handlers/api.py ``_bool_query``). ``activate`` takes any case now and stores the
    version without activating it."""
    assert call("POST", "/workflows", DEFINITION)[0] == 201
    changed = {**DEFINITION, "description": "v2"}
    status, body = call("POST", "/workflows", changed, query={"activate": flag})
    assert status == 201, body
    assert (body["version"], body["active_version"]) == (2, 1), body


def test_activate_true_in_capitals_activates_and_a_typo_is_refused(
    memory_rt: LocalRuntime,
) -> None:
    """``TRUE`` was refused too; it activates now. Anything but true or false is still a
    400 at query.activate, not read as either."""
    assert call("POST", "/workflows", DEFINITION)[0] == 201
    changed = {**DEFINITION, "description": "v2"}
    status, body = call("POST", "/workflows", changed, query={"activate": "TRUE"})
    assert (status, body["active_version"]) == (201, 2), body
    status, body = call("POST", "/workflows", DEFINITION, query={"activate": "no"})
    assert status == 400, body
    assert [e["path"] for e in body["errors"]] == ["query.activate"], body

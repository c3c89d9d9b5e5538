"""``POST /workflows`` bodies that the CLI's local push took and the API refused, or
refused without saying why."""

from __future__ import annotations

import json

import pytest

from podium.local.runtime import LocalRuntime
from tests.integration.test_api import call

YAML = "name: yaml_wf\nsteps:\n  - id: a\n    type: noop\n"
DEFINITION = {"name": "bom_wf", "steps": [{"id": "a", "type": "noop"}]}


@pytest.mark.parametrize("content_type", ["Application/YAML", "APPLICATION/X-YAML; charset=utf-8"])
def test_a_yaml_media_type_in_capitals_is_yaml(memory_rt: LocalRuntime, content_type: str) -> None:
    """``POST /workflows`` with ``Content-Type: Application/YAML`` (media types are
    case-insensitive, RFC 9110 8.3.1) was parsed as JSON and refused with "invalid JSON
    at line 1, column 1"; it is read as YAML now, as ``application/yaml`` is."""
    status, body = call("POST", "/workflows", YAML, content_type=content_type)
    assert status == 201, body
    assert body["name"] == "yaml_wf"


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_yaml_sent_as_another_type_is_refused_saying_which_type(
    memory_rt: LocalRuntime, content_type: str
) -> None:
    """A YAML definition sent without a YAML content type was refused "invalid JSON at
    line 1, column 1" with no word of YAML; the refusal says to send it as
    application/yaml now (it is still refused: the type says how to read the body)."""
    status, body = call("POST", "/workflows", YAML, content_type=content_type)
    assert (status, body["code"]) == (400, "invalid_json"), body
    assert "send content-type: application/yaml" in body["message"], body


def test_broken_json_is_not_said_to_be_yaml(memory_rt: LocalRuntime) -> None:
    """JSON with a missing brace keeps JSON's message alone (no YAML hint)."""
    status, body = call("POST", "/workflows", '{"name": "x"', content_type="application/json")
    assert (status, body["code"]) == (400, "invalid_json"), body
    assert "yaml" not in body["message"].lower(), body


@pytest.mark.parametrize("content_type", ["application/json", "application/yaml"])
def test_a_definition_saved_with_a_bom_is_pushed(
    memory_rt: LocalRuntime, content_type: str
) -> None:
    """A .json definition saved with a UTF-8 byte order mark (Windows editors) ran with
    ``podium run`` and pushed to the local home, but ``podium push wf.json --endpoint``
    (sent as application/json) got 400 "Unexpected UTF-8 BOM (decode using
    utf-8-sig)". The API skips a leading BOM now (RFC 8259 8.1 allows it)."""
    text = "\ufeff" + json.dumps(DEFINITION)
    status, body = call("POST", "/workflows", text, content_type=content_type)
    assert status == 201, body
    assert body["name"] == "bom_wf"


def test_a_bom_before_a_run_request_is_skipped(memory_rt: LocalRuntime) -> None:
    """Any JSON body, not only a definition: a start-run body with a BOM was refused."""
    assert call("POST", "/workflows", DEFINITION)[0] == 201
    status, body = call("POST", "/workflows/bom_wf/runs", '\ufeff{"run_id": "bom-1"}')
    assert status == 202, body
    assert body["run_id"] == "bom-1"

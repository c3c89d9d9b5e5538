"""An http step played locally by an [http.map] callable (adapters/http_transport.
MappedHttpTransport) that answered with what the transport could not send on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from podium.core.engine.status import RunStatus, StepStatus
from podium.testing import run_workflow, step_of


def _run(tmp_path: Path, answer: str) -> tuple[Any, Any, int]:
    name = f"fake_api_{tmp_path.name.replace('-', '_')}"
    calls = tmp_path / "calls.txt"
    (tmp_path / f"{name}.py").write_text(
        "def handle(request):\n"
        f"    with open({str(calls)!r}, 'a') as f:\n"
        "        f.write('x')\n"
        f"    {answer}\n"
    )
    (tmp_path / "podium.toml").write_text(
        f'[http.map]\n"https://api.example.com" = "{name}:handle"\n'
    )
    workflow: dict[str, Any] = {
        "name": "http_map_answers",
        "steps": [{"id": "call", "type": "http", "url": "https://api.example.com/v1/refresh"}],
    }
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(workflow))
    view = run_workflow(path)
    made = len(calls.read_text()) if calls.exists() else 0
    return view, step_of(view, "call"), made


def test_a_stand_in_answering_bytes_was_sent_as_they_are(tmp_path: Path) -> None:
    """A stand-in returning ``bytes`` (a file's content, a requests.Response.content)
    raised TypeError inside the transport (json.dumps of bytes), outside the step's
    handling: the worker failed, the stand-in was called again on every redelivery (11
    calls and counting) and the run was left RUNNING. Its bytes were the body: called
    once, and the step's output was the JSON they hold."""
    view, call, made = _run(tmp_path, 'return b\'{"state": "DONE"}\'')
    assert (view.run.status, made) == (RunStatus.SUCCEEDED, 1), (
        view.run.status,
        made,
        (call.error or "")[:100],
    )
    assert call.output == {"state": "DONE"}


def test_a_stand_ins_status_that_is_no_number_was_named(tmp_path: Path) -> None:
    """A stand-in answering ``{"status": "503 Service Unavailable", ...}`` (the status
    line, not its code) failed the step with 'the request cannot be sent as HTTP
    (ValueError): its method, path and header values must be Latin-1 text without line
    breaks', which sent the user to the step's headers. The error said the stand-in's
    status is not an HTTP status code, and was not retried (the same code answers the
    same)."""
    view, call, made = _run(tmp_path, "return {'status': '503 Service Unavailable', 'body': 'x'}")
    assert view.run.status is RunStatus.FAILED and call.status is StepStatus.FAILED
    error = call.error or ""
    assert "Latin-1" not in error and "not an HTTP status code" in error, error
    assert "'503 Service Unavailable'" in error and "fake_api_" in error, error
    assert (call.error_type, made) == ("Podium.ConfigError", 1), (call.error_type, made)


def test_a_stand_ins_body_with_no_json_form_was_named(tmp_path: Path) -> None:
    """A stand-in whose body was a value with no JSON form (a set) raised TypeError out
    of the step, as bytes did. The step failed once, naming the stand-in and the type."""
    view, call, made = _run(tmp_path, "return {'status': 200, 'body': {'a', 'b'}}")
    assert (view.run.status, call.error_type, made) == (
        RunStatus.FAILED,
        "Podium.ConfigError",
        1,
    ), (view.run.status, call.error_type, made, call.error)
    assert "set" in (call.error or "") and "fake_api_" in (call.error or ""), call.error


def test_a_stand_ins_headers_that_are_no_map_were_named(tmp_path: Path) -> None:
    """Headers given as a list of pairs raised AttributeError out of the step."""
    view, call, made = _run(
        tmp_path, "return {'status': 200, 'body': 'ok', 'headers': [('x-a', '1')]}"
    )
    assert (view.run.status, call.error_type, made) == (
        RunStatus.FAILED,
        "Podium.ConfigError",
        1,
    ), (view.run.status, call.error_type, made, call.error)
    assert "headers" in (call.error or ""), call.error


def test_a_status_given_as_digits_still_counted(tmp_path: Path) -> None:
    """A status given as the text "202" was read as 202 before; it still is."""
    view, call, _ = _run(tmp_path, "return {'status': '202', 'body': {'queued': True}}")
    assert view.run.status is RunStatus.SUCCEEDED, call.error
    assert call.output == {"queued": True}

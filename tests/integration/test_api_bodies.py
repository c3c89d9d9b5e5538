"""Request bodies the API took in part, or read differently from what was sent, now
refused with the place and the fix: a key given twice, a gzip body cut short or with bytes
after its end, unknown fields of the breakpoint and activate bodies, and pydantic's own
wording. Driven with API Gateway HTTP API (v2) events on the embedded runtime (moto)."""

from __future__ import annotations

import base64
import gzip
import json
import urllib.parse
import zlib
from typing import Any

import pytest

from podium.handlers import api
from podium.local.runtime import LocalRuntime

WORKFLOW = {
    "name": "bodies",
    "params": {"n": {"type": "int", "default": 1}},
    "steps": [{"id": "a", "type": "noop"}, {"id": "b", "type": "noop", "depends_on": ["a"]}],
}
LOOP = {
    "name": "loopy",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": [1, 2, 3]},
            "steps": [{"id": "x", "type": "noop"}],
        }
    ],
}
YAML = "application/yaml"


def send(
    method: str,
    path: str,
    body: Any = None,
    *,
    content_type: str = "application/json",
    encoding: str | None = None,
    base64_encoded: bool = False,
) -> tuple[int, dict[str, Any]]:
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
    path, _, query = path.partition("?")
    headers = {"content-type": content_type}
    if encoding:
        headers["content-encoding"] = encoding
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "queryStringParameters": dict(urllib.parse.parse_qsl(query)) or None,
        "headers": headers,
        "requestContext": {
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "test",
            },
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": base64_encoded,
    }
    response = api.handler(event, None)
    payload = json.loads(response["body"])
    assert isinstance(payload, dict)
    return response["statusCode"], payload


def errors(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["path"], e["message"]) for e in body["errors"]]


# ---- a key given twice --------------------------------------------------------------


def test_a_yaml_definition_giving_a_key_twice_is_refused_and_not_stored(
    runtime: LocalRuntime,
) -> None:
    text = (
        "name: dupe\n"
        "steps:\n"
        "  - id: extract\n"
        "    type: noop\n"
        "  - id: load\n"
        "    type: noop\n"
        "    depends_on: [extract]\n"
        "    retries: 5\n"
        "    depends_on: []\n"
    )
    status, body = send("POST", "/workflows", text, content_type=YAML)
    assert (status, body["code"]) == (400, "invalid_request"), body
    assert errors(body) == [
        ("steps[1].depends_on", "key 'depends_on' is given twice (lines 7 and 9); keep one")
    ]
    assert send("GET", "/workflows/dupe")[0] == 404


def test_a_json_body_giving_a_key_twice_is_refused_and_not_stored(
    runtime: LocalRuntime,
) -> None:
    text = (
        '{"name": "dupj", "steps": [{"id": "a", "type": "noop"}],'
        ' "steps": [{"id": "b", "type": "noop"}]}'
    )
    status, body = send("POST", "/workflows", text)
    assert (status, body["code"]) == (400, "invalid_request"), body
    assert errors(body) == [("body.steps", "key 'steps' is given twice; keep one")]
    assert send("GET", "/workflows/dupj")[0] == 404
    # Every JSON body: a run's params too (which n was meant?).
    send("POST", "/workflows", WORKFLOW)
    status, body = send("POST", "/workflows/bodies/runs", '{"params": {"n": 1, "n": 2}}')
    assert status == 400 and errors(body) == [("body.params.n", "key 'n' is given twice; keep one")]


# ---- gzip bodies read whole or not at all --------------------------------------------


def _gzip_push(raw: bytes, encoding: str = "gzip") -> tuple[int, dict[str, Any]]:
    return send(
        "POST",
        "/workflows",
        base64.b64encode(raw).decode(),
        content_type=YAML,
        encoding=encoding,
        base64_encoded=True,
    )


def _chain_yaml(n: int) -> bytes:
    steps = "".join(
        f"  - id: s{i}\n    type: noop\n" + (f"    depends_on: [s{i - 1}]\n" if i else "")
        for i in range(n)
    )
    return f"name: trunc\nsteps:\n{steps}".encode()


def test_a_truncated_gzip_body_is_refused_not_pushed_in_part(runtime: LocalRuntime) -> None:
    # Stored blocks (level 0): a cut anywhere leaves a clean prefix of the YAML, which
    # parsed and was pushed with its last steps missing.
    whole = gzip.compress(_chain_yaml(40), compresslevel=0)
    for cut in (len(whole) - 1, len(whole) - 8, len(whole) // 2, 30):
        status, body = _gzip_push(whole[:cut])
        assert (status, body["code"]) == (400, "invalid_body"), (cut, body)
        (path, message), *_ = errors(body)
        assert path == "body" and "ends early" in message and "send it whole" in message
    assert send("GET", "/workflows/trunc")[0] == 404
    status, body = _gzip_push(whole)
    assert status == 201, body
    _, stored = send("GET", "/workflows/trunc")
    assert len(stored["definition"]["steps"]) == 40


def test_bytes_after_the_gzip_stream_are_refused(runtime: LocalRuntime) -> None:
    text = _chain_yaml(3)
    for encoding, packed in (("gzip", gzip.compress(text)), ("deflate", zlib.compress(text))):
        status, body = _gzip_push(packed + b"garbage", encoding)
        assert (status, body["code"]) == (400, "invalid_body"), body
        assert errors(body) == [
            (
                "body",
                f"7 bytes after the end of the {encoding} stream; send the compressed body alone",
            )
        ]
    # A gzip body of two members (concatenated gzip files) is one body, read whole.
    status, body = _gzip_push(gzip.compress(text[:20]) + gzip.compress(text[20:]))
    assert status == 201, body


# ---- unknown fields of the breakpoint and activate bodies -------------------------------


def test_an_unknown_breakpoint_field_is_refused_not_widened_to_every_iteration(
    runtime: LocalRuntime,
) -> None:
    send("POST", "/workflows", LOOP)
    status, body = send(
        "POST",
        "/workflows/loopy/breakpoints",
        {"action": "set", "step": "each/x", "iteraton": 2},
    )
    assert status == 400, body
    assert errors(body) == [
        (
            "body.iteraton",
            "unknown field 'iteraton' (did you mean 'iteration'?);"
            " the fields are action, step, iteration",
        )
    ]
    assert send("GET", "/workflows/loopy/breakpoints")[1]["steps"] == []
    status, body = send(
        "POST",
        "/workflows/loopy/breakpoints",
        {"action": "set", "step": "each/x", "iteration": 2},
    )
    assert status == 200 and body["steps"] == ["each/x#2"], body


@pytest.mark.parametrize(
    ("sent", "want"),
    [
        ({"action": "sett"}, [("body.action", "must be 'set' or 'clear'")]),
        (None, [("body.action", "must be 'set' or 'clear'")]),
        ({"action": "clear", "step": ""}, [("body.step", "must be a step id")]),
        ({"action": "clear", "step": 5}, [("body.step", "must be a step id")]),
        (
            {"action": "clear", "iteration": True},
            [("body.iteration", "must be an iteration index (0 or more)")],
        ),
        (
            {"action": "clear", "iteration": -1},
            [("body.iteration", "must be an iteration index (0 or more)")],
        ),
        ({"action": "set"}, [("body.step", "name the step to break at")]),
        ([], [("body", "must be a JSON object")]),
    ],
)
def test_breakpoint_bodies_keep_their_messages(
    runtime: LocalRuntime, sent: Any, want: list[tuple[str, str]]
) -> None:
    send("POST", "/workflows", LOOP)
    status, body = send("POST", "/workflows/loopy/breakpoints", sent)
    assert (status, errors(body)) == (400, want)


def test_an_unknown_activate_field_is_refused(runtime: LocalRuntime) -> None:
    send("POST", "/workflows", WORKFLOW)
    status, body = send(
        "POST", "/workflows/bodies/activate", {"version": 1, "activate_at": "tomorrow"}
    )
    assert status == 400 and errors(body) == [
        ("body.activate_at", "unknown field 'activate_at'; the fields are version")
    ]
    for sent in (None, {}, {"version": "1"}, {"version": True}, {"version": 0}):
        status, body = send("POST", "/workflows/bodies/activate", sent)
        assert status == 400 and errors(body) == [
            (
                "body.version",
                'send the version to activate: {"version": N}, N a whole number, 1 or more'
                ' (a JSON number: not "1" or true)',
            )
        ], sent
    status, body = send("POST", "/workflows/bodies/activate", {"version": 1})
    assert status == 200 and body["active_version"] == 1


def test_a_rollback_with_a_version_is_refused_naming_activate(runtime: LocalRuntime) -> None:
    """``{"version": 1}`` sent to rollback (meant as its target) was ignored and the
    version below the active one activated: refused, naming the route that takes one."""
    send("POST", "/workflows", WORKFLOW)
    send("POST", "/workflows", {**WORKFLOW, "params": {"n": {"type": "int", "default": 2}}})
    status, body = send("POST", "/workflows/bodies/rollback", {"version": 2})
    assert status == 400 and errors(body)[0][0] == "body.version", body
    assert "POST /workflows/{name}/activate" in errors(body)[0][1]
    for empty in (None, {}):
        status, body = send("POST", "/workflows/bodies/rollback", empty)
        assert status == 200, body
        send("POST", "/workflows/bodies/activate", {"version": 2})


# ---- wording: no pydantic class names or regular expressions -------------------------


def test_request_errors_are_said_in_words_not_pydantics(runtime: LocalRuntime) -> None:
    send("POST", "/workflows", WORKFLOW)
    status, body = send("POST", "/workflows/bodies/runs", "[]")
    assert status == 400 and errors(body) == [("body", "must be a JSON object")]
    status, body = send("POST", "/workflows/bodies/runs", {"run_id": "my run"})
    assert status == 400 and errors(body) == [
        ("body.run_id", "use 1 to 64 letters, digits, '_' or '-'")
    ]
    status, body = send("POST", "/workflows/bodies/runs", {"parms": {}})
    assert status == 400 and errors(body) == [
        (
            "body.parms",
            "unknown field 'parms' (did you mean 'params'?);"
            " the fields are params, version, run_id, tags",
        )
    ]
    status, run = send("POST", "/workflows/bodies/runs", {})
    status, body = send(
        "POST", f"/runs/{run['run_id']}/actions", {"action": "stop", "request_id": "req #1"}
    )
    assert status == 400 and errors(body) == [
        ("body.request_id", "use 1 to 128 letters, digits, '_', '.', ':' or '-'")
    ]


def test_a_push_of_an_empty_object_is_validated_and_of_a_list_refused(
    runtime: LocalRuntime,
) -> None:
    status, body = send("POST", "/workflows", "{}")
    assert status == 400 and errors(body) == [
        ("name", "required field is missing"),
        ("steps", "required field is missing"),
    ]
    for sent in ("[]", "null", "3"):
        status, body = send("POST", "/workflows", sent)
        assert status == 400 and errors(body) == [
            ("body", "the definition must be a JSON object with 'name' and 'steps'")
        ], sent
    for sent, content_type in ((None, "application/json"), ("  ", "application/json"), ("", YAML)):
        status, body = send("POST", "/workflows", sent, content_type=content_type)
        assert status == 400 and errors(body) == [
            ("body", "send the workflow definition as the body")
        ]


def test_the_console_step_view_refuses_a_failed_only_that_is_not_a_boolean(
    runtime: LocalRuntime,
) -> None:
    send("POST", "/workflows", LOOP)
    _, run = send("POST", "/workflows/loopy/runs", {})
    runtime.pump()
    run_id = run["run_id"]
    for route in (f"/console/runs/{run_id}/step?name=each", f"/runs/{run_id}/iterations?step=each"):
        status, body = send("GET", f"{route}&failed_only=banana")
        assert status == 400 and errors(body) == [("query.failed_only", "use true or false")]
        for fine in ("true", "false", "TRUE"):
            assert send("GET", f"{route}&failed_only={fine}")[0] == 200, (route, fine)

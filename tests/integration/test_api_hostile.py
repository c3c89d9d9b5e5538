"""Hostile API requests (issue 9): every answer is JSON with a code, a message that names
the place and the fix, and a request id; nothing a caller sends gives a 500."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import os
import urllib.parse
from typing import Any

import pytest

from podium.handlers import api
from podium.local.runtime import LocalRuntime
from podium.service import api_requests

WORKFLOW = {
    "name": "hostile",
    "params": {"n": {"type": "int", "default": 1}},
    "steps": [{"id": "a", "type": "noop"}, {"id": "b", "type": "noop", "depends_on": ["a"]}],
}
OTHER = {"name": "other", "steps": [{"id": "a", "type": "noop"}]}


def send(
    method: str,
    path: str,
    body: str | None = None,
    *,
    base64_encoded: bool = False,
    headers: dict[str, str] | None = None,
    request_id: str = "req-1",
) -> tuple[int, dict[str, Any]]:
    path, _, query = path.partition("?")
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "queryStringParameters": dict(urllib.parse.parse_qsl(query)) or None,
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": {
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "test",
            },
            "requestId": request_id,
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


def assert_error(status: int, body: dict[str, Any], want: int, code: str) -> None:
    assert (status, body["code"]) == (want, code), body
    assert body["request_id"] == "req-1"
    assert body["message"]
    assert isinstance(body["errors"], list)


def test_invalid_base64_body_is_400(runtime: LocalRuntime) -> None:
    status, body = send("POST", "/workflows", "!!!not base64***", base64_encoded=True)
    assert_error(status, body, 400, "invalid_body")
    assert body["errors"][0]["path"] == "body"
    assert "not valid base64" in body["errors"][0]["message"]


def test_invalid_utf8_body_is_400(runtime: LocalRuntime) -> None:
    raw = base64.b64encode(b'{"name": "x\xff\xfe"}').decode()
    status, body = send("POST", "/workflows", raw, base64_encoded=True)
    assert_error(status, body, 400, "invalid_body")
    assert "not valid UTF-8 (byte 11)" in body["errors"][0]["message"]


@pytest.mark.parametrize("depth", [65, 10_000, 200_000])
def test_deeply_nested_json_is_400(runtime: LocalRuntime, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    status, body = send("POST", "/workflows", '{"name": "x", "steps": ' + nested + "}")
    assert_error(status, body, 400, "too_deep")
    status, body = send("POST", "/workflows/hostile/runs", '{"params": {"n": ' + nested + "}}")
    assert_error(status, body, 400, "too_deep")


def test_lone_surrogate_in_json_is_400(runtime: LocalRuntime) -> None:
    send("POST", "/workflows", json.dumps(WORKFLOW))
    status, body = send("POST", "/workflows", '{"name": "x\\ud800", "steps": []}')
    assert_error(status, body, 400, "invalid_json")
    assert body["errors"][0]["path"] == "body.name"
    status, body = send("POST", "/workflows/hostile/runs", '{"params": {"n": "\\udc00"}}')
    assert_error(status, body, 400, "invalid_json")
    assert body["errors"][0]["path"] == "body.params.n"
    # A surrogate pair is a real character and passes.
    status, _ = send(
        "POST", "/workflows", json.dumps({**OTHER, "description": "\U0001f600"}, ensure_ascii=True)
    )
    assert status == 201


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_numbers_json_has_not_are_400(runtime: LocalRuntime, number: str) -> None:
    # Python's json reads them (1e400 as Infinity); they were accepted, stored, and
    # echoed back in answers that were no longer JSON (the console could not read them).
    send("POST", "/workflows", json.dumps({**OTHER, "params": {"f": {"type": "double"}}}))
    status, body = send("POST", "/workflows/other/runs", '{"params": {"f": ' + number + "}}")
    assert_error(status, body, 400, "invalid_json")
    assert "JSON numbers are finite" in body["errors"][0]["message"]
    status, body = send("POST", "/workflows/other/runs", '{"params": {"f": 1' + "0" * 400 + "}}")
    assert_error(status, body, 400, "invalid_request")
    assert "finite double" in body["errors"][0]["message"]
    status, body = send("POST", "/workflows/other/runs", '{"params": {"f": 2.5}}')
    assert status == 202, body


def test_lone_surrogate_in_a_definition_expression_is_400(runtime: LocalRuntime) -> None:
    wf = {
        "name": "sur",
        "steps": [{"id": "a", "type": "lambda", "function": "f", "payload": {"x": "${'a\ud800'}"}}],
    }
    status, body = send("POST", "/workflows", json.dumps(wf))
    assert_error(status, body, 400, "invalid_json")
    wf["steps"][0]["payload"] = {"x": "${'a\\ud800'}"}  # the escape, spelled in CEL
    status, body = send("POST", "/workflows", json.dumps(wf))
    assert_error(status, body, 400, "invalid_request")
    assert "unpaired surrogate" in body["errors"][0]["message"]


def test_body_size_is_capped(runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_requests, "MAX_BODY_BYTES", 1000)
    status, body = send("POST", "/workflows", json.dumps({**OTHER, "description": "x" * 2000}))
    assert_error(status, body, 413, "body_too_large")
    assert "over the limit of 1,000" in body["errors"][0]["message"]


def test_gzip_bodies_are_accepted_and_bounded(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    packed = base64.b64encode(gzip.compress(json.dumps(OTHER).encode())).decode()
    status, body = send(
        "POST", "/workflows", packed, base64_encoded=True, headers={"content-encoding": "gzip"}
    )
    assert status == 201, body
    monkeypatch.setattr(api_requests, "MAX_DECOMPRESSED_BYTES", 10_000)
    bomb = base64.b64encode(gzip.compress(b" " * 1_000_000)).decode()
    status, body = send(
        "POST", "/workflows", bomb, base64_encoded=True, headers={"content-encoding": "gzip"}
    )
    assert_error(status, body, 413, "body_too_large")
    status, body = send("POST", "/workflows", "abc", headers={"content-encoding": "gzip"})
    assert_error(status, body, 400, "invalid_body")
    status, body = send("POST", "/workflows", "{}", headers={"content-encoding": "br"})
    assert_error(status, body, 415, "unsupported_encoding")


def test_incompressible_3mb_definition_is_413_not_500(runtime: LocalRuntime) -> None:
    noise = base64.b64encode(os.urandom(2_300_000)).decode()
    wf = {**OTHER, "description": noise}
    status, body = send("POST", "/workflows", json.dumps(wf))
    assert_error(status, body, 413, "definition_too_large")
    assert "over the 307,200-byte limit" in body["message"]


def test_yaml_alias_bomb_is_400(runtime: LocalRuntime) -> None:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for name in "bcdefgh":
        text += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    text += "name: x\nsteps: [{id: a, type: noop}]\n"
    status, body = send("POST", "/workflows", text, headers={"content-type": "application/yaml"})
    assert_error(status, body, 400, "invalid_request")
    assert "aliases expand" in body["errors"][0]["message"]


def test_client_token_reused_for_another_workflow_is_409(runtime: LocalRuntime) -> None:
    send("POST", "/workflows", json.dumps(WORKFLOW))
    send("POST", "/workflows", json.dumps(OTHER))
    status, _ = send("POST", "/workflows/hostile/runs", json.dumps({"run_id": "tok"}))
    assert status == 202
    status, body = send("POST", "/workflows/other/runs", json.dumps({"run_id": "tok"}))
    assert_error(status, body, 409, "run_id_conflict")
    assert "run_id 'tok' already names a run of workflow 'hostile'" in body["message"]
    assert body["run"]["run_id"] == "tok" and body["run"]["workflow"] == "hostile"
    assert body["errors"][0]["path"] == "body.run_id"


def test_client_token_reused_with_other_params_is_409(runtime: LocalRuntime) -> None:
    send("POST", "/workflows", json.dumps(WORKFLOW))
    first = json.dumps({"run_id": "tok2", "params": {"n": 3}})
    assert send("POST", "/workflows/hostile/runs", first)[0] == 202
    status, again = send("POST", "/workflows/hostile/runs", first)
    assert status == 202 and again["params"] == {"n": 3}  # a true retry: the same run
    status, body = send(
        "POST", "/workflows/hostile/runs", json.dumps({"run_id": "tok2", "params": {"n": 4}})
    )
    assert_error(status, body, 409, "run_id_conflict")
    assert "started with different params" in body["message"]
    assert body["run"]["params"] == {"n": 3}


def test_runs_of_an_unknown_workflow_is_404(runtime: LocalRuntime) -> None:
    status, body = send("GET", "/workflows/nope/runs")
    assert_error(status, body, 404, "not_found")
    assert "push it first" in body["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/workflows/" + "w" * 5000,
        "/workflows/" + "w" * 5000 + "/runs",
        "/runs/" + "r" * 5000,
        "/workflows/bad%20name",
    ],
)
def test_overlong_or_malformed_names_in_paths_are_400(runtime: LocalRuntime, path: str) -> None:
    status, body = send("GET", path)
    assert status == 400 and body["code"] in ("invalid_name", "invalid_run_id"), body
    assert body["request_id"] == "req-1"


def test_unknown_route_is_a_json_404(runtime: LocalRuntime) -> None:
    status, body = send("GET", "/nowhere")
    assert_error(status, body, 404, "no_route")
    status, body = send("DELETE", "/workflows")  # a served path: the method is wrong
    assert_error(status, body, 405, "method_not_allowed")


def test_non_object_bodies_are_400(runtime: LocalRuntime) -> None:
    for raw in ("[1, 2]", "42", '"text"', "null"):
        status, body = send("POST", "/workflows", raw)
        assert status == 400, (raw, body)
        status, body = send("POST", "/workflows/hostile/runs", raw)
        assert status in (400, 404), (raw, body)


def test_internal_errors_are_json_500_with_the_request_id(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(api, "describe_run", broken)
    with caplog.at_level(logging.ERROR, logger="podium.api"):
        status, body = send("GET", "/runs/abc")
    assert_error(status, body, 500, "internal_error")
    assert "req-1" in body["message"] and "disk on fire" not in body["message"]
    assert any("req-1" in r.getMessage() for r in caplog.records)


def test_huge_integer_literals_are_400(runtime: LocalRuntime) -> None:
    status, body = send("POST", "/workflows", '{"name": "x", "n": ' + "9" * 5000 + "}")
    assert_error(status, body, 400, "invalid_json")
    assert "more than 4,300 digits" in body["errors"][0]["message"]
    yaml_text = "name: x\nsteps: [{id: a, type: noop}]\nn: " + "9" * 5000
    status, body = send(
        "POST", "/workflows", yaml_text, headers={"content-type": "application/yaml"}
    )
    assert_error(status, body, 400, "invalid_request")


def test_a_10000_step_chain_pushes_and_starts_in_linear_time(runtime: LocalRuntime) -> None:
    import time

    steps: list[dict[str, Any]] = [{"id": "s0", "type": "noop"}]
    steps += [
        {"id": f"s{i}", "type": "noop", "depends_on": [f"s{i - 1}"]} for i in range(1, 10_000)
    ]
    started = time.process_time()
    status, _ = send("POST", "/workflows", json.dumps({"name": "big", "steps": steps}))
    assert status == 201
    runtime.services.definitions._cache.clear()  # a fresh process: compile on first use
    status, run = send("POST", "/workflows/big/runs", "{}")
    assert status == 202 and run["status"] == "RUNNING"
    # Validation once took 13 s of CPU and a run start 14.9 s for this chain.
    assert time.process_time() - started < 5


@pytest.mark.parametrize(
    "body",
    [
        {"version": 10**40},
        {"version": -1},
        {"params": [1, 2]},
        {"run_id": "x" * 65},
        {"run_id": "a/b"},
        {"params": {"n": 10**30}},
        {"params": {"n": "1"}},
        {"params": {"zz" * 100: 1}},
    ],
)
def test_odd_start_requests_are_400(runtime: LocalRuntime, body: dict[str, Any]) -> None:
    send("POST", "/workflows", json.dumps(WORKFLOW))
    status, answer = send("POST", "/workflows/hostile/runs", json.dumps(body))
    assert_error(status, answer, 400, "invalid_request")


def test_a_when_with_a_backslash_run_is_rejected_quickly(runtime: LocalRuntime) -> None:
    import time

    wf = {
        "name": "lex",
        "steps": [
            {"id": "a", "type": "noop"},
            {"id": "b", "type": "noop", "depends_on": [{"step": "a", "when": '"' + "\\" * 60}]},
        ],
    }
    started = time.perf_counter()
    status, body = send("POST", "/workflows", json.dumps(wf))
    assert time.perf_counter() - started < 2
    assert_error(status, body, 400, "invalid_request")
    assert body["errors"][0]["path"] == "steps[1].depends_on[0].when"
    assert "unterminated string literal" in body["errors"][0]["message"]


def test_values_of_the_wrong_kind_are_refused_not_coerced(runtime: LocalRuntime) -> None:
    # Each was accepted: [] as no params, false as a heartbeat, true or "1" as version 1,
    # "yes" as a dry run, a typo in a console filter as "no step matches".
    from podium.service.api_requests import RequestError
    from podium.service.callbacks import parse_callback

    send("POST", "/workflows", json.dumps(WORKFLOW))
    for params in ("[]", '""', "0", "false"):
        status, body = send("POST", "/signals", '{"name": "go", "params": ' + params + "}")
        assert_error(status, body, 400, "invalid_request")
        assert body["errors"][0]["path"].endswith("params"), body
    with pytest.raises(RequestError, match="heartbeat"):
        parse_callback({"heartbeat": False})
    for version in ("true", '"1"'):
        status, body = send("POST", "/workflows/hostile/runs", '{"version": ' + version + "}")
        assert status == 400, body
    for flag in ('"yes"', "1"):
        status, body = send(
            "POST",
            "/workflows/hostile/backfill",
            '{"from": "2026-01-01", "to": "2026-01-02", "dry_run": ' + flag + "}",
        )
        assert status == 400 and "dry_run" in json.dumps(body), body
    status, body = send("POST", "/workflows/hostile/runs", "{}")
    run_id = body["run_id"]
    status, body = send("GET", f"/console/runs/{run_id}?status=BOGUS")
    assert status == 400 and "unknown step status 'BOGUS'" in json.dumps(body), body
    status, body = send("GET", f"/runs/{'x' * 5000}/logs?step=a")
    assert status == 400, body


def test_restarting_a_loop_iterations_run_says_which_run_to_restart(
    runtime: LocalRuntime,
) -> None:
    # It answered 404 "workflow 'loopy/each' not found; push it first".
    runtime.run(
        {
            "name": "loopy",
            "steps": [
                {
                    "id": "each",
                    "type": "foreach",
                    "over": {"i": [1, 2]},
                    "steps": [{"id": "x", "type": "noop"}],
                }
            ],
        }
    )
    (run,) = runtime.store.list_runs("loopy", 10)
    status, body = send(
        "POST", f"/runs/{run.run_id}.each.0/actions", json.dumps({"action": "restart"})
    )
    assert status == 409, body
    assert "restart that run from each/0/<step>" in json.dumps(body), body


def test_a_step_path_into_iterations_says_which_part_does_not_exist(
    runtime: LocalRuntime,
) -> None:
    # They all answered "run 'L1.each.99999' not found", naming a run the caller never
    # wrote; restart's --from already said which part was wrong.
    runtime.run(
        {
            "name": "loopy",
            "steps": [
                {"id": "first", "type": "noop"},
                {
                    "id": "each",
                    "type": "foreach",
                    "over": {"i": [1, 2, 3]},
                    "steps": [{"id": "x", "type": "noop"}],
                    "depends_on": ["first"],
                },
            ],
        }
    )
    (run,) = runtime.store.list_runs("loopy", 10)
    cases = {
        "a/0/x": "no step 'a' in 'loopy'; one of: first, each",
        "first/0/x": "'first' is a noop step of 'loopy', not a loop",
        "each/99999/x": "iteration 99999 of 'each' never ran in run",
        "each/0/y": "the body of 'each' has no step 'y'; one of: x",
        "each/\u0663/x": "'\u0663' after 'each' must be an iteration index",
    }
    for path, said in cases.items():
        status, body = send(
            "POST",
            f"/runs/{run.run_id}/steps/actions",
            json.dumps({"step": path, "action": "skip"}),
        )
        assert status == 400, (path, body)
        assert said in json.dumps(body, ensure_ascii=False), (path, body)


def test_query_integers_are_ascii_digits(runtime: LocalRuntime) -> None:
    # int() read "+5", " 5", "1_0" and other scripts' digits ("\u0663" is 3).
    send("POST", "/workflows", json.dumps(WORKFLOW))
    for raw in ("%2B5", "%205", "1_0", "%D9%A3", "5.0", "abc"):
        status, body = send("GET", f"/workflows/hostile/runs?limit={raw}")
        assert_error(status, body, 400, "invalid_request")
        assert body["errors"][0]["path"] == "query.limit", body
    status, _ = send("GET", "/workflows/hostile/runs?limit=5")
    assert status == 200


def test_an_iteration_breakpoint_past_the_loop_limit_is_refused(runtime: LocalRuntime) -> None:
    # It was stored, and could never be hit (a loop has at most 100,000 iterations).
    send("POST", "/workflows", json.dumps(WORKFLOW))
    for index in (100_000, 10**3000):
        status, body = send(
            "POST",
            "/workflows/hostile/breakpoints",
            json.dumps({"action": "set", "step": "each/x", "iteration": index}),
        )
        assert status == 400 and "0 to 99,999" in json.dumps(body), body
        assert body["errors"][0]["path"] == "body.iteration", body


def test_a_backfill_error_names_the_body_field(runtime: LocalRuntime) -> None:
    # The plan's places are the request's fields: body.to, not "to".
    send("POST", "/workflows", json.dumps({**WORKFLOW, "triggers": [{"cron": "0 6 * * *"}]}))
    status, body = send(
        "POST",
        "/workflows/hostile/backfill",
        json.dumps({"from": "2026-03-05", "to": "2026-03-01"}),
    )
    assert status == 400 and body["errors"][0]["path"] == "body.to", body


def test_a_union_fields_error_names_the_field_not_pydantics_member_tags(
    runtime: LocalRuntime,
) -> None:
    # It said body.version.constrained-int and body.version.literal['active'].
    send("POST", "/workflows", json.dumps(WORKFLOW))
    status, body = send("POST", "/workflows/hostile/runs", "{}")
    run_id = body["run_id"]
    status, body = send(
        "POST", f"/runs/{run_id}/actions", json.dumps({"action": "restart", "version": "latest"})
    )
    assert status == 400, body
    assert {e["path"] for e in body["errors"]} == {"body.version"}, body

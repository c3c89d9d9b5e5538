"""Whatever a caller sends, the API answers with JSON and never a 500 (issue 9)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podium.handlers import api
from podium.local.runtime import LocalRuntime

DEADLINE = timedelta(seconds=3)
WORKFLOW = {
    "name": "prop",
    "params": {"n": {"type": "int", "default": 1}},
    "steps": [{"id": "a", "type": "noop"}],
    "triggers": [{"id": "daily", "cron": "0 6 * * *"}],
}

SEGMENT = st.one_of(
    st.sampled_from(["prop", "nope", "a" * 81, "x" * 3000, "..", "%00", "a b", "é"]),
    st.text(min_size=1, max_size=20).filter(lambda s: "/" not in s),
)
PATHS = st.one_of(
    st.just("/workflows"),
    SEGMENT.map(lambda s: f"/workflows/{s}"),
    SEGMENT.map(lambda s: f"/workflows/{s}/runs"),
    SEGMENT.map(lambda s: f"/workflows/{s}/unblock"),
    SEGMENT.map(lambda s: f"/runs/{s}"),
    SEGMENT.map(lambda s: f"/runs/{s}/iterations"),
    SEGMENT.map(lambda s: f"/runs/prop.each.{s}"),
    st.just("/signals"),
    SEGMENT.map(lambda s: f"/workflows/{s}/triggers"),
    st.tuples(SEGMENT, SEGMENT, st.sampled_from(["enable", "disable"])).map(
        lambda t: f"/workflows/{t[0]}/triggers/{t[1]}/{t[2]}"
    ),
    SEGMENT.map(lambda s: f"/workflows/{s}/backfill"),
    SEGMENT.map(lambda s: f"/callbacks/{s}"),
    # Callback tokens: well-formed or not, naming runs that exist or not.
    st.text(max_size=60).map(
        lambda s: "/callbacks/pcb1_" + base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")
    ),
    st.sampled_from(["tok-1", "x" * 70, ""]).map(
        lambda r: (
            "/callbacks/pcb1_" + base64.urlsafe_b64encode(f"{r}/a/1".encode()).decode().rstrip("=")
        )
    ),
    # Operators' routes (issue 14): actions, replay, versions, breakpoints.
    SEGMENT.map(lambda s: f"/runs/{s}/actions"),
    SEGMENT.map(lambda s: f"/runs/{s}/steps/actions"),
    SEGMENT.map(lambda s: f"/runs/{s}/replay"),
    SEGMENT.map(lambda s: f"/workflows/{s}/versions"),
    SEGMENT.map(lambda s: f"/workflows/{s}/activate"),
    SEGMENT.map(lambda s: f"/workflows/{s}/rollback"),
    SEGMENT.map(lambda s: f"/workflows/{s}/breakpoints"),
    st.text(max_size=30).map(lambda s: "/" + s),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
START_BODIES = st.fixed_dictionaries(
    {},
    optional={
        "params": st.one_of(JSON, st.dictionaries(st.sampled_from(["n", "m"]), JSON)),
        "version": st.one_of(st.integers(), JSON),
        "run_id": st.one_of(st.text(max_size=70), JSON),
    },
)

SIGNAL_BODIES = st.fixed_dictionaries(
    {"name": st.one_of(st.sampled_from(["ready", "a.b/c:d"]), st.text(max_size=140), JSON)},
    optional={
        "params": st.one_of(JSON, st.dictionaries(st.text(max_size=70), JSON)),
        "payload": JSON,
        "request_id": st.one_of(st.text(max_size=300), JSON),
        "ttl_days": st.one_of(st.integers(), JSON),
    },
)

BACKFILL_BODIES = st.fixed_dictionaries(
    {
        "from": st.one_of(st.sampled_from(["2026-01-01", "2026-01-01T00:00:00Z", "x"]), JSON),
        "to": st.one_of(st.sampled_from(["2026-01-03", "1999-01-01", "2026-13-01"]), JSON),
    },
    optional={
        "trigger": st.one_of(st.sampled_from(["daily", "nope"]), JSON),
        "reprocess": st.one_of(st.sampled_from(["none", "failed", "all", "x"]), JSON),
        "max_active": st.one_of(st.integers(), JSON),
        "backwards": JSON,
        "dry_run": st.one_of(st.booleans(), JSON),
    },
)


@st.composite
def bodies(draw: Any) -> tuple[str | None, bool]:
    kind = draw(
        st.sampled_from(
            [
                "json",
                "start",
                "text",
                "bytes",
                "none",
                "definition",
                "signal",
                "backfill",
                "callback",
            ]
        )
    )
    if kind == "callback":
        body = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "success": JSON,
                    "fail": JSON,
                    "heartbeat": JSON,
                    "by": JSON,
                    "comment": JSON,
                },
            )
        )
        return json.dumps(body), False
    if kind == "none":
        return None, False
    if kind == "json":
        return json.dumps(draw(JSON)), False
    if kind == "start":
        return json.dumps(draw(START_BODIES)), False
    if kind == "signal":
        return json.dumps(draw(SIGNAL_BODIES)), False
    if kind == "backfill":
        return json.dumps(draw(BACKFILL_BODIES)), False
    if kind == "definition":
        doc = dict(WORKFLOW)
        doc[draw(st.sampled_from(["name", "steps", "params", "extra"]))] = draw(JSON)
        return json.dumps(doc), False
    if kind == "text":
        return draw(st.text(max_size=200)), False
    raw = draw(st.binary(max_size=200))
    if draw(st.booleans()):
        return base64.b64encode(raw).decode(), True
    return raw.decode("latin-1"), True  # marked base64 but is not


@settings(
    max_examples=120,
    deadline=DEADLINE,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    path=PATHS,
    body=bodies(),
    content_type=st.sampled_from(["application/json", "application/yaml", "text/plain", ""]),
    encoding=st.sampled_from([None, "gzip", "identity", "br", "deflate"]),
)
def test_no_request_gets_a_500(
    runtime: LocalRuntime,
    method: str,
    path: str,
    body: tuple[str | None, bool],
    content_type: str,
    encoding: str | None,
) -> None:
    api.handler(_event("POST", "/workflows", json.dumps(WORKFLOW), False, {}), None)
    headers = {"content-type": content_type}
    if encoding:
        headers["content-encoding"] = encoding
    response = api.handler(_event(method, path, body[0], body[1], headers), None)
    status = response["statusCode"]
    payload = json.loads(response["body"])
    assert status != 500, payload
    if status >= 400:
        assert payload["code"] and payload["message"] and payload["request_id"] == "prop-req"


def _event(
    method: str, path: str, body: str | None, b64: bool, headers: dict[str, str]
) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "test",
            },
            "requestId": "prop-req",
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": b64,
    }

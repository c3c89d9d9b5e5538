"""Action-shaped requests, well-formed or not, to the operators' routes never get a 500:
a refused action is a 409, a bad field a 400 naming it, an unknown run or step a 404."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podium.handlers import api
from podium.local.runtime import LocalRuntime
from tests.property.test_api_never_500 import _event

WORKFLOW = {
    "name": "prop_actions",
    "steps": [
        {"id": "wait", "type": "sleep", "seconds": 3600},
        {"id": "b", "type": "noop", "depends_on": ["wait"]},
    ],
}
TEXT = st.text(max_size=12)
ANY = st.one_of(st.none(), st.booleans(), st.integers(), TEXT, st.lists(TEXT, max_size=2))
ACTION = st.one_of(
    st.sampled_from(
        ["stop", "kill", "pause", "resume", "restart", "skip", "retry", "set", "clear"]
    ),
    ANY,
)
STEP = st.one_of(st.sampled_from(["wait", "b", "nope", "wait/1/b", "a//b", "x" * 300]), ANY)
BODY = st.fixed_dictionaries(
    {"action": ACTION},
    optional={
        "step": STEP,
        "from": st.one_of(st.sampled_from(["incomplete", "beginning", "b", "zz"]), ANY),
        "version": st.one_of(st.sampled_from([1, 2, "active", 10**30, -1]), ANY),
        "params": st.one_of(st.dictionaries(TEXT, ANY, max_size=2), ANY),
        "reason": ANY,
        "request_id": st.one_of(st.sampled_from(["r1", "r1", "x" * 200]), ANY),
    },
)
PATH = st.sampled_from(
    [
        "/runs/{run}/actions",
        "/runs/{run}/steps/actions",
        "/runs/missing/actions",
        "/workflows/prop_actions/activate",
        "/workflows/prop_actions/rollback",
        "/workflows/prop_actions/breakpoints",
        "/workflows/nope/breakpoints",
    ]
)


@settings(
    max_examples=150,
    deadline=None,  # the property is "never a 500"; a clear scans every active run
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(path=PATH, body=BODY)
def test_no_action_request_gets_a_500(
    runtime: LocalRuntime, path: str, body: dict[str, Any]
) -> None:
    runtime.push(WORKFLOW)
    run = runtime.start_run("prop_actions")
    runtime.pump(max_deliveries=2)
    target = path.format(run=run.run_id)
    response = api.handler(
        _event("POST", target, json.dumps(body), False, {"content-type": "application/json"}),
        None,
    )
    status, payload = response["statusCode"], json.loads(response["body"])
    assert status in (200, 400, 404, 409), (status, payload)
    if status >= 400:
        assert payload["code"] and payload["message"]

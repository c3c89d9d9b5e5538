"""docs/operations.md (Limits): a 404 ``not_found`` for an unknown step names what
exists. Replay and iterations did (test_api_unknown_step_is_404_naming_steps); the step
action route, the logs route and the console's step views did not: no place, no
did-you-mean, no list of the run's steps."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from podium.local.runtime import LocalRuntime
from tests.integration.dev_support import memory_dev_server, post
from tests.integration.test_api import call

WORKFLOW = {
    "name": "named",
    "steps": [
        {"id": "load", "type": "wait_for_callback"},
        {"id": "b", "type": "noop", "depends_on": ["load"]},
    ],
}


def _started(rt: LocalRuntime) -> str:
    assert call("POST", "/workflows", WORKFLOW)[0] == 201
    status, run = call("POST", "/workflows/named/runs", {})
    assert status == 202
    rt.pump()
    return str(run["run_id"])


def _said(body: dict[str, object]) -> str:
    errors = body["errors"]
    assert isinstance(errors, list)
    return str(body["message"]) + " ".join(e["message"] for e in errors)


def test_a_step_action_on_an_unknown_step_names_the_steps(memory_rt: LocalRuntime) -> None:
    """POST /runs/{id}/steps/actions {"step": "lod", "action": "skip"} answered 404 "run X
    of workflow 'named' has no step 'lod'" with an empty errors list (actions.py
    StepNotFound), where the same route named body.step and the choices for an unknown
    step inside a loop."""
    run_id = _started(memory_rt)
    status, body = call("POST", f"/runs/{run_id}/steps/actions", {"step": "lod", "action": "skip"})
    assert (status, body["code"]) == (404, "not_found"), body
    assert "(did you mean 'load'?); one of: load, b" in _said(body), body
    assert [e["path"] for e in body["errors"]] == ["body.step"], body


@pytest.mark.parametrize(
    ("route", "place"),
    [
        ("/runs/{run}/logs?step=lod", "query.step"),
        ("/console/runs/{run}/step?name=lod", "query.name"),
        ("/console/runs/{run}?node=lod", "query.node"),
    ],
)
def test_a_read_of_an_unknown_step_names_the_steps(
    memory_rt: LocalRuntime, route: str, place: str
) -> None:
    """GET /runs/{id}/logs?step=lod ("has no step 'lod' (yet)": step_logs.py), the
    console's step detail ?name=lod and run page ?node=lod ("run X has no step 'lod'":
    console_views.py) answered 404 with no place and without the steps the run has."""
    run_id = _started(memory_rt)
    path, _, query = route.format(run=run_id).partition("?")
    name, _, value = query.partition("=")
    status, body = call("GET", path, query={name: value})
    assert (status, body["code"]) == (404, "not_found"), body
    assert "did you mean 'load'" in _said(body), body
    assert [e["path"] for e in body["errors"]] == [place], body


def test_the_logs_of_a_step_not_started_yet_say_so(memory_rt: LocalRuntime) -> None:
    """A step of the run that has not started is told apart from a typo."""
    run_id = _started(memory_rt)
    status, body = call("GET", f"/runs/{run_id}/logs", query={"step": "b"})
    assert status == 404 and "has not started" in body["message"], body


@pytest.mark.parametrize(
    ("view", "place"), [("/step?name=lod", "query.name"), ("?node=lod", "query.node")]
)
def test_podium_devs_console_views_name_the_place_too(view: str, place: str) -> None:
    """podium dev serves the console's views itself (dev_server.py console_view): its
    404 for an unknown step had no place either."""
    with memory_dev_server() as dev:
        assert post(dev, "/workflows", WORKFLOW)[0] == 201
        status, run = post(dev, "/workflows/named/runs", {})
        assert status == 202, run
        url = f"{dev.url}/api/console/runs/{run['run_id']}{view}"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=10)
        body = json.loads(refused.value.read())
    assert (refused.value.code, body["code"]) == (404, "not_found"), body
    assert "did you mean 'load'" in _said(body), body
    assert [e["path"] for e in body["errors"]] == [place], body

"""A page token says which list it pages: a run page's steps token given to a runs list
(or the other way round) was read as a position in it, a pair being a pair (a step's
rank taken for a creation time: an empty page, no error). Now each list refuses the
other's token with a 400 naming ``query.next`` (and the CLI with exit 2)."""

from __future__ import annotations

import json

from podium.local.runtime import LocalRuntime
from podium.service import views
from tests.integration.test_api import call

ONE_STEP = {"name": "kinds", "steps": [{"id": "a", "type": "noop"}]}


def test_a_runs_list_refuses_a_steps_token(runtime: LocalRuntime) -> None:
    assert call("POST", "/workflows", ONE_STEP)[0] == 201
    assert call("POST", "/workflows/kinds/runs", {"run_id": "k-1"})[0] == 202
    status, body = call("GET", "/workflows/kinds/runs", query={"next": views.steps_token((0, "a"))})
    assert status == 400 and "query.next" in json.dumps(body), body


def test_a_run_page_refuses_a_runs_token(runtime: LocalRuntime) -> None:
    assert call("POST", "/workflows", ONE_STEP)[0] == 201
    assert call("POST", "/workflows/kinds/runs", {"run_id": "k-1"})[0] == 202
    token = views.runs_token((0, "k-1"))
    status, body = call("GET", "/runs/k-1", query={"next": token})
    assert status == 400 and "query.next" in json.dumps(body), body


def test_a_runs_token_names_the_last_run_it_listed() -> None:
    assert views.parse_runs_token(views.runs_token((1_700_000_000_000, "r-9"))) == (
        1_700_000_000_000,
        "r-9",
    )

"""The API's list pages refuse a ``next`` token they did not give, at ``query.next``.

A runs token of a time DynamoDB's runs index cannot compare (14 digits and more sort
before every run there: the page was empty, silently), a runs token whose run id no run
can have (SQLite could not bind a lone surrogate: a 500), and a steps token of another
workflow's run (read as a place in this one: its first steps were never listed) are each
a 400 naming query.next (views.parse_runs_token, views.page_of_steps)."""

from __future__ import annotations

import base64
import json

import pytest

from podium.adapters.clock import ManualClock
from podium.local.runtime import LocalRuntime
from tests.integration.test_api import call

WF = {"name": "paged", "steps": [{"id": "a", "type": "noop"}]}


def forged(*parts: object) -> str:
    """A runs token as views.runs_token writes one, with any parts (json escapes a lone
    surrogate as ``\\ud800``: the token itself is plain ASCII)."""
    raw = json.dumps(list(parts), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _three_runs(clock: ManualClock | None = None) -> list[str]:
    """Workflow ``paged`` with three runs, newest first (each a second apart)."""
    assert call("POST", "/workflows", WF)[0] == 201
    for i in range(3):
        assert call("POST", "/workflows/paged/runs", {"run_id": f"paged-{i}"})[0] == 202
        if clock is not None:
            clock.advance(1000)
    return ["paged-2", "paged-1", "paged-0"]


@pytest.mark.parametrize(
    ("path", "token"),
    [
        # The API's own list, with this workflow's name in the token (views.runs_token).
        ("/workflows/paged/runs", forged("runs", 10**13, "z", "paged")),
        # The console's list, whose parse_page_token takes any time up to 10**15 as a
        # run's creation time ("created before the year 33658").
        ("/console/runs", forged("runs", 10**14, "z")),
    ],
    ids=["api_runs_list", "console_runs_list"],
)
def test_a_runs_token_of_a_far_future_time_lists_the_older_runs_on_dynamodb(
    runtime: LocalRuntime, path: str, token: str
) -> None:
    """A runs token names the run a page ended at; the next page lists the runs older than
    it (views.parse_runs_token takes any created_at >= 0, console_views.parse_page_token
    any up to 10**15). On the memory and SQLite stores a token of a time past every run
    lists every run. On DynamoDB (the deployed store, here moto) the page is empty, 200,
    no error: dynamo_store.list_runs compares ``gsi1sk < "<created_at:013d>#<run_id>"``
    as strings, and a time of 14 digits or more ("10000000000000#z") sorts before every
    13-digit one ("1767225600000#paged-0"). A forged token must be a 400 at query.next
    or page as the other stores do, never a silently empty page."""
    _three_runs(runtime.clock)  # type: ignore[arg-type]
    status, body = call("GET", path, query={"next": token})
    if status == 400:
        assert body["errors"][0]["path"] == "query.next", body
        return
    assert status == 200, body
    assert [r["run_id"] for r in body["runs"]] == ["paged-2", "paged-1", "paged-0"], body


def test_a_runs_token_naming_a_run_id_no_store_can_hold_is_a_400_not_a_500(
    home_rt: LocalRuntime,
) -> None:
    """ "Nothing a caller sends gives a 500" (handlers/api.py). GET /workflows/{name}/runs
    reads its ``next`` with views.parse_runs_token, which takes any non-empty string as
    the run id (the console's parse_page_token also checks it with check_run_id). A
    token whose run id is a lone surrogate (``["runs",1,"\\ud800","paged"]``, plain ASCII
    base64) reaches the SQLite store of ``podium dev`` / a local home, whose bind fails:
    UnicodeEncodeError, a 500 internal_error. It should be a 400 at query.next."""
    _three_runs()
    token = forged("runs", 1, "\ud800", "paged")
    status, body = call("GET", "/workflows/paged/runs", query={"next": token})
    assert status == 400, body
    assert body["errors"][0]["path"] == "query.next", body


def test_a_steps_token_of_another_workflows_run_is_refused(memory_rt: LocalRuntime) -> None:
    """GET /runs/{id}?next=TOKEN pages a run's steps; the token names "the last step
    returned" (docs/architecture.md) and a token this run did not give is refused as
    "not a page token of this run" (views.BadStepsToken), as a runs list refuses another
    workflow's token (views.OtherListsToken). A token of a run of another workflow
    (``[0, "z0"]``: its first step) is read as a place in this run instead
    (views.parse_steps_token checks only its shape; page_of_steps compares keys): run
    t1's page silently starts after its rank-0 step ``a0``, which is never listed. The
    token's step should be checked against this run's definition (the step at its rank)
    and a stranger's refused with a 400 at query.next."""
    one = {"name": "one", "steps": [{"id": f"z{i}", "type": "noop"} for i in range(3)]}
    two = {"name": "two", "steps": [{"id": f"a{i}", "type": "noop"} for i in range(4)]}
    for wf, run_id in ((one, "o1"), (two, "t1")):
        assert call("POST", "/workflows", wf)[0] == 201
        assert call("POST", f"/workflows/{wf['name']}/runs", {"run_id": run_id})[0] == 202
    memory_rt.pump()
    status, first = call("GET", "/runs/o1", query={"limit": "1"})
    assert status == 200 and [s["step"] for s in first["steps"]] == ["z0"], first
    status, body = call("GET", "/runs/t1", query={"next": first["next"]})
    if status == 400:
        assert body["errors"][0]["path"] == "query.next", body
        return
    assert status == 200, body
    assert [s["step"] for s in body["steps"]] == ["a0", "a1", "a2", "a3"], body

"""A runs list's ``next`` page token names the workflow whose list it pages; one from
another workflow's list is refused (400 at query.next, naming the fix), not read as a
place in this list."""

from __future__ import annotations

from podium.adapters.clock import ManualClock
from podium.local.runtime import LocalRuntime
from tests.integration.test_api import call


def _workflow(name: str) -> dict[str, object]:
    return {"name": name, "steps": [{"id": "a", "type": "noop"}]}


def _two_workflows(clock: ManualClock) -> str:
    """ "first" (3 runs) and "second" (2 newer runs); the token of first's first page."""
    for name in ("first", "second"):
        assert call("POST", "/workflows", _workflow(name))[0] == 201
    for _ in range(3):
        assert call("POST", "/workflows/first/runs", {})[0] == 202
    clock.advance(60_000)
    for _ in range(2):
        assert call("POST", "/workflows/second/runs", {})[0] == 202
    status, page = call("GET", "/workflows/first/runs", query={"limit": "1"})
    assert status == 200 and "next" in page  # control: first has more than one page
    return str(page["next"])


def test_a_runs_token_of_another_workflow_is_refused(
    memory_rt: LocalRuntime, manual_clock: ManualClock
) -> None:
    """GET /workflows/second/runs?next=TOKEN took a token first's list gave (views.py
    runs_token held only (created_at, run_id), not the workflow) and answered the runs of
    "second" older than first's run: an empty page, with no error, second's newest runs
    silently skipped."""
    token = _two_workflows(manual_clock)
    status, body = call("GET", "/workflows/second/runs", query={"next": token})
    assert status == 400, (status, body)
    assert [e["path"] for e in body["errors"]] == ["query.next"], body
    said = body["errors"][0]["message"]
    assert "'first'" in said and "GET /workflows/second/runs" in said, said


def test_a_runs_token_still_pages_its_own_list(
    memory_rt: LocalRuntime, manual_clock: ManualClock
) -> None:
    """The token pages the list it came from, to its end."""
    token = _two_workflows(manual_clock)
    seen = 1
    while token:
        status, page = call("GET", "/workflows/first/runs", query={"limit": "1", "next": token})
        assert status == 200, page
        seen += len(page["runs"])
        token = page.get("next", "")
    assert seen == 3

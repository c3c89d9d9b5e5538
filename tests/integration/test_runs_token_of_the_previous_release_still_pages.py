"""A runs list's page token made by the previous release (no workflow in it) was
refused after the deploy as "of another list": an open console tab or a paging script
got a 400 for its own list's token. A token without a workflow still pages.
"""

from __future__ import annotations

from podium.adapters.clock import ManualClock
from podium.local.runtime import LocalRuntime
from podium.service.views import parse_runs_token, runs_token
from tests.integration.test_api import call


def test_a_runs_token_of_the_previous_release_pages_its_list(
    memory_rt: LocalRuntime, manual_clock: ManualClock
) -> None:
    """A console tab or script that holds a `next` token of workflow wf's list from before
    the deploy (a token (created_at, run_id) with no workflow) asks for the next page:
    it gets a 400 saying the token "is of another list, not of workflow 'wf''s", which
    is untrue (it is this list's). A token without a workflow should still page the list
    (read as before), or at least be refused as an expired token, not another list's."""
    assert (
        call("POST", "/workflows", {"name": "wf", "steps": [{"id": "a", "type": "noop"}]})[0] == 201
    )
    for _ in range(3):
        assert call("POST", "/workflows/wf/runs", {})[0] == 202
    status, page = call("GET", "/workflows/wf/runs", query={"limit": "1"})
    assert status == 200 and "next" in page
    # The same place, as the previous release wrote it (no scope).
    old = runs_token(parse_runs_token(str(page["next"]), "wf"))
    status, body = call("GET", "/workflows/wf/runs", query={"limit": "1", "next": old})
    assert status == 200, f"{status}: {body.get('errors') or body}"

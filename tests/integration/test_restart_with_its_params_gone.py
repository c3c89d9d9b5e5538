"""A restart of a run whose stored params are gone.

Params over 4 KiB are stored once as a payload (service/runs.py) that expires with the
bucket's lifecycle or is deleted with a local prune. ``GET /runs/{id}`` and the console
show such a run with its params marked ``missing`` and offer Restart. The restart itself
answered 404 ``not_found`` "params: payload ... not found", as if the run did not
exist: ``restart.restart`` read the old params before it looked at the request (and
``MissingPayload`` is a NotFound). It did so even when the request gave every param
the workflow declares. Now such a restart goes ahead with the params it is given, and
one that would need the gone params is refused (400 at ``body.params``) naming them and
the fix.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from podium.adapters.clock import ManualClock
from podium.local.runtime import LocalRuntime
from tests.integration.test_api import call

WF = {
    "name": "big_params",
    "params": {"blob": {"type": "string", "default": ""}},
    "steps": [
        {"id": "a", "type": "noop"},
        {"id": "b", "type": "fail", "message": "boom", "depends_on": ["a"]},
    ],
}


@pytest.fixture
def gone(tmp_path: Path) -> Iterator[LocalRuntime]:
    """Run ``big-1`` FAILED, its params (6 KB, stored apart) deleted from the home."""
    home = tmp_path / ".podium"
    with LocalRuntime(store="sqlite", clock=ManualClock(), home=home) as rt:
        assert call("POST", "/workflows", WF)[0] == 201
        status, run = call(
            "POST",
            "/workflows/big_params/runs",
            {"run_id": "big-1", "params": {"blob": "x" * 6000}},
        )
        assert status == 202 and "$payload" in run["params"], run
        rt.pump()
        shutil.rmtree(home / "payloads" / "big-1")  # expired, or deleted
        status, body = call("GET", "/runs/big-1")
        assert status == 200 and body["run"]["status"] == "FAILED"
        assert "missing" in body["run"]["params"], body["run"]["params"]
        status, page = call("GET", "/console/runs/big-1")
        assert status == 200 and "restart" in page["actions"], page["actions"]
        yield rt


def test_a_restart_giving_every_param_goes_ahead_when_the_old_params_are_gone(
    gone: LocalRuntime,
) -> None:
    status, done = call(
        "POST", "/runs/big-1/actions", {"action": "restart", "params": {"blob": "fresh"}}
    )
    # Before the fix: 404 "params: payload file:big-1/params.json not found".
    assert status == 200, done
    assert done["new_run"] == "big-1-r1"
    _, new = call("GET", "/runs/big-1-r1")
    assert new["run"]["params"] == {"blob": "fresh"}


def test_a_restart_that_needs_the_gone_params_is_not_a_404(gone: LocalRuntime) -> None:
    status, refused = call("POST", "/runs/big-1/actions", {"action": "restart"})
    # The run exists (GET answers 200 and the console offers Restart): a 404 says it does
    # not. Refused as a conflict naming the params and the fix (give them in "params").
    assert status != 404, refused
    assert 400 <= status < 500, refused
    assert [e["path"] for e in refused["errors"]] == ["body.params"], refused
    assert "give every param in params (-p NAME=VALUE): blob" in refused["errors"][0]["message"]

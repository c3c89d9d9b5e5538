"""Raising a workflow's limit (a new version with a higher `parallel`, or activating
one) lets its queued runs start at once, as docs/run-strategies.md says. They waited for
the sweeper's next look at each queued run: up to 30 minutes."""

from __future__ import annotations

from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.local.runtime import LocalRuntime
from podium.service.versions import activate


def _wf(parallel: int) -> dict[str, Any]:
    return {
        "name": "held",
        "run_strategy": {"parallel": parallel},
        "steps": [{"id": "nap", "type": "sleep", "seconds": 3600}],
    }


def _statuses(runtime: LocalRuntime, ids: list[str]) -> list[str]:
    return [runtime.describe(i).run.status.value for i in ids]


@pytest.mark.parametrize("how", ["push", "activate"])
def test_queued_runs_start_when_the_limit_is_raised(how: str) -> None:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        runtime.push(_wf(0))  # paused
        if how == "activate":
            runtime.push(_wf(2))  # v2, then back to v1 (paused)
            activate(runtime.services, "held", 1)
        ids = [runtime.start_run("held").run_id for _ in range(3)]
        runtime.pump(wait=False)
        assert _statuses(runtime, ids) == ["QUEUED"] * 3
        if how == "push":
            runtime.push(_wf(2))
        else:
            activate(runtime.services, "held", 2)
        runtime.pump(wait=False)  # no time passes: no sweeper
        assert _statuses(runtime, ids) == ["RUNNING", "RUNNING", "QUEUED"]


def test_a_queued_runs_reason_follows_the_active_versions_limit() -> None:
    """It said "paused (parallel: 0); raise the limit" after the limit was raised."""
    from podium.service.admission import waiting_reason

    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        runtime.push(_wf(0))
        ids = [runtime.start_run("held").run_id for _ in range(3)]
        runtime.push(_wf(1))
        runtime.pump(wait=False)
        last = runtime.store.get_run(ids[2])
        reason = waiting_reason(runtime.services, last) or ""
        assert "paused" not in reason and "behind active run" in reason

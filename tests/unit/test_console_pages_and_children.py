"""The console's run page past its last step, and a subworkflow step's child runs.

An offset past the steps (a link to a later page of a list that has shrunk since)
answered an empty page ("101-4 of 4", "No steps match."); a subworkflow step's detail
named no run it started, so the console had no way down to the called workflow."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.identity import child_run_id
from podium.local.runtime import LocalRuntime
from podium.service import console_views

FOUR = {
    "name": "four",
    "steps": [{"id": f"s{i}", "type": "noop"} for i in range(4)],
}
CHILD = {"name": "child_fails", "steps": [{"id": "x", "type": "fail", "message": "no"}]}
PARENT = {
    "name": "calls_twice",
    "steps": [
        {
            "id": "call",
            "type": "subworkflow",
            "workflow": "child_fails",
            "retries": 1,
            "retry_delay_seconds": 0,
        },
        {"id": "after", "type": "noop", "depends_on": ["call"]},
    ],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def test_an_offset_past_the_last_step_answers_the_last_page(rt: LocalRuntime) -> None:
    rt.push(FOUR)
    run = rt.start_run("four")
    rt.pump()
    steps = console_views.run_page(rt.services, run.run_id, offset=100, limit=3)["steps"]
    assert (steps["offset"], steps["total"]) == (3, 4)
    assert [s["step"] for s in steps["items"]] == ["s3"]
    exact = console_views.run_page(rt.services, run.run_id, offset=4, limit=2)["steps"]
    assert exact["offset"] == 2 and len(exact["items"]) == 2
    # A filter nothing matches: an empty page at the offset asked for.
    none = console_views.run_page(rt.services, run.run_id, offset=50, status="FAILED")["steps"]
    assert (none["offset"], none["total"], none["items"]) == (50, 0, [])


def test_a_subworkflow_steps_detail_names_the_run_of_each_attempt(rt: LocalRuntime) -> None:
    rt.push(CHILD)
    rt.push(PARENT)
    run = rt.start_run("calls_twice").run_id
    for _ in range(5):
        rt.pump()
        rt.clock.advance(1)
    detail = console_views.step_detail(rt.services, run, "call")
    assert detail["step"]["attempts"] == 2, detail["step"]
    assert detail["children"] == [
        {
            "run_id": child_run_id(run, "call", n),
            "attempt": n + 1,
            "workflow": "child_fails",
            "status": "FAILED",
        }
        for n in (0, 1)
    ]
    # Other steps have none (None: not a subworkflow step).
    assert console_views.step_detail(rt.services, run, "after")["children"] is None

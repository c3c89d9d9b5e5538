"""The console's run page names a run's relatives and offers only the actions the API
takes: a loop iteration's run and a run already restarted were offered Restart (then
refused, 409); a child run's page named neither its parent run nor the top workflow
(its crumb linked ``wf/step``, a workflow listed nowhere). A step waiting for a callback
showed no token, though GET /runs/{id} and the docs have it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.actions import RunAction, allowed_run_actions
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service import console_views
from podium.service.actions import Actor, run_action
from podium.service.views import run_view

BROKEN = {
    "name": "broken",
    "steps": [
        {"id": "a", "type": "noop"},
        {"id": "b", "type": "fail", "message": "no", "depends_on": ["a"]},
    ],
}
LOOP = {
    "name": "loopy",
    "steps": [
        {
            "id": "per",
            "type": "foreach",
            "over": {"i": "${podium.range(0, 3)}"},
            "steps": [
                {"id": "gate", "type": "noop"},
                {
                    "id": "work",
                    "type": "fail",
                    "message": "iteration 1 broke",
                    "depends_on": [{"step": "gate", "when": "iteration.i == 1"}],
                },
            ],
        }
    ],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def _ended(rt: LocalRuntime, definition: dict[str, Any]) -> str:
    rt.push(definition)
    run = rt.start_run(definition["name"])
    rt.pump()
    return run.run_id


def test_the_decision_takes_the_iteration_and_restarted_facts() -> None:
    failed = RunStatus.FAILED
    assert allowed_run_actions(failed) == {RunAction.RESTART}
    assert allowed_run_actions(failed, child=True) == {RunAction.RESTART}  # a subworkflow's
    assert allowed_run_actions(failed, child=True, iteration=True) == frozenset()
    assert allowed_run_actions(failed, restarted=True) == frozenset()
    assert allowed_run_actions(RunStatus.RUNNING, restarted=True) == {
        RunAction.STOP,
        RunAction.KILL,
        RunAction.PAUSE,
    }


def test_a_restarted_run_offers_no_restart_and_links_its_restart(rt: LocalRuntime) -> None:
    old = _ended(rt, BROKEN)
    page = console_views.run_page(rt.services, old)
    assert page["actions"] == ["restart"] and page["related"]["restarted_as"] is None
    new = run_action(rt.services, old, RunAction.RESTART, Actor("alice", "again")).new_run
    assert new is not None
    rt.pump()
    page = console_views.run_page(rt.services, old)
    assert page["actions"] == []  # the API refuses a second restart (AlreadyRestarted)
    assert page["related"]["restarted_as"] == {"run_id": new, "status": "FAILED"}
    restarted = console_views.run_page(rt.services, new)
    assert restarted["run"]["restart_of"] == old and restarted["actions"] == ["restart"]


def test_an_iterations_run_offers_no_restart_and_names_its_parent(rt: LocalRuntime) -> None:
    top = _ended(rt, LOOP)
    assert rt.services.store.get_run(top).status is RunStatus.FAILED
    child = child_run_id(top, "per", 1)
    page = console_views.run_page(rt.services, child)
    assert page["run"]["status"] == "FAILED" and page["actions"] == []
    assert page["related"]["parent"] == {
        "run_id": top,
        "workflow": "loopy",
        "status": "FAILED",
        "step": "per",
        "index": 1,
        "iteration": True,
    }
    assert page["related"]["root"] == {"run_id": top, "workflow": "loopy"}
    assert page["related"]["restarted_as"] is None
    view = run_view(rt.services.store.get_run(child))
    assert (view["parent_run"], view["parent_step"], view["parent_index"], view["root"]) == (
        top,
        "per",
        1,
        top,
    )
    # A top run's view and page carry no parent.
    assert "parent_run" not in run_view(rt.services.store.get_run(top))
    assert console_views.run_page(rt.services, top)["related"]["parent"] is None


def test_a_step_waiting_for_a_callback_shows_its_token(rt: LocalRuntime) -> None:
    rt.push(
        {
            "name": "gated",
            "steps": [
                {"id": "load", "type": "wait_for_callback", "payload": {"table": "t1"}},
                {"id": "ok", "type": "approval", "message": "Ship it?", "approvers": ["alice"]},
            ],
        }
    )
    run = rt.start_run("gated").run_id
    rt.pump(wait=False)
    steps = {s.step: s for s in rt.describe(run).steps}  # as GET /runs/{id} shows them
    token = steps["load"].output["callback_token"]
    detail = console_views.step_detail(rt.services, run, "load")
    assert detail["step"]["output"] == {"callback_token": token}
    assert detail["callback"] == {
        "token": token,
        "type": "wait_for_callback",
        "payload": {"table": "t1"},
    }
    approval = console_views.step_detail(rt.services, run, "ok")["callback"]
    assert approval["token"] == steps["ok"].output["callback_token"]
    assert (approval["message"], approval["approvers"]) == ("Ship it?", ["alice"])
    rows = console_views.run_page(rt.services, run)["steps"]["items"]
    # A row carries no output (the detail has it): a page of steps stays small.
    assert all("output" not in r for r in rows)


def test_a_run_list_that_left_older_runs_out_says_so(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_views, "SCAN_PER_WORKFLOW", 3)
    monkeypatch.setattr(console_views, "FILTERED_SCAN", 3)
    rt.push({"name": "often", "steps": [{"id": "a", "type": "noop"}]})
    for _ in range(4):
        rt.start_run("often")
        rt.pump()
        rt.clock.advance(60_000)  # type: ignore[attr-defined]
    listed = console_views.list_console_runs(rt.services, ["often"], status="FAILED")
    assert listed["truncated"] is True and listed["truncated_workflows"] == ["often"]
    assert listed["searched_per_workflow"] == 3
    # Runs since a time the oldest run read is before: nothing was left out.
    recent = console_views.list_console_runs(rt.services, ["often"], since="150s")
    assert recent["total"] == 2 and "truncated" not in recent
    monkeypatch.setattr(console_views, "SCAN_PER_WORKFLOW", 4)
    assert "truncated" not in console_views.list_console_runs(rt.services, ["often"])


def test_a_filtered_run_list_finds_a_run_older_than_the_newest_page(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit's hourly workflow: one failed run older than the newest 500 was not
    found by status=FAILED (0 of them, no hint). A filter reads older pages too."""
    monkeypatch.setattr(console_views, "SCAN_PER_WORKFLOW", 3)
    rt.push({"name": "hourly", "steps": [{"id": "a", "type": "fail", "message": "no"}]})
    rt.start_run("hourly")  # the oldest: FAILED
    rt.pump()
    rt.push({"name": "hourly", "steps": [{"id": "a", "type": "noop"}]})
    for _ in range(7):
        rt.clock.advance(60_000)  # type: ignore[attr-defined]
        rt.start_run("hourly")
        rt.pump()
    failed = console_views.list_console_runs(rt.services, ["hourly"], status="FAILED")
    assert failed["total"] == 1 and "truncated" not in failed
    assert failed["counts"] == {"SUCCEEDED": 7, "FAILED": 1}
    unfiltered = console_views.list_console_runs(rt.services, ["hourly"])
    assert unfiltered["total"] == 3 and unfiltered["truncated"] is True


@pytest.mark.parametrize("raw", ["²", "²h", "٣", "٣h", "1_000", " ", "+5", "5 h"])
def test_since_takes_ascii_digits_only(raw: str) -> None:
    with pytest.raises(DefinitionError, match="use a duration"):
        console_views.parse_since(raw, 10**12)


def test_since_reads_durations_and_epoch_ms() -> None:
    now = 10**12
    assert console_views.parse_since("24h", now) == now - 86_400_000
    assert console_views.parse_since(" 30m ", now) == now - 1_800_000
    assert console_views.parse_since("1700000000000", now) == 1_700_000_000_000
    assert console_views.parse_since("", now) is None

"""subworkflow: another workflow as a child run (memory, SQLite, moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.lifecycle import stop_run

CHILD = {
    "name": "daily_reports",
    "params": {"date": {"type": "string"}},
    "outputs": {"path": "${'s3://reports/' + params.date}", "rows": "${steps.count.output}"},
    "steps": [{"id": "count", "type": "lambda", "function": "tests.unit.test_subworkflow:rows"}],
}


def rows(event: dict[str, Any]) -> int:
    return 42


def parent(**sub: Any) -> dict[str, Any]:
    return {
        "name": "etl",
        "params": {"date": {"type": "string", "default": "2024-05-01"}},
        "steps": [
            {
                "id": "refresh",
                "type": "subworkflow",
                "workflow": "daily_reports",
                "params": {"date": "${params.date}"},
                **sub,
            },
            {
                "id": "use",
                "type": "lambda",
                "function": "tests.unit.test_subworkflow:echo",
                "depends_on": ["refresh"],
                "payload": {"p": "${steps.refresh.output.path}"},
            },
        ],
    }


def echo(event: dict[str, Any]) -> Any:
    return event["payload"]


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = {"home": ":memory:"} if request.param == "sqlite" else {}
    with LocalRuntime(store=request.param, clock=ManualClock(), **home) as runtime:
        yield runtime


@pytest.fixture
def mem() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def steps_of(view: Any) -> dict[str, Any]:
    return {s.step: s for s in view.steps}


def test_the_step_gets_the_child_outputs_and_the_child_is_a_run_of_its_workflow(
    rt: LocalRuntime,
) -> None:
    rt.push(CHILD)
    view = rt.run(parent())
    assert view.run.status is RunStatus.SUCCEEDED
    steps = steps_of(view)
    assert steps["refresh"].output == {"path": "s3://reports/2024-05-01", "rows": 42}
    assert steps["use"].output == {"p": "s3://reports/2024-05-01"}
    child = rt.services.store.get_run(child_run_id(view.run.run_id, "refresh", 0))
    assert (child.workflow, child.version, child.trigger) == ("daily_reports", 1, "subworkflow")
    assert (child.parent_run, child.parent_step, child.depth) == (view.run.run_id, "refresh", 1)
    assert child.params == {"date": "2024-05-01"} and child.settled
    # It is listed with its workflow's runs, and recorded on the parent step.
    assert [r.run_id for r in rt.services.store.list_runs("daily_reports")] == [child.run_id]
    assert steps["refresh"].loop == {"workflow": "daily_reports", "version": 1}


def test_a_version_is_resolved_once_active_latest_or_pinned(mem: LocalRuntime) -> None:
    mem.push(CHILD)
    v2 = {**CHILD, "outputs": {"path": "v2", "rows": 0}}
    mem.push(v2)
    view = mem.run(parent(version=1))
    assert steps_of(view)["refresh"].output["path"] == "s3://reports/2024-05-01"
    view = mem.run(parent())  # active is version 2
    assert steps_of(view)["refresh"].output["path"] == "v2"


def test_a_version_missing_when_the_step_starts_fails_it(mem: LocalRuntime) -> None:
    mem.push(parent(version=7))  # daily_reports is not pushed yet: checked at run time
    mem.push(CHILD)
    run = mem.start_run("etl", None)
    mem.pump()
    view = mem.describe(run.run_id)
    assert view.run.status is RunStatus.FAILED
    assert "no workflow 'daily_reports' version 7" in (steps_of(view)["refresh"].error or "")


def test_the_step_ends_with_the_child_status(mem: LocalRuntime) -> None:
    mem.push({"name": "daily_reports", "steps": [{"id": "boom", "type": "fail", "message": "no"}]})
    view = mem.run(parent(params={}))
    assert view.run.status is RunStatus.FAILED
    assert steps_of(view)["refresh"].status is StepStatus.FAILED
    assert "FAILED: boom: no" in (steps_of(view)["refresh"].error or "")

    mem.push({"name": "daily_reports", "steps": [{"id": "nap", "type": "sleep", "seconds": 600}]})
    run = mem.start_run("etl", None)
    child_id = child_run_id(run.run_id, "refresh", 0)
    store = mem.services.store
    for _ in range(20):  # one message at a time, until the child's sleep has started
        mem.pump(max_deliveries=1)
        nap = store.get_step(child_id, "nap")
        if nap is not None and nap.status is StepStatus.RUNNING:
            break
    assert store.get_run(child_id).status is RunStatus.RUNNING
    stop_run(mem.services, child_id, "stopped by hand")
    mem.pump(run_id=run.run_id)
    view = mem.describe(run.run_id)
    assert steps_of(view)["refresh"].status is StepStatus.STOPPED
    assert steps_of(view)["refresh"].error_type == "Podium.Stopped"


def test_unknown_params_fail_the_step_with_the_fix(mem: LocalRuntime) -> None:
    # The caller is pushed before the workflow it calls: checked when the child starts.
    mem.push(parent(params={"dat": "x"}))
    mem.push(CHILD)
    run = mem.start_run("etl", None)
    mem.pump()
    error = steps_of(mem.describe(run.run_id))["refresh"].error or ""
    assert "params.dat" in error and "did you mean 'date'" in error


def test_calls_to_pushed_workflows_are_checked_at_push(mem: LocalRuntime) -> None:
    mem.push(CHILD)
    with pytest.raises(DefinitionError) as exc:
        mem.push(parent(params={"dat": "x"}))
    text = str(exc.value)
    assert "steps[0].params.dat: 'daily_reports' declares no param 'dat'" in text
    assert "(did you mean 'date'?)" in text
    assert "steps[0].params: 'daily_reports' requires date" in text
    with pytest.raises(DefinitionError) as exc:
        mem.push(parent(version=9))
    assert "steps[0].version: workflow 'daily_reports' has no version 9" in str(exc.value)
    assert "podium run FILE on the local home" in str(exc.value)  # not only a stack's push
    # Inside a loop too.
    looped = {
        "name": "looped",
        "steps": [
            {
                "id": "each",
                "type": "foreach",
                "over": {"d": ["2024-01-01"]},
                "steps": [{"id": "r", "type": "subworkflow", "workflow": "daily_reports"}],
            }
        ],
    }
    with pytest.raises(DefinitionError) as exc:
        mem.push(looped)
    assert "steps[0].steps[0].params: 'daily_reports' requires date" in str(exc.value)


def test_without_wait_the_step_succeeds_once_the_child_started(mem: LocalRuntime) -> None:
    mem.push({"name": "daily_reports", "steps": [{"id": "nap", "type": "sleep", "seconds": 60}]})
    doc = parent(wait=False, params={})
    doc["steps"][1]["payload"] = {"p": "${steps.refresh.output.run_id}"}
    view = mem.run(doc)
    assert view.run.status is RunStatus.SUCCEEDED
    child_id = steps_of(view)["refresh"].output["run_id"]
    assert child_id == child_run_id(view.run.run_id, "refresh", 0)
    mem.pump()
    child = mem.services.store.get_run(child_id)
    assert child.status is RunStatus.SUCCEEDED and child.settled


def test_a_workflow_that_calls_itself_stops_at_the_depth_limit(mem: LocalRuntime) -> None:
    view = mem.run(
        {
            "name": "selfcall",
            "steps": [{"id": "again", "type": "subworkflow", "workflow": "selfcall"}],
        }
    )
    assert view.run.status is RunStatus.FAILED
    assert "nest deeper than 10 levels" in (steps_of(view)["again"].error or "")
    assert not mem.services.store.list_active_run_ids()  # every child settled


def test_a_stop_cut_short_after_its_subworkflow_step_ended_is_finished_by_the_sweeper(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stop ends the subworkflow step, then stops its child run (the runtime's
    # terminate). A crash between the two left the child running: the stopped run's
    # run_ended, which the sweeper redoes until the run settles, stops it.
    from podium.service.runtimes import subworkflow
    from tests.unit.test_foreach import sweep_until

    ctx, store = rt.services, rt.services.store
    rt.push({"name": "nap", "steps": [{"id": "zz", "type": "sleep", "seconds": 3600}]})
    rt.push({"name": "caller", "steps": [{"id": "call", "type": "subworkflow", "workflow": "nap"}]})
    run_id = rt.start_run("caller").run_id
    rt.pump(wait=False)
    child = child_run_id(run_id, "call", 0)
    assert store.get_run(child).status is RunStatus.RUNNING
    crashed: list[str] = []

    def crash_once(ctx: Any, run_id: str, reason: str, **kwargs: Any) -> Any:
        if not crashed:
            crashed.append(run_id)
            raise RuntimeError("the worker dies")
        return stop_run(ctx, run_id, reason, **kwargs)

    monkeypatch.setattr(subworkflow, "stop_run", crash_once)
    with pytest.raises(RuntimeError):
        stop_run(ctx, run_id, "stopped by the test")
    call = store.get_step(run_id, "call")
    assert call is not None and call.status is StepStatus.STOPPED
    assert store.get_run(child).status is RunStatus.RUNNING  # left running
    sweep_until(rt, run_id, lambda run: run.settled)
    assert store.get_run(run_id).settled
    assert store.get_run(child).status is RunStatus.STOPPED
    assert store.list_active_run_ids() == []


def test_a_run_stopped_before_its_subworkflow_step_started_stops_cleanly(
    mem: LocalRuntime,
) -> None:
    # The stopped run's end asks its subworkflow steps that did not succeed to stop their
    # children: one that never started (held at a breakpoint, attempt 0) has none (found
    # by the simulation: its child id was asked for attempt 0).
    from podium.service.breakpoints import set_breakpoint

    store = mem.services.store
    mem.push({"name": "nap", "steps": [{"id": "zz", "type": "noop"}]})
    mem.push({"name": "later", "steps": [{"id": "call", "type": "subworkflow", "workflow": "nap"}]})
    set_breakpoint(mem.services, "later", "call")
    run_id = mem.start_run("later").run_id
    mem.pump(wait=False)
    call = store.get_step(run_id, "call")
    assert call is not None and call.status is StepStatus.PAUSED and call.attempt == 0
    assert stop_run(mem.services, run_id, "stopped by the test") is not None
    run = store.get_run(run_id)
    assert run.status is RunStatus.STOPPED and run.settled
    assert store.list_active_run_ids() == []


def test_a_call_to_latest_is_checked_against_the_latest_version(mem: LocalRuntime) -> None:
    """After a rollback (active v1, latest v2) a `version: latest` call was checked at
    push against v1's params, then ran v2: a valid call was refused and an invalid one
    accepted, to fail at run time."""
    from podium.service.versions import activate

    for param in ("a", "b"):
        mem.push(
            {
                "name": "child",
                "params": {param: {"type": "string"}},
                "steps": [{"id": "n", "type": "noop"}],
            }
        )
    activate(mem.services, "child", 1)

    def calling(param: str) -> dict[str, Any]:
        step = {"id": "s", "type": "subworkflow", "workflow": "child", "version": "latest"}
        return {"name": f"calls_{param}", "steps": [{**step, "params": {param: "x"}}]}

    assert mem.run(calling("b")).run.status is RunStatus.SUCCEEDED
    with pytest.raises(DefinitionError, match=r"steps\[0\]\.params\.a: 'child' declares no param"):
        mem.push(calling("a"))


def test_a_call_setting_a_constant_param_is_refused_at_push(mem: LocalRuntime) -> None:
    """The child would refuse it at its start, once the parent had run up to the call."""
    mem.push(
        {
            "name": "daily_reports",
            "params": {
                "date": {"type": "string"},
                "bucket": {"type": "string", "default": "reports", "mode": "constant"},
            },
            "steps": [{"id": "n", "type": "noop"}],
        }
    )
    with pytest.raises(DefinitionError) as exc:
        mem.push(parent(params={"date": "x", "bucket": "other"}))
    assert "steps[0].params.bucket: 'daily_reports' declares 'bucket' constant" in str(exc.value)


def test_an_optional_param_of_the_child_need_not_be_passed(mem: LocalRuntime) -> None:
    mem.push(
        {
            "name": "daily_reports",
            "params": {"date": {"type": "string"}, "since": {"type": "string", "required": False}},
            "outputs": {"since": "${params.since}"},
            "steps": [{"id": "n", "type": "noop"}],
        }
    )
    call = {"id": "refresh", "type": "subworkflow", "workflow": "daily_reports"}
    mem.push({"name": "etl", "steps": [{**call, "params": {"date": "x"}}]})
    run = mem.start_run("etl", None)
    mem.pump()
    view = mem.describe(run.run_id)
    assert view.run.status is RunStatus.SUCCEEDED
    assert steps_of(view)["refresh"].output == {"since": None}

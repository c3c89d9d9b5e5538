"""Operators' actions on the real service code over the memory store (manual clock):
stop, kill, pause/resume, restart, skip, retry now, step stop and resume; idempotency by
request id and the timeline record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.actions import ActionRefused, RunAction, StepAction
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, StepNotFound, run_action, step_action
from podium.service.advance import start_roots
from podium.service.pausing import RUN_PAUSED
from podium.service.restart import RestartRequest

HERE = "tests.unit.test_run_actions"
CALLS: list[str] = []
BROKEN: set[str] = set()


def work(event: dict[str, Any]) -> dict[str, Any]:
    step = event["step"]
    CALLS.append(step)
    if step in BROKEN:
        raise ValueError(f"{step} broke")
    return {"from": step, "n": len(CALLS)}


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()
    BROKEN.clear()


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


ME = Actor("alice", "testing")


def lam(step: str, *deps: str, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"id": step, "type": "lambda", "function": f"{HERE}:work"}
    if deps:
        spec["depends_on"] = list(deps)
    return {**spec, **extra}


def chain(name: str = "abc", **extra: Any) -> dict[str, Any]:
    return {"name": name, "steps": [lam("a"), lam("b", "a"), lam("c", "b")], **extra}


def statuses(rt: LocalRuntime, run_id: str) -> dict[str, str]:
    return {s.step: s.status.value for s in rt.describe(run_id).steps}


def actions_of(rt: LocalRuntime, run_id: str) -> list[dict[str, Any]]:
    return [e.detail for e in rt.describe(run_id).events if e.kind == "action"]


# -- stop and kill ----------------------------------------------------------------------
def sleeper(name: str = "sleepy") -> dict[str, Any]:
    return {
        "name": name,
        "steps": [
            {"id": "wait", "type": "sleep", "seconds": 3600},
            {"id": "after", "type": "noop", "depends_on": ["wait"]},
        ],
    }


def _until_waiting(rt: LocalRuntime, run_id: str) -> None:
    for _ in range(20):
        rt.pump(max_deliveries=1)
        if statuses(rt, run_id).get("wait") == "RUNNING":
            return
    raise AssertionError(statuses(rt, run_id))


def test_stop_terminates_the_running_attempt_and_nothing_starts_after(rt: LocalRuntime) -> None:
    rt.push(sleeper())
    run = rt.start_run("sleepy")
    _until_waiting(rt, run.run_id)
    result = run_action(rt.services, run.run_id, RunAction.STOP, ME)
    assert result.status == "STOPPED"
    rt.pump()  # the sleep's timer fires later: harmless
    view = rt.describe(run.run_id)
    assert view.run.status is RunStatus.STOPPED
    assert view.run.reason == "stopped by alice: testing"
    assert statuses(rt, run.run_id) == {"wait": "STOPPED"}
    assert view.run.settled


def test_kill_ends_the_run_failed(rt: LocalRuntime) -> None:
    rt.push(sleeper())
    run = rt.start_run("sleepy")
    _until_waiting(rt, run.run_id)
    run_action(rt.services, run.run_id, RunAction.KILL, Actor("bob"))
    rt.pump()
    view = rt.describe(run.run_id)
    assert view.run.status is RunStatus.FAILED
    assert view.run.error == "killed by bob"
    assert statuses(rt, run.run_id) == {"wait": "STOPPED"}


def test_stop_of_a_queued_run_takes_it_out_of_the_queue(rt: LocalRuntime) -> None:
    rt.push(sleeper())
    first = rt.start_run("sleepy")
    second = rt.start_run("sleepy")  # sequential: waits for the first
    assert rt.describe(second.run_id).run.status is RunStatus.QUEUED
    run_action(rt.services, second.run_id, RunAction.STOP, ME)
    assert rt.describe(second.run_id).run.status is RunStatus.STOPPED
    assert rt.services.store.run_slots().queued("sleepy", 10) == []
    rt.pump()
    assert rt.describe(first.run_id).run.status is RunStatus.SUCCEEDED


def test_a_refused_action_names_the_status_and_what_is_allowed(rt: LocalRuntime) -> None:
    rt.push(chain())
    run = rt.start_run("abc")
    rt.pump()
    with pytest.raises(ActionRefused) as refused:
        run_action(rt.services, run.run_id, RunAction.STOP, ME)
    assert refused.value.status == "SUCCEEDED"
    assert refused.value.allowed == ["restart"]
    assert "allowed from SUCCEEDED: restart" in str(refused.value)


# -- idempotency and the record ---------------------------------------------------------
def test_the_same_request_id_acts_once_and_answers_the_same(rt: LocalRuntime) -> None:
    rt.push(sleeper())
    run = rt.start_run("sleepy")
    _until_waiting(rt, run.run_id)
    actor = Actor("alice", "runaway", request_id="req-1")
    first = run_action(rt.services, run.run_id, RunAction.STOP, actor)
    again = run_action(rt.services, run.run_id, RunAction.STOP, actor)  # not a 409
    assert (again.status, again.repeated, first.repeated) == ("STOPPED", True, False)
    recorded = actions_of(rt, run.run_id)
    # The request's fingerprint (core/engine/request_ids.py) answers a reuse of the id.
    assert [sorted(r.pop("fingerprint")) for r in recorded] == [["action", "reason"]]
    assert recorded == [
        {
            "action": "stop",
            "by": "alice",
            "reason": "runaway",
            "request_id": "req-1",
            "status": "STOPPED",
        }
    ]


# -- pause and resume -------------------------------------------------------------------
def test_a_run_paused_before_it_started_starts_on_resume(rt: LocalRuntime) -> None:
    rt.push(chain())
    run = rt.start_run("abc")
    run_action(rt.services, run.run_id, RunAction.PAUSE, ME)
    rt.pump()
    assert (CALLS, statuses(rt, run.run_id)) == ([], {})
    run_action(rt.services, run.run_id, RunAction.RESUME, ME)
    rt.pump()
    assert CALLS == ["a", "b", "c"]


def test_nothing_starts_while_paused_and_resume_runs_the_rest(rt: LocalRuntime) -> None:
    rt.push(chain())
    run = rt.start_run("abc")
    start_roots(rt.services, run.run_id)  # "a" is ready, its work message queued
    run_action(rt.services, run.run_id, RunAction.PAUSE, ME)
    rt.pump()
    assert CALLS == []
    assert statuses(rt, run.run_id) == {"a": "PAUSED"}
    assert rt.describe(run.run_id).steps[0].reason == RUN_PAUSED
    run_action(rt.services, run.run_id, RunAction.RESUME, ME)
    rt.pump()
    assert CALLS == ["a", "b", "c"]
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED


def test_a_running_attempt_finishes_while_paused_and_its_successor_waits(
    rt: LocalRuntime,
) -> None:
    rt.push(sleeper())
    run = rt.start_run("sleepy")
    _until_waiting(rt, run.run_id)
    run_action(rt.services, run.run_id, RunAction.PAUSE, ME)
    rt.pump()  # the sleep's timer comes due: it finishes; "after" is held
    assert statuses(rt, run.run_id) == {"wait": "SUCCEEDED", "after": "PAUSED"}
    assert rt.describe(run.run_id).run.status is RunStatus.PAUSED
    run_action(rt.services, run.run_id, RunAction.RESUME, ME)
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED


def test_a_run_whose_last_step_ended_while_paused_completes_on_resume(rt: LocalRuntime) -> None:
    rt.push({"name": "one", "steps": [{"id": "wait", "type": "sleep", "seconds": 60}]})
    run = rt.start_run("one")
    _until_waiting(rt, run.run_id)
    run_action(rt.services, run.run_id, RunAction.PAUSE, ME)
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.PAUSED
    run_action(rt.services, run.run_id, RunAction.RESUME, ME)
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED


def test_a_retry_due_while_paused_runs_on_resume(rt: LocalRuntime) -> None:
    BROKEN.add("a")
    rt.push({"name": "flaky", "steps": [lam("a", retries=1, retry_delay_seconds=60)]})
    run = rt.start_run("flaky")
    rt.pump(max_deliveries=2)
    assert statuses(rt, run.run_id) == {"a": "RETRY_WAIT"}
    run_action(rt.services, run.run_id, RunAction.PAUSE, ME)
    BROKEN.clear()
    rt.pump()  # the retry comes due: held
    assert statuses(rt, run.run_id) == {"a": "PAUSED"}
    run_action(rt.services, run.run_id, RunAction.RESUME, ME)
    rt.pump()
    assert CALLS == ["a", "a"]
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED


def test_a_paused_run_can_be_stopped_and_its_held_steps_end(rt: LocalRuntime) -> None:
    rt.push(chain())
    run = rt.start_run("abc")
    start_roots(rt.services, run.run_id)
    run_action(rt.services, run.run_id, RunAction.PAUSE, ME)
    rt.pump()
    run_action(rt.services, run.run_id, RunAction.STOP, ME)
    assert statuses(rt, run.run_id) == {"a": "STOPPED"}
    assert rt.describe(run.run_id).run.status is RunStatus.STOPPED


# -- restart ----------------------------------------------------------------------------
def _failed_chain(rt: LocalRuntime) -> str:
    BROKEN.add("b")
    rt.push(chain())
    run = rt.start_run("abc", {})
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.FAILED
    BROKEN.clear()
    CALLS.clear()
    return run.run_id


def test_restart_from_incomplete_reuses_what_succeeded(rt: LocalRuntime) -> None:
    old = _failed_chain(rt)
    old_a = next(s for s in rt.describe(old).steps if s.step == "a")
    result = run_action(rt.services, old, RunAction.RESTART, ME)
    assert result.new_run is not None
    rt.pump()
    view = rt.describe(result.new_run)
    assert view.run.status is RunStatus.SUCCEEDED
    assert view.run.restart_of == old
    assert view.run.trigger == "restart"
    assert CALLS == ["b", "c"]  # a is not run again
    new_a = next(s for s in view.steps if s.step == "a")
    assert new_a.output == old_a.output
    assert new_a.reason is not None and old in new_a.reason


def test_restart_from_beginning_and_from_a_step(rt: LocalRuntime) -> None:
    old = _failed_chain(rt)
    again = run_action(rt.services, old, RunAction.RESTART, ME, RestartRequest("beginning"))
    rt.pump()
    assert CALLS == ["a", "b", "c"]
    assert again.new_run is not None
    CALLS.clear()
    third = run_action(rt.services, again.new_run, RunAction.RESTART, ME, RestartRequest("b"))
    rt.pump()
    assert CALLS == ["b", "c"]
    assert third.new_run is not None and third.new_run.endswith("-r2")
    assert rt.describe(third.new_run).run.status is RunStatus.SUCCEEDED


def test_a_run_is_restarted_once_whoever_asks(rt: LocalRuntime) -> None:
    old = _failed_chain(rt)
    first = run_action(rt.services, old, RunAction.RESTART, Actor("a", request_id="r1"))
    same = run_action(rt.services, old, RunAction.RESTART, Actor("a", request_id="r1"))
    assert same.repeated and same.new_run == first.new_run
    with pytest.raises(ActionRefused) as refused:
        run_action(rt.services, old, RunAction.RESTART, Actor("b", request_id="r2"))
    assert f"already restarted as {first.new_run}" in str(refused.value)


def test_runs_whose_restart_ids_would_be_the_same_each_get_their_own(rt: LocalRuntime) -> None:
    """A restart's id was the old id cut to 58 characters plus -r1: two long ids alike in
    their first 58 met on it, and the second was refused as restarted already (and a
    run a client named foo-r1 blocked foo's restart the same way)."""
    from podium.service.runs import start_run

    rt.push({"name": "rc", "steps": [{"id": "a", "type": "fail", "message": "x"}]})
    prefix = "nightly-sales-load-for-region-emea-and-apac-manual-rerun-x"  # 58 characters
    a = start_run(rt.services, "rc", {}, run_id=prefix + "-day01")
    b = start_run(rt.services, "rc", {}, run_id=prefix + "-day02")
    named = start_run(rt.services, "rc", {}, run_id="daily-r1")  # not a restart
    plain = start_run(rt.services, "rc", {}, run_id="daily")
    rt.pump()
    ra = run_action(rt.services, a.run_id, RunAction.RESTART, ME)
    rb = run_action(rt.services, b.run_id, RunAction.RESTART, ME)
    rp = run_action(rt.services, plain.run_id, RunAction.RESTART, ME)
    assert len({ra.new_run, rb.new_run, rp.new_run, named.run_id}) == 4
    for old, new in ((a, ra), (b, rb), (plain, rp)):
        assert new.new_run is not None and len(new.new_run) <= 64
        assert rt.services.store.get_run(new.new_run).restart_of == old.run_id
    with pytest.raises(ActionRefused, match=f"already restarted as {rb.new_run}"):
        run_action(rt.services, b.run_id, RunAction.RESTART, Actor("b", request_id="again"))


def test_a_restart_on_a_version_that_dropped_a_param_leaves_it_out(rt: LocalRuntime) -> None:
    """The old run's params were all carried over: a param the new version no longer
    declares refused the restart, and -p can only add or override one."""
    defn = {"name": "p", "params": {"day": {"type": "string", "default": "x"}}, "steps": [lam("a")]}
    rt.push(defn)
    run = rt.start_run("p", {"day": "mon"})
    rt.pump()
    rt.push({"name": "p", "params": {"n": {"type": "int", "default": 1}}, "steps": [lam("a")]})
    new = run_action(
        rt.services, run.run_id, RunAction.RESTART, ME, RestartRequest(version="active")
    )
    assert new.new_run is not None
    assert rt.describe(new.new_run).run.params == {"n": 1}


def test_restart_with_params_and_an_explicit_newer_version(rt: LocalRuntime) -> None:
    defn = {"name": "p", "params": {"day": {"type": "string", "default": "x"}}, "steps": [lam("a")]}
    rt.push(defn)
    run = rt.start_run("p", {"day": "mon"})
    rt.pump()
    rt.push({**defn, "steps": [lam("a"), lam("z", "a")]})  # version 2
    kept = run_action(
        rt.services, run.run_id, RunAction.RESTART, ME, RestartRequest(params={"day": "tue"})
    )
    assert kept.new_run is not None
    view = rt.describe(kept.new_run)
    assert (view.run.version, view.run.params["day"]) == (1, "tue")
    rt.pump()
    active = RestartRequest(version="active")
    newer = run_action(rt.services, kept.new_run, RunAction.RESTART, ME, active)
    assert newer.new_run is not None
    rt.pump()
    view = rt.describe(newer.new_run)
    assert view.run.version == 2
    assert statuses(rt, newer.new_run) == {"a": "SUCCEEDED", "z": "SUCCEEDED"}


def test_restart_from_an_unknown_step_names_the_steps(rt: LocalRuntime) -> None:
    old = _failed_chain(rt)
    with pytest.raises(DefinitionError) as bad:
        run_action(rt.services, old, RunAction.RESTART, ME, RestartRequest("bb"))
    assert "one of: a, b, c" in str(bad.value.issues[0].message)


# -- step actions -----------------------------------------------------------------------
def test_skip_a_held_step_and_the_dag_continues(rt: LocalRuntime) -> None:
    rt.push(chain())
    run = rt.start_run("abc")
    start_roots(rt.services, run.run_id)
    run_action(rt.services, run.run_id, RunAction.PAUSE, ME)
    rt.pump()  # "a" is held
    result = step_action(rt.services, run.run_id, "a", StepAction.SKIP, Actor("ops", "bad feed"))
    assert result.status == "SKIPPED"
    run_action(rt.services, run.run_id, RunAction.RESUME, ME)
    rt.pump()
    assert CALLS == ["b", "c"]
    assert statuses(rt, run.run_id) == {"a": "SKIPPED", "b": "SUCCEEDED", "c": "SUCCEEDED"}
    a = next(s for s in rt.describe(run.run_id).steps if s.step == "a")
    assert a.reason == "skipped by ops: bad feed"
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED


def test_skip_a_ready_step(rt: LocalRuntime) -> None:
    rt.push(chain())
    run = rt.start_run("abc")
    start_roots(rt.services, run.run_id)  # "a" READY, its message queued
    step_action(rt.services, run.run_id, "a", StepAction.SKIP, ME)
    rt.pump()  # the message finds "a" skipped: dropped
    assert CALLS == ["b", "c"]


def test_stop_a_running_step_fails_the_run(rt: LocalRuntime) -> None:
    rt.push(sleeper())
    run = rt.start_run("sleepy")
    _until_waiting(rt, run.run_id)
    step_action(rt.services, run.run_id, "wait", StepAction.STOP, ME)
    rt.pump()
    assert statuses(rt, run.run_id) == {"wait": "STOPPED", "after": "SKIPPED"}
    assert rt.describe(run.run_id).run.status is RunStatus.FAILED


def test_retry_now_starts_the_next_attempt_without_waiting(rt: LocalRuntime) -> None:
    BROKEN.add("a")
    rt.push({"name": "flaky", "steps": [lam("a", retries=1, retry_delay_seconds=3600)]})
    run = rt.start_run("flaky")
    rt.pump(max_deliveries=2)
    assert statuses(rt, run.run_id) == {"a": "RETRY_WAIT"}
    BROKEN.clear()
    before = rt.clock.now_ms()
    step_action(rt.services, run.run_id, "a", StepAction.RETRY, ME)
    rt.pump(max_deliveries=1)
    assert statuses(rt, run.run_id) == {"a": "SUCCEEDED"}
    assert rt.clock.now_ms() == before
    rt.pump()  # the original timer comes due: dropped
    assert CALLS == ["a", "a"]


def test_step_actions_are_refused_by_the_matrix(rt: LocalRuntime) -> None:
    rt.push(chain())
    run = rt.start_run("abc")
    with pytest.raises(ActionRefused) as refused:
        step_action(rt.services, run.run_id, "b", StepAction.RETRY, ME)
    assert refused.value.status == "NOT_REACHED"
    assert "it is not reached yet" in str(refused.value)
    with pytest.raises(StepNotFound):
        step_action(rt.services, run.run_id, "nope", StepAction.SKIP, ME)
    rt.pump()
    with pytest.raises(ActionRefused) as ended:
        step_action(rt.services, run.run_id, "b", StepAction.SKIP, ME)
    assert "restart the run" in str(ended.value)


def test_a_held_step_resumes_alone(rt: LocalRuntime) -> None:
    rt.push(chain())
    run = rt.start_run("abc")
    start_roots(rt.services, run.run_id)
    run_action(rt.services, run.run_id, RunAction.PAUSE, ME)
    rt.pump()
    with pytest.raises(ActionRefused):  # the run is paused: resume it first
        step_action(rt.services, run.run_id, "a", StepAction.RESUME, ME)
    step_action(rt.services, run.run_id, "a", StepAction.SKIP, ME)  # allowed while paused
    assert statuses(rt, run.run_id)["a"] == "SKIPPED"
    assert StepStatus.SKIPPED.terminal


def test_restart_keeps_params_stored_by_reference(rt: LocalRuntime) -> None:
    big = "x" * 10_000  # over the inline limit: the run item keeps a reference
    defn = {"name": "bigp", "params": {"blob": {"type": "string"}}, "steps": [lam("a")]}
    rt.push(defn)
    run = rt.start_run("bigp", {"blob": big})
    rt.pump()
    result = run_action(rt.services, run.run_id, RunAction.RESTART, ME, RestartRequest("beginning"))
    assert result.new_run is not None
    rt.pump()
    from podium.service.bindings import run_params

    new = rt.services.store.get_run(result.new_run)
    assert run_params(rt.services, new)["blob"] == big


# -- breakpoints ------------------------------------------------------------------------
def test_a_breakpoint_pauses_every_attempt_and_a_resume_lets_one_pass(rt: LocalRuntime) -> None:
    from podium.service.breakpoints import clear_breakpoints, set_breakpoint
    from podium.service.pausing import BREAKPOINT

    rt.push(chain())
    set_breakpoint(rt.services, "abc", "b")
    first, second = rt.start_run("abc"), rt.start_run("abc")  # second waits (sequential)
    rt.pump()
    assert statuses(rt, first.run_id) == {"a": "SUCCEEDED", "b": "PAUSED"}
    held = next(s for s in rt.describe(first.run_id).steps if s.step == "b")
    assert held.reason == BREAKPOINT and CALLS == ["a"]
    step_action(rt.services, first.run_id, "b", StepAction.RESUME, ME)  # this attempt passes
    rt.pump()
    assert rt.describe(first.run_id).run.status is RunStatus.SUCCEEDED
    assert statuses(rt, second.run_id) == {"a": "SUCCEEDED", "b": "PAUSED"}  # still set
    cleared = clear_breakpoints(rt.services, "abc")
    assert cleared.steps == ["b"] and cleared.resumed == [f"{second.run_id}/b"]
    rt.pump()
    assert rt.describe(second.run_id).run.status is RunStatus.SUCCEEDED
    assert CALLS == ["a", "b", "c", "a", "b", "c"]


def test_a_breakpoint_holds_a_retry_until_cleared(rt: LocalRuntime) -> None:
    from podium.service.breakpoints import clear_breakpoints, set_breakpoint

    BROKEN.add("b")
    steps = [lam("a"), lam("b", "a", retries=1, retry_delay_seconds=600), lam("c", "b")]
    rt.push({"name": "retrying", "steps": steps})
    run = rt.start_run("retrying")
    while statuses(rt, run.run_id).get("b") != "RETRY_WAIT":
        rt.pump(max_deliveries=1)  # a, then b's first attempt fails
    set_breakpoint(rt.services, "retrying", "b")
    rt.pump()  # the retry comes due: held
    assert statuses(rt, run.run_id)["b"] == "PAUSED"
    BROKEN.clear()
    clear_breakpoints(rt.services, "retrying", "b")
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED


@pytest.mark.parametrize("limit", ["key", "max_parallel_steps"])
def test_a_step_resumed_past_its_breakpoint_that_waits_for_a_permit_is_not_held_again(
    rt: LocalRuntime, limit: str
) -> None:
    """The permit queue's reason replaced the resume's marker: when the permit freed,
    the step was held at its breakpoint a second time."""
    from podium.service.breakpoints import set_breakpoint

    key = {"concurrency": {"key": "wh", "limit": 1}} if limit == "key" else {}
    rt.push(
        {
            "name": "bp",
            **({"max_parallel_steps": 1} if limit != "key" else {}),
            "steps": [
                {"id": "hog", "type": "sleep", "seconds": 60, **key},
                {"id": "b", "type": "noop", **key},
            ],
        }
    )
    set_breakpoint(rt.services, "bp", "b")
    run = rt.start_run("bp")
    rt.pump(wait=False)
    assert rt.services.store.get_step(run.run_id, "b").status is StepStatus.PAUSED
    step_action(rt.services, run.run_id, "b", StepAction.RESUME, ME)
    rt.pump(wait=False)
    assert rt.services.store.get_step(run.run_id, "b").status is StepStatus.WAITING_FOR_PERMITS
    rt.pump()  # the sleep ends; its permit goes to b, which runs
    assert rt.services.store.get_step(run.run_id, "b").status is StepStatus.SUCCEEDED
    assert rt.services.store.get_run(run.run_id).status is RunStatus.SUCCEEDED


def test_a_step_resumed_past_its_breakpoint_then_held_by_a_run_pause_is_not_held_again(
    rt: LocalRuntime,
) -> None:
    """The run pause's reason replaced the resume's marker: when the run resumed, the
    step stopped at its breakpoint a second time."""
    from podium.service.breakpoints import set_breakpoint

    rt.push(chain())
    set_breakpoint(rt.services, "abc", "b")
    run = rt.start_run("abc")
    rt.pump()
    assert statuses(rt, run.run_id) == {"a": "SUCCEEDED", "b": "PAUSED"}
    step_action(rt.services, run.run_id, "b", StepAction.RESUME, ME)  # its work is sent
    run_action(rt.services, run.run_id, RunAction.PAUSE, ME)  # before it is delivered
    rt.pump()
    held = rt.services.store.get_step(run.run_id, "b")
    assert held is not None and held.status is StepStatus.PAUSED
    assert held.reason is not None and held.reason.startswith(RUN_PAUSED)
    run_action(rt.services, run.run_id, RunAction.RESUME, ME)
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED
    assert CALLS == ["a", "b", "c"]


def test_a_breakpoint_on_an_unknown_step_names_the_steps(rt: LocalRuntime) -> None:
    from podium.service.breakpoints import set_breakpoint

    rt.push(chain())
    with pytest.raises(DefinitionError) as bad:
        set_breakpoint(rt.services, "abc", "zz")
    assert "one of: a, b, c" in bad.value.issues[0].message


def test_the_sweeper_resumes_a_step_whose_resume_a_crash_cut_short(rt: LocalRuntime) -> None:
    from podium.service.sweep import sweep

    rt.push(chain())
    run = rt.start_run("abc")
    start_roots(rt.services, run.run_id)
    run_action(rt.services, run.run_id, RunAction.PAUSE, ME)
    rt.pump()  # "a" is held
    # The resume's run write landed, then its worker died before releasing the steps.
    rt.services.store.transition_run(
        run.run_id,
        expected=frozenset({RunStatus.PAUSED}),
        to=RunStatus.RUNNING,
        changes={"reason": None},
    )
    rt.clock.advance(rt.services.stale_ready_ms + 1)
    report = sweep(rt.services, rt.services.store)
    assert f"{run.run_id}/a" in report.redriven
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED

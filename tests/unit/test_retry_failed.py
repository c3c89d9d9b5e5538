"""Retry a failed step while its run still runs: a new attempt at once, the run no longer
failing when that was its only failure, what the failure skipped decided afresh (the
steps skipped below it, and those skipped because the run was failing), and the run
ending SUCCEEDED once the retried attempt and the rest succeed. Refused once the run has
ended (restart is the action then); racing retries make one attempt."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import ActionRefused, StepAction
from podium.core.engine.decide import RUN_FAILING
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, step_action

HERE = "tests.unit.test_retry_failed"
_LOCK = threading.Lock()
CALLS: Counter[str] = Counter()
STATE: dict[str, Any] = {}


def load(event: dict[str, Any]) -> str:
    with _LOCK:
        CALLS[event["step"]] += 1
    race = STATE.pop("race", None) if event["step"] == "a" else None
    if race is not None:  # act on the step while this attempt of it is RUNNING
        try:
            race()
        except ActionRefused as refused:
            STATE["refused"] = refused
    if STATE.get("broken"):
        raise ValueError("bad feed")
    return "loaded"


def load_odd(event: dict[str, Any]) -> str:
    if STATE.get("broken") and event["payload"]["i"] % 2:
        raise ValueError("bad partition")
    return "loaded"


# Branch a fails; branch b sleeps on (the run stays RUNNING, failing); branch c ends
# after the failure, so its next step is skipped because the run is failing.
TWO_BRANCHES = {
    "name": "two",
    "steps": [
        {"id": "a", "type": "lambda", "function": f"{HERE}:load"},
        {"id": "a_next", "type": "noop", "depends_on": ["a"]},
        {"id": "c0", "type": "sleep", "seconds": 30},
        {"id": "c1", "type": "lambda", "function": f"{HERE}:load", "depends_on": ["c0"]},
        {"id": "end", "type": "noop", "depends_on": ["a_next", "c1"], "join": "all_success"},
        {"id": "b", "type": "sleep", "seconds": 600},
    ],
}


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalRuntime]:
    """The memory store, and the embedded home's SQLite store."""
    CALLS.clear()
    STATE.clear()
    STATE["broken"] = True
    home = {"home": tmp_path} if request.param == "sqlite" else {}
    with LocalRuntime(store=request.param, clock=ManualClock(), **home) as runtime:
        yield runtime


ME = Actor("alice", "fixed the feed")


def _status(rt: LocalRuntime, run_id: str, step: str) -> tuple[StepStatus | None, str | None]:
    record = rt.services.store.get_step(run_id, step)
    return (record.status, record.reason) if record is not None else (None, None)


def _failed_with_b_still_running(rt: LocalRuntime) -> str:
    rt.push(TWO_BRANCHES)
    run = rt.start_run("two")
    rt.pump(advance_time=False)
    assert _status(rt, run.run_id, "a")[0] is StepStatus.FAILED
    assert _status(rt, run.run_id, "a_next") == (StepStatus.SKIPPED, "upstream failed")
    clock = rt.services.clock
    assert isinstance(clock, ManualClock)
    clock.advance(31_000)  # c0's sleep ends after the failure: c1 is skipped, the run failing
    rt.pump(advance_time=False)
    assert _status(rt, run.run_id, "c1") == (StepStatus.SKIPPED, RUN_FAILING)
    assert _status(rt, run.run_id, "end")[0] is StepStatus.SKIPPED
    current = rt.services.store.get_run(run.run_id)
    assert current.status is RunStatus.RUNNING and current.failing  # b sleeps on
    return run.run_id


def test_a_failed_step_of_a_running_run_is_retried_and_the_run_succeeds(
    rt: LocalRuntime,
) -> None:
    run_id = _failed_with_b_still_running(rt)
    STATE["broken"] = False  # the fix
    result = step_action(rt.services, run_id, "a", StepAction.RETRY, ME)
    assert result.status == "RETRY_WAIT" and not result.repeated
    run = rt.services.store.get_run(run_id)
    assert not run.failing and run.failing_since is None and run.error is None
    # What the failure decided is open again: a_next, the join end, and c1 (skipped only
    # because the run was failing, and decided afresh: its predecessor's end is replayed).
    assert _status(rt, run_id, "a_next") == (None, None)
    assert _status(rt, run_id, "end")[0] in (None, StepStatus.PENDING)
    rt.pump(advance_time=False)
    assert dict(CALLS) == {"a": 2, "c1": 1}
    assert rt.services.store.get_step(run_id, "a").attempt == 2  # type: ignore[union-attr]
    for step in ("a", "a_next", "c1", "end"):
        assert _status(rt, run_id, step)[0] is StepStatus.SUCCEEDED, step
    assert rt.services.store.get_run(run_id).status is RunStatus.RUNNING  # b sleeps on
    rt.pump()
    assert rt.describe(run_id).run.status is RunStatus.SUCCEEDED
    (event,) = [e for e in rt.services.store.list_events(run_id) if e.kind == "action"]
    assert event.step == "a" and event.detail["action"] == "retry"
    assert event.detail["by"] == "alice" and event.detail["reason"] == "fixed the feed"


def test_a_retried_step_that_fails_again_fails_the_run_again(rt: LocalRuntime) -> None:
    run_id = _failed_with_b_still_running(rt)
    step_action(rt.services, run_id, "a", StepAction.RETRY, ME)  # not fixed
    rt.pump(advance_time=False)
    run = rt.services.store.get_run(run_id)
    assert run.failing and "bad feed" in (run.error or "")
    assert _status(rt, run_id, "a_next") == (StepStatus.SKIPPED, "upstream failed")
    rt.pump()
    assert rt.describe(run_id).run.status is RunStatus.FAILED
    assert CALLS["a"] == 2


def test_another_failure_keeps_the_run_failing(rt: LocalRuntime) -> None:
    rt.push(
        {
            "name": "twice",
            "steps": [
                {"id": "a", "type": "lambda", "function": f"{HERE}:load"},
                {"id": "x", "type": "fail", "message": "also broken"},
                {"id": "b", "type": "sleep", "seconds": 600},
            ],
        }
    )
    run = rt.start_run("twice")
    rt.pump(advance_time=False)
    STATE["broken"] = False
    step_action(rt.services, run.run_id, "a", StepAction.RETRY, ME)
    assert rt.services.store.get_run(run.run_id).failing  # x failed too
    rt.pump()
    assert _status(rt, run.run_id, "a")[0] is StepStatus.SUCCEEDED
    assert rt.describe(run.run_id).run.status is RunStatus.FAILED


def test_retry_of_a_failed_step_is_refused_once_the_run_ended(rt: LocalRuntime) -> None:
    rt.push({"name": "one", "steps": [{"id": "a", "type": "lambda", "function": f"{HERE}:load"}]})
    run = rt.start_run("one")
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.FAILED
    with pytest.raises(ActionRefused) as refused:
        step_action(rt.services, run.run_id, "a", StepAction.RETRY, ME)
    assert refused.value.status == "FAILED"  # the step's; the message says "in a FAILED run"
    assert "it is FAILED in a FAILED run" in str(refused.value)
    assert f"podium runs restart {run.run_id} --from a" in str(refused.value)


def test_racing_retries_make_one_attempt(rt: LocalRuntime) -> None:
    run_id = _failed_with_b_still_running(rt)
    STATE["broken"] = False
    same = Actor("alice", "fix", request_id="req-1")
    first = step_action(rt.services, run_id, "a", StepAction.RETRY, same)
    again = step_action(rt.services, run_id, "a", StepAction.RETRY, same)
    assert again.repeated and again.at == first.at
    # A retry with another id while the retried attempt is RUNNING: the matrix refuses.
    STATE["race"] = lambda: step_action(
        rt.services, run_id, "a", StepAction.RETRY, Actor("bob", request_id="req-2")
    )
    rt.pump()
    refused = STATE["refused"]
    assert isinstance(refused, ActionRefused) and refused.status == "RUNNING"
    assert CALLS["a"] == 2  # the failed attempt and one retry
    assert rt.describe(run_id).run.status is RunStatus.SUCCEEDED
    actions = [e for e in rt.services.store.list_events(run_id) if e.kind == "action"]
    assert [e.detail["request_id"] for e in actions] == ["req-1"]


def test_a_failed_iteration_step_is_retried_while_its_iteration_runs(
    rt: LocalRuntime,
) -> None:
    rt.push(
        {
            "name": "loopy",
            "steps": [
                {
                    "id": "loop",
                    "type": "foreach",
                    "over": {"i": [0, 1]},
                    "on_failure": "finish_running",
                    "steps": [
                        {
                            "id": "a",
                            "type": "lambda",
                            "function": f"{HERE}:load_odd",
                            "payload": {"i": "${iteration.i}"},
                        },
                        {"id": "nap", "type": "sleep", "seconds": 600},
                    ],
                }
            ],
        }
    )
    run = rt.start_run("loopy")
    rt.pump(advance_time=False)
    failed = _status(rt, child_run_id(run.run_id, "loop", 1), "a")[0]
    assert failed is StepStatus.FAILED  # its iteration runs on: its nap sleeps
    STATE["broken"] = False
    step_action(rt.services, run.run_id, "loop/1/a", StepAction.RETRY, ME)
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED
    assert _status(rt, child_run_id(run.run_id, "loop", 1), "a")[0] is StepStatus.SUCCEEDED
    with pytest.raises(ActionRefused):  # the run ended: nothing is retried in place
        step_action(rt.services, run.run_id, "loop", StepAction.RETRY, ME)


def test_a_retry_while_the_failure_is_still_being_handled_is_refused(rt: LocalRuntime) -> None:
    """Regression (the simulation with operator retries, seed 502 of step_timeout): a
    retry that came between the step's failure and the creation of what follows it
    cleared the failing flag; the worker then created the successor SKIPPED, counted
    the sink and ended the run SUCCEEDED with the retried step stopped."""
    run_id = _failed_with_b_still_running(rt)
    # As the failure's worker left it an instant before deciding a_next.
    rt.services.store.reopen_step(run_id, "a_next", expected=frozenset({StepStatus.SKIPPED}))
    with pytest.raises(ActionRefused) as refused:
        step_action(rt.services, run_id, "a", StepAction.RETRY, ME)
    assert "still being handled" in str(refused.value) and "a_next" in str(refused.value)
    assert _status(rt, run_id, "a")[0] is StepStatus.FAILED
    assert rt.services.store.get_run(run_id).failing  # nothing was taken back


def test_a_run_end_read_before_a_retry_uncounted_its_sink_does_not_end_the_run(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (the simulation with operator retries, seeds 585/666 of
    fail_immediately): the worker that counted the last sink read the run, then an
    operator's retry uncounted that sink and reopened the failed step; the worker's end
    write came after and ended the run with the retried attempt stopped. The run end now
    reads the sink count again just before its write."""
    import podium.service.advance as advance
    from podium.core.engine.decide import run_outcome

    run_id = _failed_with_b_still_running(rt)
    run = rt.services.store.get_run(run_id)
    # The worker read the run as done (every sink counted), then the retry ran.
    step_action(rt.services, run_id, "a", StepAction.RETRY, ME)
    monkeypatch.setattr(advance, "run_outcome", lambda _run, _done: run_outcome(run, 99))
    assert advance.complete_if_done(rt.services, run_id, run.sinks_total) is None
    monkeypatch.undo()
    assert rt.services.store.get_run(run_id).status is RunStatus.RUNNING
    STATE["broken"] = False
    rt.pump()
    assert rt.describe(run_id).run.status is RunStatus.SUCCEEDED


def test_a_retry_between_the_run_ends_check_and_its_write_keeps_the_run_going(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (the simulation with operator retries, seed 2037 of recover): the
    worker ending the run read the run and the sink count (all counted: a failed, its
    handler recovered), then an operator's retry of a uncounted the sinks and reopened
    it, then the worker wrote the end: the run SUCCEEDED with the retried attempt
    stopped. The end write is now conditioned on the run's ``reopened`` count it read."""
    rt.push(
        {
            "name": "recovering",
            "steps": [
                {"id": "a", "type": "lambda", "function": f"{HERE}:load"},
                {"id": "b", "type": "noop", "depends_on": ["a"]},
                {"id": "handler", "type": "noop", "depends_on": ["a"], "join": "one_failed",
                 "recover": True},
            ],
        }
    )  # fmt: skip
    store = rt.services.store
    real = store.transition_run
    injected: list[str] = []

    def retry_then_end(run_id: str, **kwargs: Any) -> Any:
        handler = store.get_step(run_id, "handler")
        ending = kwargs["to"].terminal
        if (
            ending
            and not injected
            and handler is not None
            and handler.status is StepStatus.SUCCEEDED
        ):
            injected.append(run_id)  # the operator acts between the read and the write
            STATE["broken"] = False
            step_action(rt.services, run_id, "a", StepAction.RETRY, ME)
        return real(run_id, **kwargs)

    monkeypatch.setattr(store, "transition_run", retry_then_end)
    run = rt.start_run("recovering")
    rt.pump()
    assert injected == [run.run_id]
    assert CALLS["a"] == 2
    for step in ("a", "b", "handler"):
        assert _status(rt, run.run_id, step)[0] is StepStatus.SUCCEEDED, step
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED


def test_only_a_reopened_run_reads_its_steps_again_before_its_end(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check before a run's end (every sink still counted, no step open) is for runs
    an operator's retry reopened; a run never reopened is fenced by its end's condition
    on ``reopened``, and skips it (one Query less per run end, per loop iteration)."""
    import podium.service.advance as advance

    checked: list[int] = []
    real = advance._still_done

    def counting(ctx: Any, run: Any) -> bool:
        checked.append(run.reopened)
        return bool(real(ctx, run))

    monkeypatch.setattr(advance, "_still_done", counting)
    rt.push(
        {"name": "plain", "steps": [{"id": "a", "type": "noop"},
                                    {"id": "b", "type": "noop", "depends_on": ["a"]}]}
    )  # fmt: skip
    plain = rt.start_run("plain")
    rt.pump()
    assert rt.describe(plain.run_id).run.status is RunStatus.SUCCEEDED
    assert checked == []
    run_id = _failed_with_b_still_running(rt)
    STATE["broken"] = False
    step_action(rt.services, run_id, "a", StepAction.RETRY, ME)
    rt.pump()
    assert rt.describe(run_id).run.status is RunStatus.SUCCEEDED
    assert checked and all(n >= 1 for n in checked)

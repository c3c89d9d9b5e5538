"""The embedded runtime on the home (local/runtime.py): virtual time does not jump over
a step waiting for signals (or for a callback) while `podium run` waits for its run, the
step's own or one in a loop's iteration (found by reviews; each test failed before its
fix)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from podium.core.engine.actions import RunAction
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from podium.service.signals import request_from_json, send_signal

WAITS = {
    "name": "waits",
    "steps": [{"id": "w", "type": "noop", "timeout": "1h", "wait_for": [{"signal": "go"}]}],
}


def test_podium_run_does_not_fast_forward_over_a_signal_wait(tmp_path: Path) -> None:
    """`podium run` (virtual time, the default: a FastForwardClock) of a workflow whose
    step waits for a signal ends the run TIMED_OUT at once ("no matching signal (go)
    within the step's timeout of 3600 s", 0.1 s of real time): the pump jumps virtual
    time to the next timer, which is the wait's timeout (local/runtime.py LocalRuntime
    _jumps only refuses to jump while a *callback* step waits: _awaiting_callback checks
    CALLBACK_TYPES). So the documented way to release it locally, `podium signal send go`
    from another terminal (docs/workflow-language.md "wait_for", docs/architecture.md),
    can never arrive in time; the summary even says only "sleeps and retry delays were
    fast-forwarded". Right: as for a callback, virtual time does not jump over a step
    WAITING_FOR_SIGNALS (an outside sender decides when it ends); the run waits in real
    time and a signal sent meanwhile releases it."""
    _waits_in_real_time(tmp_path, WAITS)


def _waits_in_real_time(tmp_path: Path, definition: dict[str, object]) -> None:
    """Run ``definition`` as `podium run` does (virtual time), send `go` 1.5 s of real
    time in: the run was still waiting, and the signal ends it SUCCEEDED."""
    with LocalRuntime(store="sqlite", home=str(tmp_path / "home")) as rt:
        rt.push(definition)
        run_id = rt.start_run(str(definition["name"])).run_id
        pump = threading.Thread(target=rt.pump, kwargs={"run_id": run_id}, daemon=True)
        pump.start()
        time.sleep(1.5)  # a person switching terminals takes longer than this
        before_the_signal = rt.store.get_run(run_id).status
        send_signal(rt.services, request_from_json({"name": "go", "params": {}}))
        pump.join(30)
        final = rt.store.get_run(run_id).status
    assert before_the_signal is RunStatus.RUNNING, "the wait was fast-forwarded to its timeout"
    assert final is RunStatus.SUCCEEDED


WAITS_IN_A_LOOP = {
    "name": "loop_waits",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"n": [1]},
            "steps": [{"id": "w", "type": "noop", "timeout": "1h", "wait_for": [{"signal": "go"}]}],
        }
    ],
}


def test_podium_run_does_not_fast_forward_over_a_signal_wait_inside_a_loop(
    tmp_path: Path,
) -> None:
    """`podium run` (a FastForwardClock) must not jump virtual time over a step waiting
    for signals: an outside sender (`podium signal send` from another terminal) decides
    when it ends (tests/integration/test_local_run_signal_wait.py, fixed for a step of
    the run itself). A wait inside a foreach iteration is still fast-forwarded: the run
    ends FAILED at once ("each: 1 of 1 iterations failed", the iteration's wait
    TIMED_OUT after 0 s of real time). local/runtime.py _awaiting_signals looks only at
    the top-level steps of the definition and at ``list_steps(run_id)`` of the run
    itself, never at the iterations' (or a subworkflow's) child runs, where the waiting
    step lives. Right: while any run of the tree waits for signals, virtual time does
    not jump; the run waits in real time and a signal sent meanwhile releases it."""
    _waits_in_real_time(tmp_path, WAITS_IN_A_LOOP)


CALLBACK_IN_A_LOOP = {
    "name": "loop_callback",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"n": [1]},
            "steps": [{"id": "c", "type": "wait_for_callback", "timeout": "1h"}],
        }
    ],
}


def test_podium_run_does_not_fast_forward_over_a_callback_inside_a_loop(
    tmp_path: Path,
) -> None:
    """As for signals: a callback step inside a foreach iteration was timed out at once
    by `podium run` (_awaiting_callback looked at the run's own steps only). It waits in
    real time now (here until the run is stopped)."""
    with LocalRuntime(store="sqlite", home=str(tmp_path / "home")) as rt:
        rt.push(CALLBACK_IN_A_LOOP)
        run_id = rt.start_run("loop_callback").run_id
        pump = threading.Thread(target=rt.pump, kwargs={"run_id": run_id}, daemon=True)
        pump.start()
        time.sleep(1.5)
        before_the_stop = rt.store.get_run(run_id).status
        run_action(rt.services, run_id, RunAction.STOP, Actor("alice", "testing"))
        pump.join(30)
        final = rt.store.get_run(run_id).status
    assert before_the_stop is RunStatus.RUNNING, "the callback was fast-forwarded to its timeout"
    assert final is RunStatus.STOPPED

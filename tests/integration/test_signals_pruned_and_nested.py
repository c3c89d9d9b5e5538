"""Signals: what a wait that never ended leaves behind once its run is pruned (a deadline
timer, a waiter woken by a later signal: dropped, not dead-lettered), and an emit two
loops deep whose request id outgrew the limit. Found by a review; each test failed
before its fix (its docstring says what was wrong and what is right)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from podium.adapters.clock import ManualClock
from podium.adapters.sqlite.db import Database
from podium.core.engine.actions import RunAction, StepAction
from podium.core.engine.signals import SignalRequest
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.prune import prune_runs
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action, step_action
from podium.service.signals import send_signal

ME = Actor("alice", "testing")

WAITS_1H = {
    "name": "waits",
    "steps": [{"id": "w", "type": "noop", "timeout": "1h", "wait_for": [{"signal": "go"}]}],
}


WAITS_DEFAULT = {
    "name": "waits",
    "steps": [{"id": "w", "type": "noop", "wait_for": [{"signal": "go"}]}],
}


def _stopped_while_waiting_then_pruned(
    where: Path, clock: ManualClock, definition: dict[str, object]
) -> str:
    """A run whose step waits for `go` is stopped, then pruned."""
    with LocalRuntime(store="sqlite", home=str(where), clock=clock) as rt:
        rt.push(definition)
        run_id = rt.start_run("waits").run_id
        rt.pump(advance_time=False)
        step = rt.store.get_step(run_id, "w")
        assert step is not None and step.status is StepStatus.WAITING_FOR_SIGNALS
        run_action(rt.services, run_id, RunAction.STOP, ME)
        rt.pump(advance_time=False)
        assert rt.store.get_run(run_id).status is RunStatus.STOPPED
        assert rt.store.get_run(run_id).settled
    db = Database(where / "podium.db")
    try:
        assert prune_runs(db, where / "payloads", clock.now_ms() + 1).runs == 1
    finally:
        db.close()
    return run_id


def test_a_pruned_runs_signal_wait_deadline_is_dropped_not_dead_lettered(tmp_path: Path) -> None:
    """A step WAITING_FOR_SIGNALS with a `timeout` arms a `{"t": "signals"}` timer at the
    wait's deadline (service/signal_waits.py begin_wait). The run is stopped while it
    waits and then pruned (`podium runs prune`); the timer stays queued in the home.
    When it comes due, on_signal_check (service/signal_waits.py) calls
    ``ctx.store.get_run`` without catching RunNotFound, so the message fails until it is
    dead-lettered: `podium dlq list` shows a poison message nobody made.
    docs/operations.md ("Pruning the local home") promises that "the timers a pruned run
    left ... are dropped when they come due" (the run deadline and ended check already
    are: service/lifecycle.py _still_there). Right: a signal check of a run that is gone
    is dropped (logged), no dead letter."""
    where = tmp_path / "home"
    clock = ManualClock()
    _stopped_while_waiting_then_pruned(where, clock, WAITS_1H)
    with LocalRuntime(store="sqlite", home=str(where), clock=clock) as rt:
        rt.pump()  # time moves on to the wait's deadline: its check fires
        assert rt.dead_letters() == []


def test_a_signal_sent_after_a_stopped_waiter_was_pruned_makes_no_dead_letter(
    tmp_path: Path,
) -> None:
    """Stopping a run whose step waits for signals leaves the step's waiter (SIGW#/
    signal_waiters row): nothing but a later check removes it (service/signal_waits.py
    _forget is called on release, time-out, or a check that finds the run ended). Once
    the run is gone (pruned locally; on AWS deleted by run_retention_days while the
    waiter lives until the wait's deadline + 1 h, 10 days by default), the next signal
    of that name wakes the stale waiter (service/signals.py wake), and that
    `{"t": "signals"}` message raises RunNotFound in on_signal_check until it is
    dead-lettered. Sending a signal is an ordinary operation and must not make a poison
    message. Right: the check of a run that is gone is dropped (and its waiter removed),
    or a run's end removes its steps' waiters."""
    where = tmp_path / "home"
    clock = ManualClock()
    # The default wait (10 days) arms no timer of its own: the wake-up is the only check.
    _stopped_while_waiting_then_pruned(where, clock, WAITS_DEFAULT)
    with LocalRuntime(store="sqlite", home=str(where), clock=clock) as rt:
        send_signal(rt.services, SignalRequest("go"))
        rt.pump()  # the wake-up, and its redeliveries until it is dead-lettered
        assert rt.dead_letters() == []


# Ids as long as the definition language allows (IDENTIFIER: 80 characters), two loops
# deep (MAX_DEPTH is 10): a valid definition.
_OUTER, _INNER, _LEAF = "o" * 80, "i" * 80, "s" * 80
EMITS_TWO_LOOPS_DEEP = {
    "name": "deep_emit",
    "steps": [
        {
            "id": _OUTER,
            "type": "foreach",
            "over": {"i": [1]},
            "steps": [
                {
                    "id": _INNER,
                    "type": "foreach",
                    "over": {"j": [1]},
                    "steps": [
                        {
                            "id": _LEAF,
                            "type": "noop",
                            "emit": [{"signal": "done", "params": {"k": "x"}}],
                        }
                    ],
                }
            ],
        }
    ],
}


def test_an_emit_in_a_nested_loop_is_sent() -> None:
    """A step's `emit` is sent once its step succeeds, with the request id
    ``emit:<run id>/<step>/<index>`` (service/signals.py emit_signals). An iteration's
    run id is ``<parent run>.<loop step>.<index>`` (core/engine/identity.py
    child_run_id), so it grows with every loop level and step id: two loops deep with
    80-character ids (both within the limits: IDENTIFIER, MAX_DEPTH 10) the request id
    is over MAX_REQUEST_ID (256), check_request refuses it, and emit_signals logs the
    DefinitionError and skips the signal. The run SUCCEEDS and the signal is never sent,
    though nothing in the definition is wrong (a 64-character client run id, or a few
    more levels, gets there with shorter step ids). Right: an emit of a valid definition
    is always sent (a request id the emit builds must fit the limit, e.g. a digest of
    the run, step and entry)."""
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.push(EMITS_TWO_LOOPS_DEEP)
        run_id = rt.start_run("deep_emit").run_id
        rt.pump(advance_time=False)
        assert rt.describe(run_id).run.status is RunStatus.SUCCEEDED
        signals = rt.services.signals
        assert signals is not None
        sent = signals.find("done", [], now=rt.services.now(), limit=10)
        assert [s.params for s in sent] == [{"k": "x"}]


def _waiting(rt: LocalRuntime) -> tuple[str, Any]:
    """A run of WAITS_1H whose step waits for `go`: its id and the signals port (the
    step's waiter checked there)."""
    rt.push(WAITS_1H)
    run_id = rt.start_run("waits").run_id
    rt.pump(advance_time=False)
    signals = rt.services.signals
    assert signals is not None
    assert [w.run_id for w in signals.waiters("go", rt.services.now())] == [run_id]
    return run_id, signals


def test_a_run_stopped_while_its_step_waits_leaves_no_waiter(tmp_path: Path) -> None:
    """A run stopped (or timed out) while a step waited for signals kept that step's
    waiter until the wait's deadline + 1 h (10 days by default): every signal of its
    name until then woke it in vain. The run's end removes it (and the wait's timer)."""
    with LocalRuntime(store="sqlite", home=str(tmp_path / "home"), clock=ManualClock()) as rt:
        run_id, signals = _waiting(rt)
        run_action(rt.services, run_id, RunAction.STOP, ME)
        rt.pump(advance_time=False)
        assert rt.store.get_run(run_id).status is RunStatus.STOPPED
        assert signals.waiters("go", rt.services.now()) == []


def test_a_waiting_step_an_operator_skips_leaves_no_waiter(tmp_path: Path) -> None:
    """An operator's skip of a step waiting for signals kept its waiter (and its deadline
    timer) until the wait's deadline + 1 h: every signal of its name woke it in vain. A
    stop removed them (the run's end's cancel_step); the skip does too."""
    with LocalRuntime(store="sqlite", home=str(tmp_path / "home"), clock=ManualClock()) as rt:
        run_id, signals = _waiting(rt)
        step_action(rt.services, run_id, "w", StepAction.SKIP, ME)
        rt.pump(advance_time=False)
        assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED
        assert signals.waiters("go", rt.services.now()) == []
        rt.pump()  # the wait's deadline passes: its timer was withdrawn, nothing fires
        assert rt.dead_letters() == []

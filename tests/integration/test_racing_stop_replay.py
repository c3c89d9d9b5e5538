"""A run's stop against a step's claim that read the run as running: the interleaving
behind test_racing_actions.py::test_stop_against_steps_finishing's rare failure, made
deterministic (one thread, on the racing moto store).

The worker's ``execute`` reads the run (RUNNING); the operator's stop then ends the run,
ends the READY step STOPPED (lifecycle.cancel_steps: no propagation, no run flag) and
settles the run; the worker's claim then loses (the step is STOPPED) and replays the
step's "terminal follow-ups" (execute._after_lost_claim -> attempts.replay_terminal) with
the run as it read it, RUNNING: STOPPED counts as a failure, so the run is flagged
failing and given an error (store.mark_run_failing), and the successor is created
SKIPPED, all after the run settled. The same stop a moment earlier (before the read)
leaves none of that: the outcome depends on the order of messages, and the replay does
what the first end never did (core.engine.actions.propagates_as: "every replay ...
agrees with the first propagation")."""

from __future__ import annotations

from typing import Any

from podium.core.engine.actions import RunAction
from podium.core.engine.status import RunStatus, StepStatus
from podium.service import messages
from podium.service.actions import Actor, run_action
from podium.service.advance import start_roots
from podium.service.context import Services
from podium.service.execute import execute
from podium.service.runs import start_run
from podium.service.workflows import push_workflow
from tests.integration.racing_support import racing_services
from tests.integration.test_racing_actions import CALLS, lam

WF = {"name": "stop_replay", "steps": [lam("a"), lam("b", "a")]}


def _stop_after_the_workers_read(ctx: Services, run_id: str) -> None:
    """The next read of the run (the worker's, in ``execute``) returns it as it was, and
    the operator's stop lands right after it."""
    store: Any = ctx.store
    real = store.get_run
    armed = [True]

    def get_run(rid: str) -> Any:
        run = real(rid)
        if armed[0] and rid == run_id:
            armed[0] = False
            assert run_action(ctx, run_id, RunAction.STOP, Actor("op")).status == "STOPPED"
        return run

    store.get_run = get_run


def _outcome(ctx: Services, run_id: str) -> dict[str, Any]:
    run = ctx.store.get_run(run_id)
    return {
        "run": (run.status, run.settled, run.error, run.failing, run.failing_since),
        "steps": {s.step: s.status for s in ctx.store.list_steps(run_id)},
    }


def test_a_claim_that_read_the_run_before_its_stop_changes_nothing_after_it() -> None:
    CALLS.clear()
    with racing_services() as (ctx, _):
        push_workflow(ctx, WF)
        # The stop before the worker's read: the claim finds the run ended.
        first = start_run(ctx, "stop_replay").run_id
        start_roots(ctx, first)  # "a" READY, its exec message queued
        run_action(ctx, first, RunAction.STOP, Actor("op"))
        execute(ctx, messages.Exec(first, "a", 1), inline=False)
        # The stop just after the worker's read: the claim loses to the stopped step.
        second = start_run(ctx, "stop_replay").run_id
        start_roots(ctx, second)
        _stop_after_the_workers_read(ctx, second)
        execute(ctx, messages.Exec(second, "a", 1), inline=False)
        before, after = _outcome(ctx, first), _outcome(ctx, second)
    assert CALLS == {}  # "a" never ran in either
    assert before == {
        "run": (RunStatus.STOPPED, True, None, False, None),
        "steps": {"a": StepStatus.STOPPED},
    }, before
    # The same stop, a moment later: the same stopped run. Found instead: the run flagged
    # failing with the error "a: stopped by op", and "b" created SKIPPED after it settled.
    assert after == before, after

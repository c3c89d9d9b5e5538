"""A step's success written, its worker dead before it sent the step's ``emit``, and the
run's deadline handled before the sweeper redid the follow-ups: the step's late message
(its done, redelivered) finds the run ended and sends the emit (by an ``emit`` message,
idempotent). Before, an ended run's late message only ended unfinished steps, and the
emit was never sent. Found by the simulation's ``emit_lost`` invariant
(``--shapes all --actions --intensity 2``, seed 141). On the memory store, the SQLite
home and DynamoDB on moto."""

from __future__ import annotations

from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import attempts, messages
from podium.service.inbox import handle_event
from podium.service.lifecycle import on_run_deadline
from tests.integration.test_emit_skipped_step import EMIT, rt, sent  # the runtimes, signals sent

__all__ = ["rt"]  # the fixture (memory, SQLite, moto), shared with the skip tests


class Died(Exception):
    """The worker's crash, right after it wrote the step's success."""


def test_a_success_whose_emit_a_crash_lost_is_emitted_by_its_late_message(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt.push(
        {
            "name": "deadline",
            "timeout": 60,
            "steps": [
                {"id": "edge", "type": "sleep", "seconds": 10, "emit": EMIT},
                {"id": "after", "type": "sleep", "seconds": 3600, "depends_on": ["edge"]},
            ],
        }
    )
    run_id = rt.start_run("deadline").run_id
    handle_event(rt.services, messages.encode(messages.Start(run_id)))
    rt.pump(wait=False, advance_time=False)
    edge = rt.store.get_step(run_id, "edge")
    assert edge is not None and edge.status is StepStatus.RUNNING, edge

    def die(*args: Any, **kwargs: Any) -> None:
        raise Died

    monkeypatch.setattr(attempts, "emit_signals", die)
    clock = rt.services.clock
    assert isinstance(clock, ManualClock)
    clock.advance_to(clock.now_ms() + 10_000)
    done = messages.encode(messages.Done(run_id, "edge", 1, messages.TIMER_EVENT))
    with pytest.raises(Died):
        handle_event(rt.services, done)
    monkeypatch.undo()
    edge = rt.store.get_step(run_id, "edge")
    assert edge is not None and edge.status is StepStatus.SUCCEEDED, edge
    assert sent(rt) == 0
    clock.advance_to(clock.now_ms() + 60_000)
    on_run_deadline(rt.services, run_id)  # before the sweeper looked
    assert rt.store.get_run(run_id).status is RunStatus.TIMED_OUT
    handle_event(rt.services, done)  # the done, redelivered
    rt.pump(wait=False, advance_time=False)
    assert sent(rt) == 1


def test_an_inline_successors_lost_emit_is_sent_by_the_chains_late_message(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker ran ``first`` and then, in-process, its successor ``edge`` (no message
    of its own); it wrote edge's success and died before the emit; the run was killed
    before the sweeper looked. The only late message names ``first``: it now sends the
    emits owed by the steps below it too (the simulation's ``emit_lost``, ``--shapes all
    --actions --intensity 2``, seed 3791: session 20's fix looked at the named step)."""
    from podium.core.engine.actions import RunAction
    from podium.service.actions import Actor, run_action
    from podium.service.execute import execute, perform

    rt.push(
        {
            "name": "inline_emit",
            "steps": [
                {"id": "first", "type": "noop"},
                {"id": "edge", "type": "noop", "emit": EMIT, "depends_on": ["first"]},
                {"id": "after", "type": "sleep", "seconds": 3600, "depends_on": ["edge"]},
            ],
        }
    )
    run_id = rt.start_run("inline_emit").run_id
    handle_event(rt.services, messages.encode(messages.Start(run_id)))

    real = attempts.emit_signals

    def die_at_edge(ctx: Any, run: Any, step: str, *args: Any, **kwargs: Any) -> Any:
        if step == "edge":
            raise Died
        return real(ctx, run, step, *args, **kwargs)

    monkeypatch.setattr(attempts, "emit_signals", die_at_edge)
    work = messages.Exec(run_id, "first", 1)  # the start made it READY
    with pytest.raises(Died):  # first, then edge in-process (as the work handler does)
        claimed = execute(rt.services, work)
        while claimed is not None:
            claimed = perform(rt.services, claimed)
    monkeypatch.undo()
    edge = rt.store.get_step(run_id, "edge")
    assert edge is not None and edge.status is StepStatus.SUCCEEDED, edge
    assert sent(rt) == 0
    run_action(rt.services, run_id, RunAction.KILL, Actor("ops"))
    assert rt.store.get_run(run_id).status.terminal
    execute(rt.services, work)  # first's message, redelivered
    rt.pump(wait=False, advance_time=False)
    assert sent(rt) == 1

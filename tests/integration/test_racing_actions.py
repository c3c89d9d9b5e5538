"""Operators' actions racing the engine: threads against one moto server (DynamoDB's
conditions are the only lock). Invariants are read from the state items."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from podium.core.engine.actions import ActionRefused, RunAction, StepAction
from podium.core.engine.status import RunStatus, StepStatus
from podium.service import messages
from podium.service.actions import Actor, run_action, step_action
from podium.service.advance import start_roots
from podium.service.execute import execute
from podium.service.runs import start_run
from podium.service.workflows import push_workflow
from tests.integration.racing_support import pump_concurrently, race, racing_services

HERE = "tests.integration.test_racing_actions"
_LOCK = threading.Lock()
CALLS: Counter[str] = Counter()
BROKEN: set[str] = set()


def work(event: dict[str, Any]) -> str:
    with _LOCK:
        CALLS[f"{event['run']['id']}/{event['step']}"] += 1
    time.sleep(0.02)
    if event["step"] in BROKEN:
        raise ValueError("broken")
    return "ok"


def lam(step: str, *deps: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"id": step, "type": "lambda", "function": f"{HERE}:work"}
    if deps:
        spec["depends_on"] = list(deps)
    return spec


def _ended(ctx: Any, run_id: str) -> bool:
    return bool(ctx.store.get_run(run_id).status.terminal)


def test_50_concurrent_pause_and_resume_calls_leave_a_consistent_run() -> None:
    CALLS.clear()
    fan = {
        "name": "fan_pause",
        "run_strategy": {"parallel": 5},
        "steps": [lam("root"), *(lam(f"p{i}", "root") for i in range(30)), lam("end", "p0")],
    }
    with racing_services() as (ctx, _):
        push_workflow(ctx, fan)
        run_id = start_run(ctx, "fan_pause").run_id
        stop_pumping = threading.Event()
        pumper = threading.Thread(
            target=pump_concurrently, args=(ctx, stop_pumping.is_set), kwargs={"deadline_s": 120}
        )
        pumper.start()
        try:
            time.sleep(0.3)  # the fan-out is under way

            def act(i: int) -> str:
                action = RunAction.PAUSE if i % 2 == 0 else RunAction.RESUME
                try:
                    return run_action(ctx, run_id, action, Actor(f"op{i}")).status
                except ActionRefused as refused:
                    return f"refused:{refused.status}"

            answers = race(50, act)
            assert any(not a.startswith("refused") for a in answers), answers
            # Whatever the race left, pause now and watch: nothing starts while paused.
            if ctx.store.get_run(run_id).status is RunStatus.RUNNING:
                run_action(ctx, run_id, RunAction.PAUSE, Actor("final"))
            assert ctx.store.get_run(run_id).status is RunStatus.PAUSED
            paused_at = ctx.now()
            time.sleep(2.5)  # in-flight attempts finish; the held steps stay held
            before = {s.step: s for s in ctx.store.list_steps(run_id)}
            time.sleep(1.0)
            after = {s.step: s for s in ctx.store.list_steps(run_id)}
            # A claim that read the run as running just before the pause may start it
            # (it counts as started before the pause): at most a worker's view of the
            # run's status ago (run_reads.STATUS_FRESH_MS).
            from podium.service.run_reads import STATUS_FRESH_MS

            late = [
                s.step
                for s in after.values()
                if s.started_at is not None and s.started_at > paused_at + STATUS_FRESH_MS + 500
            ]
            assert late == [], late
            assert {k: v.status for k, v in before.items()} == {
                k: v.status for k, v in after.items()
            }
            assert all(
                s.status.terminal or s.status is StepStatus.PAUSED for s in after.values()
            ), {k: v.status.value for k, v in after.items()}
            run_action(ctx, run_id, RunAction.RESUME, Actor("final"))
            deadline = time.monotonic() + 90
            while not _ended(ctx, run_id) and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            stop_pumping.set()
            pumper.join()
        run = ctx.store.get_run(run_id)
        steps = ctx.store.list_steps(run_id)
    assert run.status is RunStatus.SUCCEEDED, run
    assert all(s.status is StepStatus.SUCCEEDED for s in steps)
    assert len(steps) == 32
    assert all(CALLS[f"{run_id}/{s.step}"] == 1 for s in steps), CALLS  # each ran once


def test_stop_against_steps_finishing() -> None:
    CALLS.clear()
    wf = {"name": "stop_race", "run_strategy": {"parallel": 20}, "steps": [lam("a"), lam("b", "a")]}
    with racing_services() as (ctx, _):
        push_workflow(ctx, wf)
        runs = [start_run(ctx, "stop_race").run_id for _ in range(12)]
        stop_pumping = threading.Event()
        pumper = threading.Thread(target=pump_concurrently, args=(ctx, stop_pumping.is_set))
        pumper.start()
        try:

            def stop(i: int) -> str:
                time.sleep(0.01 * i)  # spread over the runs' lives
                try:
                    return run_action(ctx, runs[i], RunAction.STOP, Actor("op")).status
                except ActionRefused as refused:
                    return f"refused:{refused.status}"

            answers = race(len(runs), stop)
            deadline = time.monotonic() + 60
            while not all(_ended(ctx, r) for r in runs) and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            stop_pumping.set()
            pumper.join()
        final = {r: ctx.store.get_run(r) for r in runs}
        steps = {r: ctx.store.list_steps(r) for r in runs}
        holders = ctx.store.run_slots().state("stop_race").holders
    for i, run_id in enumerate(runs):
        run = final[run_id]
        seen = (i, answers[i], run, {s.step: s.status.value for s in steps[run_id]})
        if answers[i] == "STOPPED":  # the stop won: the run stays stopped
            assert run.status is RunStatus.STOPPED, seen
            # A stop ends what is unfinished STOPPED: no step is skipped after it, and
            # the stopped run is not flagged failing (test_racing_stop_replay.py).
            assert all(
                s.status in (StepStatus.STOPPED, StepStatus.SUCCEEDED) for s in steps[run_id]
            ), seen
            assert (run.error, run.failing) == (None, False), seen
        else:  # the run had ended first: the stop was refused naming that
            assert answers[i] == f"refused:{run.status.value}", seen
        assert run.settled and all(s.status.terminal for s in steps[run_id]), seen
        assert all(n == 1 for k, n in CALLS.items() if k.startswith(run_id)), (seen, CALLS)
    assert holders == {}, holders  # every slot given back


def test_a_restart_requested_concurrently_makes_one_run() -> None:
    CALLS.clear()
    BROKEN.add("b")
    try:
        with racing_services() as (ctx, _):
            push_workflow(ctx, {"name": "re_race", "steps": [lam("a"), lam("b", "a")]})
            old = start_run(ctx, "re_race").run_id
            pump_concurrently(ctx, lambda: _ended(ctx, old))
            BROKEN.clear()

            def restart(i: int) -> str:
                try:
                    result = run_action(ctx, old, RunAction.RESTART, Actor(f"op{i}"))
                except ActionRefused as refused:
                    return f"refused:{refused.status}"
                assert result.new_run is not None
                return result.new_run

            answers = race(10, restart)
            made = {a for a in answers if not a.startswith("refused")}
            assert made == {f"{old}-r1"}, answers
            assert all(
                a == f"{old}-r1" or f"already restarted as {old}-r1" in a for a in answers
            ), answers
            pump_concurrently(ctx, lambda: _ended(ctx, f"{old}-r1"))
            new = ctx.store.get_run(f"{old}-r1")
            runs = ctx.store.list_runs("re_race", 10)
    finally:
        BROKEN.clear()
    assert new.status is RunStatus.SUCCEEDED
    assert len(runs) == 2
    assert CALLS[f"{old}/a"] == 1 and f"{old}-r1/a" not in CALLS  # a was reused


def test_skip_against_a_claim_one_of_them_wins() -> None:
    CALLS.clear()
    with racing_services() as (ctx, _):
        push_workflow(
            ctx, {"name": "skip_race", "run_strategy": {"parallel": 20}, "steps": [lam("a")]}
        )
        runs = [start_run(ctx, "skip_race").run_id for _ in range(10)]
        for run_id in runs:
            start_roots(ctx, run_id)  # "a" READY; its message is queued, not delivered
        outcomes: list[tuple[str, str]] = []
        for run_id in runs:

            def contender(i: int, run_id: str = run_id) -> str:
                if i == 0:
                    execute(ctx, messages.Exec(run_id, "a", 1), inline=False)
                    return "claimed"
                try:
                    return step_action(ctx, run_id, "a", StepAction.SKIP, Actor("op")).status
                except ActionRefused as refused:
                    return f"refused:{refused.status}"

            claim, skip = race(2, contender)
            outcomes.append((claim, skip))
        pump_concurrently(ctx, lambda: all(_ended(ctx, r) for r in runs))
        steps = {r: ctx.store.get_step(r, "a") for r in runs}
    for run_id, (_, skip) in zip(runs, outcomes, strict=True):
        step = steps[run_id]
        assert step is not None
        ran = CALLS[f"{run_id}/a"]
        if skip == "SKIPPED":
            assert (step.status, ran) == (StepStatus.SKIPPED, 0)
        else:
            assert skip.startswith("refused:") and (step.status, ran) == (StepStatus.SUCCEEDED, 1)

"""Foreach iterations whose body ends as it starts are written already ended
(service/instant_iterations.py): the same records the queues would have left, on every
store, with nothing lost or counted twice when a pass dies anywhere in between."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.bench.loops import foreach as noop_loop
from podium.core.engine.actions import RunAction
from podium.core.engine.checks import first_check
from podium.core.engine.compiled import CompiledWorkflow
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from podium.service.sweep import sweep
from tests.conftest import queued_noop_loop

N, CONCURRENCY = 25, 10


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = {"home": ":memory:"} if request.param == "sqlite" else {}
    with LocalRuntime(store=request.param, clock=ManualClock(), **home) as runtime:
        yield runtime


def _two_step_loop() -> dict[str, Any]:
    defn = noop_loop(N, CONCURRENCY)
    defn["steps"][0]["steps"] = [
        {"id": "a", "type": "noop"},
        {"id": "b", "type": "noop", "depends_on": ["a"]},
    ]
    return defn


def _work_sent_to_iterations(rt: LocalRuntime) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    queues = (rt.services.work_queue, rt.services.event_queue)
    for queue in queues:
        send, send_many = queue.send, queue.send_many

        def one(message: Any, delay_seconds: int = 0, _send: Any = send) -> None:
            sent.append(dict(message))
            _send(message, delay_seconds)

        def many(batch: Any, _send_many: Any = send_many) -> None:
            sent.extend(dict(m) for m in batch)
            _send_many(batch)

        queue.send, queue.send_many = one, many  # type: ignore[method-assign]
    return sent


def _all_ended_once(rt: LocalRuntime, run_id: str, steps: tuple[str, ...] = ("work",)) -> None:
    store = rt.services.store
    assert store.get_run(run_id).status is RunStatus.SUCCEEDED
    each = store.get_step(run_id, "each")
    assert each is not None and each.status is StepStatus.SUCCEEDED
    assert (each.children_launched, each.children_ok, each.children_failed) == (N, N, 0)
    assert each.output["count"] == each.output["succeeded"] == N
    children = store.get_runs([child_run_id(run_id, "each", i) for i in range(N)])
    assert len(children) == N
    for child in children.values():
        assert child.status is RunStatus.SUCCEEDED and child.settled, child
        recorded = {s.step: s for s in store.list_steps(child.run_id)}
        assert sorted(recorded) == sorted(steps), child.run_id
        assert all(s.status is StepStatus.SUCCEEDED and s.attempt == 1 for s in recorded.values())
    assert store.running_children(run_id, "each") == []
    assert store.list_active_run_ids() == []


def test_a_noop_bodys_iterations_are_written_ended_without_a_message_each(
    rt: LocalRuntime,
) -> None:
    sent = _work_sent_to_iterations(rt)
    view = rt.run(_two_step_loop())
    _all_ended_once(rt, view.run.run_id, ("a", "b"))
    # No work, start or end message names an iteration: only the loop's own wake-ups
    # (one per pass of CONCURRENCY iterations) and the top run's messages.
    assert not [m for m in sent if ".each." in str(m.get("run", ""))], sent
    wakeups = [m for m in sent if m.get("step") == "each"]
    assert len(wakeups) <= N // CONCURRENCY + 2, wakeups
    child = rt.describe(child_run_id(view.run.run_id, "each", 3))
    assert child.run.iteration == {"index": 3, "i": 3}
    assert child.run.started_at == child.run.ended_at is not None


def test_a_queued_body_still_goes_through_the_queues(rt: LocalRuntime) -> None:
    sent = _work_sent_to_iterations(rt)
    view = rt.run(queued_noop_loop(N, CONCURRENCY))
    assert view.run.status is RunStatus.SUCCEEDED
    assert len([m for m in sent if ".each." in str(m.get("run", ""))]) >= N


@pytest.mark.parametrize(
    ("change", "at_once"),
    [
        ({}, True),
        ({"depends_on": [{"step": "a"}]}, True),
        ({"depends_on": ["a"], "join": "all_done"}, True),
        ({"params": {"x": 1}}, False),
        ({"emit": [{"signal": "s"}]}, False),
        ({"wait_for": [{"signal": "s"}]}, False),
        ({"concurrency": {"key": "k", "limit": 1}}, False),
        ({"depends_on": [{"step": "a", "when": "true"}]}, False),
        ({"depends_on": ["a"], "join": "one_failed"}, False),
        ({"type": "sleep", "seconds": 1}, False),
    ],
)
def test_which_bodies_end_as_they_start(change: dict[str, Any], at_once: bool) -> None:
    body = {"name": "b", "steps": [{"id": "a", "type": "noop"}, {"id": "z", "type": "noop"}]}
    body["steps"][1].update(change)
    assert CompiledWorkflow.of(body).ends_at_start is at_once


@pytest.mark.parametrize(
    "workflow",
    [{"timeout": 60}, {"step_events": "all"}, {"max_parallel_steps": 2}],
)
def test_a_workflow_setting_keeps_its_runs_on_the_queues(workflow: dict[str, Any]) -> None:
    body = {"name": "b", "steps": [{"id": "a", "type": "noop"}], **workflow}
    assert CompiledWorkflow.of(body).ends_at_start is False


def test_an_iteration_a_breakpoint_holds_is_not_written_ended(rt: LocalRuntime) -> None:
    from podium.service.breakpoints import set_breakpoint

    defn = noop_loop(4, 4)
    rt.push(defn)
    set_breakpoint(rt.services, defn["name"], "each/work", 2)
    run_id = rt.start_run(defn["name"]).run_id
    rt.pump(wait=False)
    store = rt.services.store
    held = store.get_run(child_run_id(run_id, "each", 2))
    assert held.status is RunStatus.RUNNING
    work = store.get_step(held.run_id, "work")
    assert work is not None and work.status is StepStatus.PAUSED
    others = [store.get_run(child_run_id(run_id, "each", i)) for i in (0, 1, 3)]
    assert all(c.status is RunStatus.SUCCEEDED for c in others)


def _sweep_until_done(rt: LocalRuntime, run_id: str) -> None:
    store, clock = rt.services.store, rt.services.clock
    assert isinstance(clock, ManualClock)
    for _ in range(5):  # the deployed stack's scheduled sweeps
        if store.get_run(run_id).status.terminal:
            return
        clock.advance_to(first_check(store.get_run(run_id)))
        sweep(rt.services, rt.store)
        rt.pump()


@pytest.mark.parametrize("moment", ["after_steps", "after_run", "before_count", "lost_wakeup"])
def test_a_pass_cut_short_anywhere_loses_nothing_and_counts_once(
    rt: LocalRuntime, moment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pass dies (a crash, or a throttle past the client's retries) after an
    iteration's steps are written and before its run, after its run, or before the pass
    counts them; or the pass's wake-up is lost. Its message comes back (or the parent's
    sweeper check polls the loop): every iteration ends once, counted once."""
    import podium.service.instant_iterations as instant

    store = rt.services.store
    cut: list[str] = []
    create_run, count_and_wake = store.create_run, instant.count_and_wake

    def create(child: Any) -> None:
        if child.parent_index == 7 and not cut:
            if moment == "after_steps":
                cut.append(moment)
                raise RuntimeError("the pass dies before the run's put")
            create_run(child)
            if moment == "after_run":
                cut.append(moment)
                raise RuntimeError("the pass dies after the run's put")
            return
        create_run(child)

    def count(ctx: Any, run_id: str, step: str, launch: Any) -> None:
        if moment == "before_count" and not cut:
            cut.append(moment)
            raise RuntimeError("throttled past the client's retries")
        if moment == "lost_wakeup" and not cut:
            cut.append(moment)
            for outcome, indexes in launch.ended.items():
                ctx.store.count_children(run_id, step, indexes, outcome)
            return  # counted; its wake-up is lost with the worker
        count_and_wake(ctx, run_id, step, launch)

    store.create_run = create  # type: ignore[method-assign]
    monkeypatch.setattr(instant, "count_and_wake", count)
    import podium.service.loops as loops

    monkeypatch.setattr(loops, "count_and_wake", count)
    rt.push(noop_loop(N, CONCURRENCY))
    run_id = rt.start_run(f"w4_{N}").run_id
    rt.pump()
    _sweep_until_done(rt, run_id)
    assert cut == [moment]
    _all_ended_once(rt, run_id)


def test_duplicate_wakeups_racing_count_each_iteration_once() -> None:
    """Passes of one loop racing on one moto server (its wake-ups delivered twice, worker
    threads): every iteration is created once and counted once."""
    from podium.service import messages
    from podium.service.completions import on_done
    from podium.service.runs import start_run
    from podium.service.workflows import push_workflow
    from tests.integration.racing_support import pump_concurrently, race, racing_services

    with racing_services() as (ctx, _):
        push_workflow(ctx, noop_loop(200, 20))
        run_id = start_run(ctx, "w4_200").run_id
        wake = {"kind": messages.CHILD_EVENT_KIND, "counted": True}

        def done() -> bool:
            race(4, lambda i: on_done(ctx, messages.Done(run_id, "each", 1, wake)))
            return ctx.store.get_run(run_id).status.terminal

        pump_concurrently(ctx, done, workers=4)
        each = ctx.store.get_step(run_id, "each")
        children = ctx.store.get_runs([child_run_id(run_id, "each", i) for i in range(200)])
        assert ctx.store.get_run(run_id).status is RunStatus.SUCCEEDED
        assert each is not None and (each.children_launched, each.children_ok) == (200, 200)
        assert len(children) == 200 and all(
            c.status is RunStatus.SUCCEEDED for c in children.values()
        )
        assert ctx.store.running_children(run_id, "each") == []


def test_on_dynamodb_an_iteration_costs_its_run_and_its_step(tmp_path: Any) -> None:
    """What the benchmark prices, counted (not timed): an iteration of one noop is its
    run's put and its step's put, plus a share of its pass (count shards, the launched
    mark, the wake-up): about 2.2 write units, where the queues' way took 5.3."""
    from podium.bench.engine import counting, deployed_runtime

    defn = noop_loop(200, 100)
    with deployed_runtime(clock=ManualClock()) as moto:
        moto.push(defn)
        with counting(moto) as (counter, requests):
            run = moto.start_run(defn["name"])
            moto.pump()
        assert moto.describe(run.run_id).run.status is RunStatus.SUCCEEDED
    assert counter.write_units / 200 < 2.5, counter.write_units
    assert requests.batches <= 200 // 100 + 6, requests.batches


def _loop_then_a_step() -> dict[str, Any]:
    defn = noop_loop(4, 4)
    defn["steps"][0]["steps"] = [
        {"id": "a", "type": "noop"},
        {"id": "b", "type": "noop", "depends_on": ["a"]},
    ]
    defn["steps"].append({"id": "after", "type": "noop", "depends_on": ["each"]})
    return defn


def test_a_pass_cut_short_after_an_iterations_steps_leaves_no_steps_under_its_fence(
    rt: LocalRuntime,
) -> None:
    """Promised: write_ended's docstring ("its steps that this call wrote are taken back
    from a STOPPED fence") and docs/workflow-language.md: an iteration being launched as
    its loop ended is recorded STOPPED, "not started: its loop ended" (the queues' way
    never writes a step before its run, so a fence has no steps). Instead: a pass that
    dies after writing iteration 2's steps SUCCEEDED and before its run's put (a crash,
    a throttle past the client's retries), then a stop of the run, leaves iteration 2
    STOPPED "not started" with steps a and b SUCCEEDED for good: the loop is closed, so
    no pass comes back to take them back (launch returns at ``children_closed``). A
    restart from incomplete then takes those steps over as done."""
    store = rt.services.store
    defn = _loop_then_a_step()
    rt.push(defn)
    create_run, cut = store.create_run, []

    def dies_before_iteration_2s_run(child: Any) -> None:
        if child.parent_index == 2 and not cut:
            cut.append(child.run_id)
            raise RuntimeError("the pass dies before the run's put")
        create_run(child)

    store.create_run = dies_before_iteration_2s_run  # type: ignore[method-assign]
    run_id = rt.start_run(defn["name"]).run_id
    rt.pump(wait=False)
    store.create_run = create_run  # type: ignore[method-assign]
    assert cut and store.get_run(run_id).status is RunStatus.RUNNING
    run_action(rt.services, run_id, RunAction.STOP, Actor("ops"))
    rt.pump()
    assert store.get_run(run_id).status is RunStatus.STOPPED
    fenced = store.get_run(child_run_id(run_id, "each", 2))
    assert fenced.status is RunStatus.STOPPED, fenced
    steps = {s.step: s.status for s in store.list_steps(fenced.run_id)}
    assert steps == {}, f"a fenced, never started iteration has steps: {steps}"


def test_an_iteration_launched_as_its_run_is_being_paused_runs_no_step(
    rt: LocalRuntime,
) -> None:
    """Promised: docs/operations.md (Known limits): "An iteration a loop launches as its
    parent is being paused is paused before any of its steps starts (the pause marks
    the loop step, and the launch reads the mark ...)"; service/missed_pause.py; the
    queues' way does so (pause_launched). Instead: the pass that read its run RUNNING
    before the pause landed writes every iteration SUCCEEDED (steps started and ended
    after the pause), counts them and wakes its loop, so the loop step ends SUCCEEDED
    inside the pause. ``paused_meanwhile`` is read only after the iterations were
    written, and only ``made`` (the queued ones) is paused."""
    store = rt.services.store
    defn = _loop_then_a_step()
    rt.push(defn)
    open_children, paused = store.open_children, []

    def pause_lands(run_id: str, step: str, first: int, last: int) -> None:
        open_children(run_id, step, first, last)
        if not paused:  # the pass read its run RUNNING; the pause lands now
            paused.append(run_id)
            run_action(rt.services, run_id, RunAction.PAUSE, Actor("ops"))

    store.open_children = pause_lands  # type: ignore[method-assign]
    run_id = rt.start_run(defn["name"]).run_id
    rt.pump(wait=False)
    assert paused == [run_id]
    assert store.get_run(run_id).status is RunStatus.PAUSED
    ran = {
        i: [s.step for s in store.list_steps(child_run_id(run_id, "each", i)) if s.started_at]
        for i in range(4)
    }
    assert ran == {i: [] for i in range(4)}, f"steps started inside the pause: {ran}"
    each = store.get_step(run_id, "each")
    assert each is not None and each.status is StepStatus.RUNNING, each

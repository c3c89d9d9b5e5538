"""foreach: iterations as child runs, on the real service code (memory, SQLite, moto)."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition
from podium.core.engine.identity import child_run_id
from podium.core.engine.loops import MAX_ITERATIONS
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.completions import on_done
from tests.conftest import queued_noop_loop

HERE = "tests.unit.test_foreach"


def echo(event: dict[str, Any]) -> Any:
    return event["payload"]


def fail_three(event: dict[str, Any]) -> int:
    if event["payload"]["i"] == 3:
        raise ValueError("three")
    return int(event["payload"]["i"])


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = {"home": ":memory:"} if request.param == "sqlite" else {}
    with LocalRuntime(store=request.param, clock=ManualClock(), **home) as runtime:
        yield runtime


@pytest.fixture
def mem() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def by_step(view: Any) -> dict[str, Any]:
    return {s.step: s for s in view.steps}


def sweep_until(rt: LocalRuntime, run_id: str, done: Callable[[Any], bool]) -> None:
    """The deployed stack's scheduled sweeps, each at the run's next check, and what they
    send, until ``done(run)`` (at most four)."""
    from podium.core.engine.checks import first_check
    from podium.service.sweep import sweep

    ctx, store = rt.services, rt.services.store
    clock = ctx.clock
    assert isinstance(clock, ManualClock)
    for _ in range(4):
        clock.advance_to(max(clock.now_ms(), first_check(store.get_run(run_id))))
        sweep(ctx, store)
        rt.pump(wait=False)
        if done(store.get_run(run_id)):
            return


def sweep_def(**loop: Any) -> dict[str, Any]:
    return {
        "name": "sweep",
        "params": {"n": {"type": "int", "default": 2}},
        "steps": [
            {
                "id": "grid",
                "type": "foreach",
                "over": {"lr": [0.1, 0.2, 0.3], "depth": "${podium.range(1, params.n + 1)}"},
                "concurrency": 2,
                **loop,
                "steps": [
                    {
                        "id": "train",
                        "type": "lambda",
                        "function": f"{HERE}:echo",
                        "payload": {
                            "i": "${iteration.index}",
                            "lr": "${iteration.lr}",
                            "depth": "${iteration.depth}",
                        },
                    },
                    {"id": "check", "type": "noop", "depends_on": ["train"]},
                ],
            },
            {
                "id": "best",
                "type": "lambda",
                "function": f"{HERE}:echo",
                "depends_on": ["grid"],
                "payload": {"all": "${steps.grid.output.outputs.train}"},
            },
        ],
    }


def test_a_product_runs_every_combination_in_order_with_index_aligned_outputs(
    rt: LocalRuntime,
) -> None:
    view = rt.run(sweep_def())
    assert view.run.status is RunStatus.SUCCEEDED
    grid = by_step(view)["grid"]
    out = grid.output
    assert (out["count"], out["succeeded"], out["failed"], out["skipped"]) == (6, 6, 0, 0)
    # The first param varies fastest; outputs are index-aligned.
    assert [(o["i"], o["lr"], o["depth"]) for o in out["outputs"]["train"]] == [
        (0, 0.1, 1),
        (1, 0.2, 1),
        (2, 0.3, 1),
        (3, 0.1, 2),
        (4, 0.2, 2),
        (5, 0.3, 2),
    ]
    assert "check" not in out["outputs"]  # a noop has no output
    assert by_step(view)["best"].output["all"] == out["outputs"]["train"]
    # Each iteration is a child run with a deterministic id, its parent recorded.
    child = rt.services.store.get_run(child_run_id(view.run.run_id, "grid", 4))
    assert child.status is RunStatus.SUCCEEDED and child.settled
    assert (child.parent_run, child.parent_step, child.parent_index, child.depth) == (
        view.run.run_id,
        "grid",
        4,
        1,
    )
    assert child.root == view.run.run_id
    assert child.workflow == "sweep/grid"
    assert child.iteration == {"index": 4, "lr": 0.2, "depth": 2}
    assert grid.children_launched == 6 and grid.children_ok == 6


def test_zip_pairs_the_lists_and_an_empty_loop_succeeds_with_count_zero(mem: LocalRuntime) -> None:
    view = mem.run(
        {
            "name": "zipped",
            "steps": [
                {
                    "id": "z",
                    "type": "foreach",
                    "mode": "zip",
                    "over": {"a": [1, 2, 3], "b": ["x", "y", "z"]},
                    "steps": [
                        {
                            "id": "e",
                            "type": "lambda",
                            "function": f"{HERE}:echo",
                            "payload": {"v": "${string(iteration.a) + iteration.b}"},
                        }
                    ],
                },
                {
                    "id": "none",
                    "type": "foreach",
                    "over": {"d": "${podium.range(0, 0)}"},
                    "steps": [{"id": "n", "type": "noop"}],
                },
            ],
        }
    )
    assert view.run.status is RunStatus.SUCCEEDED
    steps = by_step(view)
    assert [o["v"] for o in steps["z"].output["outputs"]["e"]] == ["1x", "2y", "3z"]
    assert steps["none"].output == {
        "count": 0,
        "succeeded": 0,
        "failed": 0,
        "skipped": 0,
        "outputs": {},
    }


def failing_loop(on_failure: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": f"loop_{on_failure}",
        "steps": [
            {
                "id": "each",
                "type": "foreach",
                "over": {"i": "${podium.range(0, 8)}"},
                "concurrency": 2,
                "on_failure": on_failure,
                **extra,
                "steps": [
                    {
                        "id": "work",
                        "type": "lambda",
                        "function": f"{HERE}:fail_three",
                        "payload": {"i": "${iteration.i}"},
                    }
                ],
            }
        ],
    }


def child_statuses(rt: LocalRuntime, run_id: str, step: str, n: int) -> list[str | None]:
    out: list[str | None] = []
    for i in range(n):
        try:
            out.append(rt.services.store.get_run(child_run_id(run_id, step, i)).status.value)
        except Exception:
            out.append(None)
    return out


def test_finish_running_launches_nothing_after_a_failure_and_fails(mem: LocalRuntime) -> None:
    view = mem.run(failing_loop("finish_running"))
    assert view.run.status is RunStatus.FAILED
    each = by_step(view)["each"]
    assert each.status is StepStatus.FAILED
    assert "1 of 8 iterations failed" in (each.error or "")
    statuses = child_statuses(mem, view.run.run_id, "each", 8)
    assert statuses[3] == "FAILED"
    assert statuses[:3] == ["SUCCEEDED"] * 3
    assert statuses[-2:] == [None, None]  # never launched
    assert all(s in ("SUCCEEDED", "FAILED") for s in statuses if s is not None)


def test_fail_fast_stops_the_running_iterations(mem: LocalRuntime) -> None:
    loop = failing_loop("fail_fast")
    loop["steps"][0]["steps"] = [
        {
            "id": "work",
            "type": "lambda",
            "function": f"{HERE}:fail_three",
            "payload": {"i": "${iteration.i}"},
        },
        # Iterations other than 3 then sleep: they are still running when 3 fails.
        {"id": "nap", "type": "sleep", "seconds": 600, "depends_on": ["work"]},
    ]
    loop["steps"][0]["concurrency"] = 8
    view = mem.run(loop)
    assert view.run.status is RunStatus.FAILED
    statuses = child_statuses(mem, view.run.run_id, "each", 8)
    assert statuses[3] == "FAILED"
    assert statuses.count("STOPPED") == 7
    each = by_step(view)["each"]
    assert each.status is StepStatus.FAILED
    # The stopped children were still counted (and settled) once they ended.
    each = mem.services.store.get_step(view.run.run_id, "each")
    assert each is not None and (each.children_failed, each.children_stopped) == (1, 7)
    assert not mem.services.store.list_active_run_ids()
    # Its error does not count the stops (they come after the decision that fails it: a
    # count then said "1 stopped" when more ended so).
    assert each.error == (
        "1 of 8 iterations failed (fail_fast: the iterations still running were stopped)"
    ), each.error


def test_continue_runs_all_and_fails_only_past_tolerated(mem: LocalRuntime) -> None:
    view = mem.run(failing_loop("continue", tolerated_failures=1))
    assert view.run.status is RunStatus.SUCCEEDED
    each = by_step(view)["each"]
    assert (each.output["succeeded"], each.output["failed"]) == (7, 1)
    outputs = each.output["outputs"]["work"]
    assert outputs[3] is None and outputs[4] == 4  # null where the iteration has none
    view = mem.run(failing_loop("continue", tolerated_failures="10%"))
    assert view.run.status is RunStatus.FAILED
    assert "(tolerated: 0)" in (by_step(view)["each"].error or "")


def test_nested_foreach_sees_the_outer_iteration_as_parent(mem: LocalRuntime) -> None:
    view = mem.run(
        {
            "name": "nested",
            "steps": [
                {
                    "id": "outer",
                    "type": "foreach",
                    "over": {"a": ["x", "y"]},
                    "steps": [
                        {
                            "id": "inner",
                            "type": "foreach",
                            "over": {"b": [1, 2, 3]},
                            "steps": [
                                {
                                    "id": "leaf",
                                    "type": "lambda",
                                    "function": f"{HERE}:echo",
                                    "payload": {"v": "${iteration.parent.a + string(iteration.b)}"},
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    )
    assert view.run.status is RunStatus.SUCCEEDED
    outer = by_step(view)["outer"].output
    assert [[e["v"] for e in inner["outputs"]["leaf"]] for inner in outer["outputs"]["inner"]] == [
        ["x1", "x2", "x3"],
        ["y1", "y2", "y3"],
    ]
    leaf_run = child_run_id(child_run_id(view.run.run_id, "outer", 1), "inner", 2)
    assert mem.services.store.get_run(leaf_run).depth == 2
    assert mem.services.store.get_run(leaf_run).workflow == "nested/outer/inner"


def test_a_replayed_child_end_counts_once(mem: LocalRuntime) -> None:
    view = mem.run(failing_loop("continue", tolerated_failures=8))
    run_id = view.run.run_id
    before = mem.services.store.get_step(run_id, "each")
    child = child_run_id(run_id, "each", 0)
    event = {"kind": messages.CHILD_EVENT_KIND, "run": child, "index": 0, "status": "SUCCEEDED"}
    for _ in range(3):
        on_done(mem.services, messages.Done(run_id, "each", 1, event))
    after = mem.services.store.get_step(run_id, "each")
    assert before is not None and after is not None
    assert (after.children_ok, after.children_failed) == (
        before.children_ok,
        before.children_failed,
    )


def test_an_over_template_past_the_limit_fails_the_step_with_a_clear_error(
    mem: LocalRuntime,
) -> None:
    view = mem.run(
        {
            "name": "too_many",
            "steps": [
                {
                    "id": "big",
                    "type": "foreach",
                    "over": {"a": "${podium.range(0, 1000)}", "b": "${podium.range(0, 101)}"},
                    "steps": [{"id": "n", "type": "noop"}],
                }
            ],
        }
    )
    assert view.run.status is RunStatus.FAILED
    big = by_step(view)["big"]
    assert "101,000 iterations, over the limit of 100,000" in (big.error or "")
    assert big.children_launched == 0


def loop_doc(**step: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "each",
        "type": "foreach",
        "over": {"i": [1, 2]},
        "steps": [{"id": "n", "type": "noop"}],
    }
    base.update(step)
    return {"name": "wf", "steps": [base]}


def issues_of(doc: dict[str, Any]) -> str:
    with pytest.raises(DefinitionError) as exc:
        validate_definition(doc)
    return str(exc.value)


def test_limits_and_references_are_checked_at_push() -> None:
    assert "over the limit of 100,000" in issues_of(
        loop_doc(over={"a": list(range(1000)), "b": list(range(101))})
    )
    assert "steps[0].concurrency" in issues_of(loop_doc(concurrency=1001))
    assert "mode zip needs lists of one length" in issues_of(
        loop_doc(mode="zip", over={"a": [1, 2], "b": [1]})
    )
    # The body is checked like a workflow, with paths from the top.
    assert "steps[0].steps[0].depends_on" in issues_of(
        loop_doc(steps=[{"id": "n", "type": "noop", "depends_on": ["nope"]}])
    )
    bad_ref = loop_doc(
        steps=[{"id": "n", "type": "lambda", "function": "f", "payload": {"x": "${iteraton.i}"}}]
    )
    assert "unknown name 'iteraton'" in issues_of(bad_ref)
    # iteration exists only inside a loop.
    outside = {
        "name": "wf",
        "steps": [
            {"id": "n", "type": "lambda", "function": "f", "payload": {"x": "${iteration.i}"}}
        ],
    }
    assert "unknown name 'iteration'" in issues_of(outside)
    assert "never retried" in issues_of(loop_doc(retries=2))
    assert "tolerated_failures applies with on_failure: continue" in issues_of(
        loop_doc(tolerated_failures=2)
    )
    assert "unknown step type" not in issues_of(
        loop_doc(steps=[{"id": "n", "type": "noop", "bogus": 1}])
    )
    # Nesting deeper than 10 levels.
    body: dict[str, Any] = {"id": "n", "type": "noop"}
    for level in range(11):
        body = {"id": f"l{level}", "type": "foreach", "over": {"i": [1]}, "steps": [body]}
    assert "nest more than 10 levels" in issues_of({"name": "wf", "steps": [body]})
    assert MAX_ITERATIONS == 100_000


def test_iterations_follow_the_workflows_step_events_setting(mem: LocalRuntime) -> None:
    doc = loop_doc()
    doc["step_events"] = "all"
    view = mem.run(doc)
    assert view.run.status is RunStatus.SUCCEEDED
    published = mem.services.events.published  # type: ignore[union-attr]
    steps = {
        (e["detail"]["run_id"], e["detail"]["step"])
        for e in published
        if e["detail-type"] == "Podium Step Status Change"
    }
    run_id = view.run.run_id
    assert (child_run_id(run_id, "each", 1), "n") in steps  # an iteration's own step
    # Iterations publish no run status change of their own; the parent run does.
    runs = [
        e["detail"]["run_id"] for e in published if e["detail-type"] == "Podium Run Status Change"
    ]
    assert runs == [run_id, run_id]  # its start and its end


def test_a_large_iteration_space_is_stored_once_by_reference(mem: LocalRuntime) -> None:
    from podium.core.engine.loops import SpaceCache
    from podium.service import loops

    doc = loop_doc(over={"i": "${podium.range(0, 300)}"}, concurrency=50)
    view = mem.run(doc)
    assert view.run.status is RunStatus.SUCCEEDED
    record = mem.services.store.get_step(view.run.run_id, "each")
    assert record is not None and set(record.loop or {}) == {"ref"}  # not in the item
    mem.services.spaces = SpaceCache()  # another process: read back from Payloads
    space = loops.space_of(mem.services, view.run, record, None)
    assert space.count == 300 and space.at(299) == {"i": 299}


def test_a_loops_outputs_are_read_in_batches_not_per_iteration(mem: LocalRuntime) -> None:
    """A foreach that ends reads its iterations' outputs with get_steps (batched: 100
    items a request on DynamoDB), not one get_step per iteration (100,000 sequential
    reads in one invocation for a 100,000-iteration loop)."""
    per_child: list[str] = []
    real = mem.store.get_step

    def counting(run_id: str, step: str) -> Any:
        # Only the reads made while the loop gathers its outputs (each iteration's own
        # end reads its sink once, in its own process).
        gathering = any(f.name == "child_outputs" for f in traceback.extract_stack())
        if ".each." in run_id and gathering:
            per_child.append(run_id)
        return real(run_id, step)

    mem.store.get_step = counting  # type: ignore[method-assign]
    view = mem.run(
        {
            "name": "batched",
            "steps": [
                {
                    "id": "each",
                    "type": "foreach",
                    "over": {"i": "${podium.range(0, 300)}"},
                    "concurrency": 300,
                    "steps": [
                        {
                            "id": "n",
                            "type": "lambda",
                            "function": f"{HERE}:echo",
                            "payload": {"i": "${iteration.i}"},
                        }
                    ],
                }
            ],
        }
    )
    output = by_step(view)["each"].output
    assert output["count"] == 300 and output["outputs"]["n"][299] is not None
    assert len(per_child) < 30, len(per_child)


def test_an_iteration_counted_with_its_end_whose_wake_up_is_lost_is_picked_up_by_the_sweeper(
    mem: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each succeeded iteration ends, is counted and settles in one transaction, then
    # wakes its loop with a message; a crash right after the write loses that message.
    # The parent run's check polls its running loop, so the loop still ends.
    import podium.service.advance as advance

    lost: list[str] = []

    def lose(ctx: Any, run: Any, count: Any = None) -> None:
        assert run.settled  # only the counted ends take this path
        lost.append(run.run_id)

    monkeypatch.setattr(advance, "child_ended", lose)
    defn = queued_noop_loop(4, concurrency=2)  # "each": 4 queued noop iterations
    from podium.core.engine.checks import first_check
    from podium.service.sweep import sweep

    view = mem.run(defn)
    run_id = view.run.run_id
    assert view.run.status is RunStatus.RUNNING and len(lost) == 2  # stuck: nobody woke it
    for _ in range(3):  # the deployed stack's scheduled sweeps
        clock = mem.services.clock
        assert isinstance(clock, ManualClock)
        clock.advance_to(first_check(mem.services.store.get_run(run_id)))
        assert any(r.endswith("each (poll)") for r in sweep(mem.services, mem.store).redriven)
        mem.pump()
        if mem.services.store.get_run(run_id).status.terminal:
            break
    view = mem.describe(run_id)
    assert view.run.status is RunStatus.SUCCEEDED
    assert len(lost) == 4  # every wake-up was lost: the sweeper's polls drove the loop
    each = mem.services.store.get_step(view.run.run_id, "each")
    assert each is not None and (each.children_ok, each.children_launched) == (4, 4)
    assert all(mem.services.store.get_run(r).settled for r in lost)


def test_on_dynamodb_an_iteration_settled_but_not_counted_by_a_crash_is_counted_by_the_poll(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # DynamoDB ends (and settles) an iteration in one write and counts it on its loop's
    # shard at the end of the Lambda batch, with the batch's others; a failure between
    # the two leaves it out of the active index and uncounted. The loop's poll (the
    # parent's sweeper check) counts it, once.
    from podium.adapters.dynamo_store import DynamoStateStore
    from podium.core.engine.checks import first_check
    from podium.service.sweep import sweep

    real = DynamoStateStore.count_children
    crashed: list[int] = []

    def crash_once(self: Any, run_id: str, step: str, indexes: list[int], outcome: str) -> int:
        if 1 in indexes and not crashed:
            crashed.append(1)
            raise RuntimeError("throttled past the client's retries")
        return real(self, run_id, step, indexes, outcome)

    monkeypatch.setattr(DynamoStateStore, "count_children", crash_once)
    defn = queued_noop_loop(4, concurrency=2)  # "each": 4 queued noop iterations
    with LocalRuntime(store="moto", clock=ManualClock()) as moto:
        view = moto.run(defn)
        run_id = view.run.run_id
        store = moto.services.store
        assert crashed == [1]
        assert store.get_run(child_run_id(run_id, "each", 1)).settled
        for _ in range(3):  # the deployed stack's scheduled sweeps
            if store.get_run(run_id).status.terminal:
                break
            clock = moto.services.clock
            assert isinstance(clock, ManualClock)
            clock.advance_to(first_check(store.get_run(run_id)))
            sweep(moto.services, moto.store)
            moto.pump()
        assert store.get_run(run_id).status is RunStatus.SUCCEEDED
        each = store.get_step(run_id, "each")
        assert each is not None and (each.children_ok, each.children_launched) == (4, 4)
        assert store.running_children(run_id, "each") == []


def test_an_iteration_whose_start_was_lost_is_watched_by_its_loops_poll_and_started(
    rt: LocalRuntime,
) -> None:
    # Iterations are created out of the sweeper's index (two index writes fewer each).
    # One whose start message is lost would never be looked at: the loop's poll (its
    # run's sweeper check) watches the children that outlived their first check, and
    # the next sweep starts it like any run. The others never enter the index.

    ctx, store = rt.services, rt.services.store
    lost: list[dict[str, Any]] = []
    send_many = ctx.work_queue.send_many

    def lose_one(bodies: list[dict[str, Any]]) -> None:
        kept = [b for b in bodies if not (b.get("run", "").endswith(".each.1") and not lost)]
        lost.extend(b for b in bodies if b not in kept)
        send_many(kept)

    ctx.work_queue.send_many = lose_one  # type: ignore[method-assign]
    watched: list[str] = []
    watch_run = store.watch_run

    def spy(run_id: str, at: int) -> bool:
        watched.append(run_id)
        return watch_run(run_id, at)

    store.watch_run = spy  # type: ignore[method-assign]
    rt.push(queued_noop_loop(4, concurrency=4))  # "each": 4 queued noop iterations
    run_id = rt.start_run("w4_4").run_id
    rt.pump(wait=False)  # everything before the next timer (the loop's timeout)
    stuck = store.get_run(child_run_id(run_id, "each", 1))
    assert len(lost) == 1 and store.get_run(run_id).status is RunStatus.RUNNING
    assert stuck.status is RunStatus.RUNNING and not stuck.watched
    assert stuck.run_id not in store.list_active_run_ids()
    sweep_until(rt, run_id, lambda run: run.status.terminal)
    assert store.get_run(run_id).status is RunStatus.SUCCEEDED
    assert watched == [stuck.run_id]  # only the stuck one paid for the index
    assert all(store.get_run(child_run_id(run_id, "each", i)).settled for i in range(4))
    assert store.list_active_run_ids() == []


@pytest.mark.parametrize("moment", ["before_check", "before_create", "after_create"])
def test_a_launch_racing_its_loops_end_leaves_no_child_running_unseen(
    rt: LocalRuntime, moment: str
) -> None:
    # A pass that launches can race a pass that ends the loop (here a stop of the run):
    # the ending one marks the loop closed, then lists the indexes opened and not counted,
    # watching (and stopping) the children that exist and fencing the others with a
    # STOPPED child. The launcher reads the mark after it opens: it creates nothing once
    # the mark is there, and a create after the listing conflicts with the fence. Its
    # crash right after creating (redelivered, it finds the loop over) loses nothing.
    # Before the fence, a child created after the listing by a launcher that died before
    # reading the mark stayed RUNNING out of every index.
    from podium.service.lifecycle import stop_run

    ctx, store = rt.services, rt.services.store
    create_run, children_closed = store.create_run, store.children_closed
    raced: list[str] = []
    crashed: list[str] = []
    checks: list[str] = []

    def end_the_loop(parent: str) -> None:
        raced.append(parent)
        stop_run(ctx, parent, "stopped by the test")

    def closed(run_id: str, step: str) -> bool:
        checks.append(step)
        if moment == "before_check" and checks.count("each") == 2 and not raced:
            end_the_loop(run_id)  # the second launch: children 2 and 3
        return children_closed(run_id, step)

    def create(child: Any) -> None:
        if child.parent_step == "each" and child.parent_index == 2 and not raced:
            if moment == "before_create":
                end_the_loop(child.parent_run)
                create_run(child)
                return
            create_run(child)
            end_the_loop(child.parent_run)
            return
        create_run(child)
        launcher = child.status is RunStatus.RUNNING  # not the ending pass's fence
        if launcher and child.parent_step == "each" and child.parent_index == 3 and not crashed:
            crashed.append(child.run_id)
            raise RuntimeError("the launcher dies before reading the mark")

    store.create_run = create  # type: ignore[method-assign]
    store.children_closed = closed  # type: ignore[method-assign]
    rt.push(queued_noop_loop(4, concurrency=2))
    run = rt.start_run("w4_4").run_id
    rt.pump()
    assert raced and store.get_run(run).status is RunStatus.STOPPED
    children = store.get_runs([child_run_id(run, "each", i) for i in range(4)])
    assert {c.run_id: (c.status.terminal, c.settled) for c in children.values()} == {
        c: (True, True) for c in children
    }
    fenced = [c for c in children.values() if c.reason == "not started: its loop ended"]
    assert all(c.status is RunStatus.STOPPED for c in fenced)
    if moment != "after_create":
        assert {c.parent_index for c in fenced} == {2, 3}
    assert store.list_active_run_ids() == []


# Four hour-long iterations, two at a time: a loop that is running when a test acts.
NAPS = {
    "name": "naps",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": "${podium.range(0, 4)}"},
            "concurrency": 2,
            "steps": [{"id": "nap", "type": "sleep", "seconds": 3600}],
        }
    ],
}


def test_a_stop_cut_short_after_its_loop_step_ended_is_finished_by_the_sweeper(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stop ends the loop step, then stops its children (which are out of the sweeper's
    # index). A crash between the two left them running, unseen: the stopped run's
    # run_ended, which the sweeper redoes until the run settles, stops them.
    from podium.service import loops
    from podium.service.lifecycle import stop_run

    ctx, store = rt.services, rt.services.store
    rt.push(NAPS)
    run_id = rt.start_run("naps").run_id
    rt.pump(wait=False)
    napping = [child_run_id(run_id, "each", i) for i in (0, 1)]
    assert all(store.get_run(c).status is RunStatus.RUNNING for c in napping)
    close_loop = loops.close_loop
    crashed: list[str] = []

    def crash_once(ctx: Any, run: Any, step: str) -> Any:
        if not crashed:
            crashed.append(step)
            raise RuntimeError("the worker dies")
        return close_loop(ctx, run, step)

    monkeypatch.setattr(loops, "close_loop", crash_once)
    with pytest.raises(RuntimeError):
        stop_run(ctx, run_id, "stopped by the test")
    each = store.get_step(run_id, "each")
    assert each is not None and each.status is StepStatus.STOPPED
    assert not any(store.get_run(c).watched for c in napping)  # unseen
    sweep_until(rt, run_id, lambda run: run.settled)
    assert store.get_run(run_id).settled
    for child in napping:
        assert store.get_run(child).status is RunStatus.STOPPED
        assert store.get_run(child).settled
    assert store.list_active_run_ids() == []


def test_a_stop_lists_its_running_loops_children_once(
    mem: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stop terminates the running loop step (its children are listed and stopped);
    # the run's end then asks only the loop steps it did not just terminate.
    from podium.service import loops
    from podium.service.lifecycle import stop_run

    store = mem.services.store
    mem.push(NAPS)
    run_id = mem.start_run("naps").run_id
    mem.pump(wait=False)
    close_loop = loops.close_loop
    listed: list[str] = []

    def counting(ctx: Any, run: Any, step: str) -> Any:
        listed.append(step)
        return close_loop(ctx, run, step)

    monkeypatch.setattr(loops, "close_loop", counting)
    stop_run(mem.services, run_id, "stopped by the test")
    assert listed == ["each"]
    for i in (0, 1):
        assert store.get_run(child_run_id(run_id, "each", i)).status is RunStatus.STOPPED
    assert store.get_run(run_id).settled


def test_a_loop_lists_the_outputs_of_every_inner_step_type_that_has_one(mem: LocalRuntime) -> None:
    """Only lambda and foreach inner steps were collected: a subworkflow's or a while's
    output (both documented as step outputs) was missing, and a step reading
    `outputs.sub` failed with "no such key" at run time."""
    mem.push({"name": "child", "outputs": {"v": "${42}"}, "steps": [{"id": "a", "type": "noop"}]})
    view = mem.run(
        {
            "name": "every_output",
            "steps": [
                {
                    "id": "loop",
                    "type": "foreach",
                    "over": {"x": [1, 2]},
                    "steps": [
                        {"id": "sub", "type": "subworkflow", "workflow": "child"},
                        {
                            "id": "w",
                            "type": "while",
                            "state": {"n": 0},
                            "condition": "state.n < 2",
                            "update": {"n": "${state.n + 1}"},
                            "steps": [{"id": "z", "type": "noop"}],
                        },
                        {"id": "quiet", "type": "noop"},
                    ],
                },
                {
                    "id": "use",
                    "type": "lambda",
                    "function": f"{HERE}:echo",
                    "depends_on": ["loop"],
                    "payload": {"v": "${steps.loop.output.outputs.sub[1].v}"},
                },
            ],
        }
    )
    assert view.run.status is RunStatus.SUCCEEDED, view.run.error
    outputs = by_step(view)["loop"].output["outputs"]
    assert set(outputs) == {"sub", "w"}  # a noop has none
    assert [o["v"] for o in outputs["sub"]] == [42, 42]
    assert len(outputs["w"]) == 2 and all(o is not None for o in outputs["w"])
    assert by_step(view)["use"].output == {"v": 42}


def test_a_failed_loop_names_itself_once(mem: LocalRuntime) -> None:
    view = mem.run(failing_loop("finish_running"))
    each = by_step(view)["each"]
    assert (each.error or "").startswith("1 of 8 iterations failed"), each.error
    assert "each: each:" not in (view.run.error or ""), view.run.error

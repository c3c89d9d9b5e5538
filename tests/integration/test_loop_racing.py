"""A foreach's concurrency under real races: worker threads against one moto server.

The limit is checked two ways: sampled on the parent step's item while the loop runs
(children launched minus children counted as ended), and from the children's own
recorded start and end times afterwards."""

from __future__ import annotations

import time
from typing import Any

from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus, StepStatus
from podium.service.runs import start_run
from podium.service.workflows import push_workflow
from tests.integration.racing_support import (
    Monitor,
    dumps,
    max_overlap,
    pump_concurrently,
    race,
    racing_services,
)

N, CONCURRENCY = 30, 4


def slow_iteration(event: dict[str, Any]) -> int:
    time.sleep(0.05)  # long enough for iterations to overlap
    return int(event["payload"]["i"])


def loop(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "run_strategy": {"parallel": 5},
        "steps": [
            {
                "id": "each",
                "type": "foreach",
                "over": {"i": f"${{podium.range(0, {N})}}"},
                "concurrency": CONCURRENCY,
                "steps": [
                    {
                        "id": "work",
                        "type": "lambda",
                        "function": "tests.integration.test_loop_racing:slow_iteration",
                        "payload": {"i": "${iteration.i}"},
                    }
                ],
            }
        ],
    }


def running_children(ctx: Any, run_id: str) -> int:
    record = ctx.store.get_step(run_id, "each")
    if record is None:
        return 0
    ended = record.children_ok + record.children_failed + record.children_stopped
    return max(record.children_launched - ended, 0)


def test_no_more_than_concurrency_iterations_run_at_once() -> None:
    with racing_services() as (ctx, _):
        push_workflow(ctx, loop("racing_loop"))
        (run_id,) = race(1, lambda i: start_run(ctx, "racing_loop").run_id)

        def done() -> bool:
            return ctx.store.get_run(run_id).status.terminal

        with Monitor(lambda: running_children(ctx, run_id)) as sampled:
            pump_concurrently(ctx, done, workers=6)
        run = ctx.store.get_run(run_id)
        each = ctx.store.get_step(run_id, "each")
        children = [ctx.store.get_run(child_run_id(run_id, "each", i)) for i in range(N)]
        active = ctx.store.list_active_run_ids()
    assert run.status is RunStatus.SUCCEEDED, dumps([run, *children])
    assert each is not None and each.status is StepStatus.SUCCEEDED
    assert each.output["outputs"]["work"] == list(range(N))
    assert (each.children_launched, each.children_ok) == (N, N)  # each counted once
    assert all(c.status is RunStatus.SUCCEEDED and c.settled for c in children)
    assert active == []
    assert sampled.samples > 10 and 1 <= sampled.peak <= CONCURRENCY
    # From the children's own times: never more than the limit, and it was reached.
    assert 2 <= max_overlap(children) <= CONCURRENCY, dumps(children)
    # Launched in index order.
    starts = [c.started_at or 0 for c in children]
    assert starts == sorted(starts), dumps(children)


def test_duplicate_child_end_messages_count_once_under_races() -> None:
    from podium.service import messages
    from podium.service.completions import on_done

    with racing_services() as (ctx, _):
        push_workflow(ctx, loop("dup_loop"))
        run_id = start_run(ctx, "dup_loop").run_id
        pump_concurrently(ctx, lambda: ctx.store.get_run(run_id).status.terminal, workers=4)
        child = child_run_id(run_id, "each", 0)
        event = {"kind": messages.CHILD_EVENT_KIND, "run": child, "index": 0, "status": "SUCCEEDED"}
        race(8, lambda i: on_done(ctx, messages.Done(run_id, "each", 1, event)))
        each = ctx.store.get_step(run_id, "each")
    assert each is not None and each.children_ok == N


def test_on_the_embedded_default_worker_threads_keep_to_the_concurrency(tmp_path: Any) -> None:
    """The SQLite home with 4 worker threads (what `podium run` and `podium dev` use):
    the iterations overlap, but never more than the loop's concurrency."""
    from podium.local.runtime import LocalRuntime

    doc = loop("threaded_loop")
    doc["steps"][0]["concurrency"] = 3
    with LocalRuntime(store="sqlite", home=tmp_path / "home", workers=4) as rt:
        view = rt.run(doc)
        run_id = view.run.run_id
        children = [rt.services.store.get_run(child_run_id(run_id, "each", i)) for i in range(N)]
        each = rt.services.store.get_step(run_id, "each")
    assert view.run.status is RunStatus.SUCCEEDED, dumps(children)
    assert each is not None and each.output["outputs"]["work"] == list(range(N))
    assert 2 <= max_overlap(children) <= 3, dumps(children)

"""The cache of foreach iteration spaces belongs to one deployment (one ``Services``):
run ids repeat across homes and simulated worlds in one process (the simulation's ids
are the same in every seed), and a space cached for one must never serve another.
Before, it was one per process, keyed by (run, step): the second home's loop ran the
first one's items (found by the simulation: ``--shapes all --actions --intensity 2``,
seeds 238-248 in one process)."""

from __future__ import annotations

from typing import Any

from podium.adapters.clock import ManualClock
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.runs import start_run

HERE = "tests.unit.test_loop_space_cache"
SEEN: list[str] = []


def work(event: dict[str, Any]) -> None:
    SEEN.append(str(event["payload"]["item"]))


def loop(items: list[str]) -> dict[str, Any]:
    return {
        "name": "same_loop",
        "steps": [
            {
                "id": "each",
                "type": "foreach",
                "over": {"item": items},
                "steps": [
                    {
                        "id": "w",
                        "type": "lambda",
                        "function": f"{HERE}:work",
                        "payload": {"item": "${iteration.item}"},
                    }
                ],
            }
        ],
    }


def test_two_homes_in_one_process_never_share_a_loops_items() -> None:
    run_id = "01KDVDNA000000000000000001"
    for items in (["a", "b"], ["x", "y", "z"]):
        SEEN.clear()
        with LocalRuntime(store="memory", clock=ManualClock()) as rt:
            rt.push(loop(items))
            start_run(rt.services, "same_loop", run_id=run_id)
            rt.pump()
            assert rt.services.store.get_run(run_id).status is RunStatus.SUCCEEDED
            last = rt.services.store.get_run(child_run_id(run_id, "each", len(items) - 1))
            assert last.status is RunStatus.SUCCEEDED
        assert sorted(SEEN) == items

"""A cycle whose triggers match several status changes of a run (RUNNING and SUCCEEDED)
started one run per change: the runs doubled at each link, 2,047 of them before the
chain guard stopped it at MAX_CHAIN. Past ONCE_PER_RUN_FROM links a trigger starts one
run per changed run (core/engine/trigger_events.py ``podium_link``): 71. A pipeline
shorter than that keeps one run per matching change."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.records import RunRecord
from podium.core.engine.schedule import parse_iso
from podium.core.engine.status import RunStatus
from podium.core.engine.trigger_events import MAX_CHAIN, ONCE_PER_RUN_FROM
from podium.local.runtime import LocalRuntime
from podium.service.runs import start_run

STATUSES = ["RUNNING", "SUCCEEDED"]


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store=request.param, clock=clock, home=home) as runtime:
        yield runtime


def on_changes(name: str, upstream: str) -> dict[str, Any]:
    """A workflow each RUNNING and each SUCCEEDED change of ``upstream``'s runs starts."""
    return {
        "name": name,
        "params": {
            "upstream": {"type": "string", "default": "api"},
            "status": {"type": "string", "default": "-"},
        },
        "steps": [{"id": "a", "type": "noop"}],
        "triggers": [
            {
                "id": f"on_{upstream}",
                "event": {
                    "bus": "podium",
                    "pattern": {
                        "source": ["podium"],
                        "detail-type": ["Podium Run Status Change"],
                        "detail": {"workflow": [upstream], "status": STATUSES},
                    },
                },
                "params": {
                    "upstream": "${event.detail.run_id}",
                    "status": "${event.detail.status}",
                },
            }
        ],
    }


def settle(rt: LocalRuntime) -> None:
    """Deliver until nothing moves, in bounded rounds."""
    for _ in range(3 * MAX_CHAIN):
        before = rt.delivered
        rt.pump(max_deliveries=500)
        if rt.delivered == before:
            return


def all_runs(rt: LocalRuntime, *workflows: str) -> list[RunRecord]:
    return [r for w in workflows for r in rt.store.list_runs(w, 1_000)]


def test_a_cycle_matching_two_statuses_grows_no_further_past_the_first_links(
    rt: LocalRuntime,
) -> None:
    rt.push(on_changes("ping", "pong"))
    rt.push(on_changes("pong", "ping"))
    rt.start_run("ping")
    settle(rt)

    runs = all_runs(rt, "ping", "pong")
    by_chain = Counter(r.chain for r in runs)
    # Doubling up to ONCE_PER_RUN_FROM links (one run per change), then one run per run.
    widest = 2**ONCE_PER_RUN_FROM
    expected = {c: 2**c for c in range(ONCE_PER_RUN_FROM + 1)}
    expected |= {c: widest for c in range(ONCE_PER_RUN_FROM + 1, MAX_CHAIN + 1)}
    assert dict(by_chain) == expected
    assert len(runs) == sum(expected.values()) == 71  # was 2,047
    assert all(r.status is RunStatus.SUCCEEDED for r in runs)
    # Past the first links each run started exactly one run, from its first change.
    deep = [r for r in runs if r.chain > ONCE_PER_RUN_FROM]
    assert Counter(r.params["upstream"] for r in deep).most_common(1)[0][1] == 1
    assert {r.params["status"] for r in deep} == {"RUNNING"}


def test_a_short_pipeline_keeps_one_run_per_matching_change(rt: LocalRuntime) -> None:
    """What a trigger on several statuses is for (notify on start and on end): the
    runs it starts ONCE_PER_RUN_FROM links down or less are one per change."""
    rt.push({"name": "etl", "steps": [{"id": "a", "type": "noop"}]})
    rt.push(on_changes("notify", "etl"))
    by_hand = rt.start_run("etl")
    deepest = start_run(rt.services, "etl", chain=ONCE_PER_RUN_FROM - 1)  # as triggers would
    settle(rt)
    notified = all_runs(rt, "notify")
    for source in (by_hand, deepest):
        started = sorted(
            (r.params["status"], r.chain) for r in notified if r.params["upstream"] == source.run_id
        )
        assert started == [("RUNNING", source.chain + 1), ("SUCCEEDED", source.chain + 1)]


def test_past_the_first_links_a_trigger_starts_one_run_per_changed_run(
    rt: LocalRuntime,
) -> None:
    rt.push({"name": "etl", "steps": [{"id": "a", "type": "noop"}]})
    rt.push(on_changes("notify", "etl"))
    deep = start_run(rt.services, "etl", chain=ONCE_PER_RUN_FROM)
    settle(rt)
    (only,) = all_runs(rt, "notify")
    assert only.params == {"upstream": deep.run_id, "status": "RUNNING"}
    assert only.chain == ONCE_PER_RUN_FROM + 1 and only.status is RunStatus.SUCCEEDED
    assert rt.store.get_run(deep.run_id).status is RunStatus.SUCCEEDED


def test_past_the_first_links_step_changes_start_one_run_per_changed_run(
    rt: LocalRuntime,
) -> None:
    """Step status changes carry their run's created_at, so a trigger on them is held to
    one run per changed run past the first links too (each step's change started one)."""
    rt.push(
        {
            "name": "etl",
            "step_events": "all",
            "steps": [{"id": "a", "type": "noop"}, {"id": "b", "type": "noop"}],
        }
    )
    notify = on_changes("notify", "etl")
    notify["triggers"][0]["event"]["pattern"] = {
        "source": ["podium"],
        "detail-type": ["Podium Step Status Change"],
        "detail": {"workflow": ["etl"], "status": ["SUCCEEDED"]},
    }
    rt.push(notify)
    shallow = start_run(rt.services, "etl")
    deep = start_run(rt.services, "etl", chain=ONCE_PER_RUN_FROM)
    settle(rt)
    started = Counter(r.params["upstream"] for r in all_runs(rt, "notify"))
    assert started == {shallow.run_id: 2, deep.run_id: 1}  # one per step change, then one

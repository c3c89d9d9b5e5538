"""A cycle of ``bus: podium`` triggers through other workflows (ping's runs start pong,
pong's runs start ping) stops: each run such a trigger starts is one link further down
a chain (``RunRecord.chain``, ``detail.chain`` of its status changes), and a trigger
starts none past MAX_CHAIN (core/engine/trigger_events.py). ``self_started`` only saw a
trigger matching its own runs; this cycle ran forever. Run on every store, so the
chain round-trips through each (memory, the local home's SQLite, DynamoDB on moto)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.records import RunRecord
from podium.core.engine.schedule import parse_iso
from podium.core.engine.status import RunStatus
from podium.core.engine.trigger_events import MAX_CHAIN
from podium.local.runtime import LocalRuntime
from podium.service.run_events import RUN_STATUS_CHANGE
from podium.service.triggers import list_triggers


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = {"home": ":memory:"} if request.param == "sqlite" else {}
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store=request.param, clock=clock, **home) as runtime:
        yield runtime


def after(name: str, upstream: str) -> dict[str, Any]:
    """A workflow a run of ``upstream`` starts when it succeeds."""
    return {
        "name": name,
        "params": {"upstream": {"type": "string", "default": "api"}},
        "steps": [{"id": "a", "type": "noop"}],
        "triggers": [
            {
                "id": f"after_{upstream}",
                "event": {
                    "bus": "podium",
                    "pattern": {
                        "source": ["podium"],
                        "detail-type": ["Podium Run Status Change"],
                        "detail": {"workflow": [upstream], "status": ["SUCCEEDED"]},
                    },
                },
                "params": {"upstream": "${event.detail.run_id}"},
            }
        ],
    }


def settle(rt: LocalRuntime) -> None:
    """Deliver until nothing moves, in bounded rounds (a cycle that never stops fails
    the assertions below instead of hanging the test)."""
    for _ in range(3 * MAX_CHAIN):
        before = rt.delivered
        rt.pump(max_deliveries=200)
        if rt.delivered == before:
            return


def runs(rt: LocalRuntime, workflow: str) -> list[RunRecord]:
    return sorted(rt.store.list_runs(workflow, 100), key=lambda r: r.chain)


def test_a_cycle_of_two_workflows_stops_at_the_limit(rt: LocalRuntime) -> None:
    rt.push(after("ping", "pong"))
    rt.push(after("pong", "ping"))
    first = rt.start_run("ping")
    settle(rt)

    pings, pongs = runs(rt, "ping"), runs(rt, "pong")
    # ping by hand (0), then pong 1, ping 2, ... up to MAX_CHAIN links, then none.
    assert [r.chain for r in pings] == list(range(0, MAX_CHAIN + 1, 2))
    assert [r.chain for r in pongs] == list(range(1, MAX_CHAIN + 1, 2))
    assert all(r.status is RunStatus.SUCCEEDED for r in pings + pongs)
    assert pings[0].run_id == first.run_id and first.chain == 0
    # Each started from the one before it (its params name the run whose change it was).
    chain = sorted(pings + pongs, key=lambda r: r.chain)
    for previous, run in pairwise(chain):
        assert run.params["upstream"] == previous.run_id
        assert run.trigger == f"event:after_{previous.workflow}"

    # The last run's status change says how far down it is; the trigger that matched it
    # started nothing and says why, and what to change.
    last = chain[-1]
    ended = [
        e["detail"]
        for e in rt.services.events.published  # type: ignore[union-attr]
        if e["detail-type"] == RUN_STATUS_CHANGE and e["detail"]["run_id"] == last.run_id
    ]
    assert ended and all(d["chain"] == MAX_CHAIN for d in ended)
    refused_by = "pong" if last.workflow == "ping" else "ping"
    (state,) = list_triggers(rt.services, refused_by)
    error = state["last_failure"]["error"]
    assert f"run {last.run_id} of '{last.workflow}'" in error
    assert f"whose detail.chain is {MAX_CHAIN}" in error and "none was started" in error
    assert "Break the cycle" in error and "detail: {chain: [0]}" in error
    (other,) = list_triggers(rt.services, last.workflow)
    assert other["last_failure"] is None


def test_a_chain_of_triggers_that_is_no_cycle_runs(rt: LocalRuntime) -> None:
    rt.push({"name": "etl", "steps": [{"id": "a", "type": "noop"}]})
    rt.push(after("report", "etl"))
    rt.push(after("publish", "report"))
    etl = rt.start_run("etl")
    settle(rt)
    (report,) = runs(rt, "report")
    (publish,) = runs(rt, "publish")
    assert (report.chain, report.params["upstream"]) == (1, etl.run_id)
    assert (publish.chain, publish.params["upstream"]) == (2, report.run_id)
    assert report.status is publish.status is RunStatus.SUCCEEDED
    assert rt.store.get_run(publish.run_id).chain == 2  # as stored
    for name in ("report", "publish"):
        (state,) = list_triggers(rt.services, name)
        assert state["last_failure"] is None


def test_a_run_started_otherwise_starts_a_new_chain(rt: LocalRuntime) -> None:
    """Only ``bus: podium`` triggers add links: a run by hand (or a schedule, an
    upload, a signal) is the head of its own chain, whatever started it."""
    rt.push(after("ping", "pong"))
    rt.push(after("pong", "ping"))
    rt.start_run("ping")
    settle(rt)
    again = rt.start_run("pong")  # by hand, after the cycle stopped
    settle(rt)
    assert again.chain == 0
    started = [r for r in rt.store.list_runs("ping", 100) if r.params["upstream"] == again.run_id]
    assert [r.chain for r in started] == [1]


def test_a_subworkflow_child_counts_on_from_its_parents_chain(rt: LocalRuntime) -> None:
    """A subworkflow's run publishes its own status changes, so a cycle can pass through
    one (ping -> a child of ping -> pong -> ping): it started each cycle again at 0."""
    rt.push({"name": "child", "steps": [{"id": "a", "type": "noop"}]})
    rt.push(
        {
            "name": "parent",
            "steps": [
                {"id": "call", "type": "subworkflow", "workflow": "child"},
                {
                    "id": "each",
                    "type": "foreach",
                    "over": {"i": [0]},
                    "steps": [{"id": "call", "type": "subworkflow", "workflow": "child"}],
                },
            ],
        }
    )
    rt.push(after("pong", "child"))
    from podium.service.runs import start_run

    parent = start_run(rt.services, "parent", chain=4)  # as a trigger would start it
    settle(rt)
    children = rt.store.list_runs("child", 10)
    assert len(children) == 2 and {c.chain for c in children} == {4}
    pongs = runs(rt, "pong")
    assert [p.chain for p in pongs] == [5, 5]
    assert rt.store.get_run(parent.run_id).status is RunStatus.SUCCEEDED

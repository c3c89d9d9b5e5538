"""A run that ends in hundreds of steps (its sinks): counted across several items on
DynamoDB (adapters/dynamo_sinks.py), on one table in SQLite and in memory, the run ends
once, when the last of them has, and a count lost to a crash is redone by the sweeper."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.dynamo_sinks import SHARD
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from tests.unit.test_foreach import sweep_until

SINKS = SHARD + 44  # two items on DynamoDB: one full, one not


def wide(n: int = SINKS) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"id": "start", "type": "noop"}]
    steps += [{"id": f"leaf_{i:03d}", "type": "noop", "depends_on": ["start"]} for i in range(n)]
    return {"name": "wide", "steps": steps}


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = {"home": ":memory:"} if request.param == "sqlite" else {}
    with LocalRuntime(store=request.param, clock=ManualClock(), **home) as runtime:
        yield runtime


def test_a_run_with_hundreds_of_sinks_ends_when_the_last_has(rt: LocalRuntime) -> None:
    view = rt.run(wide())
    assert view.run.status is RunStatus.SUCCEEDED
    assert len(view.steps) == SINKS + 1


def test_a_sink_count_lost_to_a_crash_is_redone_by_the_sweeper(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = rt.services.store
    real = store.count_sink
    lost: list[str] = []

    def dies_once(run_id: str, step: str, **kw: Any) -> int:
        if step == "leaf_007" and not lost:
            lost.append(step)
            raise RuntimeError("the worker dies after the step's end, before its count")
        return real(run_id, step, **kw)

    monkeypatch.setattr(store, "count_sink", dies_once)
    rt.push(wide())
    run_id = rt.start_run("wide").run_id
    rt.pump(wait=False)
    assert lost and store.get_run(run_id).status is RunStatus.RUNNING
    sweep_until(rt, run_id, lambda run: run.status.terminal)
    assert store.get_run(run_id).status is RunStatus.SUCCEEDED
    assert store.sinks_counted(run_id, sinks=SINKS) == SINKS

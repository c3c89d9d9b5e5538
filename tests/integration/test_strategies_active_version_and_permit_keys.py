"""Run strategies and permits: a concurrency key with max_parallel_steps (a livelock of
two permit queues), the strategy of a run of an older version (the active version's
applies), a bare `run_strategy: parallel`. Found by a review; each test failed before
its fix (its docstring says what was wrong and what is right)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action

STORES = ["memory", "sqlite", "moto"]


def _runtime(store: str) -> LocalRuntime:
    kw: dict[str, Any] = {"home": ":memory:"} if store == "sqlite" else {}
    return LocalRuntime(store=store, clock=ManualClock(), **kw)


@pytest.fixture
def mem() -> Iterator[LocalRuntime]:
    with _runtime("memory") as rt:
        yield rt


def _wf(name: str, strategy: Any) -> dict[str, Any]:
    return {
        "name": name,
        "run_strategy": strategy,
        "steps": [{"id": "work", "type": "sleep", "seconds": 60}],
    }


def _status(rt: LocalRuntime, run_id: str) -> RunStatus:
    return rt.store.get_run(run_id).status


# --- permits: a concurrency key together with max_parallel_steps -----------------------


def _fan_with_key(name: str, width: int, limit: int, max_parallel_steps: int) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"id": "root", "type": "noop"}]
    for i in range(width):
        steps.append(
            {
                "id": f"p{i}",
                "type": "sleep",
                "seconds": 10,
                "depends_on": ["root"],
                "concurrency": {"key": "warehouse", "limit": limit},
            }
        )
    return {
        "name": name,
        "run_strategy": {"parallel": 10},
        "max_parallel_steps": max_parallel_steps,
        "steps": steps,
    }


@pytest.mark.parametrize("store", STORES)
def test_key_and_max_parallel_steps_together_do_not_livelock(store: str) -> None:
    """Two runs of a fan-out of 4 steps, each step naming a key (limit 2) in a workflow
    with ``max_parallel_steps: 1``: every step needs two permits (the key and the run's
    ``run:<id>`` key). A step woken from one key's queue claims, finds the other key
    has waiters (the "newcomers queue behind waiters" condition), leaves the queue it
    was woken from and joins the other's at the back, and wakes that queue's head, which
    does the same the other way: the steps hop between the two queues forever, sending
    messages, with no permit held and nothing running (a livelock: both keys free, all
    steps WAITING_FOR_PERMITS). A few hundred deliveries are far more than these two
    runs need (about 30): both must succeed. Cause: service/execute.py
    _claim_with_permits / Permits.claim's newcomer condition applied to a key the step
    did not wait on, while it gives up its place in the key it did wait on."""
    with _runtime(store) as rt:
        rt.push(_fan_with_key("fanned", width=4, limit=2, max_parallel_steps=1))
        runs = [rt.start_run("fanned").run_id for _ in range(2)]
        rt.pump(max_deliveries=400)
        assert [_status(rt, r) for r in runs] == [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED]


# --- the strategy that applies is the active version's ---------------------------------


def test_restart_of_an_old_first_only_run_follows_the_active_strategy(
    mem: LocalRuntime,
) -> None:
    """docs/run-strategies.md: "The limit that applies is the one of the workflow's
    active version" (and Maestro does not version the run strategy). A run of v1
    (first_only) restarted after v2 ({parallel: 3}) became active, while one other run is
    active, is DISCARDED ("run X is active (run_strategy first_only)"), though the
    workflow allows 3 runs at once now. admit_run (service/admission.py:38) picks the
    strategy from the run's own version (a restart keeps the old run's version), while
    admit_next reads the active one. The restart must start (RUNNING)."""
    rt = mem
    rt.push(_wf("w", "first_only"))
    old = rt.start_run("w").run_id
    rt.pump()
    rt.push(_wf("w", {"parallel": 3}))
    rt.start_run("w")
    result = run_action(rt.services, old, RunAction.RESTART, Actor("me"))
    assert result.new_status == RunStatus.RUNNING.value, result.new_reason


def test_restart_of_an_old_last_only_run_does_not_stop_a_sequential_workflows_run(
    mem: LocalRuntime,
) -> None:
    """Restarting a run made under v1 (last_only) after v2 (sequential) became active
    runs last_only's supersede pass (service/runs.py start_run: the strategy of the
    run's version): the active run of the now-sequential workflow is STOPPED ("replaced
    by newer run") and the queue is rearranged. Under the active sequential strategy
    the restart must just wait QUEUED and the active run must keep running."""
    rt = mem
    rt.push(_wf("w", "last_only"))
    old = rt.start_run("w").run_id
    rt.pump()
    rt.push(_wf("w", "sequential"))
    rt.clock.advance(1000)
    active = rt.start_run("w").run_id
    rt.clock.advance(1000)
    result = run_action(rt.services, old, RunAction.RESTART, Actor("me"))
    assert _status(rt, active) is RunStatus.RUNNING, rt.store.get_run(active).reason
    assert result.new_status == RunStatus.QUEUED.value


def test_restart_of_an_old_sequential_run_under_first_only_is_not_queued(
    mem: LocalRuntime,
) -> None:
    """first_only never queues: a run that starts while another is active is DISCARDED
    at once, with the reason (docs/run-strategies.md). A restart of a run of v1
    (sequential) once v2 (first_only) is active, with another run active, waits QUEUED
    instead (and runs later, a second run of a first_only workflow). It must be
    DISCARDED, naming the active run."""
    rt = mem
    rt.push(_wf("w", "sequential"))
    old = rt.start_run("w").run_id
    rt.pump()
    rt.push(_wf("w", "first_only"))
    active = rt.start_run("w").run_id
    result = run_action(rt.services, old, RunAction.RESTART, Actor("me"))
    assert result.new_status == RunStatus.DISCARDED.value, result.new_reason
    assert active in (result.new_reason or "")


# --- definition validation -------------------------------------------------------------


def test_run_strategy_parallel_without_a_limit_is_refused(mem: LocalRuntime) -> None:
    """docs/run-strategies.md and docs/workflow-language.md list the strategies as
    ``sequential``, ``strict_sequential``, ``first_only``, ``last_only`` or
    ``{parallel: N}``, and the loader's own message for a bad value says so
    (core/dsl/load.py _issue_from leaves the bare name out). Yet ``run_strategy:
    parallel`` (a plain string, no N) is accepted, because ``Strategy`` has a
    ``PARALLEL`` member (core/dsl/models.py:880) that the ``Strategy | Parallel`` union
    takes, and ``run_limit`` gives 1 for it: a workflow its author meant to run in
    parallel runs one at a time, silently. It must be refused at push with an issue at
    ``run_strategy`` that asks for ``{parallel: N}``."""
    from podium.core.dsl.errors import DefinitionError

    with pytest.raises(DefinitionError) as refused:
        mem.push(_wf("bare_parallel", "parallel"))
    assert [i.path for i in refused.value.issues] == ["run_strategy"]
    assert "{parallel: N}" in refused.value.issues[0].message

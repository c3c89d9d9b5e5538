"""A restarted run (or a restarted loop iteration) whose start met a pause did not go on
when it was resumed: it waited for the sweeper's stale check (5 minutes). Now the resume
redoes its start.

A run's start (advance.start_roots) does nothing while the run is PAUSED; the resume
(resuming.release_held) redid it only when a root step was missing ("paused before all
its roots were made"). A restarted run has its roots already, taken over SUCCEEDED before
it starts, and what follows them is created only by the start's propagation
(``_after_reused_roots`` / the roots' replayed claims). So a restarted run paused before
its start was handled, and a restarted iteration launched while its parent was paused
(created PAUSED, its start sent while it was paused), had their roots, nothing after
them, and no held step: the resume released nothing and the run sat RUNNING with
nothing queued until the sweeper re-drove it. Now the resume sends the start again
when a root was taken over, too (a start is idempotent)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.errors import RunNotFound
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action

HERE = "tests.integration.test_restarted_run_paused_before_start"
_LOCK = threading.Lock()
CALLS: Counter[tuple[str, int]] = Counter()
BROKEN = {"on": True}
ME = Actor("alice")


def work(event: dict[str, Any]) -> int:
    i = int(event["payload"]["i"])
    with _LOCK:
        CALLS["work", i] += 1
    return i


def check(event: dict[str, Any]) -> int:
    i = int(event["payload"]["i"])
    with _LOCK:
        CALLS["check", i] += 1
    if BROKEN["on"]:
        raise ValueError("check broken")
    return i


BODY = [
    {
        "id": "work",
        "type": "lambda",
        "function": f"{HERE}:work",
        "payload": {"i": "${iteration.i}"},
    },
    {
        "id": "check",
        "type": "lambda",
        "function": f"{HERE}:check",
        "payload": {"i": "${iteration.i}"},
        "depends_on": ["work"],
    },
]

LOOP = {
    "name": "paused_restart_loop",
    "steps": [
        {
            "id": "loop",
            "type": "foreach",
            "over": {"i": [0, 1, 2]},
            "concurrency": 1,
            "on_failure": "continue",
            "tolerated_failures": 1,
            "steps": BODY,
        }
    ],
}

PLAIN = {
    "name": "paused_restart_plain",
    "steps": [
        {"id": "work", "type": "lambda", "function": f"{HERE}:work", "payload": {"i": 7}},
        {
            "id": "check",
            "type": "lambda",
            "function": f"{HERE}:check",
            "payload": {"i": 7},
            "depends_on": ["work"],
        },
    ],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    CALLS.clear()
    BROKEN["on"] = True
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def _failed_then_restarted(rt: LocalRuntime, workflow: str) -> str:
    run = rt.start_run(workflow)
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.FAILED
    BROKEN["on"] = False  # the fix
    CALLS.clear()
    result = run_action(rt.services, run.run_id, RunAction.RESTART, ME)
    assert result.new_run is not None
    return result.new_run


def test_a_restarted_run_paused_before_it_started_goes_on_when_resumed(rt: LocalRuntime) -> None:
    rt.push(PLAIN)
    new = _failed_then_restarted(rt, "paused_restart_plain")
    run_action(rt.services, new, RunAction.PAUSE, ME)  # before its start is handled
    rt.pump()
    run_action(rt.services, new, RunAction.RESUME, ME)
    rt.pump()  # no sweeper: a resume must not need one
    # Before the fix: RUNNING, 'work' taken over, 'check' never created, nothing queued.
    assert rt.describe(new).run.status is RunStatus.SUCCEEDED
    assert dict(CALLS) == {("check", 7): 1}


def test_a_restarted_iteration_launched_while_its_parent_is_paused_goes_on_on_resume(
    rt: LocalRuntime,
) -> None:
    rt.push(LOOP)
    new = _failed_then_restarted(rt, "paused_restart_loop")
    first = child_run_id(new, "loop", 0)
    for _ in range(100):  # until the new loop has launched its first iteration
        try:
            rt.services.store.get_run(first)
            break
        except RunNotFound:
            rt.pump(max_deliveries=1)
    run_action(rt.services, new, RunAction.PAUSE, ME)
    assert rt.services.store.get_run(first).status is RunStatus.PAUSED
    # An operator stops iteration 0 while the run is paused: the loop (concurrency 1)
    # launches iteration 1, a restarted iteration ('work' taken over), created PAUSED.
    run_action(rt.services, first, RunAction.STOP, ME)
    rt.pump()
    second = child_run_id(new, "loop", 1)
    assert rt.services.store.get_run(second).status is RunStatus.PAUSED
    run_action(rt.services, new, RunAction.RESUME, ME)
    rt.pump()  # no sweeper
    # Before the fix: iteration 1 RUNNING with only its taken-over 'work', forever
    # (until the sweeper's stale check about 5 minutes later).
    assert rt.services.store.get_run(second).status is RunStatus.SUCCEEDED
    assert rt.describe(new).run.status is RunStatus.SUCCEEDED  # 1 stopped, tolerated
    assert dict(CALLS) == {("check", 1): 1, ("check", 2): 1}

"""A place in a key's queue that no step holds any more.

A step ended holding its place (an end decided from a stale read, and a crash before its
``Permits.drop``), and its record then went: its run was pruned (SQLite's ``podium runs
prune``) or expired (DynamoDB's TTL deletes a run's items, not the key's queue items),
or the step was reopened by an operator's retry in place. ``wake_head`` found no record
for the head and woke nobody: every later waiter on the key waited forever. Now it
drops such a place (``Permits.drop_orphan``, conditional on no step holding it) and
wakes the next."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.sqlite.prune import delete_tree, read_tree
from podium.adapters.sqlite.store import SqliteStateStore
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.advance import start_roots
from podium.service.permits import wake_head
from tests.integration.keyed_queue import KEY, STORES, keyed, keyed_runtime, step


@pytest.fixture(params=STORES)
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    with keyed_runtime(request.param) as runtime:
        yield runtime


def ended_holding_its_place(rt: LocalRuntime) -> tuple[str, str]:
    """Two runs queue on the key; the first, woken, ends STOPPED still first in line
    (a crash before its drop), and its run ends. Returns (first run, second run)."""
    rt.push(keyed())
    first = rt.start_run("keyed").run_id
    second = rt.start_run("keyed").run_id
    for run_id in (first, second):
        start_roots(rt.services, run_id)
    permits = rt.store.permits()
    assert permits.wait(step(rt, first), KEY, 1, now=1)
    assert permits.wait(step(rt, second), KEY, 1, now=2)
    assert wake_head(rt.services, KEY) == f"{first}/load"
    dead = rt.store.transition_step(
        first, "load", expected=frozenset({StepStatus.READY}), attempt=0,
        to=StepStatus.STOPPED, changes={"ended_at": 5, "reason": "stopped"},
    )  # fmt: skip
    assert dead.waiting_key == KEY
    return first, second


def assert_next_woken_and_key_free(rt: LocalRuntime, second: str) -> None:
    assert wake_head(rt.services, KEY) == f"{second}/load"
    assert rt.store.permits().queue(KEY, 10) == [(second, "load")]
    rt.pump()
    assert rt.store.get_run(second).status is RunStatus.SUCCEEDED
    state = rt.store.permits().state(KEY)
    assert (state.active, state.waiting, state.holders) == (0, 0, {})
    assert rt.store.permits().head(KEY) is None


def test_a_head_whose_step_was_reopened_is_dropped_and_the_next_woken(
    rt: LocalRuntime,
) -> None:
    first, second = ended_holding_its_place(rt)
    assert rt.store.reopen_step(first, "load", expected=frozenset({StepStatus.STOPPED}))
    assert rt.store.get_step(first, "load") is None
    assert_next_woken_and_key_free(rt, second)


def test_a_head_whose_run_was_pruned_is_dropped_and_the_next_woken() -> None:
    """SQLite's prune deletes a run's rows, not the key's queue rows."""
    with LocalRuntime(clock=ManualClock(), store="sqlite", home=":memory:") as rt:
        first, second = ended_holding_its_place(rt)
        store = rt.store
        assert isinstance(store, SqliteStateStore)
        _, rows = read_tree(store.db, first)
        assert delete_tree(store.db, first, rows)
        assert rt.store.get_step(first, "load") is None
        assert rt.store.permits().head(KEY) == (first, "load")  # the place stays
        assert_next_woken_and_key_free(rt, second)

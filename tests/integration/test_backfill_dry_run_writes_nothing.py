"""A dry run of a backfill of a rate trigger wrote the trigger's state.

``plan()`` read a rate trigger's ``since`` (its slots' anchor) with
``trigger_states().ensure(...)``, a write (DynamoDB's UpdateItem, SQLite's write
transaction) on a path that promises to write nothing (``--dry-run``, ``"dry_run":
true``). A dry run now reads the state, and a state still missing is read as ``ensure``
would make it; a backfill that runs still makes it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.local.runtime import LocalRuntime
from podium.service.backfill import BackfillRequest, backfill_request
from tests.integration.test_backfill_driver_copies_stay_one_chain import backfill_runtime

WF = {
    "name": "bf_rate_dry",
    "steps": [{"id": "work", "type": "noop"}],
    "triggers": [{"id": "every", "rate": "1 hour"}],
}
READS = {"get_state", "states"}


class _Recorded:
    """The trigger states, each method called recorded by name."""

    def __init__(self, inner: Any, calls: list[str]) -> None:
        self._inner = inner
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self._calls.append(name)
            return attr(*args, **kwargs)

        return call


class _Store:
    def __init__(self, inner: Any, calls: list[str]) -> None:
        self._inner = inner
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def trigger_states(self) -> Any:
        return _Recorded(self._inner.trigger_states(), self._calls)


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with backfill_runtime() as runtime:
        runtime.push(WF)
        yield runtime


def _dry_run(rt: LocalRuntime, calls: list[str]) -> dict[str, Any]:
    services = dataclasses.replace(rt.services, store=_Store(rt.store, calls))
    body = {"from": "2026-04-01T00:00:00Z", "to": "2026-04-01T14:30:00Z", "dry_run": True}
    return backfill_request(services, "bf_rate_dry", BackfillRequest.model_validate(body))


def test_a_dry_run_of_a_rate_trigger_only_reads_its_state(rt: LocalRuntime) -> None:
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    clock.advance(3 * 3600_000)
    calls: list[str] = []
    summary = _dry_run(rt, calls)
    writes = [c for c in calls if c not in READS]
    assert writes == [], f"a dry run wrote the trigger state: {writes}"
    assert summary["dry_run"] is True and summary["started"] == []
    # The trigger's slots since it was made (at 12:00, by the push).
    assert [e["time"][11:16] for e in summary["entries"]] == ["12:00", "13:00", "14:00"]


def test_a_dry_run_before_the_state_exists_makes_none(rt: LocalRuntime) -> None:
    states = rt.store.trigger_states()
    made = states.get_state("bf_rate_dry", "every")
    calls: list[str] = []
    # A state still missing (an older home's trigger, made before states were kept).
    states._states.clear()  # type: ignore[attr-defined]
    summary = _dry_run(rt, calls)
    assert [c for c in calls if c not in READS] == []
    assert states.get_state("bf_rate_dry", "every") is None
    assert summary["dry_run"] is True and summary["started"] == []
    assert made is not None  # the push made it: the test set-up is what it says

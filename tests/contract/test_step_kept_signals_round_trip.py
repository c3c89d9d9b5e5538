"""A step's ``kept_signals`` (the floor a restart's ``since: step_start`` wait counts
from, kept as its wait begins: service/signal_waits.py) did not exist: every check of a
waiting step read it again from the run its run redoes. Run on every adapter (memory,
DynamoDB on moto, DynamoDB with expiring run items, SQLite): a created step and a
transition keep it, empty included (empty: read, nothing kept; absent: not read)."""

from __future__ import annotations

from podium.core.engine.records import StepRecord
from podium.core.engine.status import StepStatus
from podium.core.ports import StateStore
from tests.contract.test_state_store import a_run, store  # noqa: F401  (the fixture)

_WAITING = frozenset({StepStatus.WAITING_FOR_SIGNALS})


def test_a_steps_kept_signals_read_back_as_written(store: StateStore) -> None:  # noqa: F811
    store.create_run(a_run("r1"))
    for step, kept in (("a", {"sales_ready": 1_700_000_000_000}), ("b", {}), ("c", None)):
        store.create_step(
            StepRecord(
                "r1", step, StepStatus.WAITING_FOR_SIGNALS, waiting_since=5, kept_signals=kept
            )
        )
        got = store.get_step("r1", step)
        assert got is not None and got.kept_signals == kept, (step, got)
    # A retried wait writes it with its start; a later write leaves it alone.
    store.create_step(StepRecord("r1", "d", StepStatus.RETRY_WAIT))
    store.transition_step(
        "r1",
        "d",
        expected=frozenset({StepStatus.RETRY_WAIT}),
        attempt=0,
        to=StepStatus.WAITING_FOR_SIGNALS,
        changes={"waiting_since": 7, "kept_signals": {"x": 3}},
    )
    store.transition_step(
        "r1",
        "d",
        expected=_WAITING,
        attempt=0,
        to=StepStatus.READY,
        changes={"signals": {"x": {"sent_at": 3}}, "waiting_since": None},
    )
    got = store.get_step("r1", "d")
    assert got is not None and got.kept_signals == {"x": 3}
    assert [s.kept_signals for s in store.list_steps("r1") if s.step in {"a", "b", "c", "d"}] == [
        {"sales_ready": 1_700_000_000_000},
        {},
        None,
        {"x": 3},
    ]

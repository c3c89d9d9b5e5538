"""A Signals contract case the suite was missing, run
on every adapter (memory, SQLite, DynamoDB on moto) as tests/contract/test_signals.py."""

from __future__ import annotations

from podium.core.engine.signals import ConsumedMark
from podium.core.ports import Signals
from tests.contract.test_signals import signals  # noqa: F401  (the fixture)


def test_a_replayed_consume_keeps_the_first_mark(signals: Signals) -> None:  # noqa: F811
    """Two arrivals that join the same set race (service/signal_triggers.py): both read
    no mark, both consume the set under its one key, the second a replay a little later
    with a later ``made_at`` and expiry. The port keeps the consume's time on the mark
    (``made_at``, what the recover window after a consume is counted from), and memory
    and SQLite keep the first mark's (INSERT OR IGNORE); DynamoDB's Put rewrites the mark
    with the replay's time and expiry, so the same marks read back differently."""
    assert signals.consume("wf/t0", ["p:a@1000", "p:b@2000"], "set-1", 10_000, made_at=3000)
    assert signals.consume("wf/t0", ["p:a@1000", "p:b@2000"], "set-1", 20_000, made_at=5000)
    got = signals.marks("wf/t0", ["p:a@1000", "p:b@2000"])
    assert got == {
        "p:a@1000": ConsumedMark("set-1", 10_000, 3000),
        "p:b@2000": ConsumedMark("set-1", 10_000, 3000),
    }

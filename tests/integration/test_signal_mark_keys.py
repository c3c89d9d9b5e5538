"""The consumption marks a signal trigger's join reads.

- SQLite read a join's marks with one ``IN (...)`` of every key: a statement with more
  parameters than the build allows (999 before SQLite 3.32) failed the join. Now they
  are read in chunks of a few hundred.
- A join read two marks per candidate: its instance's, and the mark of its id alone
  that a release before marks named instances made. A head in the current layout (the
  payload apart: DynamoDB's without ``d``, SQLite's row with ``has_payload``) was
  written by a release that marks instances only, which the releases marking ids could
  not read: its id alone is not asked for. Heads of the layout before still are, and
  their old marks are honoured.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.sqlite.db import Database, dumps
from podium.adapters.sqlite.signals import SqliteSignals
from podium.core.engine.schedule import parse_iso
from podium.core.engine.signals import (
    LEGACY_MARK_TTL_MS,
    ConsumedMark,
    Signal,
    SignalRequest,
    instance_key,
    new_signal,
)
from podium.local.runtime import LocalRuntime
from podium.service.signals import send_signal
from tests.integration.test_signal_join_pages import CONSUMER, PAIRS


def test_sqlite_reads_marks_of_more_keys_than_a_statement_may_hold() -> None:
    """As on a build that allows 999 parameters a statement (SQLite before 3.32)."""
    home = Database(":memory:")
    signals = SqliteSignals(home)
    with home.query() as conn:
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    keys = [f"p:{i:05d}@{i}" for i in range(2_500)]
    assert signals.consume("wf/t", keys[::2], "set", 10_000, made_at=7)
    got = signals.marks("wf/t", keys)
    assert sorted(got) == keys[::2]
    assert got[keys[0]] == ConsumedMark("set", 10_000, 7)
    home.close()


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = {"home": ":memory:"} if request.param == "sqlite" else {}
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store=request.param, clock=clock, **home) as runtime:
        runtime.push(PAIRS)
        yield runtime


class Asked:
    """The keys of every ``marks`` read (a spy on the runtime's Signals)."""

    def __init__(self, rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
        signals = rt.services.signals
        assert signals is not None
        self.calls: list[list[str]] = []
        marks = signals.marks

        def spy(consumer: str, keys: Sequence[str]) -> dict[str, ConsumedMark]:
            self.calls.append(list(keys))
            return marks(consumer, keys)

        monkeypatch.setattr(signals, "marks", spy)

    @property
    def keys(self) -> list[str]:
        return [k for call in self.calls for k in call]


def clock(rt: LocalRuntime) -> ManualClock:
    assert isinstance(rt.clock, ManualClock)
    return rt.clock


def stored(rt: LocalRuntime, name: str, n: int, **kw: Any) -> Signal:
    """A signal stored as a send stores it, without offering it to the triggers."""
    assert rt.services.signals is not None
    clock(rt).advance(1000)
    signal, _ = rt.services.signals.send(
        new_signal(SignalRequest(name, params={"n": n}, **kw), rt.services.now())
    )
    return signal


def arrive(rt: LocalRuntime, name: str, n: int) -> None:
    clock(rt).advance(1000)
    send_signal(rt.services, SignalRequest(name, params={"n": n}))


def pairs(rt: LocalRuntime) -> list[tuple[int, int]]:
    return sorted((r.params["a"], r.params["b"]) for r in rt.store.list_runs("pairs", 100))


def test_a_join_asks_one_mark_key_per_head_written_now(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert rt.services.signals is not None
    used = [stored(rt, "b", i, payload={"i": i}) for i in range(1, 31)]
    assert rt.services.signals.consume(CONSUMER, [instance_key(s) for s in used], "u", 2**50)
    free = stored(rt, "b", 0)
    asked = Asked(rt, monkeypatch)
    arrive(rt, "a", 7)
    assert pairs(rt) == [(7, 0)]
    # The arrival's own mark (it was stored by this send), then the 31 candidates' (the
    # used ones, oldest first, then the free one): one key each, its instance's. It
    # read 62 of them, and 2 for the arrival.
    assert len(asked.keys) == 1 + 31, asked.calls
    assert all("@" in k for k in asked.keys), asked.calls
    assert instance_key(free) in asked.keys


def old_layout(rt: LocalRuntime, signal: Signal) -> None:
    """``signal`` stored as a release before heads were split stored it (the whole
    signal where a find reads it), on the runtime's store."""
    assert rt.services.signals is not None
    whole = signal.as_json()
    store = getattr(rt.store, "_db", None)
    if store is not None:  # DynamoDB on moto
        table = rt.store._table  # type: ignore[attr-defined]
        data = json.dumps(whole, separators=(",", ":"))
        common = {
            "d": {"S": data},
            "xm": {"N": str(signal.expires_at)},
            "expires_at": {"N": str(-(-signal.expires_at // 1000))},
        }
        store.put_item(
            TableName=table,
            Item={"pk": {"S": f"SIGID#{signal.signal_id}"}, "sk": {"S": "#SIG"}, **common},
        )
        store.put_item(
            TableName=table,
            Item={
                "pk": {"S": f"SIG#{signal.name}"},
                "sk": {"S": f"{signal.sent_at:013d}#{signal.signal_id}"},
                "p": {"M": {k: {"N": str(v)} for k, v in signal.params.items()}},
                **common,
            },
        )
        return
    db = rt.services.signals.db  # type: ignore[attr-defined]
    with db.write() as conn:
        record = dumps(whole)
        conn.execute(
            "INSERT INTO signal_ids VALUES (?, ?, ?)",
            (signal.signal_id, signal.expires_at, record),
        )
        conn.execute(
            "INSERT INTO signals VALUES (?, ?, ?, ?, ?)",
            (signal.name, signal.sent_at, signal.signal_id, signal.expires_at, record),
        )


@pytest.mark.parametrize("rt", ["sqlite", "moto"], indirect=True)
def test_a_head_of_the_layout_before_keeps_its_old_mark(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The oldest ``b`` was stored and consumed (a mark of its id alone) by a release
    before: the join passes it over and takes the next one, reading both of its keys
    and one for each head written now."""
    assert rt.services.signals is not None
    clock(rt).advance(1000)
    old = new_signal(
        SignalRequest("b", params={"n": 1}, payload={"old": 1}, request_id="old-b"),
        rt.services.now(),
    )
    old_layout(rt, old)
    made = rt.services.now()
    expires = made + LEGACY_MARK_TTL_MS  # an old mark: its time is its expiry's
    assert rt.services.signals.consume(CONSUMER, [old.signal_id], old.signal_id, expires)
    newer = [stored(rt, "b", n) for n in (2, 3)]
    asked = Asked(rt, monkeypatch)
    arrive(rt, "a", 7)
    assert pairs(rt) == [(7, 2)]  # not (7, 1): its old mark holds
    # The arrival's key; the old head's two; then the newer two heads' one each.
    assert asked.calls[1:] == [
        [instance_key(old), old.signal_id],
        [instance_key(newer[0]), instance_key(newer[1])],
    ], asked.calls
    assert len(asked.calls[0]) == 1

"""Signals stored by the layout before heads were split from payloads are still read:
a DynamoDB table's ``SIG#`` items holding the whole signal (``d``), and a local home's
``signals`` rows holding it in ``record`` (with a ``signal_waiters`` table that has no
``missed_at``: the home is upgraded when opened). New ones hold no payload where a find
reads them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium.adapters.dynamo_signals import DynamoSignals
from podium.adapters.sqlite.db import Database, dumps
from podium.adapters.sqlite.signals import SqliteSignals
from podium.adapters.table_schema import create_table
from podium.core.engine.signals import Op, ParamMatch, Signal, SignalRequest, Waiter, new_signal

TABLE = "podium-state"


def old_signal(at: int, n: int) -> Signal:
    return new_signal(
        SignalRequest("ready", params={"n": n}, payload={"old": n}, request_id=f"old-{n}"), at
    )


def new_one(at: int, n: int) -> Signal:
    return new_signal(SignalRequest("ready", params={"n": n}, payload={"new": n}), at)


@pytest.fixture
def db() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE)
        yield client


def put_old_items(client: Any, signal: Signal) -> None:
    """What the previous DynamoSignals.send wrote: the whole signal on both items."""
    data = json.dumps(signal.as_json(), separators=(",", ":"))
    ttl = {"N": str(-(-signal.expires_at // 1000))}
    xm = {"N": str(signal.expires_at)}
    client.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": f"SIGID#{signal.signal_id}"},
            "sk": {"S": "#SIG"},
            "d": {"S": data},
            "xm": xm,
            "expires_at": ttl,
        },
    )
    client.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": f"SIG#{signal.name}"},
            "sk": {"S": f"{signal.sent_at:013d}#{signal.signal_id}"},
            "p": {"M": {k: {"N": str(v)} for k, v in signal.params.items()}},
            "d": {"S": data},
            "xm": xm,
            "expires_at": ttl,
        },
    )


def test_dynamodb_reads_whole_signal_items_beside_heads(db: Any) -> None:
    signals = DynamoSignals(db, TABLE)
    olds = [old_signal(1000 + i, i) for i in range(3)]
    for s in olds:
        put_old_items(db, s)
    fresh = [new_one(2000 + i, 10 + i) for i in range(2)]
    for s in fresh:
        signals.send(s)
    found = signals.find("ready", [], now=5000, limit=10)
    assert found == [*reversed(fresh), *reversed(olds)]
    assert signals.find("ready", [ParamMatch("n", Op.LT, 2)], now=5000, limit=1) == [olds[1]]
    # An old identity still de-duplicates.
    again, created = signals.send(old_signal(3000, 0))
    assert not created and again == olds[0]
    assert signals.get(olds[2].signal_id, now=5000) == olds[2]


OLD_SIGNAL_TABLES = """
CREATE TABLE signals (
    name TEXT NOT NULL, sent_at INTEGER NOT NULL, signal_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (name, sent_at, signal_id)
) WITHOUT ROWID;
CREATE TABLE signal_ids (
    signal_id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, record TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE signal_waiters (
    name TEXT NOT NULL, run_id TEXT NOT NULL, step TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (name, run_id, step)
) WITHOUT ROWID;
CREATE TABLE signal_consumed (
    consumer TEXT NOT NULL, signal_id TEXT NOT NULL, grp TEXT NOT NULL,
    expires_at INTEGER NOT NULL, made_at INTEGER,
    PRIMARY KEY (consumer, signal_id)
) WITHOUT ROWID;
"""


def test_a_home_made_before_reads_its_signals_and_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "podium.db"
    home = Database(path)
    olds = [old_signal(1000 + i, i) for i in range(3)]
    with home.write() as conn:
        for statement in OLD_SIGNAL_TABLES.split(";"):
            if statement.strip():
                conn.execute(statement)
        for s in olds:
            record = dumps(s.as_json())
            conn.execute(
                "INSERT INTO signal_ids VALUES (?, ?, ?)", (s.signal_id, s.expires_at, record)
            )
            conn.execute(
                "INSERT INTO signals VALUES (?, ?, ?, ?, ?)",
                (s.name, s.sent_at, s.signal_id, s.expires_at, record),
            )
        conn.execute("INSERT INTO signal_waiters VALUES ('ready', 'r1', 'w', 90000)")
    home.close()

    home = Database(path)
    signals = SqliteSignals(home)
    fresh = [new_one(2000 + i, 10 + i) for i in range(2)]
    for s in fresh:
        signals.send(s)
    assert signals.find("ready", [], now=5000, limit=10) == [*reversed(fresh), *reversed(olds)]
    assert signals.find("ready", [ParamMatch("n", Op.LT, 2)], now=5000, limit=1) == [olds[1]]
    # Its old waiter keeps misses now.
    assert signals.waiters("ready", now=5000) == [Waiter("r1", "w")]
    signals.note_miss("ready", Waiter("r1", "w"), 4000)
    assert signals.last_miss("ready", Waiter("r1", "w")) == 4000
    home.close()


def test_a_home_keeps_payloads_out_of_the_rows_a_find_reads(tmp_path: Path) -> None:
    home = Database(tmp_path / "podium.db")
    signals = SqliteSignals(home)
    sent = new_one(1000, 1)
    signals.send(sent)
    with home.query() as conn:
        (record,) = conn.execute("SELECT record FROM signals").fetchone()
    assert "payload" not in json.loads(record), record
    assert signals.find("ready", [], now=2000) == [sent]
    home.close()

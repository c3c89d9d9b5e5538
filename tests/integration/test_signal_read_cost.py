"""What finding signals reads from DynamoDB (on moto), counted from the responses: the
items a Query evaluated (``ScannedCount``), the items read by key, and the read units
they are billed (a consistent Query per 4 KB of the items it read, at least one; an item
read by key per 4 KB of it). A find reads the small heads of the signals it looks at,
as many as it needs, and the payload of only those it returns (adapters/dynamo_signals.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium.adapters.dynamo_signals import DynamoSignals
from podium.adapters.table_schema import create_table
from podium.bench.engine import item_size
from podium.core.engine.signals import Op, ParamMatch, SignalRequest, new_signal

TABLE = "podium-state"
PAYLOAD = {"rows": "x" * 7_000}  # 7 KB: two read units whenever it is read
STORED = 300


def units(size: int) -> int:
    return max(1, -(-size // 4096))


@dataclass
class Reads:
    """DynamoDB reads counted by operation (consistent reads: 1 unit per 4 KB)."""

    items: int = 0
    units: int = 0
    calls: dict[str, int] = field(default_factory=dict)

    def after(self, parsed: Any = None, model: Any = None, **_: Any) -> None:
        if model is None or not isinstance(parsed, dict):
            return
        op = model.name
        if op == "Query":
            # Nothing is filtered in the finds counted by units here, so the items
            # returned are the items read (their bytes are what the Query is billed).
            self.items += int(parsed.get("ScannedCount", 0))
            self.units += units(sum(item_size(i) for i in parsed.get("Items", [])))
        elif op == "GetItem":
            self.items += 1
            self.units += units(item_size(parsed.get("Item") or {}))
        elif op == "BatchGetItem":
            for got in parsed.get("Responses", {}).values():
                self.items += len(got)
                self.units += sum(units(item_size(i)) for i in got)
        else:
            return
        self.calls[op] = self.calls.get(op, 0) + 1


@pytest.fixture
def db() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE)
        yield client


def counted(client: Any) -> Reads:
    reads = Reads()
    client.meta.events.register("after-call.dynamodb", reads.after)
    return reads


def fill(signals: DynamoSignals, name: str, n: int, **kw: Any) -> None:
    for i in range(n):
        params = {"i": i, "day": f"2026-01-{i % 28 + 1:02d}"}
        signals.send(new_signal(SignalRequest(name, params=params, **kw), 1_000 + i))


def test_the_newest_signal_costs_what_it_returns(db: Any) -> None:
    signals = DynamoSignals(db, TABLE)
    fill(signals, "big", STORED, payload=PAYLOAD)
    reads = counted(db)
    found = signals.find("big", [], now=10_000, limit=1)
    assert [s.params["i"] for s in found] == [STORED - 1]
    assert found[0].payload == PAYLOAD
    # Its head (one item, one unit) and its payload by key (7 KB: two units). The whole
    # signals on the queried items read a page of 1 MB: 136 items, 243 units.
    assert reads.items <= 2, reads
    assert reads.units <= 3, reads


def test_a_join_window_reads_heads_and_the_payloads_it_returns(db: Any) -> None:
    signals = DynamoSignals(db, TABLE)
    fill(signals, "big", STORED, payload=PAYLOAD)
    reads = counted(db)
    found = signals.find("big", [], now=10_000, limit=50)
    assert [s.params["i"] for s in found] == list(range(STORED - 1, STORED - 51, -1))
    assert reads.items <= 100, reads  # 50 heads, 50 payloads
    assert reads.units <= 2 + 50 * 2, reads


def test_signals_without_payload_are_read_from_their_heads_alone(db: Any) -> None:
    signals = DynamoSignals(db, TABLE)
    fill(signals, "small", STORED)
    reads = counted(db)
    found = signals.find("small", [], now=10_000, limit=50)
    assert len(found) == 50 and found[0].payload is None
    assert reads.calls == {"Query": 1}, reads
    assert reads.items == 50 and reads.units <= 3, reads


def test_a_filtered_find_reads_its_heads_in_growing_pages(db: Any) -> None:
    signals = DynamoSignals(db, TABLE)
    fill(signals, "big", STORED, payload=PAYLOAD)
    reads = counted(db)
    # The 20th newest: found in the second page (16 heads, then 32), not in a page of
    # 1 MB; then its payload.
    wanted = ParamMatch("i", Op.EQ, STORED - 20)
    found = signals.find("big", [wanted], now=10_000, limit=1)
    assert [s.params["i"] for s in found] == [STORED - 20]
    assert reads.items <= 16 + 32 + 1, reads
    # Nothing matches: every head is evaluated once, and no payload is read.
    reads.items, reads.calls = 0, {}
    assert signals.find("big", [ParamMatch("i", Op.EQ, -1)], now=10_000) == []
    assert reads.items == STORED and "BatchGetItem" not in reads.calls, reads


def test_the_queried_item_holds_no_payload(db: Any) -> None:
    signals = DynamoSignals(db, TABLE)
    fill(signals, "big", 1, payload=PAYLOAD)
    heads = db.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "SIG#big"}},
    )["Items"]
    assert len(heads) == 1 and item_size(heads[0]) < 300, heads

"""The DynamoDB adapter's sink counter stays small however many sinks a run has, and
still honours the per-sink markers its earlier layout wrote (a run in flight across an
upgrade counts nothing twice). What every store must do is in the StateStore contract
suite; these are the DynamoDB layout's own promises."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium.adapters import dynamo_codec as c
from podium.adapters.dynamo_sinks import SHARD
from podium.adapters.dynamo_store import DynamoStateStore
from podium.adapters.table_schema import create_table
from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus

TABLE = "sinks"


@pytest.fixture
def db() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE)
        yield client


def _store_with_run(db: Any, sinks: int) -> DynamoStateStore:
    store = DynamoStateStore(db, TABLE)
    store.create_run(RunRecord("r1", "wf", 1, RunStatus.RUNNING, {}, 1000, sinks_total=sinks))
    return store


def _items(db: Any, run_id: str) -> dict[str, dict[str, Any]]:
    resp = db.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :sinks)",
        ExpressionAttributeValues={":pk": {"S": c.run_pk(run_id)}, ":sinks": {"S": c.SINKS_SK}},
        ConsistentRead=True,
    )
    return {item["sk"]["S"]: item for item in resp["Items"]}


@pytest.mark.parametrize("sinks", [SHARD, 3 * SHARD + 10])
def test_every_counter_item_stays_small_however_many_long_named_sinks(db: Any, sinks: int) -> None:
    names = [f"{i:05d}-" + "s" * 74 for i in range(sinks)]  # 80 characters: the longest id
    store = _store_with_run(db, sinks)
    for i, name in enumerate(names):
        store.count_sink("r1", name, index=i, sinks=sinks)
    items = _items(db, "r1")
    assert sum(int(item["n"]["N"]) for item in items.values()) == sinks
    # A marker named after each sink made one item grow ~84 bytes a sink here (400 KB,
    # DynamoDB's limit, at about 5,000 such sinks: the run could never end); a number
    # takes 2-4 bytes, and an item holds at most SHARD of them.
    assert len(items) == -(-sinks // SHARD)
    for item in items.values():
        assert set(item) == {"pk", "sk", "n", "ks"}
        assert len(json.dumps(item)) < 3_000


def test_a_replay_on_a_full_shard_sums_the_shards_and_a_partial_one_does_not(db: Any) -> None:
    sinks = SHARD + 2
    store = _store_with_run(db, sinks)
    store.count_sink("r1", "last", index=SHARD + 1, sinks=sinks)
    for i in range(SHARD):
        store.count_sink("r1", f"s{i}", index=i, sinks=sinks)
    assert store.count_sink("r1", "s3", index=3, sinks=sinks) == SHARD + 1  # shard 0 full
    assert store.count_sink("r1", "last", index=SHARD + 1, sinks=sinks) == 1  # its shard
    assert store.count_sink("r1", "next", index=SHARD, sinks=sinks) == sinks


def test_a_sink_marked_by_the_earlier_layout_is_not_counted_twice(db: Any) -> None:
    store = _store_with_run(db, 3)
    # What the earlier count_sink wrote for sink "a": a marker attribute and the count.
    db.update_item(
        TableName=TABLE,
        Key=c.key(c.run_pk("r1"), c.SINKS_SK),
        UpdateExpression="SET #mark = :one ADD #n :one",
        ExpressionAttributeNames={"#mark": c.sink_mark("a"), "#n": "n"},
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    assert store.count_sink("r1", "a", index=0, sinks=3) == 1  # a replay after the upgrade
    assert store.count_sinks("r1", {"a": 0}, sinks=3) == 1
    assert store.count_sink("r1", "b", index=1, sinks=3) == 2
    store.uncount_sink("r1", "a", index=0, sinks=3)  # takes the old marker back
    assert store.sinks_counted("r1", sinks=3) == 1
    assert c.sink_mark("a") not in _items(db, "r1")[c.SINKS_SK]
    assert store.count_sink("r1", "a", index=0, sinks=3) == 2
    store.uncount_sink("r1", "c", index=2, sinks=3)  # never counted: nothing to take back
    assert store.sinks_counted("r1", sinks=3) == 2

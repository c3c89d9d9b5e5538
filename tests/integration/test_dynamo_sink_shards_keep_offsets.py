"""A run's sink counts on DynamoDB cost one write unit each however many sinks it has
(each shard keeps its sinks' offsets, 0-255, not their indexes), and the shards the
release before wrote (absolute indexes) still count right: a run in flight across the
upgrade counts every sink once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium.adapters import dynamo_codec as c
from podium.adapters.clock import ManualClock
from podium.adapters.dynamo_expiry import ExpiringRunItems
from podium.adapters.dynamo_sinks import SHARD
from podium.adapters.dynamo_store import DynamoStateStore
from podium.adapters.table_schema import create_table
from podium.bench.engine import RequestCounter
from podium.local.runtime import TABLE_NAME

RUN = "01KDX2Q7ZB4V3M8N6P5R9S1T2W"
SINKS = 100_000  # MAX_STEPS: a fan-out with no join has about as many sinks


@pytest.fixture
def db() -> Iterator[Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE_NAME)
        yield client


def _store(db: Any) -> DynamoStateStore:
    # As deployed: run items carry their expiry (runtime.py, bootstrap).
    return DynamoStateStore(ExpiringRunItems(db, after_days=90, clock=ManualClock()), TABLE_NAME)


def test_a_sink_count_costs_one_write_unit_on_every_shard(db: Any) -> None:
    """What was wrong: a run with more than about 10,000 sinks (a fan-out of 100,000
    steps with no join, which a definition may have) paid 2 write units, not 1, for the
    last counts of every shard past index 10,240: a shard kept its sinks' *absolute*
    indexes in a number set, and five significant digits are 4 bytes each, so 256 of
    them alone were 1,024 bytes and the item (with its key, counter and expiry) passed
    1 KB; docs/cost.md says the count stays at one unit.
    Expected: every count costs one write unit (each shard keeps ``index % SHARD``)."""
    counter = RequestCounter(boto3.client("dynamodb", region_name="us-east-1"), TABLE_NAME)
    db.meta.events.register("before-parameter-build.dynamodb", counter.before)
    db.meta.events.register("after-call.dynamodb", counter.after)
    store = _store(db)
    dearer: list[tuple[int, int]] = []
    last = SINKS // SHARD - 1  # the last full shard: the biggest indexes
    for shard in (40, last):
        for index in range(shard * SHARD, (shard + 1) * SHARD):
            before = counter.write_units
            store.count_sink(RUN, f"p{index}", index=index, sinks=SINKS)
            units = counter.write_units - before
            if units != 1:
                dearer.append((index, units))
    assert not dearer, (
        f"{len(dearer)} of 512 sink counts cost more than one write unit, "
        f"from index {dearer[0][0]} ({dearer[0][1]} units)"
    )
    assert store.sinks_counted(RUN, sinks=SINKS) == 2 * SHARD


def _count_as_the_release_before(db: Any, index: int) -> None:
    """What the release before's count_sink wrote: the absolute index on its shard."""
    db.update_item(
        TableName=TABLE_NAME,
        Key=c.key(c.run_pk(RUN), f"{c.SINKS_SK}#{index // SHARD}"),
        UpdateExpression="ADD #ks :marks, #n :one",
        ExpressionAttributeNames={"#ks": "ks", "#n": "n"},
        ExpressionAttributeValues={":one": {"N": "1"}, ":marks": {"NS": [str(index)]}},
    )


def _shard_counts(db: Any) -> dict[int, int]:
    items = db.query(
        TableName=TABLE_NAME,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :s)",
        ExpressionAttributeValues={":pk": {"S": c.run_pk(RUN)}, ":s": {"S": f"{c.SINKS_SK}#"}},
        ConsistentRead=True,
    )["Items"]
    return {int(i["sk"]["S"].rsplit("#", 1)[1]): int(i["n"]["N"]) for i in items}


def test_sinks_counted_by_the_release_before_count_once(db: Any) -> None:
    """A run in flight during the upgrade: the release before counted some of its sinks
    as absolute indexes on their shards; this one counts the rest as offsets. Replays
    of either, the sweeper's count of every ended sink, and an operator's uncount all
    see each sink once (what was wrong otherwise: a sink counted twice ends the run
    early, one never counted keeps it running)."""
    sinks = 3 * SHARD + 10
    store = _store(db)
    earlier = [*range(0, 40), *range(SHARD + 3, SHARD + 60), 2 * SHARD + 255, 3 * SHARD + 9]
    for index in earlier:
        _count_as_the_release_before(db, index)
    assert store.sinks_counted(RUN, sinks=sinks) == len(earlier)
    # Replays of sinks the release before counted add nothing.
    for index in (5, SHARD + 3, 2 * SHARD + 255, 3 * SHARD + 9):
        store.count_sink(RUN, f"p{index}", index=index, sinks=sinks)
    assert store.sinks_counted(RUN, sinks=sinks) == len(earlier)
    # New counts on the same shards, and their replays.
    for index in (41, SHARD + 2, 2 * SHARD, 3 * SHARD):
        store.count_sink(RUN, f"p{index}", index=index, sinks=sinks)
        store.count_sink(RUN, f"p{index}", index=index, sinks=sinks)
    assert store.sinks_counted(RUN, sinks=sinks) == len(earlier) + 4
    # The sweeper's check counts every ended sink: each once, whichever release wrote it.
    everything = {f"p{i}": i for i in range(sinks)}
    assert store.count_sinks(RUN, everything, sinks=sinks) == sinks
    assert _shard_counts(db) == {0: SHARD, 1: SHARD, 2: SHARD, 3: 10}
    # An operator's uncount takes back a sink counted either way, once.
    for index in (SHARD + 3, SHARD + 2):  # the release before's, then this one's
        store.uncount_sink(RUN, f"p{index}", index=index, sinks=sinks)
        store.uncount_sink(RUN, f"p{index}", index=index, sinks=sinks)
    assert store.sinks_counted(RUN, sinks=sinks) == sinks - 2
    assert store.count_sinks(RUN, everything, sinks=sinks) == sinks
    assert _shard_counts(db) == {0: SHARD, 1: SHARD, 2: SHARD, 3: 10}

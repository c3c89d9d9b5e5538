"""gsi2, the sweeper's index of unsettled runs, had one partition key (ACTIVE). Its sort
key starts with a time, so all its writes went to one partition (about 1,000 writes a
second, and a throttled index throttles the table). Runs now spread over ACTIVE_SHARDS
keys; runs indexed under the old key before an upgrade are still read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import boto3
import pytest
from moto import mock_aws

from podium.adapters import dynamo_codec as c
from podium.adapters.dynamo_store import DynamoStateStore
from podium.adapters.table_schema import create_table
from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus


@pytest.fixture
def table() -> Iterator[tuple[object, DynamoStateStore]]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t")
        yield client, DynamoStateStore(client, "t")


def _run(run_id: str, created: int) -> RunRecord:
    return RunRecord(
        run_id, "wf", 1, RunStatus.RUNNING, {}, created, sinks_total=1, check_at=created
    )


def test_unsettled_runs_spread_over_the_shards(table: tuple[object, DynamoStateStore]) -> None:
    client, store = table
    for i in range(64):
        store.create_run(_run(f"run{i:02d}", 1000 + i))
    keys = {
        item["gsi2pk"]["S"]
        for item in client.scan(TableName="t")["Items"]  # type: ignore[attr-defined]
        if "gsi2pk" in item
    }
    assert len(keys) > c.ACTIVE_SHARDS // 2 and c.ACTIVE_PK not in keys
    # Merged across the shards, the most overdue first, bounded by the limit.
    assert store.list_due_run_ids(10**13, 5) == [f"run{i:02d}" for i in range(5)]
    assert len(store.list_active_run_ids()) == 64


def test_a_run_indexed_before_the_shards_is_still_swept(
    table: tuple[object, DynamoStateStore],
) -> None:
    client, store = table
    store.create_run(_run("new", 2000))
    item = c.run_to_item(replace(_run("old", 1000), check_at=1000))
    item["gsi2pk"] = {"S": c.ACTIVE_PK}  # as every release before the shards wrote it
    client.put_item(TableName="t", Item=item)  # type: ignore[attr-defined]
    assert store.list_due_run_ids(10**13, 10) == ["old", "new"]
    assert store.list_active_run_ids() == ["new", "old"]
    store.set_run_check("old", 5000)
    assert store.list_due_run_ids(10**13, 10) == ["new", "old"]
    store.transition_run(
        "old", expected=frozenset({RunStatus.RUNNING}), to=RunStatus.FAILED, changes={}
    )
    store.settle_run("old")
    assert store.list_active_run_ids() == ["new"]

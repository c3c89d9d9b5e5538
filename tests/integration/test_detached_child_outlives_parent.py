"""A detached subworkflow child (``wait: false``) runs on after its parent's step
succeeded, so it can end after its parent run's items expired (DynamoDB's TTL, the
retention). Its end still tells the parent step: before, that message raised
RunNotFound on every delivery (into the dead-letter queue), and the child, never
counted by a parent that is gone, stayed unsettled, its end redone by the sweeper.
Now the message is dropped with a warning and the child settles itself."""

from __future__ import annotations

from podium.adapters import dynamo_codec as c
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.sweep import sweep

KID = {"name": "late_kid", "steps": [{"id": "zz", "type": "sleep", "seconds": 3600}]}
PARENT = {
    "name": "gone_parent",
    "steps": [{"id": "sub", "type": "subworkflow", "workflow": "late_kid", "wait": False}],
}


def _expire(runtime: LocalRuntime, run_id: str) -> None:
    """What DynamoDB's TTL does to an ended run's items: they are deleted."""
    db, table = runtime.services.store._db, runtime.services.store._table  # type: ignore[attr-defined]
    pk = c.run_pk(run_id)
    items = db.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
    )["Items"]
    assert items
    for item in items:
        db.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})


def test_a_detached_child_that_ends_after_its_parent_expired_settles(
    runtime: LocalRuntime,
) -> None:
    runtime.push(KID)
    runtime.push(PARENT)
    run = runtime.start_run("gone_parent")
    runtime.pump(wait=False)
    store = runtime.services.store
    kid = child_run_id(run.run_id, "sub", 0)
    assert store.get_run(run.run_id).status is RunStatus.SUCCEEDED
    assert store.get_run(kid).status is RunStatus.RUNNING
    _expire(runtime, run.run_id)
    runtime.pump()  # the child's sleep ends, and with it the child
    assert store.get_run(kid).status is RunStatus.SUCCEEDED
    assert runtime.dead_letters() == []
    clock = runtime.services.clock
    for _ in range(3):  # nothing is left for the sweeper to redo
        clock.advance(runtime.services.stale_ready_ms * 2)  # type: ignore[attr-defined]
        sweep(runtime.services, store)
        runtime.pump(wait=False)
    assert runtime.dead_letters() == []
    assert store.get_run(kid).settled, store.get_run(kid)

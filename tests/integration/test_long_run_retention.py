"""A run that waits longer than the table keeps run items (``run_retention_days``,
DynamoDB's TTL, counted from each item's last write) lost its first steps and timeline
while it still ran: nothing wrote them again. The sweeper now asks the store to renew
them once the run is older than half the retention (adapters/dynamo_expiry.py)."""

from __future__ import annotations

from podium.adapters.clock import ManualClock
from podium.adapters.dynamo_expiry import KEPT_SK, TTL_ATTRIBUTE
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import TABLE_NAME, LocalRuntime
from podium.service.sweep import sweep

DAY_MS = 86_400_000
RETENTION_DAYS = 90  # LocalRuntime's moto table (as the construct's default)

WAITS_100_DAYS = {
    "name": "quarterly",
    "timeout": "120d",
    "steps": [
        {"id": "a", "type": "noop"},
        {
            "id": "wait",
            "type": "sleep",
            "seconds": 100 * 86_400,
            "timeout": "101d",
            "depends_on": ["a"],
        },
        {"id": "b", "type": "noop", "depends_on": ["wait"]},
    ],
}


def stamps(rt: LocalRuntime, run_id: str) -> dict[str, int]:
    items = rt.dynamodb.query(
        TableName=TABLE_NAME,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"R#{run_id}"}},
    )["Items"]
    return {i["sk"]["S"]: int(i[TTL_ATTRIBUTE]["N"]) for i in items if TTL_ATTRIBUTE in i}


def test_a_run_waiting_past_half_its_retention_keeps_its_first_items() -> None:
    clock = ManualClock()
    with LocalRuntime(store="moto", clock=clock) as rt:
        rt.push(WAITS_100_DAYS)
        run = rt.start_run("quarterly")
        rt.pump(advance_time=False)
        assert rt.store.get_step(run.run_id, "a").status is StepStatus.SUCCEEDED
        first = stamps(rt, run.run_id)
        step_a = next(sk for sk in first if sk.endswith("#a") or sk.endswith("a"))

        clock.advance(30 * DAY_MS)  # younger than half the retention: nothing to do
        sweep(rt.services, rt.store)
        assert stamps(rt, run.run_id)[step_a] == first[step_a]
        assert KEPT_SK not in stamps(rt, run.run_id)

        clock.advance(20 * DAY_MS)  # day 50: step a would go at day 90, the run at day 100
        sweep(rt.services, rt.store)
        now_s = clock.now_ms() // 1000
        renewed = stamps(rt, run.run_id)
        assert renewed[step_a] == now_s + RETENTION_DAYS * 86_400
        assert all(stamp >= now_s + RETENTION_DAYS * 86_400 // 2 for stamp in renewed.values())

        clock.advance(DAY_MS)  # renewed within half the retention: left alone
        sweep(rt.services, rt.store)
        assert stamps(rt, run.run_id)[step_a] == renewed[step_a]

        clock.advance(49 * DAY_MS + DAY_MS // 2)  # day 100.5: the sleep has ended
        rt.pump()  # the run finishes, its first step still there
        assert rt.store.get_run(run.run_id).status is RunStatus.SUCCEEDED
        assert rt.store.get_step(run.run_id, "a").status is StepStatus.SUCCEEDED


def test_an_item_deleted_meanwhile_is_not_brought_back() -> None:
    clock = ManualClock()
    with LocalRuntime(store="moto", clock=clock) as rt:
        rt.push(WAITS_100_DAYS)
        run = rt.start_run("quarterly")
        rt.pump(advance_time=False)
        client = rt.store._db  # the expiring client
        pk = f"R#{run.run_id}"
        before = stamps(rt, run.run_id)
        gone = sorted(sk for sk in before if sk != "#RUN")[0]
        clock.advance(50 * DAY_MS)
        # The TTL deletes an item between the renewal's listing and its write.
        listed = list(client._partition(TABLE_NAME, pk))
        rt.dynamodb.delete_item(TableName=TABLE_NAME, Key={"pk": {"S": pk}, "sk": {"S": gone}})
        # Only the run's own partition (the renewal lists its permit key's too).
        client._partition = lambda table, key, *a: iter(listed if key == pk else [])
        assert client.renew_run_partition(TABLE_NAME, pk, run.created_at) == len(before) - 1
        assert gone not in stamps(rt, run.run_id)

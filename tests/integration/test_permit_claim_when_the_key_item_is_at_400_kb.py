"""A key's holders share one DynamoDB item (``K#<key>``/``#PERMITS``), which DynamoDB
caps at 400 KB. A key whose limit is higher than the item can hold (``limit: 10000``
held by some 3,700 steps of 64-character run ids, or a few hundred loop iterations,
whose run ids name their parents) made the next claim fail with DynamoDB's raw
ValidationException (item size exceeded) on every delivery: the step stayed READY until
its message was dead-lettered. Now such a claim is refused as one at the key's limit
(``Claim.FULL``): the step waits in the key's queue, and a release wakes it once the
item has room (``state`` says the key is at its limit till then, so a wake-up does not
wake a head that cannot claim, over and over)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from podium.adapters.clock import ManualClock
from podium.adapters.dynamo_store import DynamoStateStore
from podium.adapters.table_schema import create_table
from podium.core.engine.permits import PermitNeed
from podium.core.engine.records import StepRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.ports import Claim
from podium.local.runtime import TABLE_NAME, LocalRuntime
from podium.service.permits import wake_head

LONG = "r" * 1_000  # a loop iteration's run id, 10 levels down, is about as long
HOLDERS = 390  # of 1,016-byte markers: 396,240 bytes
FAR = 2**41  # the fake holders' leases: never expired (the sweeper leaves them)


def _fill(client: Any, table: str, key: str, limit: int) -> list[str]:
    """The item as ``HOLDERS`` claims of long-named holders leave it (one write: moto
    copies the table on every transaction)."""
    holders = [f"{LONG}{i:04d}/s" for i in range(HOLDERS)]
    item: dict[str, Any] = {
        "pk": {"S": f"K#{key}"},
        "sk": {"S": "#PERMITS"},
        "n": {"N": str(HOLDERS)},
        "lim": {"N": str(limit)},
    }
    item.update({f"h:{h}": {"N": str(FAR)} for h in holders})
    # One holder more, whose name leaves the item 10 bytes short of moto's 405,000: no
    # other holder fits, whatever its name (a waiter count, 3 bytes, does).
    pad = 405_000 - 10 - _bytes(item) - len("h:/s") - 8
    holders.append(f"{'p' * pad}/s")
    item[f"h:{holders[-1]}"] = {"N": str(FAR)}
    item["n"] = {"N": str(len(holders))}
    client.put_item(TableName=table, Item=item)
    return holders


def _bytes(item: dict[str, Any]) -> int:
    """As moto counts an item of strings and 13-digit numbers (8 bytes each)."""
    return sum(len(k) + (8 if "N" in v else len(v["S"])) for k, v in item.items())


@pytest.fixture
def store() -> Iterator[DynamoStateStore]:
    with mock_aws():
        import boto3

        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "permits")
        yield DynamoStateStore(client, "permits")


def test_a_claim_the_item_cannot_hold_is_refused_as_full(store: DynamoStateStore) -> None:
    holders = _fill(store._db, "permits", "db", 10_000)
    need = PermitNeed("db", 10_000)
    store.create_step(StepRecord(f"{LONG}new", "s", StepStatus.READY, ready_at=1))
    step = store.get_step(f"{LONG}new", "s")
    assert step is not None
    changes = {"attempt": 1, "started_at": 5, "lease_until": FAR}
    permits = store.permits()
    result = permits.claim(step, [need], attempt=1, changes=changes)
    assert (result.outcome, result.full_key) == (Claim.FULL, "db")
    assert store.get_step(f"{LONG}new", "s").status is StepStatus.READY  # type: ignore[union-attr]
    state = permits.state("db")
    # No room for another holder: the key is at its limit for a wake-up.
    assert (state.active, state.limit) == (HOLDERS + 1, HOLDERS + 1)
    assert permits.wait(step, "db", 10_000, now=6)  # it queues as at the limit
    for holder in holders[:8]:  # room for two holders again (HOLDER_ROOM)
        assert permits.release("db", holder)
    assert permits.state("db").limit == 10_000
    waiting = store.get_step(f"{LONG}new", "s")
    assert waiting is not None and waiting.status is StepStatus.WAITING_FOR_PERMITS
    ready = store.transition_step(
        waiting.run_id, "s", expected=frozenset({waiting.status}), attempt=None,
        to=StepStatus.READY, changes={},
    )  # fmt: skip
    assert permits.claim(ready, [need], attempt=1, changes=changes).outcome is Claim.CLAIMED


def test_the_room_left_always_takes_the_largest_holder() -> None:
    """``state`` says a key is at its limit once less than ``HOLDER_ROOM`` is left: a
    woken head's claim (a holder of at most ~1,050 bytes) always fits below DynamoDB's
    400 KB (and moto's 405,000 bytes)."""
    from podium.adapters.dynamo_permits import HOLDER_ROOM, ITEM_BUDGET, item_bytes

    largest = 2 + 64 + 10 * 88 + 1 + 80 + 21 + 2  # h:, run id, /, step, lease, n and lim
    assert largest * 2 <= HOLDER_ROOM
    assert ITEM_BUDGET <= 405_000
    assert item_bytes({"h:a/b": {"N": "1733462412345"}}) == 5 + 8  # 13 digits: 8 bytes


def test_a_step_whose_claim_the_item_cannot_hold_waits_then_runs() -> None:
    """Through the engine: the step waits (WAITING_FOR_PERMITS, nothing dead-lettered)
    and runs once holders give their permits back."""
    wf = {
        "name": "wide_key",
        "steps": [{"id": "load", "type": "noop", "concurrency": {"key": "db", "limit": 10_000}}],
    }
    with LocalRuntime(store="moto", clock=ManualClock(), capture_output=False) as rt:
        rt.push(wf)
        holders = _fill(rt.store._db, TABLE_NAME, "db", 10_000)  # type: ignore[attr-defined]
        run = rt.start_run("wide_key").run_id
        rt.pump()
        load = rt.store.get_step(run, "load")
        assert load is not None and load.status is StepStatus.WAITING_FOR_PERMITS, load
        assert rt.dead_letters() == []
        permits = rt.store.permits()
        for holder in holders[:8]:
            permits.release("db", holder)
        wake_head(rt.services, "db")
        rt.pump()
        assert rt.store.get_run(run).status is RunStatus.SUCCEEDED
        assert rt.dead_letters() == []

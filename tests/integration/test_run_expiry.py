"""Runs expire on DynamoDB: every item of a run carries the table's TTL attribute, set to
its last write plus run_retention_days; nothing else of Podium's is stamped."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium import bootstrap
from podium.adapters.clock import ManualClock
from podium.adapters.table_schema import create_table
from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus
from podium.local.runtime import TABLE_NAME, LocalRuntime

DAY_S = 86_400

WORKFLOW = {
    "name": "expiring",
    "steps": [
        {"id": "first", "type": "noop"},
        {"id": "nap", "type": "sleep", "seconds": 7200, "depends_on": ["first"]},
        {
            "id": "each",
            "type": "foreach",
            "depends_on": ["nap"],
            "over": {"n": [1, 2, 3]},
            "steps": [{"id": "inner", "type": "noop"}],
        },
        {
            "id": "side",
            "type": "lambda",
            "function": "tests.integration.test_run_expiry:fails_once",
            "retries": 1,
            "depends_on": ["first"],
        },
        {"id": "join", "type": "noop", "depends_on": ["each", "side"]},
        {"id": "tail", "type": "noop", "depends_on": ["side"]},  # two sinks: a counter
    ],
}


_CALLS: list[int] = []


def fails_once(event: dict[str, Any]) -> str:
    _CALLS.append(1)
    if len(_CALLS) == 1:
        raise RuntimeError("once")  # a failed attempt: a timeline item
    return "ok"


def _scan(db: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = db.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_every_item_of_a_run_expires_90_days_after_its_last_write() -> None:
    clock = ManualClock()
    started_s = clock.now_ms() // 1000
    with LocalRuntime(store="moto", clock=clock, capture_output=False) as rt:
        view = rt.run(WORKFLOW)
        assert view.run.status is RunStatus.SUCCEEDED
        ended_s = clock.now_ms() // 1000
        assert ended_s - started_s >= 2 * 3600  # the nap moved the clock
        items = _scan(rt.dynamodb, TABLE_NAME)
    run_items = [i for i in items if i["pk"]["S"].startswith("R#")]
    # the run, its steps, the loop's count shard, sink counters, the timelines
    sort_keys = [i["sk"]["S"] for i in run_items]
    assert "#RUN" in sort_keys and "S#each#K00" in sort_keys
    assert any(k.startswith("E#") for k in sort_keys) and any(
        k.startswith("#SINKS") for k in sort_keys
    )
    assert len({i["pk"]["S"] for i in run_items}) == 4  # the run and three iterations
    for item in run_items:
        expires = int(item["expires_at"]["N"])
        assert started_s + 90 * DAY_S <= expires <= ended_s + 90 * DAY_S, item
    top = next(
        i for i in run_items if i["pk"]["S"] == f"R#{view.run.run_id}" and i["sk"]["S"] == "#RUN"
    )
    # the run item goes last: the listing never shows a run whose steps are gone
    assert int(top["expires_at"]["N"]) == max(int(i["expires_at"]["N"]) for i in run_items)
    assert int(top["expires_at"]["N"]) == ended_s + 90 * DAY_S
    first = next(i for i in run_items if i["pk"] == top["pk"] and i["sk"]["S"] == "S#first")
    assert int(first["expires_at"]["N"]) < ended_s + 90 * DAY_S  # kept from its own last write
    # workflows, breakpoints, trigger states and slots are not the run's: they stay
    for item in items:
        if not item["pk"]["S"].startswith(("R#", "SIG")):
            assert "expires_at" not in item, item


@pytest.fixture
def keep_logging() -> Iterator[None]:
    podium_logger = logging.getLogger("podium")
    saved = (list(podium_logger.handlers), podium_logger.propagate, podium_logger.level)
    yield
    podium_logger.handlers, podium_logger.propagate = saved[0], saved[1]
    podium_logger.setLevel(saved[2])


ENV = {
    "PODIUM_TABLE_NAME": "t",
    "PODIUM_WORK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/w",
    "PODIUM_EVENT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/e",
    "AWS_REGION": "us-east-1",
}


def _created_run_expiry(env: dict[str, str]) -> int | None:
    with mock_aws():
        create_table(boto3.client("dynamodb", region_name="us-east-1"), "t")
        services = bootstrap.from_environment(env)
        services.store.create_run(
            RunRecord("r1", "wf", 1, RunStatus.RUNNING, {}, 1000, sinks_total=1)
        )
        item = boto3.client("dynamodb", region_name="us-east-1").get_item(
            TableName="t", Key={"pk": {"S": "R#r1"}, "sk": {"S": "#RUN"}}
        )["Item"]
        return int(item["expires_at"]["N"]) if "expires_at" in item else None


def test_the_deployed_wiring_reads_the_retention_from_the_environment(keep_logging: None) -> None:
    import time

    before = int(time.time())
    expires = _created_run_expiry({**ENV, "PODIUM_RUN_RETENTION_DAYS": "7"})
    assert expires is not None
    assert before + 7 * DAY_S <= expires <= int(time.time()) + 7 * DAY_S
    assert _created_run_expiry(ENV) is None  # run_retention_days=None keeps runs
    for bad in ("seven", "0", "-3", "1.5"):
        with pytest.raises(RuntimeError, match="PODIUM_RUN_RETENTION_DAYS"):
            bootstrap.from_environment({**ENV, "PODIUM_RUN_RETENTION_DAYS": bad})


@pytest.mark.parametrize(
    "expression",
    [
        "SET #n = :one",
        "ADD #n :one",
        "DELETE #rn :set ADD #n :one",  # a placeholder named like the keyword
        "REMOVE #z SET #n = :one",
        "ADD #n :one SET #m = :one REMOVE #z",
    ],
)
def test_stamping_keeps_every_update_expression_valid(expression: str) -> None:
    from podium.adapters.dynamo_expiry import ExpiringRunItems

    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        create_table(db, "t")
        stamped = ExpiringRunItems(db, after_days=3, clock=ManualClock(5_000_000))
        names = {k: k[1:] for k in ("#n", "#m", "#z", "#rn") if k in expression}
        values: dict[str, Any] = {":one": {"N": "1"}}
        if ":set" in expression:
            values[":set"] = {"NS": ["4"]}
        for pk in ("R#run", "W#wf"):
            stamped.update_item(
                TableName="t",
                Key={"pk": {"S": pk}, "sk": {"S": "S#x"}},
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        stamped.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "t",
                        "Key": {"pk": {"S": "R#run"}, "sk": {"S": "S#y"}},
                        "UpdateExpression": expression,
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": values,
                    }
                },
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "R#run"}, "sk": {"S": "E#1"}}}},
            ]
        )
        items = {(i["pk"]["S"], i["sk"]["S"]): i for i in db.scan(TableName="t")["Items"]}
    expires = str(5_000 + 3 * DAY_S)
    for key in (("R#run", "S#x"), ("R#run", "S#y"), ("R#run", "E#1")):
        assert items[key]["expires_at"] == {"N": expires}
        if key[1] != "E#1":
            assert items[key]["n"] == {"N": "1"}
    assert "expires_at" not in items[("W#wf", "S#x")]

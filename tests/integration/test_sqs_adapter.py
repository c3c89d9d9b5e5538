"""The real SQS adapter on moto: batching, delays, and a whole run driven through SQS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium import bootstrap
from podium.adapters.clock import SystemClock, UlidGenerator
from podium.adapters.dynamo_store import DynamoStateStore
from podium.adapters.queues import SqsQueue
from podium.adapters.runners import LocalFunctionRunner, RoutingRunner
from podium.adapters.table_schema import create_table
from podium.core.engine.status import RunStatus
from podium.handlers import advance, work
from podium.service.context import Services
from podium.service.runs import describe_run, start_run
from podium.service.runtimes.registry import RUNTIMES
from podium.service.workflows import push_workflow


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        db = boto3.client("dynamodb", region_name="us-east-1")
        create_table(db, "t")
        urls = {name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("work", "events")}
        yield {"sqs": sqs, "db": db, **urls}


def test_send_many_batches_by_ten_and_delays_are_capped(aws: dict[str, Any]) -> None:
    queue = SqsQueue(aws["sqs"], aws["work"])
    calls: list[str] = []
    aws["sqs"].meta.events.register(
        "before-call.sqs.*", lambda model, **_: calls.append(model.name)
    )
    queue.send_many([{"i": i} for i in range(23)])
    assert calls == ["SendMessageBatch"] * 3
    queue.send({"late": True}, delay_seconds=5000)  # SQS's limit is 900
    got: list[dict[str, Any]] = []
    while True:
        resp = aws["sqs"].receive_message(QueueUrl=aws["work"], MaxNumberOfMessages=10)
        if not resp.get("Messages"):
            break
        got += [json.loads(m["Body"]) for m in resp["Messages"]]
    assert sorted(m["i"] for m in got if "i" in m) == list(range(23))


def test_a_run_driven_through_real_sqs_on_moto(aws: dict[str, Any]) -> None:
    clock = SystemClock()
    ctx = Services(
        runtimes=RUNTIMES,
        store=DynamoStateStore(aws["db"], "t"),
        work_queue=SqsQueue(aws["sqs"], aws["work"]),
        event_queue=SqsQueue(aws["sqs"], aws["events"]),
        runner=RoutingRunner(LocalFunctionRunner(), None),
        clock=clock,
        ids=UlidGenerator(clock),
    )
    bootstrap.install(ctx)
    try:
        push_workflow(
            ctx,
            {
                "name": "via_sqs",
                "steps": [
                    {"id": "a", "type": "noop"},
                    *({"id": f"b{i}", "type": "noop", "depends_on": ["a"]} for i in range(15)),
                    {"id": "c", "type": "noop", "depends_on": [f"b{i}" for i in range(15)]},
                ],
            },
        )
        run = start_run(ctx, "via_sqs")
        for _ in range(50):
            moved = 0
            for url, handler in ((aws["events"], advance.handler), (aws["work"], work.handler)):
                resp = aws["sqs"].receive_message(QueueUrl=url, MaxNumberOfMessages=10)
                records = [
                    {
                        "messageId": m["MessageId"],
                        "receiptHandle": m["ReceiptHandle"],
                        "body": m["Body"],
                        "attributes": {},
                        "messageAttributes": {},
                        "md5OfBody": m["MD5OfBody"],
                        "eventSource": "aws:sqs",
                        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                        "awsRegion": "us-east-1",
                    }
                    for m in resp.get("Messages", [])
                ]
                if not records:
                    continue
                result = handler({"Records": records}, None)
                failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
                for m in resp["Messages"]:
                    if m["MessageId"] not in failed:
                        aws["sqs"].delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                moved += len(records)
            if not moved:
                break
        view = describe_run(ctx, run.run_id)
    finally:
        bootstrap.install(None)
    assert view.run.status is RunStatus.SUCCEEDED
    assert len(view.steps) == 17

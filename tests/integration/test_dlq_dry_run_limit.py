"""``podium dlq redrive --dry-run`` must show what ``podium dlq redrive`` would move.
service/dead_letters.redrive's dry run peeked ``limit`` messages over every DLQ, trigger
DLQ included, and only then dropped the trigger's (which a redrive never moves); the
real redrive spends its ``limit`` on the work and event DLQs alone. With the trigger DLQ
holding ``limit`` or more messages (an outage of the events function fills it fast),
the dry run answered "none" for work dead letters that the redrive then sent back. It
peeks only the redrivable queues now (``peek(limit, redrivable_only=True)``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium.adapters.sqs_dead_letters import SqsDeadLetters
from podium.service.dead_letters import redrive

REGION = "us-east-1"


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def _url(sqs: Any, name: str) -> str:
    return str(sqs.create_queue(QueueName=name)["QueueUrl"])


def test_the_dry_run_lists_the_work_dead_letters_the_redrive_moves(sqs: Any) -> None:
    work, work_dlq = _url(sqs, "work"), _url(sqs, "work-dlq")
    events, event_dlq = _url(sqs, "events"), _url(sqs, "event-dlq")
    trigger_dlq = _url(sqs, "trigger-dlq")
    for i in range(5):  # EventBridge deliveries the events function could not take
        sqs.send_message(
            QueueUrl=trigger_dlq,
            MessageBody=json.dumps({"source": "aws.s3", "detail-type": "Object Created", "n": i}),
        )
    execs = [{"t": "exec", "run": f"run{i}", "step": "a", "attempt": 1} for i in range(2)]
    for body in execs:
        sqs.send_message(QueueUrl=work_dlq, MessageBody=json.dumps(body))
    queues = SqsDeadLetters(
        sqs,
        {"work": (work_dlq, work), "event": (event_dlq, events), "trigger": (trigger_dlq, None)},
    )

    dry = redrive(queues, dry_run=True, limit=5)
    done = redrive(queues, dry_run=False, limit=5)

    moved = sorted(m.summary() for m in done.moved)
    assert moved == ["exec run0/a#1", "exec run1/a#1"]
    # Was: [] — the five trigger dead letters used up the limit before the work DLQ.
    assert sorted(m.summary() for m in dry.moved) == moved

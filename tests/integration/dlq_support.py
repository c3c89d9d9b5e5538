"""A stack's queues on moto for ``podium dlq`` tests (no API: ``podium dlq`` reaches SQS
only), and helpers to fill and count its DLQs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner, Result

from podium.cli.main import app
from tests.integration import remote_support as rs
from tests.integration import test_remote_cli as remote

user = remote.user

STACK = "podium-dlq"
runner = CliRunner()


@pytest.fixture
def stack(user: Path) -> Iterator[dict[str, str]]:
    """The stack's outputs (queue URLs by output key)."""
    with mock_aws():
        cf = boto3.client("cloudformation", region_name=rs.REGION)
        template = rs.stack_template("http://127.0.0.1:9/", "podium-state")
        cf.create_stack(StackName=STACK, TemplateBody=json.dumps(template))
        outputs = cf.describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
        yield {o["OutputKey"]: o["OutputValue"] for o in outputs}


def on_stack(*args: str, input: str | None = None) -> Result:
    return runner.invoke(app, [*args, "--stack", STACK], input=input)


def count(url: str) -> int:
    """Messages in the queue, visible or not."""
    sqs = boto3.client("sqs", region_name=rs.REGION)
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def fill(url: str, bodies: list[dict[str, Any]]) -> None:
    sqs = boto3.client("sqs", region_name=rs.REGION)
    for i in range(0, len(bodies), 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(j), "MessageBody": json.dumps(b)}
                for j, b in enumerate(bodies[i : i + 10])
            ],
        )


def execs(n: int, prefix: str = "run") -> list[dict[str, Any]]:
    return [{"t": "exec", "run": f"{prefix}{i}", "step": "a", "attempt": 1} for i in range(n)]

"""`podium runs logs` of a lambda step whose function was a bare name with a qualifier
(``load:prod``, a form adapters/function_allowlist.py documents and Lambda's Invoke
takes) looked for the log group ``/aws/lambda/load:prod``, which no function has: Lambda
writes an alias's or a version's invocations to its function's group,
``/aws/lambda/load``. ``log_group_of`` now drops the qualifier of every form (name, ARN,
partial ARN), and the reader finds the lines there (moto)."""

from __future__ import annotations

import time

import boto3
import pytest
from moto import mock_aws

from podium.adapters.cloudwatch_logs import CloudWatchLogReader, log_group_of

ACCOUNT = "123456789012"


@pytest.mark.parametrize(
    "function",
    [
        "load",
        "load:prod",
        "load:7",
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:load",
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:load:prod",
        f"{ACCOUNT}:function:load",
        f"{ACCOUNT}:function:load:prod",
    ],
)
def test_every_form_of_a_function_names_its_functions_log_group(function: str) -> None:
    assert log_group_of(function) == "/aws/lambda/load"


@mock_aws
def test_the_logs_of_an_alias_named_by_a_bare_name_are_read_from_its_functions_group() -> None:
    now = int(time.time() * 1000)  # CloudWatch refuses events older than 14 days
    logs = boto3.client("logs", region_name="us-east-1")
    logs.create_log_group(logGroupName="/aws/lambda/load")
    logs.create_log_stream(logGroupName="/aws/lambda/load", logStreamName="s")
    lines = ["START RequestId: r1 Version: 3", "loaded 12 rows", "END RequestId: r1"]
    logs.put_log_events(
        logGroupName="/aws/lambda/load",
        logStreamName="s",
        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(lines)],
    )
    text = CloudWatchLogReader(logs).read("load:prod", "r1", now, now + 10)
    assert "loaded 12 rows" in text

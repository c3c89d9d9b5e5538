"""A lambda step whose function is of another region (invoked through that region's
client since session 22) logs in that region: `podium runs logs` read the deployment
region's log group and found none. The reader asks the function's region (moto)."""

from __future__ import annotations

import time
from typing import Any

import boto3
from moto import mock_aws

from podium.adapters.cloudwatch_logs import CloudWatchLogReader

FAR = "arn:aws:lambda:eu-west-1:123456789012:function:far"


@mock_aws
def test_the_logs_of_a_function_of_another_region_are_read_there() -> None:
    now = int(time.time() * 1000)  # CloudWatch refuses events older than 14 days
    far = boto3.client("logs", region_name="eu-west-1")
    far.create_log_group(logGroupName="/aws/lambda/far")
    far.create_log_stream(logGroupName="/aws/lambda/far", logStreamName="s")
    lines = ["START RequestId: r1 Version: 1", "far away", "END RequestId: r1"]
    far.put_log_events(
        logGroupName="/aws/lambda/far",
        logStreamName="s",
        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(lines)],
    )
    made: list[str] = []

    def client_for_region(region: str) -> Any:
        made.append(region)
        return boto3.client("logs", region_name=region)

    reader = CloudWatchLogReader(boto3.client("logs", region_name="us-east-1"), client_for_region)
    text = reader.read(FAR, "r1", now, now + 10)
    assert "far away" in text
    reader.read(FAR, "r1", now, now + 10)
    assert made == ["eu-west-1"]  # made once

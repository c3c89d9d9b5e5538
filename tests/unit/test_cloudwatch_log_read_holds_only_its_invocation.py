"""adapters/cloudwatch_logs.py read a log back from its END line (``_tail``)
when the read from its START stopped early. The read back took the last 10,000 lines
of the stream up to the END line, and cut them only after that END: it never cut at
the invocation's START, so a short invocation whose forward read was stopped by the
deadline (a slow FilterLogEvents search used the 20 s) is shown with the lines of the
warm function's earlier invocations in front of it, under a header saying it printed
"more than the 0 lines read"."""

from __future__ import annotations

import time

import boto3
from moto import mock_aws

from podium.adapters.cloudwatch_logs import CloudWatchLogReader
from tests.unit.test_cloudwatch_log_reading_pages_and_tail import EmptyFilterPages

GROUP = "/aws/lambda/etl"


class SlowSearch(EmptyFilterPages):
    """FilterLogEvents answers empty pages with a token ``empty`` times (documented),
    and the clock says the read's deadline passed once the START line is found."""

    def monotonic(self) -> float:
        return 0.0 if self.filter_calls <= self.empty else 25.0


@mock_aws
def test_a_read_back_from_the_end_holds_no_earlier_invocation() -> None:
    """`podium runs logs` of request r1 (3 lines) whose START search took the read's
    20 s showed r0's lines (another invocation of the warm function) before r1's START.
    Should: the read back is cut at r1's START line (or the forward read gets at least
    one page), so only r1's lines are shown."""
    now = int(time.time() * 1000)
    logs = boto3.client("logs", region_name="us-east-1")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="s")
    lines = [
        "START RequestId: r0 Version: $LATEST",
        "r0's line",
        "END RequestId: r0",
        "START RequestId: r1 Version: $LATEST",
        "hello",
        "END RequestId: r1",
    ]
    logs.put_log_events(
        logGroupName=GROUP,
        logStreamName="s",
        logEvents=[{"timestamp": now, "message": m} for m in lines],
    )
    client = SlowSearch(logs, empty=3)
    text = CloudWatchLogReader(client, monotonic=client.monotonic).read("etl", "r1", now, now + 10)
    assert "r0's line" not in text, text

"""Reading a deployed lambda step's log (``podium runs logs --stack``, ``GET
/runs/{id}/steps/{step}/logs``) through adapters/cloudwatch_logs.py, on moto's
CloudWatch Logs: the START line's search took one empty FilterLogEvents page for "no
log lines", and a long log was silently cut to its first 10,000 lines."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium.adapters import cloudwatch_logs
from podium.adapters.cloudwatch_logs import CloudWatchLogReader, LogsNotFound

GROUP = "/aws/lambda/etl"


def _put(logs: Any, stream: str, lines: list[str], at: int) -> None:
    logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    for start in range(0, len(lines), 5_000):  # PutLogEvents takes 10,000 at most
        logs.put_log_events(
            logGroupName=GROUP,
            logStreamName=stream,
            logEvents=[{"timestamp": at, "message": m} for m in lines[start : start + 5_000]],
        )


def _group() -> tuple[Any, int]:
    now = int(time.time() * 1000)  # CloudWatch refuses events older than 14 days
    logs = boto3.client("logs", region_name="us-east-1")
    logs.create_log_group(logGroupName=GROUP)
    return logs, now


class EmptyFilterPages:
    """CloudWatch Logs as its FilterLogEvents is documented to answer: "This operation can
    return empty results while there are more log events available through the token"
    (it searches the group's streams a chunk at a time; a busy function's group has many
    streams in the window). The first ``empty`` pages are empty with a ``nextToken``;
    then moto's answer."""

    def __init__(self, client: Any, empty: int) -> None:
        self._client = client
        self.empty = empty
        self.filter_calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def filter_log_events(self, **kwargs: Any) -> dict[str, Any]:
        self.filter_calls += 1
        if self.filter_calls <= self.empty:
            return {"events": [], "searchedLogStreams": [], "nextToken": "more-streams"}
        kwargs.pop("nextToken", None)
        return dict(self._client.filter_log_events(**kwargs))


def _invocation(lines: int) -> list[str]:
    out = ["START RequestId: r1 Version: $LATEST"]
    out += [f"line {n}" for n in range(lines)]
    out += ["Traceback: ValueError: the real error", "END RequestId: r1"]
    # A warm function's stream goes on with its next invocation.
    return [*out, "START RequestId: r2 Version: $LATEST", "not r1's", "END RequestId: r2"]


@mock_aws
def test_empty_filter_pages_are_not_taken_for_no_logs() -> None:
    """`podium runs logs` of a deployed step answered "no log lines of request r1 in
    /aws/lambda/etl (kept by the group's retention?)" whenever FilterLogEvents' first
    page came back empty with a nextToken: the reader asked once and never followed the
    token. It pages on until it finds the START line."""
    logs, now = _group()
    _put(logs, "s", ["START RequestId: r1 Version: $LATEST", "hello", "END RequestId: r1"], now)
    client = EmptyFilterPages(logs, empty=3)
    try:
        text = CloudWatchLogReader(client).read("etl", "r1", now, now + 10)
    except LogsNotFound as exc:
        pytest.fail(f"after {client.filter_calls} FilterLogEvents call(s): {exc}")
    assert text == "START RequestId: r1 Version: $LATEST\nhello\nEND RequestId: r1\n"
    assert client.filter_calls == 4


@mock_aws
def test_a_search_that_hits_its_bound_says_so() -> None:
    """A search that never finds the START line within its pages says it stopped (not
    that the group's retention dropped the lines), after a bounded number of calls."""
    logs, now = _group()
    _put(logs, "s", ["START RequestId: r1 Version: $LATEST", "END RequestId: r1"], now)
    client = EmptyFilterPages(logs, empty=10**6)
    with pytest.raises(LogsNotFound, match="the search stopped") as raised:
        CloudWatchLogReader(client).read("etl", "r1", now, now + 10)
    assert "retention" not in str(raised.value)
    assert client.filter_calls == cloudwatch_logs.MAX_FILTER_PAGES


@mock_aws
def test_a_search_past_its_deadline_stops() -> None:
    """Following the token has a deadline too (the API answers within 29 s): a slow
    search stops at READ_SECONDS and says so."""
    logs, now = _group()
    _put(logs, "s", ["START RequestId: r1 Version: $LATEST", "END RequestId: r1"], now)
    client = EmptyFilterPages(logs, empty=10**6)
    ticks = iter(range(0, 10**6, 5))  # 5 s a call
    reader = CloudWatchLogReader(client, monotonic=lambda: float(next(ticks)))
    with pytest.raises(LogsNotFound, match="the search stopped"):
        reader.read("etl", "r1", now, now + 10)
    assert client.filter_calls <= cloudwatch_logs.READ_SECONDS / 5 + 1


@mock_aws
def test_a_log_longer_than_10000_lines_keeps_its_tail_and_says_so() -> None:
    """An invocation that printed 12,000 lines read back as its first 10,000 (the
    reader's MAX_EVENTS) with nothing that said the rest, its END line and the
    traceback that usually ends a failed attempt's log, were left out. It keeps the
    last 10,000 and says how many lines were left out."""
    logs, now = _group()
    _put(logs, "s", _invocation(12_000), now)
    text = CloudWatchLogReader(logs).read("etl", "r1", now, now + 10)
    lines = text.rstrip("\n").split("\n")
    assert lines[0].startswith("[2,003 lines left out: the first of 12,003;"), lines[0]
    assert lines[-2:] == ["Traceback: ValueError: the real error", "END RequestId: r1"]
    assert len(lines) == 1 + cloudwatch_logs.MAX_EVENTS
    assert "not r1's" not in text


@mock_aws
def test_a_log_past_the_read_bound_is_read_back_from_its_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A log too long to read from its start within the read's pages is read back from
    its END line: its last lines, saying lines were left out."""
    monkeypatch.setattr(cloudwatch_logs, "MAX_READ_PAGES", 1)
    logs, now = _group()
    _put(logs, "s", _invocation(25_000), now)
    text = CloudWatchLogReader(logs).read("etl", "r1", now, now + 10)
    lines = text.rstrip("\n").split("\n")
    assert lines[0].startswith("[lines left out:"), lines[0]
    assert lines[-2:] == ["Traceback: ValueError: the real error", "END RequestId: r1"]
    assert "not r1's" not in text

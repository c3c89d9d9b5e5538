"""What a deployed lambda step printed: the lines of its function's CloudWatch log
stream for one invocation, from ``START RequestId: <id>`` to ``END RequestId: <id>``
(print() lines carry no request id, so filtering on the id alone would miss them).

A long log is kept by its tail, as the console keeps a long local log: the END line and
the traceback that ends a failed attempt are what a reader needs; a first line says how
many lines were left out."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from podium.adapters.regional_clients import RegionalClients
from podium.core.engine.errors import NotFound

MAX_EVENTS = 10_000  # lines kept (the last ones) of one invocation
# FilterLogEvents searches a group's streams a chunk at a time and "can return empty
# results while there are more log events available through the token": the search for
# a START (or END) line follows the token, within these bounds.
MAX_FILTER_PAGES = 100
# GetLogEvents answers up to 10,000 lines (1 MB) a page: about 500,000 lines read.
MAX_READ_PAGES = 50
# The whole read, within API Gateway's 29 s (the API function answers `podium runs logs`).
READ_SECONDS = 20.0
MARGIN_MS = 60_000  # an invocation's lines around the attempt's recorded start and end


class LogsNotFound(NotFound):
    pass


def log_group_of(function: str) -> str:
    """``/aws/lambda/<name>`` for a name, an ARN or a partial ARN, each with an optional
    qualifier (``name:prod``, ``arn:...:function:<name>:prod``,
    ``123456789012:function:<name>:7``): Lambda writes an alias's or a version's
    invocations to its function's log group."""
    name = function.split(":function:", 1)[1] if ":function:" in function else function
    return f"/aws/lambda/{name.split(':', 1)[0]}"


class _Search:
    """One read's budget: FilterLogEvents pages and a deadline."""

    def __init__(self, logs: Any, group: str, deadline: float, now: Callable[[], float]) -> None:
        self.logs, self.group, self.deadline, self._now = logs, group, deadline, now
        self.pages = 0

    def over(self) -> bool:
        return self._now() >= self.deadline

    def find(self, pattern: str, start_ms: int, end_ms: int, **scope: Any) -> dict[str, Any] | None:
        """The first event matching ``pattern``, or None when the search ran out (of
        tokens: there is none) or, raising LogsNotFound, of its bounds."""
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "logGroupName": self.group,
                "filterPattern": pattern,
                "startTime": max(0, start_ms),
                "endTime": end_ms,
                "limit": 1,
                **scope,
            }
            if token:
                kwargs["nextToken"] = token
            self.pages += 1
            page = self.logs.filter_log_events(**kwargs)
            events = page.get("events", [])
            if events:
                return dict(events[0])
            token = page.get("nextToken")
            if not token:
                return None
            if self.pages >= MAX_FILTER_PAGES or self.over():
                raise LogsNotFound(
                    f"{pattern} not found in {self.group} within {self.pages} search pages"
                    f" ({READ_SECONDS:g} s at most): the search stopped before CloudWatch"
                    " had looked through all of the group's streams; look for it in the"
                    " CloudWatch console"
                )


class CloudWatchLogReader:
    """Reads a function's log group in the function's own region (a cross-region ARN's
    logs are there), through a client of that region made once by ``client_for_region``."""

    def __init__(
        self,
        client: Any,
        client_for_region: Callable[[str], Any] | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clients = RegionalClients(client, client_for_region)
        self._now = monotonic

    def read(self, function: str, request_id: str, start_ms: int, end_ms: int) -> str:
        group = log_group_of(function)
        logs = self._clients.for_function(function)
        search = _Search(logs, group, self._now() + READ_SECONDS, self._now)
        try:
            found = search.find(
                f'"START RequestId: {request_id}"', start_ms - MARGIN_MS, end_ms + MARGIN_MS
            )
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") == (
                "ResourceNotFoundException"
            ):
                raise LogsNotFound(f"no log group {group}") from None
            raise
        if found is None:
            raise LogsNotFound(
                f"no log lines of request {request_id} in {group} (kept by the group's retention?)"
            )
        stream, start = found["logStreamName"], found["timestamp"]
        end_line = f"END RequestId: {request_id}"
        kept: deque[str] = deque(maxlen=MAX_EVENTS)
        seen, token, pages = 0, None, 0
        start_line = f"START RequestId: {request_id}"
        # The read begins at START's millisecond: lines of an earlier invocation in that
        # millisecond come first, and are not this one's.
        begun = False
        # At least one page, however long the search for START took: a short
        # invocation is whole in it (the read back below takes what came before too).
        while pages < MAX_READ_PAGES and (pages == 0 or not search.over()):
            kwargs: dict[str, Any] = {
                "logGroupName": group,
                "logStreamName": stream,
                "startTime": start,
                "startFromHead": True,
            }
            if token:
                kwargs["nextToken"] = token
            page = logs.get_log_events(**kwargs)
            pages += 1
            for event in page.get("events", []):
                message = str(event.get("message", ""))
                begun = begun or message.startswith(start_line)
                if not begun:
                    continue
                kept.append(message.rstrip("\n"))
                seen += 1
                if message.startswith(end_line):
                    return _text(kept, seen)
            next_token = page.get("nextForwardToken")
            if not page.get("events") or next_token == token:
                return _text(kept, seen)  # the stream ends here (an invocation cut off)
            token = next_token
        tail = _tail(search, stream, start, end_ms + MARGIN_MS, end_line, request_id)
        if tail is None:  # no END line to read back from: what was read, and say so
            return (
                f"[the read stopped after {seen:,} lines ({pages} pages): the rest of this"
                f" invocation is in stream {stream} of {group}]\n" + _text(kept, seen)
            )
        return (
            f"[lines left out: this invocation printed more than the {seen:,} lines read"
            f" from its start ({pages} pages); these are its last {len(tail):,}]\n"
            + "\n".join(tail)
            + "\n"
        )


def _text(kept: deque[str], seen: int) -> str:
    cut = seen - len(kept)
    head = f"[{cut:,} lines left out: the first of {seen:,}; the last {len(kept):,} follow]\n"
    return (head if cut else "") + "\n".join(kept) + "\n"


def _tail(
    search: _Search, stream: str, start: int, end_ms: int, end_line: str, request_id: str
) -> list[str] | None:
    """The last lines of an invocation too long to read from its start: read back from
    its END line (a warm function's stream goes on with its next invocations, and held
    its earlier ones before: cut at this one's START when the page reaches it)."""
    try:
        found = search.find(f'"{end_line}"', start, end_ms, logStreamNames=[stream])
    except LogsNotFound:
        return None
    if found is None:
        return None
    page = search.logs.get_log_events(
        logGroupName=search.group,
        logStreamName=stream,
        endTime=int(found["timestamp"]) + 1,  # exclusive: the END line's millisecond too
        startFromHead=False,
        limit=MAX_EVENTS,
    )
    lines = [str(e.get("message", "")).rstrip("\n") for e in page.get("events", [])]
    ends = [i for i, line in enumerate(lines) if line.startswith(end_line)]
    if not ends:
        return None
    lines = lines[: ends[-1] + 1]
    starts = [
        i for i, line in enumerate(lines) if line.startswith(f"START RequestId: {request_id}")
    ]
    return lines[starts[-1] :] if starts else lines

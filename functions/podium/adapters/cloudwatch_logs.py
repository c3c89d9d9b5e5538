"""What a deployed lambda step printed: the lines of its function's CloudWatch log
stream for one invocation, from ``START RequestId: <id>`` to ``END RequestId: <id>``
(print() lines carry no request id, so filtering on the id alone would miss them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from podium.adapters.regional_clients import RegionalClients
from podium.core.engine.errors import NotFound

MAX_EVENTS = 10_000


class LogsNotFound(NotFound):
    pass


def log_group_of(function: str) -> str:
    """``/aws/lambda/<name>`` for a name, an ARN or a partial ARN, each with an optional
    qualifier (``name:prod``, ``arn:...:function:<name>:prod``,
    ``123456789012:function:<name>:7``): Lambda writes an alias's or a version's
    invocations to its function's log group."""
    name = function.split(":function:", 1)[1] if ":function:" in function else function
    return f"/aws/lambda/{name.split(':', 1)[0]}"


class CloudWatchLogReader:
    """Reads a function's log group in the function's own region (a cross-region ARN's
    logs are there), through a client of that region made once by ``client_for_region``."""

    def __init__(self, client: Any, client_for_region: Callable[[str], Any] | None = None) -> None:
        self._clients = RegionalClients(client, client_for_region)

    def read(self, function: str, request_id: str, start_ms: int, end_ms: int) -> str:
        group = log_group_of(function)
        logs = self._clients.for_function(function)
        try:
            found = logs.filter_log_events(
                logGroupName=group,
                filterPattern=f'"START RequestId: {request_id}"',
                startTime=max(0, start_ms - 60_000),
                endTime=end_ms + 60_000,
                limit=1,
            ).get("events", [])
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") == (
                "ResourceNotFoundException"
            ):
                raise LogsNotFound(f"no log group {group}") from None
            raise
        if not found:
            raise LogsNotFound(
                f"no log lines of request {request_id} in {group} (kept by the group's retention?)"
            )
        stream, start = found[0]["logStreamName"], found[0]["timestamp"]
        lines: list[str] = []
        token: str | None = None
        end_line = f"END RequestId: {request_id}"
        while len(lines) < MAX_EVENTS:
            kwargs: dict[str, Any] = {
                "logGroupName": group,
                "logStreamName": stream,
                "startTime": start,
                "startFromHead": True,
            }
            if token:
                kwargs["nextToken"] = token
            page = logs.get_log_events(**kwargs)
            for event in page.get("events", []):
                message = str(event.get("message", ""))
                lines.append(message.rstrip("\n"))
                if message.startswith(end_line):
                    return "\n".join(lines) + "\n"
            next_token = page.get("nextForwardToken")
            if not page.get("events") or next_token == token:
                break
            token = next_token
        return "\n".join(lines) + "\n"

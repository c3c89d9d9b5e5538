"""Recurring schedules of cron and rate triggers.

``SchedulerSchedules``: one EventBridge Scheduler schedule per trigger of a workflow's
active version, in Podium's group, sending its message to the event queue with the
scheduled time filled in by Scheduler (``<aws.scheduler.scheduled-time>``).
``MemorySchedules``: kept in a dict; locally ``podium dev`` fires them (``due``).
"""

from __future__ import annotations

import json
import threading
from typing import Any

from botocore.exceptions import ClientError

from podium.adapters.timers import SchedulerTarget
from podium.core.engine.schedule import Cron, cron_times, iso, rate_times
from podium.core.ports import SCHEDULED_TIME, ScheduleSpec


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class SchedulerSchedules:
    def __init__(self, scheduler: Any, *, group: str, target: SchedulerTarget) -> None:
        self._scheduler = scheduler
        self._group = group
        self._target = target

    def _request(self, spec: ScheduleSpec) -> dict[str, Any]:
        window: dict[str, Any] = {"Mode": "OFF"}
        if spec.flexible_minutes:
            window = {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": spec.flexible_minutes}
        request: dict[str, Any] = {
            "Name": spec.name,
            "GroupName": self._group,
            "ScheduleExpression": spec.expression,
            "ScheduleExpressionTimezone": spec.timezone,
            "FlexibleTimeWindow": window,
            "State": "ENABLED",
            # A lost delivery is retried (the run id makes a repeat harmless), then put
            # on the event queue's DLQ when the construct names one.
            "Target": self._target.request(json.dumps(spec.message, separators=(",", ":"))),
        }
        # No StartDate: Scheduler refuses one more than 5 minutes in the past (an update
        # of an older trigger's schedule would carry one); a rate counts from creation.
        return request

    def put(self, spec: ScheduleSpec) -> None:
        request = self._request(spec)
        try:
            self._scheduler.create_schedule(**request)
        except ClientError as exc:
            if _code(exc) != "ConflictException":
                raise
            self._scheduler.update_schedule(**request)

    def delete(self, name: str) -> None:
        try:
            self._scheduler.delete_schedule(Name=name, GroupName=self._group)
        except ClientError as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise

    def get(self, name: str) -> ScheduleSpec | None:
        try:
            got = self._scheduler.get_schedule(Name=name, GroupName=self._group)
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                return None
            raise
        window = got.get("FlexibleTimeWindow") or {}
        return ScheduleSpec(
            name=name,
            expression=got["ScheduleExpression"],
            timezone=got.get("ScheduleExpressionTimezone") or "UTC",
            message=json.loads(got["Target"]["Input"]),
            flexible_minutes=int(window.get("MaximumWindowInMinutes") or 0),
        )


class MemorySchedules:
    """Schedules in memory; ``due`` gives the messages of the times passed since the
    last call (``podium dev`` and tests fire them)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._specs: dict[str, ScheduleSpec] = {}
        self._last: dict[str, int] = {}

    def put(self, spec: ScheduleSpec) -> None:
        with self._lock:
            self._specs[spec.name] = spec

    def delete(self, name: str) -> None:
        with self._lock:
            self._specs.pop(name, None)
            self._last.pop(name, None)

    def get(self, name: str) -> ScheduleSpec | None:
        with self._lock:
            return self._specs.get(name)

    def due(
        self, now_ms: int, *, since_ms: int | None = None, latest_only: bool = False
    ) -> list[dict[str, Any]]:
        """Messages of every scheduled time in (last look, now], oldest first. The first
        look at a schedule starts from ``since_ms`` (default: now: nothing is due).

        ``latest_only``: each schedule's latest time alone. Scheduler delivers a time as
        it comes and never a backlog; a looker that slept (a laptop's ``podium dev``
        overnight) leaves the times it slept through to the trigger's ``catchup``,
        which the latest one's firing applies."""
        out: list[tuple[int, dict[str, Any]]] = []
        with self._lock:
            specs = list(self._specs.values())
            for spec in specs:
                after = self._last.get(spec.name, since_ms if since_ms is not None else now_ms)
                self._last[spec.name] = max(after, now_ms)
                times = times_of(spec, after, now_ms)
                for at in times[-1:] if latest_only else times:
                    out.append((at, with_time(spec.message, at)))
        return [m for _, m in sorted(out, key=lambda p: p[0])]


def times_of(spec: ScheduleSpec, after_ms: int, until_ms: int) -> list[int]:
    """The times a schedule fires in (after, until]."""
    if spec.rate_minutes is not None:
        return rate_times(spec.rate_minutes, spec.start_ms or 0, after_ms, until_ms)
    if spec.cron is not None:
        return cron_times(Cron.parse(spec.cron), spec.timezone, after_ms, until_ms)
    return []


def with_time(message: dict[str, Any], at_ms: int) -> dict[str, Any]:
    """The message as Scheduler delivers it: the scheduled time in place."""
    return {k: (iso(at_ms) if v == SCHEDULED_TIME else v) for k, v in message.items()}

"""A step's attempts, as its records tell them: one question (which attempts did this
step have, and how did each end), asked by the console, the CLI's timeline and the logs
endpoint alike, so they never list different attempts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from podium.core.engine.records import StepRecord, TimelineEvent
from podium.core.engine.status import StepStatus


@dataclass(frozen=True)
class Attempt:
    attempt: int
    status: str
    started_at: int | None
    ended_at: int | None
    error: str | None
    delay_seconds: int | None = None  # the backoff after it, when it was retried
    error_detail: dict[str, Any] | None = None  # type, message, traceback (when recorded)


def attempts_of(step: StepRecord, events: list[TimelineEvent]) -> list[Attempt]:
    """Earlier attempts come from their "retry" timeline items, or from their "failed"
    item when they failed for good and an operator retried the step in place (``steps
    retry`` on a FAILED step while its run still runs: no "retry" item was written for
    that attempt); the last one from the step itself (with the structured error of its
    "failed" item, when it has one).

    A "failed" item has the attempt's end (its time) but its start only when it was
    recorded with one: an earlier attempt without a start is listed (its error, its
    traceback) with no bar in the Gantt."""
    earlier: dict[int, Attempt] = {}
    retries = [e for e in events if e.kind == "retry"]
    failed = {e.attempt: e for e in events if e.kind == "failed"}
    for ev in sorted(retries, key=lambda e: (e.attempt or 0, e.at)):
        number = ev.attempt or 0
        if number in earlier:
            continue
        detail = ev.detail or {}
        earlier[number] = Attempt(
            number,
            "RETRIED",
            detail.get("started_at"),
            detail.get("ended_at", ev.at),
            detail.get("error"),
            detail.get("delay_seconds"),
            detail.get("error_detail"),
        )
    for at, ev in failed.items():
        if at is None or at >= step.attempt or at in earlier:
            continue
        detail = ev.detail or {}
        earlier[at] = Attempt(
            at,
            StepStatus.FAILED.value,
            detail.get("started_at"),
            detail.get("ended_at", ev.at),
            detail.get("error"),
            error_detail=detail.get("error_detail"),
        )
    out = [earlier[n] for n in sorted(earlier)]
    if step.attempt > 0 and step.attempt not in earlier:
        last = failed.get(step.attempt)
        out.append(
            Attempt(
                step.attempt,
                step.status.value,
                step.started_at,
                step.ended_at,
                step.error,
                error_detail=(last.detail or {}).get("error_detail") if last else None,
            )
        )
    return out

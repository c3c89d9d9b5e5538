"""``podium runs timeline``: a terminal Gantt of every attempt of a run.

Drawn from the run's JSON view (the API's ``GET /runs/{id}`` body, or the same view built
from the local home), so local and remote runs look alike. The timeline is derived, as
the engine stores it: a step item carries its current attempt's times, each retry left
an event with the failed attempt's start, end and backoff, and an attempt that failed
for good (then retried in place by an operator) its ``failed`` event. Segments:

  ``░`` queued (ready, or due again, and not started yet)    ``█`` running
  ``·`` backoff before the next attempt                       colour: how it ended
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from podium.cli.remote_render import STEP_STYLE, timestamp
from podium.cli.render import _ms
from podium.core.engine import attempt_history
from podium.core.engine.records import StepRecord, TimelineEvent
from podium.core.engine.status import StepStatus

BAR_WIDTH = 60
QUEUED, RUNNING, BACKOFF = "░", "█", "·"


@dataclass(frozen=True)
class Attempt:
    step: str
    attempt: int
    status: str
    queued_at: int | None  # ready (or due again) from
    started_at: int | None
    ended_at: int | None
    backoff_until: int | None = None  # a failed attempt that was retried
    error: str | None = None

    def view(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "attempt": self.attempt,
            "status": self.status,
            "queued_at": self.queued_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "backoff_until": self.backoff_until,
            "error": self.error,
        }


def attempts_of(body: Mapping[str, Any]) -> list[Attempt]:
    """Every attempt of every step, in step order then attempt order.

    Which attempts a step had is decided in one place, the console's too
    (``attempt_history.attempts_of``, from the step and its timeline items: a retried
    attempt's ``retry`` item, and the ``failed`` item of one that failed for good before
    an operator retried the step in place), made here from the same records as the run's
    JSON view carries them, local or remote. The CLI's words: a retried attempt is
    FAILED (LOST when the sweeper reclaimed it), and a step not started yet is one row,
    queued."""
    by_step: dict[str, list[TimelineEvent]] = {}
    for ev in body.get("events") or []:
        if ev.get("step"):
            by_step.setdefault(str(ev["step"]), []).append(_event(ev))
    out: list[Attempt] = []
    for s in body.get("steps") or []:
        name = str(s.get("step"))
        events = by_step.get(name, [])
        lost = {e.attempt for e in events if e.kind == "reclaim"}
        queued_from = s.get("ready_at")
        record = _step(s)
        listed = attempt_history.attempts_of(record, events)
        for a in listed:
            ended = a.ended_at
            backoff = None
            if a.delay_seconds is not None and ended is not None:
                backoff = ended + a.delay_seconds * 1000
            status = a.status
            if status == "RETRIED":
                status = "LOST" if a.attempt in lost else "FAILED"
            elif a.attempt == record.attempt and status == record.status.value:
                status = str(s.get("status"))  # the step's own, as the stack said it
            out.append(
                Attempt(name, a.attempt, status, queued_from, a.started_at, ended, backoff, a.error)
            )
            queued_from = backoff
        if not listed:  # not started yet: its wait is drawn
            out.append(
                Attempt(
                    name,
                    int(s.get("attempts") or 0),
                    str(s.get("status")),
                    queued_from,
                    s.get("started_at"),
                    s.get("ended_at"),
                    None,
                    s.get("error"),
                )
            )
    return out


def _event(ev: Mapping[str, Any]) -> TimelineEvent:
    """A timeline item of the view, as the record it shows (its id is not shown)."""
    return TimelineEvent(
        "",
        int(ev.get("at") or 0),
        "",
        str(ev.get("kind")),
        step=ev.get("step"),
        attempt=ev.get("attempt"),
        detail=dict(ev.get("detail") or {}),
    )


def _step(s: Mapping[str, Any]) -> StepRecord:
    """A step of the view, as the record it shows (what the attempt list reads of it)."""
    try:
        status = StepStatus(str(s.get("status")))
    except ValueError:  # a status this CLI does not know (a newer stack's)
        status = StepStatus.PENDING
    return StepRecord(
        "",
        str(s.get("step")),
        status,
        attempt=int(s.get("attempts") or 0),
        ready_at=s.get("ready_at"),
        started_at=s.get("started_at"),
        ended_at=s.get("ended_at"),
        error=s.get("error"),
    )


def _span(body: Mapping[str, Any], attempts: list[Attempt], now: int) -> tuple[int, int]:
    run = body.get("run") or {}
    times = [
        t
        for a in attempts
        for t in (a.queued_at, a.started_at, a.ended_at, a.backoff_until)
        if t is not None
    ]
    start = min([run.get("started_at") or run.get("created_at") or now, *times])
    end = max([run.get("ended_at") or start, *times])
    if not run.get("ended_at") and any(a.started_at and not a.ended_at for a in attempts):
        end = max(end, now)  # something is still running
    return start, max(end, start + 1)


def bar(a: Attempt, start: int, end: int, width: int = BAR_WIDTH, now: int = 0) -> Text:
    scale = width / (end - start)

    def col(t: int) -> int:
        return min(width, max(0, int((t - start) * scale)))

    cells = [" "] * width
    styles = [""] * width

    def paint(t0: int | None, t1: int | None, char: str, style: str) -> None:
        if t0 is None:
            return
        a, b = col(t0), col(t1 if t1 is not None else max(t0, now))
        b = max(b, a + 1)  # anything that happened gets one cell at least
        for i in range(a, min(b, width)):
            cells[i], styles[i] = char, style

    style = STEP_STYLE.get(a.status, "magenta" if a.status == "LOST" else "")
    if a.queued_at is not None and (a.started_at is None or a.started_at > a.queued_at):
        paint(a.queued_at, a.started_at, QUEUED, "dim")
    paint(a.started_at, a.ended_at, RUNNING, style or "white")
    if a.backoff_until is not None and a.ended_at is not None:
        paint(a.ended_at, a.backoff_until, BACKOFF, "yellow")
        if a.started_at is not None:
            paint(a.started_at, a.ended_at, RUNNING, style or "white")
    text = Text()
    for char, st in zip(cells, styles, strict=True):
        text.append(char, style=st)
    return text


def bar_width(attempts: list[Attempt], console_width: int) -> int:
    """What is left of the terminal for the bars after the other columns (16 at least)."""
    name = min(30, max((len(a.step) for a in attempts), default=4))
    others = name + 2 + 9 + 11 + 9 + 9 + 7  # #, status, start, took, borders and padding
    return max(16, min(BAR_WIDTH * 2, console_width - others))


def timeline(
    body: Mapping[str, Any], now: int, width: int = BAR_WIDTH, max_rows: int = 200
) -> Group:
    run = body.get("run") or {}
    attempts = attempts_of(body)
    hidden = 0
    if len(attempts) > max_rows:
        # Large runs: every attempt that failed first, then the earliest of the rest.
        bad = [a for a in attempts if a.status not in ("SUCCEEDED", "SKIPPED", "PENDING")]
        rest = [a for a in attempts if a not in bad]
        keep = set(map(id, (bad + rest)[:max_rows]))
        hidden = len(attempts) - len(keep)
        attempts = [a for a in attempts if id(a) in keep]
    start, end = _span(body, attempts, now)
    table = Table(
        title=(
            f"{run.get('workflow')} v{run.get('version')} · run {run.get('run_id')}"
            f" · {run.get('status')}"
        ),
        title_justify="left",
        caption=(
            f"{timestamp(start)} UTC → +{_ms(end - start)}   {QUEUED} queued  {RUNNING} running"
            f"  {BACKOFF} backoff"
        ),
        caption_justify="left",
    )
    name = min(30, max((len(a.step) for a in attempts), default=4))
    table.add_column("step", no_wrap=True, min_width=name, overflow="ellipsis")
    for col in ("#", "status", "start", "took"):
        table.add_column(col, no_wrap=True)
    table.add_column("timeline", no_wrap=True, min_width=width)
    for a in attempts:
        took = (
            a.ended_at - a.started_at
            if a.ended_at is not None and a.started_at is not None
            else None
        )
        table.add_row(
            a.step,
            str(a.attempt),
            Text(a.status, style=STEP_STYLE.get(a.status, "")),
            _ms(a.started_at - start if a.started_at is not None else None),
            _ms(took),
            bar(a, start, end, width, now),
        )
    if hidden:
        table.caption = f"{table.caption}\n{hidden} more attempts not shown (use --json for all)"
    return Group(table)

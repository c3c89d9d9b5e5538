"""Rich rendering of runs: live progress, the final step table, a text timeline."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from podium.core.engine.records import StepRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.engine.trigger_events import MAX_CHAIN
from podium.service.loop_views import loop_counts
from podium.service.runs import RunView

STATUS_STYLE = {
    StepStatus.SUCCEEDED: "green",
    StepStatus.FAILED_IGNORED: "yellow",
    StepStatus.FAILED: "bold red",
    StepStatus.TIMED_OUT: "red",
    StepStatus.STOPPED: "red",
    StepStatus.SKIPPED: "dim",
    StepStatus.RUNNING: "cyan",
    StepStatus.RETRY_WAIT: "yellow",
    StepStatus.READY: "blue",
}
RUN_STYLE = {RunStatus.SUCCEEDED: "bold green", RunStatus.FAILED: "bold red"}
MAX_TABLE_ROWS = 60


def _ms(value: int | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.3f}s" if value < 60_000 else f"{value / 60_000:.1f}m"


def chain_text(chain: Any) -> str | None:
    """A run's place down a chain of ``bus: podium`` triggers, as the run views say it
    ("chain 3 of 10"); None for a run no such trigger started (or a view without it)."""
    if isinstance(chain, bool) or not isinstance(chain, int) or chain <= 0:
        return None
    return f"chain {chain} of {MAX_CHAIN}"


def _names(steps: list[str], most: int = 4) -> str:
    return ", ".join(steps[:most]) + (f" +{len(steps) - most}" if len(steps) > most else "")


def progress(view: RunView, now: int | None = None) -> Text:
    """One line of counts, then the steps running and retrying (next attempt, last error)."""
    counts = Counter(s.status for s in view.steps)
    total = len(view.step_order)
    done = sum(n for status, n in counts.items() if status.terminal)
    parts = [f"{view.run.workflow} {view.run.run_id}  {done}/{total} steps done"]
    for status, n in sorted(counts.items(), key=lambda kv: kv[0].value):
        parts.append(f"{status.value.lower()} {n}")
    text = Text("  ·  ".join(parts), style=RUN_STYLE.get(view.run.status, ""))
    running = [s.step for s in view.steps if s.status is StepStatus.RUNNING]
    if running:
        text.append(f"\n  running: {_names(running)}", style="cyan")
    for s in view.steps:
        children = loop_counts(s)
        if children is not None:  # a loop step: its iterations by state
            text.append(f"\n  {s.step}: {loop_line(children)}", style="dim")
    for s in [s for s in view.steps if s.status is StepStatus.RETRY_WAIT][:4]:
        due = getattr(s, "due_at", None)
        when = f" in {_ms(max(0, due - now))}" if due is not None and now is not None else ""
        text.append(f"\n  retrying: {s.step} attempt {s.attempt + 1}{when}", style="yellow")
        if s.error:
            text.append(f" (last error: {s.error[:100]})", style="dim")
    return text


def _reason_or_loop(s: StepRecord) -> Text:
    counts = loop_counts(s)
    if counts is not None:  # a loop step: its iterations by state
        return Text(loop_line(counts), style="dim")
    return Text(s.reason or "", style="dim")


def loop_line(counts: dict[str, int]) -> str:
    """A loop step's iterations: "3 running · 10 succeeded · 1 failed"."""
    parts = [f"{counts[k]} {k}" for k in ("running", "succeeded", "failed", "stopped") if counts[k]]
    return " · ".join(parts) or "0 iterations"


def step_table(view: RunView, always: frozenset[str] = frozenset()) -> Table:
    """``always``: step ids shown even when a large run's table is cut (joins, sinks)."""
    run = view.run
    table = Table(title=f"{run.workflow} v{run.version} · run {run.run_id}", title_justify="left")
    for col in ("step", "status", "attempts", "start", "duration", "error / reason"):
        table.add_column(col, no_wrap=col != "error / reason", overflow="fold")
    t0 = run.started_at or run.created_at
    rows = view.steps
    hidden = 0
    if len(rows) > MAX_TABLE_ROWS:
        # Large runs: show every step that needs attention, then a sample of the rest.
        attention = [
            s
            for s in rows
            if s.status.failure
            or s.error
            or s.status is StepStatus.RETRY_WAIT
            or s.step.split("/", 1)[0] in always
        ]
        marked = {id(s) for s in attention}
        rest = [s for s in rows if id(s) not in marked]
        sample = {id(s) for s in rest[: max(0, MAX_TABLE_ROWS - len(attention))]}
        keep = [s for s in rows if id(s) in marked or id(s) in sample]  # in run order
        hidden = len(rows) - len(keep)
        rows = keep
    for s in rows:
        start = s.started_at - t0 if s.started_at is not None else None
        duration = (
            s.ended_at - s.started_at
            if s.ended_at is not None and s.started_at is not None
            else None
        )
        table.add_row(
            s.step,
            Text(s.status.value, style=STATUS_STYLE.get(s.status, "")),
            str(s.attempt),
            _ms(start),
            _ms(duration),
            # An error is red; a reason (why a step was skipped or waits) is not an error.
            Text(s.error, style="red") if s.error else _reason_or_loop(s),
        )
    if hidden:
        table.caption = f"{hidden} more steps not shown (use --json for all)"
    return table


def summary(
    view: RunView, real_ms: int | None = None, always: frozenset[str] = frozenset()
) -> Group:
    """The step table and a line on the run. ``real_ms``: the wall-clock time it took,
    given when sleeps and delays were fast-forwarded (the run's own times are virtual)."""
    run = view.run
    elapsed = (run.ended_at - run.started_at) if run.ended_at and run.started_at else None
    line = Text(
        f"run {run.status.value.lower()}" + (f" in {_ms(elapsed)}" if elapsed else ""),
        style=RUN_STYLE.get(run.status, "bold"),
    )
    chain = chain_text(run.chain)
    if chain is not None:  # started by a bus: podium trigger, this far down a chain
        line.append(f"  · {chain}", style="dim")
    if real_ms is not None and elapsed is not None and elapsed > real_ms + 1000:
        line.append(
            f" of virtual time ({_ms(real_ms)} real: sleeps and retry delays were"
            " fast-forwarded; --real-time waits)",
            style="dim",
        )
    if run.error:
        line.append(f"  ({run.error})", style="red")
    if run.reason:
        line.append(f"  ({run.reason})", style="yellow")
    if view.waiting:
        line.append(f"  waiting: {view.waiting}", style="yellow")
    return Group(step_table(view, always), line)


def view_json(view: RunView) -> dict[str, Any]:
    from podium.service.views import event_view, run_view, step_view

    return {
        "run": {**run_view(view.run), "waiting": view.waiting},
        "steps": [step_view(s) for s in view.steps],
        "events": [event_view(e) for e in view.events],
    }

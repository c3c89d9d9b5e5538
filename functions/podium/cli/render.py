"""Rich rendering of runs: live progress, the final step table, a text timeline."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from podium.core.engine.status import RunStatus, StepStatus
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


def progress(view: RunView) -> Text:
    counts = Counter(s.status for s in view.steps)
    total = len(view.step_order)
    done = sum(n for status, n in counts.items() if status.terminal)
    parts = [f"{view.run.workflow} {view.run.run_id}  {done}/{total} steps done"]
    for status, n in sorted(counts.items(), key=lambda kv: kv[0].value):
        parts.append(f"{status.value.lower()} {n}")
    return Text("  ·  ".join(parts), style=RUN_STYLE.get(view.run.status, ""))


def step_table(view: RunView) -> Table:
    run = view.run
    table = Table(title=f"{run.workflow} v{run.version} · run {run.run_id}", title_justify="left")
    for col in ("step", "status", "attempts", "start", "duration", "error"):
        table.add_column(col, no_wrap=col != "error", overflow="fold")
    t0 = run.started_at or run.created_at
    rows = view.steps
    hidden = 0
    if len(rows) > MAX_TABLE_ROWS:
        # Large runs: show every step that needs attention, then a sample of the rest.
        attention = [s for s in rows if s.status.failure or s.error]
        rest = [s for s in rows if s not in attention]
        keep = attention + rest[: max(0, MAX_TABLE_ROWS - len(attention))]
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
            s.error or (s.reason or ""),
        )
    if hidden:
        table.caption = f"{hidden} more steps not shown (use --json for all)"
    return table


def summary(view: RunView) -> Group:
    run = view.run
    elapsed = (run.ended_at - run.started_at) if run.ended_at and run.started_at else None
    line = Text(
        f"run {run.status.value.lower()}" + (f" in {_ms(elapsed)}" if elapsed else ""),
        style=RUN_STYLE.get(run.status, "bold"),
    )
    if run.error:
        line.append(f"  ({run.error})", style="red")
    if run.reason:
        line.append(f"  ({run.reason})", style="yellow")
    if view.waiting:
        line.append(f"  waiting: {view.waiting}", style="yellow")
    return Group(step_table(view), line)


def view_json(view: RunView) -> dict[str, Any]:
    from podium.service.views import event_view, run_view, step_view

    return {
        "run": {**run_view(view.run), "waiting": view.waiting},
        "steps": [step_view(s) for s in view.steps],
        "events": [event_view(e) for e in view.events],
    }

"""Rich rendering of the API's JSON views (runs and steps of a deployed stack).

``render`` draws local ``RunView`` records; these helpers draw the same tables from the
JSON that ``handlers.api`` returns, so ``podium runs show`` looks like ``podium run``.
Unknown statuses (a newer server) are shown unstyled rather than rejected. What users and
their steps wrote (errors, reasons, outputs, values) goes in as ``Text``: a ``str`` cell
is rich markup, where "[/dev/sda1]" is a traceback and "[old]" vanishes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from podium.cli.render import MAX_TABLE_ROWS, RUN_STYLE, STATUS_STYLE, _ms, chain_text

STEP_STYLE = {status.value: style for status, style in STATUS_STYLE.items()}
RUN_STATUS_STYLE = {status.value: style for status, style in RUN_STYLE.items()}
FAILURE_STATUSES = {"FAILED", "TIMED_OUT", "STOPPED"}
OUTPUT_WIDTH = 60


def timestamp(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _elapsed(start: int | None, end: int | None) -> int | None:
    return end - start if start is not None and end is not None else None


def _compact(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text if len(text) <= OUTPUT_WIDTH else text[: OUTPUT_WIDTH - 1] + "…"


# The view's markers (service.loop_views): a value shown cut, values stored apart.
CUT_KEY, STORED_KEY = "$cut", "$stored"


def value_text(value: Any, width: int = OUTPUT_WIDTH) -> str:
    """One loop value as a table shows it: a string as it is, others as compact JSON,
    cut to ``width``; a value the view cut shows its start and its size (or why)."""
    if isinstance(value, dict) and CUT_KEY in value:
        preview = str(value.get("preview") or "")
        start = preview[: width - 1] + "… " if preview else ""
        chars = value.get("chars")
        why = f"{chars:,} characters, cut" if isinstance(chars, int) else value[CUT_KEY]
        return f"{start}({why})"
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    )
    return text if len(text) <= width else text[: width - 1] + "…"


def values_text(values: Mapping[str, Any] | None, width: int = OUTPUT_WIDTH) -> str:
    """An iteration's values: ``k=v, ...``, or what a marker of them all says (stored
    apart, or too big to show whole)."""
    if not values:
        return ""
    if STORED_KEY in values:
        return str(values[STORED_KEY])
    if CUT_KEY in values:
        return value_text(values, width)
    return ", ".join(f"{k}={value_text(v, width)}" for k, v in values.items())


def runs_table(workflow: str, runs: Iterable[Mapping[str, Any]]) -> Table:
    table = Table(title=f"runs of {workflow} (newest first)", title_justify="left")
    for col in ("run", "status", "version", "trigger", "created (UTC)", "duration", "error"):
        table.add_column(col, no_wrap=col != "error", overflow="fold")
    for r in runs:
        table.add_row(
            str(r.get("run_id")),
            Text(str(r.get("status")), style=RUN_STATUS_STYLE.get(r.get("status", ""), "")),
            str(r.get("version")),
            str(r.get("trigger") or ""),
            timestamp(r.get("created_at")),
            _ms(_elapsed(r.get("started_at"), r.get("ended_at"))),
            Text(r.get("error") or ""),
        )
    return table


def _rows_to_show(steps: list[Mapping[str, Any]]) -> tuple[list[Mapping[str, Any]], int]:
    if len(steps) <= MAX_TABLE_ROWS:
        return steps, 0
    # Large runs: every step that needs attention first, then a sample of the rest.
    attention = [s for s in steps if s.get("status") in FAILURE_STATUSES or s.get("error")]
    rest = [s for s in steps if s not in attention]
    keep = attention + rest[: max(0, MAX_TABLE_ROWS - len(attention))]
    return keep, len(steps) - len(keep)


def step_table(run: Mapping[str, Any], steps: list[Mapping[str, Any]]) -> Table:
    table = Table(
        title=f"{run.get('workflow')} v{run.get('version')} · run {run.get('run_id')}",
        title_justify="left",
    )
    with_output = any(s.get("output") is not None for s in steps)
    columns = ["step", "status", "attempts", "start", "duration", "error / reason"]
    for col in [*columns, *(["output"] if with_output else [])]:
        table.add_column(col, no_wrap=col not in ("error / reason", "output"), overflow="fold")
    t0 = run.get("started_at") or run.get("created_at")
    rows, hidden = _rows_to_show(steps)
    for s in rows:
        status = str(s.get("status"))
        cells: list[str | Text] = [
            str(s.get("step")),
            Text(status, style=STEP_STYLE.get(status, "")),
            str(s.get("attempts", 0)),
            _ms(_elapsed(t0, s.get("started_at"))),
            _ms(s.get("duration_ms")),
            Text(s.get("error") or s.get("reason") or ""),
        ]
        if with_output:
            cells.append(Text(_compact(s.get("output"))))
        table.add_row(*cells)
    if hidden:
        table.caption = f"{hidden} more steps not shown (use --json for all)"
    return table


def run_summary(run: Mapping[str, Any]) -> Text:
    status = str(run.get("status"))
    elapsed = _elapsed(run.get("started_at"), run.get("ended_at"))
    line = Text(
        f"run {status.lower()}" + (f" in {_ms(elapsed)}" if elapsed is not None else ""),
        style=RUN_STATUS_STYLE.get(status, "bold"),
    )
    line.append(
        f"  · created {timestamp(run.get('created_at'))} UTC by {run.get('trigger')}", style="dim"
    )
    chain = chain_text(run.get("chain"))
    if chain is not None:  # started by a bus: podium trigger, this far down a chain
        line.append(f"\n{chain} (runs started in a row by bus: podium triggers)", style="dim")
    if run.get("params"):
        line.append(f"\nparams: {json.dumps(run['params'], sort_keys=True)}")
    iteration = run.get("iteration")
    if iteration:  # a loop's iteration: its values whole (the iterations table cuts them)
        line.append(f"\n{_iteration_line(run, iteration)}")
    if run.get("tags"):
        tags = " ".join(f"{k}={v}" for k, v in sorted(run["tags"].items()))
        line.append(f"\ntags: {tags}")
    if run.get("error"):
        line.append(f"\nerror: {run['error']}", style="red")
    if run.get("reason"):
        line.append(f"\nreason: {run['reason']}")
    if run.get("waiting"):
        line.append(f"\nwaiting: {run['waiting']}", style="yellow")
    return line


def _iteration_line(run: Mapping[str, Any], iteration: Mapping[str, Any]) -> str:
    head = f"iteration {iteration.get('index')} of {run.get('parent_step')}"
    values = iteration.get("values") or {}
    if STORED_KEY in values:
        return f"{head}: {values[STORED_KEY]}"
    if CUT_KEY in values:
        return f"{head}: {values[CUT_KEY]}\n{values.get('preview') or ''}"
    shown = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
    return f"{head}: {shown}"


def action_log(events: list[Mapping[str, Any]], run: Mapping[str, Any]) -> Text | None:
    """Who acted on the run (stop, pause, restart, skip ...), when and why."""
    lines = Text()
    if run.get("restart_of"):
        since = f" from {run['restart_from']}" if run.get("restart_from") else ""
        lines.append(f"restart of run {run['restart_of']}{since}\n", style="dim")
    for e in events:
        if e.get("kind") != "action":
            continue
        d = e.get("detail") or {}
        what = f"{d.get('action')}" + (f" {e['step']}" if e.get("step") else "")
        lines.append(f"{timestamp(e.get('at'))} UTC  {what} by {d.get('by')}")
        if d.get("reason"):
            lines.append(f": {d['reason']}", style="dim")
        if d.get("new_run"):
            lines.append(f" -> run {d['new_run']}")
        lines.append("\n")
    return lines if lines.plain else None


def run_detail(body: Mapping[str, Any]) -> Group:
    run = body.get("run") or {}
    parts: list[Any] = [step_table(run, list(body.get("steps") or [])), run_summary(run)]
    actions = action_log(list(body.get("events") or []), run)
    if actions is not None:
        parts.append(actions)
    return Group(*parts)


def print_waiting(out: Console, body: Mapping[str, Any]) -> None:
    """Under ``podium runs show``: the steps waiting for a callback, with their token
    and the command that answers them."""
    running = {
        (s.get("step"), s.get("attempts"))
        for s in body.get("steps") or []
        if s.get("status") == "RUNNING"
    }
    for event in body.get("events") or []:
        if event.get("kind") != "callback_token":
            continue
        if (event.get("step"), event.get("attempt")) not in running:
            continue
        detail = event.get("detail") or {}
        what = detail.get("message") or "waits for a callback"
        out.print(
            Text.assemble(
                (f"\n{event.get('step')}", "bold yellow"),
                f" {what}\n  podium callback {detail.get('token')} --success JSON",
                " | --fail MESSAGE" + (" --by NAME" if detail.get("type") == "approval" else ""),
            ),
            highlight=False,
        )

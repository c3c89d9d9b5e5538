"""``podium runs ...`` against the local home (the SQLite file ``podium run`` writes).

Each command opens the home from a new process, reads, and renders the same JSON views
the deployed API returns, so a local run looks like a remote one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.text import Text

from podium.cli.local_home import Home, print_missing_home
from podium.cli.output import err as _err
from podium.cli.output import out as _out
from podium.cli.output import print_json as _print_json
from podium.cli.remote_render import (
    RUN_STATUS_STYLE,
    _elapsed,
    print_waiting,
    run_detail,
    runs_table,
    timestamp,
    values_text,
)
from podium.cli.render import _ms, loop_line
from podium.cli.timeline import attempts_of, bar_width
from podium.cli.timeline import timeline as draw_timeline
from podium.core.engine.errors import RunNotFound
from podium.core.engine.status import RunStatus, StepStatus

if TYPE_CHECKING:
    from podium.core.engine.actions import ChildOf

FAILED_RUN = frozenset({RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.STOPPED})
# ASCII digits only (``\d`` took ``٣``). 13 already reach back past 1970 (everything), so
# 24 leave room for a "999...9w" meaning everything; more is a paste gone wrong, refused
# before int() (which refuses more than 4,300 digits).
_MAX_DURATION_DIGITS = 24
_DURATION = re.compile(rf"^([0-9]{{1,{_MAX_DURATION_DIGITS}}})\s*(s|m|h|d|w)$")
_LONG_DURATION = re.compile(r"^[0-9]+\s*[smhdw]$")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def parse_since(value: str, now_ms: int, option: str = "--since") -> int:
    """``30m``, ``2h``, ``7d`` (ago), or a date / ISO time (UTC unless it says otherwise).
    Anything else is a usage error (exit 2) naming ``option``."""
    text = value.strip()
    match = _DURATION.match(text.lower())
    if match:  # further back than 1970 is everything
        return max(0, now_ms - int(match.group(1)) * _UNIT_MS[match.group(2)])
    if _LONG_DURATION.match(text.lower()):
        raise typer.BadParameter(
            f"a duration of {len(text.rstrip('smhdwSMHDW ')):,} digits: write at most"
            f" {_MAX_DURATION_DIGITS} (30m, 2h, 7d), or a date/time (2026-01-15T10:00)",
            param_hint=option,
        )
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        shown = value if len(value) <= 60 else value[:60] + "..."
        raise typer.BadParameter(
            f"{shown!r}: use a duration ago (30m, 2h, 7d) or a date/time (2026-01-15T10:00)",
            param_hint=option,
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def parse_statuses(
    values: list[str] | None, option: str = "--status"
) -> frozenset[RunStatus] | None:
    if not values:
        return None
    out = set()
    for value in values:
        for part in value.split(","):
            name = part.strip().upper()
            if not name:
                continue
            try:
                out.add(RunStatus(name))
            except ValueError:
                known = ", ".join(s.value.lower() for s in RunStatus)
                raise typer.BadParameter(
                    f"unknown status {part!r} (one of: {known})", param_hint=option
                ) from None
    return frozenset(out) or None


def no_runs(
    workflow: str | None,
    statuses: frozenset[RunStatus] | None,
    since: str | None,
    tags: dict[str, str] | None,
    where: Path | None = None,
    *,
    older: bool = False,
) -> str:
    """What an empty listing says: "yet" only when nothing filtered the runs out and
    the list started at the newest run; ``older``: a --next page, after a run (past
    the last one, or its older runs pruned since), which is no news of the workflow."""
    what = f"{'older ' if older else ''}runs{f' of {workflow}' if workflow else ''}"
    place = f" in {where}" if where is not None else ""
    if not statuses and not since and not tags:
        return f"no {what}{place}{'' if older else ' yet'}"
    said = []
    if statuses:
        said.append("status " + " or ".join(sorted(s.value for s in statuses)))
    if since:
        said.append(f"created since {since}")
    if tags:
        said.append("tags " + ", ".join(f"{k}={v}" for k, v in sorted(tags.items())))
    return f"no {what}{place} match ({'; '.join(said)})"


def list_runs(
    home_dir: Path | None,
    workflow: str | None,
    statuses: list[str] | None,
    since: str | None,
    limit: int,
    as_json: bool,
    tags: dict[str, str] | None = None,
    next_page: str | None = None,
    more_hint: Callable[[str], str] | None = None,
) -> None:
    from podium.service.views import run_view, runs_token

    wanted = parse_statuses(statuses)
    before = runs_page_token(next_page, workflow)  # exit 2: a token of no such list
    with Home(home_dir) as home:
        if not home.exists:
            # Every run of a home where nothing ran: none. A workflow named: not there,
            # as a named workflow the home lacks below.
            if as_json and workflow is None:
                _print_json({"runs": []})
            else:
                print_missing_home(home)
            if workflow is not None:
                raise typer.Exit(1)
            return
        if workflow is not None:
            _known_workflow(home, workflow)
        since_ms = parse_since(since, home.clock.now_ms()) if since is not None else None
        runs = home.store.search_runs(
            workflow, statuses=wanted, since=since_ms, tags=tags, limit=limit + 1, before=before
        )
    more = len(runs) > limit  # one more read than shown: older runs match too
    runs = runs[:limit]
    body: dict[str, Any] = {"runs": [run_view(r) for r in runs]}
    if more:
        # Names the workflow whose list it pages: another workflow's list refuses it.
        body["next"] = runs_token((runs[-1].created_at, runs[-1].run_id), workflow)
    if as_json:
        _print_json(body)
    elif not runs:
        said = no_runs(workflow, wanted, since, tags, where=home.path, older=before is not None)
        _out().print(said, highlight=False)
    elif workflow:
        _out().print(runs_table(workflow, body["runs"]))
    else:
        out = _out()
        out.print(_all_runs_table(body["runs"], out.width))
    if more and not as_json and more_hint is not None:
        _err().print(more_hint(body["next"]), style="dim", highlight=False)


def _known_workflow(home: Home, workflow: str) -> None:
    """A workflow the home has; else "not found" with what it has (the nearest), exit 1,
    as the other local commands and the API's 404 say it (it listed "no runs of TYPO in
    HOME yet", exit 0, as if the workflow existed and had not run)."""
    from podium.core.engine.errors import WorkflowNotFound

    try:
        home.store.active_version(workflow)
    except WorkflowNotFound as exc:
        _err().print(Text(str(exc), style="bold red"), highlight=False)
        raise typer.Exit(1) from None


def runs_page_token(token: str | None, workflow: str | None = None) -> tuple[int, str] | None:
    """The ``(created_at, run_id)`` a runs list's ``--next`` token names; exit 2 (usage)
    for one that names none, or one of another workflow's list than ``workflow``'s (read
    as a place in this one, it skipped every run newer than the other list's last)."""
    from podium.service.views import BadStepsToken, OtherListsToken, parse_runs_token

    if token is None:
        return None
    try:
        return parse_runs_token(token, workflow)
    except OtherListsToken:
        _err().print(
            Text(
                f"--next: a page token of another workflow's runs list, not of {workflow}'s:"
                f" use the one `podium runs list {workflow}` printed, or leave --next out"
                " to start from the newest",
                "red",
            ),
            highlight=False,
        )
        raise typer.Exit(2) from None
    except BadStepsToken:
        _err().print(
            Text("--next: not a page token of a runs list: use the one a list printed", "red")
        )
        raise typer.Exit(2) from None


def _all_runs_table(runs: list[dict[str, Any]], width: int = 200) -> Any:
    """The runs of every workflow: the remote table with a workflow column. Errors get a
    column when a run has one and the terminal has room; else a line each below."""
    from rich.table import Table

    failed = [r for r in runs if r.get("error")]
    with_error = bool(failed) and width >= 120
    table = Table(title="runs (newest first)", title_justify="left")
    table.add_column("run", no_wrap=True, min_width=26)
    table.add_column("workflow", no_wrap=True, overflow="ellipsis", min_width=10)
    table.add_column("status", no_wrap=True, min_width=9)
    table.add_column("created (UTC)", no_wrap=True, min_width=14)
    table.add_column("took", no_wrap=True, min_width=7)
    if with_error:
        table.add_column("error", no_wrap=True, overflow="ellipsis", max_width=width - 95)
    for r in runs:
        created = timestamp(r.get("created_at"))
        cells: list[Any] = [
            str(r["run_id"]),
            f"{r['workflow']} v{r['version']}",
            Text(str(r["status"]), style=RUN_STATUS_STYLE.get(r["status"], "")),
            created[5:] if len(created) > 5 else created,  # the year is noise
            _ms(_elapsed(r.get("started_at"), r.get("ended_at"))),
        ]
        if with_error:
            cells.append(Text(r.get("error") or ""))  # a str cell is markup
        table.add_row(*cells)
    if with_error or not failed:
        return table
    from rich.console import Group

    lines = [Text(f"{r['run_id']}: {r['error']}", style="red") for r in failed]
    return Group(table, *lines)


def _open_run(home: Home, run_id: str) -> dict[str, Any]:
    if not home.exists:
        print_missing_home(home)
        raise typer.Exit(1)
    try:
        return home.run_body(run_id)
    except RunNotFound:
        _err().print(Text(f"run '{run_id}' not found in {home.path}", style="bold red"))
        raise typer.Exit(1) from None


def show_run(home_dir: Path | None, run_id: str, as_json: bool) -> None:

    with Home(home_dir) as home:
        body = _open_run(home, run_id)
        _read_iteration(home, body["run"])
        traces = {
            (e.step, e.attempt): e.text for e in home.logs.read(run_id) if e.stream == "traceback"
        }
    if as_json:
        _print_json(with_counts(body))
    else:
        out = _out()
        out.print(run_detail(body))
        print_waiting(out, body)
        _print_problems(out, body, traces)
        if traces:
            out.print(
                Text(f"what the steps printed: podium runs logs {run_id} [STEP]", style="dim"),
                highlight=False,
            )
    raise typer.Exit(run_exit_code(body))


def run_exit_code(body: dict[str, Any]) -> int:
    """``podium runs show``'s exit code, the same from the home and from a stack: 1 for a
    run that failed, timed out or was stopped (docs/operations.md), else 0. (A stack's
    answered 0 for any run it could show.)"""
    return 1 if str(body["run"]["status"]) in {s.value for s in FAILED_RUN} else 0


def with_counts(body: dict[str, Any]) -> dict[str, Any]:
    """A run's ``--json``, the same fields from the home and from a stack: ``steps_total``
    (the steps shown: all of them, as the CLI reads every page) and ``events_omitted``
    (the older events a stack's answer left out past its 2 MB; 0 when none, and always
    0 from a home, which keeps every event). The home's answer had neither, and a
    stack's said ``events_omitted`` only when some were."""
    return {
        **body,
        "steps_total": body.get("steps_total", len(body.get("steps") or [])),
        "events_omitted": body.get("events_omitted", 0),
    }


def _read_iteration(home: Home, run: dict[str, Any]) -> None:
    """An iteration's values stored apart, read back: the run's view shows them whole."""
    from podium.service.loop_views import STORED_KEY, iteration_section

    if STORED_KEY not in (run.get("iteration") or {}).get("values", {}):
        return
    run["iteration"] = iteration_section(home.store.get_run(run["run_id"]), home.services.payloads)


def show_step(
    home_dir: Path | None,
    run_id: str,
    step: str,
    as_json: bool,
    page: LoopPage | None = None,
) -> None:
    """One step in detail: every attempt, the error with its traceback, the whole output
    and what it printed; a loop step's iterations a page at a time. Exit code 1 when
    the step failed."""
    from rich.json import JSON
    from rich.table import Table

    with Home(home_dir) as home:
        run_id, step = step_in_home(home, run_id, step)  # LOOP/INDEX/STEP: where it ran
        body = _open_run(home, run_id)
        entries = home.logs.read(run_id, step)
        view = next((s for s in body.get("steps") or [] if s.get("step") == step), None)
        if view is not None and view.get("output") is not None:
            view = {**view, "output": home.output(view["output"])}
        loop = None
        from podium.service.loop_views import BadPageToken, has_iterations, iterations

        # A loop's iterations (an empty loop's too); a subworkflow step has none.
        if view is not None and has_iterations(home.services, run_id, step):
            page = page or LoopPage()
            try:
                loop = iterations(
                    home.services,
                    run_id,
                    step,
                    token=page.token,
                    limit=page.limit,
                    failed_only=page.failed_only,
                )
            except BadPageToken as exc:
                _err().print(Text(f"--next: {exc}", style="bold red"))
                raise typer.Exit(2) from None
    if view is None:
        _err().print(Text(f"run {run_id} has no step '{step}' (yet)", style="bold red"))
        raise typer.Exit(1)
    attempts = [a.view() for a in attempts_of(body) if a.step == step]
    logs: list[dict[str, Any]] = [
        {"attempt": e.attempt, "stream": e.stream, "at": e.at, "text": e.text} for e in entries
    ]
    failed = str(view.get("status")) in ("FAILED", "TIMED_OUT", "STOPPED")
    if as_json:
        extra = {"iterations": loop["iterations"], "next": loop["next"]} if loop else {}
        _print_json({"run": body["run"], "step": view, "attempts": attempts, "logs": logs, **extra})
        raise typer.Exit(1 if failed else 0)
    out = _out()
    run = body["run"]
    out.print(
        Text.assemble(
            (f"{step}", "bold"),
            f" · run {run_id} of {run.get('workflow')} v{run.get('version')} · ",
            (str(view.get("status")), "red" if failed else "green"),
        ),
        highlight=False,
    )
    if view.get("reason"):
        out.print(Text(f"reason: {view['reason']}", style="dim"), highlight=False)
    table = Table(title="attempts", title_justify="left")
    for col in ("#", "status", "queued", "started (UTC)", "took", "error"):
        table.add_column(col, no_wrap=col != "error", overflow="fold")
    for a in attempts:
        queued = (
            a["started_at"] - a["queued_at"]
            if a["started_at"] is not None and a["queued_at"] is not None
            else None
        )
        took = (
            a["ended_at"] - a["started_at"]
            if a["ended_at"] is not None and a["started_at"] is not None
            else None
        )
        table.add_row(
            str(a["attempt"]),
            str(a["status"]),
            _ms(queued),
            timestamp(a["started_at"]),
            _ms(took),
            Text(a["error"] or ""),
        )
    out.print(table)
    if loop is not None:
        out.print(iterations_table(loop, run_id, page))
    for e in logs:
        if e["stream"] == "traceback":
            out.print(Text(f"traceback of attempt {e['attempt']}:", style="bold red"))
            out.print(Text(e["text"].rstrip("\n"), style="dim"), highlight=False, markup=False)
    if view.get("output") is not None:
        out.print(Text("output:", style="bold"))
        output = view["output"]
        if isinstance(output, str):
            out.print(Text(output), highlight=False, markup=False)
        else:
            out.print(JSON.from_data(output, default=str))
    printed = sorted({e["stream"] for e in logs} & {"stdout", "stderr"})
    if printed:
        out.print(
            Text(f"it printed to {' and '.join(printed)}: podium runs logs {run_id} {step}"),
            style="dim",
            highlight=False,
        )
    raise typer.Exit(1 if failed else 0)


@dataclass(frozen=True)
class LoopPage:
    """Which iterations of a loop step to list: from a ``next`` token, how many, and
    whether only the failed ones."""

    token: str | None = None
    limit: int = 50
    failed_only: bool = False


def _no_iterations(loop: dict[str, Any]) -> str:
    """Why a loop lists no iteration, as the console says it: "none yet" said some might
    come of a loop that had ended (an answer without the step's status, from an older
    API, still says it)."""
    status = loop.get("status")
    try:
        ended = StepStatus(str(status)).terminal
    except ValueError:
        ended = False
    if not ended:
        return "none yet"
    if status != "SUCCEEDED":
        return "none: the step ended before starting any"
    if loop.get("type") == "while":
        return "none: the condition was false before the first one"
    return "none: the loop had nothing to iterate over"


def iterations_table(loop: dict[str, Any], run_id: str, page: LoopPage | None = None) -> Any:
    """The iterations of a page; its caption the command for the next page, with the
    options of this one (``--failed-only``, ``--limit``: a page token is only where the
    scan goes on from, and without them the next page listed every iteration)."""
    from rich.table import Table

    counts = loop["counts"]
    title = "iterations · " + (loop_line(counts) if counts else _no_iterations(loop))
    table = Table(title=title, title_justify="left")
    for col in ("index", "values", "status", "took", "error"):
        table.add_column(col, no_wrap=col != "error", overflow="fold")
    for it in loop["iterations"]:
        values = values_text(it["values"])
        table.add_row(
            str(it["index"]),
            Text(values),
            it["status"],
            _ms(it["duration_ms"]),
            Text(it["error"] or ""),
        )
    if loop["next"] is not None:
        kept = ""
        if page is not None and page.failed_only:
            kept += " --failed-only"
        if page is not None and page.limit != LoopPage.limit:
            kept += f" --limit {page.limit}"
        table.caption = (
            f"more: podium runs show {run_id} --step {loop['step']} --next {loop['next']}{kept}"
        )
    return table


def _print_problems(
    out: Console, body: dict[str, Any], traces: dict[tuple[str, int], str] | None = None
) -> None:
    """Every failed attempt with its whole error (the table cuts long ones)."""
    retries = [e for e in body.get("events") or [] if e.get("kind") in ("retry", "reclaim")]
    failed = [s for s in body.get("steps") or [] if s.get("error")]
    if not retries and not failed:
        return
    out.print(Text("\nerrors", style="bold"))
    for ev in retries:
        detail = ev.get("detail") or {}
        delay = detail.get("delay_seconds")
        again = f" (retried after {delay}s)" if delay is not None else ""
        out.print(
            Text.assemble(
                (f"  {ev.get('step')} attempt {ev.get('attempt')}", "yellow"),
                f" {ev.get('kind')}{again}: ",
                str(detail.get("error") or ""),
            ),
            highlight=False,
        )
    for s in failed:
        out.print(
            Text.assemble(
                (f"  {s.get('step')} attempt {s.get('attempts')}", "red"),
                f" {str(s.get('status')).lower()}: ",
                str(s.get("error")),
            ),
            highlight=False,
        )
        trace = (traces or {}).get((str(s.get("step")), int(s.get("attempts") or 0)))
        if trace:
            indented = "\n".join("    " + line for line in trace.rstrip("\n").splitlines())
            out.print(Text(indented, style="dim"), highlight=False, markup=False)


def timeline(home_dir: Path | None, run_id: str, as_json: bool) -> None:

    with Home(home_dir) as home:
        body = _open_run(home, run_id)
        now = home.clock.now_ms()
    if as_json:
        _print_json({"run": body["run"], "attempts": [a.view() for a in attempts_of(body)]})
    else:
        out = _out()
        out.print(draw_timeline(body, now, bar_width(attempts_of(body), out.width)))


def step_in_its_run(run_id: str, step: str, child_of: ChildOf | None = None) -> tuple[str, str]:
    """A step path (``per_day/3/work`` into a loop's iteration, ``call/work`` into the
    run of a subworkflow step, as the step actions take it) as the run that holds the
    step and its step (the child run id works too); a plain step as it is. ``child_of``
    finds the run a subworkflow step started (through the API: remote_commands); a
    malformed path, or one it cannot follow, is refused, exit 1."""
    if "/" not in step:
        return run_id, step
    from podium.core.engine.actions import BadStepPath, resolve_step_path

    try:
        where = resolve_step_path(run_id, step, child_of)
    except BadStepPath as exc:
        _err().print(Text(str(exc), style="bold red"), highlight=False)
        raise typer.Exit(1) from None
    return where.run_id, where.step


def step_in_home(home: Home, run_id: str, step: str) -> tuple[str, str]:
    """A step path checked against the local home, read as the step actions read it
    (service/step_paths.walk_iteration_path): the run that holds the step and its step,
    where it ran (for a loop or subworkflow step a restart took over, in the run it came
    from; for a subworkflow step, in the run it started last). A path with a part that
    does not exist (an iteration that never ran, a step that is not a loop or a
    subworkflow, a step the body has not) is refused, exit 1, naming the part and what
    exists, as the step actions say it."""
    if "/" not in step:
        return run_id, step
    from podium.core.engine.actions import BadStepPath, IterationPath
    from podium.service.step_paths import walk_iteration_path

    try:
        where = IterationPath.parse(step)
    except BadStepPath as exc:
        _err().print(Text(str(exc), style="bold red"), highlight=False)
        raise typer.Exit(1) from None
    assert where is not None  # it has a "/": LOOP/INDEX/STEP or SUBWORKFLOW_STEP/STEP
    if not home.exists:
        print_missing_home(home)
        raise typer.Exit(1)
    try:
        top = home.store.get_run(run_id)
    except RunNotFound:
        _err().print(Text(f"run '{run_id}' not found in {home.path}", style="bold red"))
        raise typer.Exit(1) from None
    compiled = home.services.definitions.get(top.workflow, top.version)
    try:
        found = walk_iteration_path(
            home.services,
            top,
            compiled,
            where,
            step,
            _NoSuchPart,
            "name",
            taken_over=True,
            into_subworkflows=True,
        )
    except _NoSuchPart as exc:
        _err().print(Text(str(exc), style="bold red"), highlight=False)
        raise typer.Exit(1) from None
    return found, where.step


class _NoSuchPart(Exception):
    """A part of a step path that is not in the run (walk_iteration_path's message)."""


def logs(
    home_dir: Path | None, run_id: str, step: str | None, attempt: int | None, as_json: bool
) -> None:
    with Home(home_dir) as home:
        if step is not None:  # LOOP/INDEX/STEP: the iteration's run
            run_id, step = step_in_home(home, run_id, step)
        body = _open_run(home, run_id)
        # A step a restart took over printed in the run it ran in (its view says which,
        # followed back through restarts of restarts): its lines are read there, first,
        # as it ran before the run's own steps. A stack shows them too (the taken-over
        # record keeps the old attempt's log reference).
        ran_in = {
            s["step"]: s["taken_over"]["ran_in"]
            for s in body.get("steps") or []
            if (s.get("taken_over") or {}).get("ran_in") not in (None, run_id)
            and (step is None or s.get("step") == step)
        }
        entries = [
            e for name, there in ran_in.items() for e in home.logs.read(there, name, attempt)
        ]
        entries += [e for e in home.logs.read(run_id, step, attempt) if e.step not in ran_in]
    if step is not None and not any(s.get("step") == step for s in body.get("steps") or []):
        _err().print(Text(f"run {run_id} has no step '{step}'", style="bold red"))
        raise typer.Exit(1)
    if as_json:
        _print_json(
            {
                "logs": [
                    {
                        "step": e.step,
                        "attempt": e.attempt,
                        "stream": e.stream,
                        "at": e.at,
                        "text": e.text,
                        "run_id": e.run_id,  # another run's for a step taken over from it
                    }
                    for e in entries
                ]
            }
        )
        return
    out = _out()
    if not entries:
        what = f"step {step}" if step else "its steps"
        gone = (
            f" (taken over from run {ran_in[step]}, whose logs are gone)" if step in ran_in else ""
        )
        out.print(f"no output captured for {what} of run {run_id}{gone}", highlight=False)
        return
    for e in entries:
        style = "red" if e.stream in ("traceback", "error", "stderr") else "cyan"
        where = f" in run {e.run_id} (taken over from it)" if e.run_id != run_id else ""
        out.print(
            Text.assemble(
                ("── ", "dim"),
                (f"{e.step} attempt {e.attempt}", "bold"),
                (where, "dim"),
                (f" {e.stream} ", style),
                (f"({timestamp(e.at)} UTC)", "dim"),
            ),
            highlight=False,
        )
        # User text is printed as it is: no markup, no highlighting.
        out.print(Text(e.text.rstrip("\n")), highlight=False, markup=False)

"""``podium push``, ``podium start`` and ``podium runs list/show`` against a deployed stack.

Every command takes the same target options (``cli/target_options.py``; see
``remote.resolve_target`` for the order in which they apply). Exit codes: 0 ok, 1 the API
refused the request (or could not be reached), 2 a usage or configuration problem found
before any API call.

``podium runs ...`` reads the local home instead (``cli/local_commands.py``) when no
remote target is named: no --stack, --endpoint or --profile, and no remote config
(``bootstrap.remote_target_configured``); ``--home`` always means the local home.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer
from rich.text import Text

from podium.cli import local_commands, remote_render
from podium.cli.inputs import MAX_NUMBER, TagOption, TypedParamOption, parse_tags, typed_params
from podium.cli.local_home import Home, print_missing_home
from podium.cli.local_runtime import FunctionsOption, LocalHomeRuntime, NoWaitOption
from podium.cli.output import err as _err
from podium.cli.output import out as _out
from podium.cli.output import print_json as _print_json
from podium.cli.remote import quote
from podium.cli.target_options import (
    AwsProfileOption,
    EndpointOption,
    HomeOption,
    JsonOption,
    ProfileOption,
    RegionOption,
    StackOption,
    TargetArgs,
    reporting_remote_errors,
    uses_local_home,
)
from podium.cli.timeline import attempts_of, bar_width
from podium.cli.timeline import timeline as draw_timeline
from podium.core.dsl.models import WORKFLOW_NAME
from podium.core.tags import has_tags
from podium.local.text_files import UnreadableFile, read_text


def _read(path: Path) -> str:
    try:
        return read_text(path)
    except FileNotFoundError as exc:
        _err().print(Text(f"cannot read {path}: {exc.strerror}", style="red"))
        raise typer.Exit(2) from None
    except UnreadableFile as exc:
        _err().print(Text(str(exc), style="red"))
        raise typer.Exit(2) from None


def push(
    file: Annotated[Path, typer.Argument(help="Workflow definition (YAML or JSON).")],
    no_activate: Annotated[
        bool,
        typer.Option(
            "--no-activate",
            help="Store the new version without making it active (podium workflows activate).",
        ),
    ] = False,
    as_json: JsonOption = False,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """Push a definition to a deployed stack and make it active: a changed definition
    becomes a new version; one identical to the latest version makes it active again."""
    text = _read(file)
    # YAML goes as text so the server's errors keep their line numbers; .json as JSON.
    content_type = "application/json" if file.suffix.lower() == ".json" else "application/yaml"
    target = TargetArgs(stack, endpoint, profile, region, aws_profile)
    with reporting_remote_errors(str(file)):
        body = target.connect().request(
            "POST",
            "/workflows",
            query={"activate": "false"} if no_activate else None,
            body=text.encode(),
            content_type=content_type,
        )
    active = body.get("active_version", body["version"])
    if as_json:
        _print_json(body)
    elif body.get("created") and active != body["version"]:
        _out().print(
            Text.assemble(
                ("✓", "green"),
                f" pushed {body['name']} v{body['version']}, not active (v{active}"
                f" is): podium workflows activate {body['name']} {body['version']}",
            ),
            highlight=False,
        )
    elif body.get("created"):
        _out().print(
            Text.assemble(("✓", "green"), f" pushed {body['name']} v{body['version']}"),
            highlight=False,
        )
    elif body.get("reactivated"):  # identical to the latest version, which was not active
        _out().print(
            Text.assemble(
                ("✓", "green"),
                f" {body['name']} v{body['version']} unchanged, active again"
                f" (was v{body.get('previous')})",
            ),
            highlight=False,
        )
    else:
        _out().print(f"= {body['name']} v{body['version']} unchanged", highlight=False)


def start(
    workflow: Annotated[str, typer.Argument(help="Name of a pushed workflow.")],
    param: TypedParamOption = None,
    version: Annotated[
        int | None,
        typer.Option(
            "--version", min=1, max=MAX_NUMBER, help="Run this version, not the active one."
        ),
    ] = None,
    run_id: Annotated[
        str | None,
        typer.Option("--run-id", help="Client token: starting again with it is the same run."),
    ] = None,
    tag: TagOption = None,
    as_json: JsonOption = False,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """Start a run of a pushed workflow on a deployed stack."""
    tags = parse_tags(tag)
    target = TargetArgs(stack, endpoint, profile, region, aws_profile)
    with reporting_remote_errors(workflow):
        client = target.connect()
        # Without params there is nothing to type, so skip fetching the definition.
        params = typed_params(client, workflow, version, param) if param else {}
        request: dict[str, Any] = {"params": params}
        if version is not None:
            request["version"] = version
        if run_id is not None:
            request["run_id"] = run_id
        if tags:
            request["tags"] = tags
        run = client.post_json(f"/workflows/{quote(workflow)}/runs", request)
        if run.get("status") == "QUEUED" and "waiting" not in run and not as_json:
            run = {**run, "waiting": _why_queued(client, run["run_id"])}
    if as_json:
        _print_json(run)
        return
    _out().print(_start_line(run), highlight=False)
    _out().print(f"  podium runs show {run['run_id']}", style="dim", highlight=False)


def _start_line(run: dict[str, Any]) -> Text:
    """What became of the start: its run strategy may have queued the run, or discarded
    it (first_only, another run active): not "✓ started" then, and why. The request
    was done either way (exit 0): the run is recorded, as the strategy decided."""
    what = f"run {run['run_id']} of {run['workflow']} v{run['version']}"
    status = str(run.get("status"))
    if status == "DISCARDED":
        why = str(run.get("reason") or "").removeprefix("discarded: ")
        return Text(f"{what} discarded, not started" + (f": {why}" if why else ""), "yellow")
    if status == "QUEUED":
        waits = run.get("waiting")
        return Text(f"{what} queued, not started yet" + (f": {waits}" if waits else ""), "yellow")
    return Text.assemble(("✓", "green"), f" started {what} ({status.lower()})")


def _why_queued(client: Any, run_id: str) -> str | None:
    """Why a QUEUED run waits (its place, who holds the slots): the start's answer does
    not say it, the run's view does (one small read; None when it cannot be had)."""
    from podium.cli.remote import RemoteError

    try:
        waiting = client.get(f"/runs/{quote(run_id)}", {"limit": 1})["run"].get("waiting")
    except (RemoteError, KeyError, TypeError):
        return None
    return str(waiting) if waiting else None


runs_app = typer.Typer(
    help="Inspect runs: of the local home, or of a deployed stack (--stack, --endpoint).",
    no_args_is_help=True,
    add_completion=False,
)


@runs_app.command("list")
def list_runs(
    workflow: Annotated[
        str | None, typer.Argument(help="Workflow name (locally: optional, all by default).")
    ] = None,
    status: Annotated[
        list[str] | None,
        typer.Option("--status", help="Only runs in this status (repeatable, or a,b)."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only runs created since: 2h, 7d, or 2026-01-15 (local)."),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", help="Only runs carrying this tag: key=value (repeatable)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="How many runs.")] = 20,
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
    next_page: Annotated[
        str | None,
        typer.Option("--next", help="The older runs, from the page token a list printed."),
    ] = None,
) -> None:
    """Runs, newest first (of one workflow, or locally of all)."""
    if workflow is not None and not re.fullmatch(WORKFLOW_NAME, workflow):
        # It listed "no runs of bad name yet", as if such a workflow could exist.
        _err().print(
            Text(
                f"{workflow[:100]!r} is not a workflow name: start with a letter and use only"
                " letters, digits, '_' or '-' (at most 80)",
                style="red",
            )
        )
        raise typer.Exit(2)
    tags = parse_tags(tag)

    def more(token: str) -> str:
        """The command for the next page: the same filters and target, from the token
        on, each value quoted for a shell (a tag's value may hold a space)."""
        kept: list[tuple[str, object]] = [("", workflow)]
        kept += [("--status", s) for s in status or []]
        kept += [("--since", since), *(("--tag", t) for t in tag or [])]
        kept += [("--limit", limit if limit != 20 else None), ("--home", home)]
        kept += [("--stack", stack), ("--endpoint", endpoint), ("--profile", profile)]
        kept += [("--region", region), ("--aws-profile", aws_profile), ("--next", token)]
        words = [w for option, value in kept if value is not None for w in (option, str(value))]
        return "more: podium runs list " + " ".join(shlex.quote(w) for w in words if w)

    if uses_local_home(home, stack, endpoint, profile):
        local_commands.list_runs(
            home, workflow, status, since, limit, as_json, tags, next_page, more
        )
        return
    if workflow is None:
        _err().print(Text("a deployed stack lists the runs of one WORKFLOW: name it", style="red"))
        raise typer.Exit(2)
    wanted = local_commands.parse_statuses(status)  # an unknown status: exit 2, no call
    # A token of no runs list, or of another workflow's: exit 2, no call.
    local_commands.runs_page_token(next_page, workflow)
    since_ms = _since_ms(since)
    target = TargetArgs(stack, endpoint, profile, region, aws_profile)
    with reporting_remote_errors(workflow):
        body = _remote_runs(
            target.connect(), workflow, wanted, since_ms, tags, limit, token=next_page
        )
    if as_json:
        _print_json(body)
    elif not body.get("runs"):
        said = local_commands.no_runs(workflow, wanted, since, tags, older=bool(next_page))
        _out().print(said, highlight=False)
    else:
        _out().print(remote_render.runs_table(workflow, body["runs"]))
    if not as_json and body.get("next"):
        if len(body.get("runs") or []) < limit:
            _err().print(
                f"searched {MAX_LIST_REQUESTS} pages of runs; older runs were not searched",
                style="dim",
                highlight=False,
            )
        _err().print(more(body["next"]), style="dim", highlight=False)


MAX_LIST_REQUESTS = 20
"""API calls of one ``podium runs list`` on a stack: each reads up to 1,000 runs when
--status filters (the API's own bound), or a page of them when only --since or --tag do."""


def _since_ms(since: str | None) -> int | None:
    if since is None:
        return None
    import time

    return local_commands.parse_since(since, time.time_ns() // 1_000_000)


def _remote_runs(
    client: Any,
    workflow: str,
    statuses: frozenset[Any] | None,
    since_ms: int | None,
    tags: dict[str, str] | None,
    limit: int,
    *,
    token: str | None = None,
) -> dict[str, Any]:
    """The newest ``limit`` runs that pass the filters, following the API's ``next``:
    --status is the API's (``?status=``: it reads older pages itself), --since and --tag
    are applied here (runs come newest first, so one older than --since ends the list).
    ``next`` is there when older runs may match."""
    query: dict[str, Any] = {}
    if statuses:
        query["status"] = ",".join(sorted(s.value for s in statuses))
    runs: list[Any] = []
    for _ in range(MAX_LIST_REQUESTS):
        asked = {**query, "limit": limit - len(runs), **({"next": token} if token else {})}
        body = client.get(f"/workflows/{quote(workflow)}/runs", asked)
        token = body.get("next")
        for run in body.get("runs") or []:
            if since_ms is not None and (run.get("created_at") or 0) < since_ms:
                return {"runs": runs}  # every older run is older than --since
            if has_tags(run.get("tags"), tags):
                runs.append(run)
        if not token or len(runs) >= limit:
            break
    return {"runs": runs, **({"next": token} if token else {})}


def step_through_api(target: TargetArgs, run_id: str, step: str) -> tuple[str, str]:
    """``local_commands.step_in_its_run`` against a deployed stack (or an endpoint): a
    path through a subworkflow step (``call/work``) reaches the run that step started
    last, as the step actions read it, found through the API; an iteration's run id is
    derived with no call."""
    from functools import cache

    from podium.core.engine.actions import BadStepPath

    connect = cache(target.connect)  # once, and only for a path through a subworkflow

    def child_of(parent: str, sub: str, here: str) -> str:
        # The console's step view: the step's type, its definition and its child runs
        # (one per attempt that launched one; a step a restart took over, those of the
        # run it ran in).
        detail = connect().get(f"/console/runs/{quote(parent)}/step", {"name": sub})
        kind = (detail.get("step") or {}).get("type")
        if kind != "subworkflow":
            raise BadStepPath(
                step,
                f"{sub!r} is a {kind} step, not a loop (foreach or while) or a subworkflow;"
                f" name {here} instead",
            )
        children = detail.get("children") or []
        if (detail.get("definition") or {}).get("wait") is False:
            named = f" ({children[-1]['run_id']})" if children else ""
            raise BadStepPath(
                step,
                f"{sub!r} does not wait for its run (wait: false), which is a run of its"
                f" own{named}: name that run, not a path through {here!r}",
            )
        if not children:
            raise BadStepPath(step, f"{sub!r} never started its run in run {parent}")
        return str(max(children, key=lambda c: int(c["attempt"]))["run_id"])

    with reporting_remote_errors(run_id), options_named({"query.name": "--step"}):
        return local_commands.step_in_its_run(run_id, step, child_of)


_ITERATIONS_QUERY = {
    "query.step": "--step",
    "query.next": "--next",
    "query.limit": "--limit",
    "query.failed_only": "--failed-only",
}
"""``GET /runs/{id}/iterations``'s query fields, as ``podium runs show`` names them."""
_NOT_A_LOOP = (
    "on a deployed stack, --step lists a loop step's iterations; any step's status, error"
    " and output are in the run's table (podium runs show RUN) and the console"
)


@contextmanager
def options_named(places: Mapping[str, str], hint: str = "") -> Iterator[None]:
    """An API refusal at a query field named as the command line names it (``--step``,
    not ``query.step``: there is no query on the command line), as the local home's
    answer names it; signal_command.cli_place does the same for a body's fields.
    ``hint``, when given, goes with a 400 at the first of ``places``."""
    from podium.cli.remote import ApiError

    try:
        yield
    except ApiError as exc:
        exc.issues = tuple(
            dataclasses.replace(i, path=places.get(i.path, i.path)) for i in exc.issues
        )
        # The API's message of a refused request starts with its place too.
        field, colon, rest = exc.message.partition(": ")
        if colon and field in places:
            exc.message = f"{places[field]}: {rest}"
        first = next(iter(places.values()), None)
        if hint and not exc.hint and exc.status == 400 and any(i.path == first for i in exc.issues):
            exc.hint = hint
        raise


@runs_app.command("show")
def show_run(
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    step: Annotated[
        str | None,
        typer.Option(
            "--step",
            help="One step in detail: attempts, error, output (local); a loop step's"
            " iterations (local and deployed). LOOP/INDEX/STEP: a step of a loop iteration;"
            " SUBWORKFLOW_STEP/STEP: a step of the run a subworkflow step started last.",
        ),
    ] = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
    next_page: Annotated[
        str | None,
        typer.Option("--next", help="A loop step's iterations from this page token on."),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=1,
            max=500,
            help=f"Iterations per page, with --step (default {local_commands.LoopPage.limit}).",
        ),
    ] = None,
    failed_only: Annotated[
        bool, typer.Option("--failed-only", help="Only the iterations that did not succeed.")
    ] = False,
) -> None:
    """A run's steps (status, attempts, timing, errors, outputs) and its own error; with
    --step, one step in detail (a loop step's iterations a page at a time).

    The exit code is 1 for a failed, timed-out or stopped run (with --step, for such a
    step), locally as on a stack."""
    # --limit has no default of its own: given without --step (even as 50, the page's
    # size when not given) it is told apart from not given, and refused.
    if step is None and (next_page is not None or failed_only or limit is not None):
        _err().print(
            Text(
                "--next, --limit and --failed-only page a loop step's iterations: add"
                " --step LOOP_STEP",
                style="red",
            ),
            highlight=False,
        )
        raise typer.Exit(2)
    limit = limit if limit is not None else local_commands.LoopPage.limit
    if uses_local_home(home, stack, endpoint, profile):
        if step is not None:
            page = local_commands.LoopPage(next_page, limit, failed_only)
            local_commands.show_step(home, run_id, step, as_json, page)
        local_commands.show_run(home, run_id, as_json)
        return
    target = TargetArgs(stack, endpoint, profile, region, aws_profile)
    if step is not None:
        # Deployed: a loop step's iterations (the step's attempts and logs are local only).
        run_id, step = step_through_api(target, run_id, step)  # LOOP/INDEX/STEP, SUB/STEP
        query: dict[str, Any] = {"step": step, "limit": limit}
        if next_page:
            query["next"] = next_page
        if failed_only:
            query["failed_only"] = "true"
        with reporting_remote_errors(run_id), options_named(_ITERATIONS_QUERY, _NOT_A_LOOP):
            page = target.connect().get(f"/runs/{quote(run_id)}/iterations", query)
        if as_json:
            _print_json(page)
        else:
            shown = local_commands.LoopPage(next_page, limit, failed_only)
            _out().print(local_commands.iterations_table(page, run_id, shown))
        # As locally: 1 for a loop step that failed (an older API's page has no status).
        failed = str(page.get("status")) in {s.value for s in local_commands.FAILED_RUN}
        raise typer.Exit(1 if failed else 0)
    with reporting_remote_errors(run_id):
        body = target.connect().get_run(run_id)
    if as_json:
        _print_json(local_commands.with_counts(body))
    else:
        out = _out()
        out.print(remote_render.run_detail(body))
        remote_render.print_waiting(out, body)
    raise typer.Exit(local_commands.run_exit_code(body))


@runs_app.command("timeline")
def timeline(
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """A Gantt of every attempt of a run: queued, running, backoff."""
    if uses_local_home(home, stack, endpoint, profile):
        local_commands.timeline(home, run_id, as_json)
        return
    import time

    target = TargetArgs(stack, endpoint, profile, region, aws_profile)
    with reporting_remote_errors(run_id):
        body = target.connect().get_run(run_id)
    if as_json:
        _print_json({"run": body.get("run"), "attempts": [a.view() for a in attempts_of(body)]})
    else:
        out = _out()
        width = bar_width(attempts_of(body), out.width)
        out.print(draw_timeline(body, time.time_ns() // 1_000_000, width))


@runs_app.command("logs")
def logs(
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    step: Annotated[str | None, typer.Argument(help="Only this step.")] = None,
    attempt: Annotated[
        int | None,
        typer.Option(
            "--attempt",
            min=1,
            max=MAX_NUMBER,
            help="Only this attempt.",
        ),
    ] = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """What a run's steps printed (stdout, stderr) and their tracebacks, per attempt. A
    step of a loop iteration is LOOP/INDEX/STEP (per_day/3/work); of the run a subworkflow
    step started last, SUBWORKFLOW_STEP/STEP (call/work)."""
    if uses_local_home(home, stack, endpoint, profile):
        local_commands.logs(home, run_id, step, attempt, as_json)  # resolves LOOP/INDEX/STEP
        return
    if step is not None:  # LOOP/INDEX/STEP, SUBWORKFLOW_STEP/STEP: the run that holds it
        run_id, step = step_through_api(
            TargetArgs(stack, endpoint, profile, region, aws_profile), run_id, step
        )
    if step is None:
        _err().print(
            Text(
                "name the step: on a deployed stack, logs are read per attempt from the step"
                " function's CloudWatch log group (podium runs logs RUN STEP [--attempt N])",
                style="yellow",
            ),
            highlight=False,
        )
        raise typer.Exit(2)
    target = TargetArgs(stack, endpoint, profile, region, aws_profile)
    with reporting_remote_errors(run_id):
        query: dict[str, Any] = {"step": step}
        if attempt is not None:
            query["attempt"] = attempt
        with options_named({"query.step": "STEP", "query.attempt": "--attempt"}):
            body = target.connect().get(f"/runs/{quote(run_id)}/logs", query)
    if as_json:
        _print_json(body)
        return
    out = _out()
    out.print(
        Text(
            f"{body['step']} attempt {body['attempt']} ({body['function']},"
            f" request {body['request_id']})",
            style="bold",
        ),
        highlight=False,
    )
    out.print(Text(body.get("text") or ""), highlight=False, end="")


def unblock(
    workflow: Annotated[str, typer.Argument(help="Workflow name.")],
    no_wait: NoWaitOption = False,  # as the local run actions take them
    functions: FunctionsOption = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """strict_sequential: let the queue move on after a failed run (locally: runs the
    runs it started on to their end here, unless --no-wait)."""
    target = TargetArgs(stack, endpoint, profile, region, aws_profile)
    # Like the other commands that also work locally (runs, steps, backfill...): the
    # local home unless a remote target is named or configured, so the hint a local
    # run prints (`podium unblock WF`) works where it is printed.
    if uses_local_home(home, stack, endpoint, profile):
        _unblock_on_home(home, workflow, as_json, wait=not no_wait, functions=functions)
        return
    with reporting_remote_errors(workflow):
        client = target.connect()
        body = client.post_json(f"/workflows/{quote(workflow)}/unblock", {})
        left = _left_remotely(client, workflow, body) if not as_json else _Left(0)
    if as_json:
        _print_json(body)
        return
    _out().print(_unblock_line(workflow, body.get("admitted") or [], left), highlight=False)


def _unblock_on_home(
    home: Path | None, workflow: str, as_json: bool, *, wait: bool, functions: list[str] | None
) -> None:
    """The local unblock, then, as the local run actions do (cli/local_runtime.py), the
    runs it started run on here to their end (the home has no sweeper: nothing else
    would run them), each said with how it ended. What still waits is read after them:
    a started run that failed blocks the queue again."""
    from podium.core.engine.errors import NotFound
    from podium.service.admission import unblock as unblock_locally

    opened = Home(home)
    if not opened.exists:  # said as the commands that only read the home say it
        print_missing_home(opened)
        raise typer.Exit(1)
    with LocalHomeRuntime(home, functions) as local:
        services = local.rt.services
        try:
            services.store.active_version(workflow)  # names an unknown workflow
        except NotFound as exc:
            _err().print(Text(str(exc), style="bold red"), highlight=False)
            raise typer.Exit(1) from None
        slots = services.store.run_slots()
        blocked_by = slots.state(workflow).blocked_by
        queued = [entry.run_id for entry in slots.queued(workflow, _QUEUE_READ)]
        # The API's answer, field for field (``--json`` is the same here and there).
        body: dict[str, Any] = {
            "workflow": workflow,
            "blocked_by": blocked_by,
            "admitted": unblock_locally(services, workflow),
        }
        ended = _run_started_runs(local, body, queued) if wait else {}
        left = _left_locally(services, workflow, blocked_by, as_json)
    if as_json:
        _print_json(body)
        return
    admitted = body["admitted"]
    line = _unblock_line(workflow, admitted, left)
    if admitted and not wait:
        line += f"; podium dev on this home runs {'it' if len(admitted) == 1 else 'them'}"
    out = _out()
    out.print(line, highlight=False)
    for run_id, (status, why) in ended.items():
        said = f" ({why})" if why else ""
        out.print(f"run {run_id} {status}{said}: podium runs show {run_id}", highlight=False)


def _run_started_runs(
    local: Any, body: dict[str, Any], queued: list[str]
) -> dict[str, tuple[str, str | None]]:
    """Run each run the unblock started to its end (``LocalRuntime.pump``, as
    ``podium runs resume`` does); the statuses of those and of the ``queued`` runs the
    queue admitted meanwhile (the pump delivers the home's work: a run that ended let
    the next one start), with why one waits or what carries it on. Ctrl-C stops the
    waiting only: the unblock is done, said with where the run is, exit 130."""
    from podium.core.engine.errors import RunNotFound
    from podium.core.engine.status import RunStatus
    from podium.service.admission import waiting_reason

    for run_id in body["admitted"]:
        try:
            local.rt.pump(run_id=run_id)
        except KeyboardInterrupt:
            status = local.rt.describe(run_id).run.status
            carried = "" if status.terminal else "; podium dev on this home carries it on"
            _err().print(
                Text(
                    f"interrupted: {body['workflow']} was unblocked; run {run_id} is"
                    f" {status.value} in the home at {local.where}{carried}: podium runs"
                    f" show {run_id}",
                    style="yellow",
                ),
                highlight=False,
            )
            raise typer.Exit(130) from None
    ended: dict[str, tuple[str, str | None]] = {}
    admitted = set(body["admitted"])
    for run_id in [*body["admitted"], *(r for r in queued if r not in admitted)]:
        try:
            run = local.rt.services.store.get_run(run_id)
        except RunNotFound:  # a queued run pruned meanwhile (by another process)
            continue
        if run.status is RunStatus.QUEUED and run_id not in admitted:
            continue  # still waits: the line of what is left says why
        why = waiting_reason(local.rt.services, run)  # a QUEUED one's (behind a block)
        if run.status is RunStatus.RUNNING:  # left for a timer this command does not wait for
            why = "podium dev on this home carries it on"
        ended[run_id] = (run.status.value, why)
    return ended


def _left_locally(services: Any, workflow: str, blocked_by: str | None, as_json: bool) -> _Left:
    """The runs still queued on the home and why the next one waits."""
    from podium.service.admission import waiting_reason

    queued = services.store.run_slots().queued(workflow, _QUEUE_READ)
    left = _Left(len(queued), len(queued) == _QUEUE_READ, None, blocked_by)
    if queued and not as_json:
        next_run = services.store.get_run(queued[0].run_id)
        left = left._replace(waiting=waiting_reason(services, next_run))
    return left


_QUEUE_READ = 100
"""Queued runs ``podium unblock`` counts (past it: "100 or more")."""
_UNKNOWN = object()
"""The API's answer did not say whether the queue was blocked."""


class _Left(NamedTuple):
    """What an unblock left: runs still queued (``more``: at least that many), why the
    next one waits, and the failed run that blocked the queue (None: not blocked;
    ``_UNKNOWN``: an API answer that does not say)."""

    queued: int
    more: bool = False
    waiting: str | None = None
    blocked_by: object = _UNKNOWN


def _left_remotely(client: Any, workflow: str, body: dict[str, Any]) -> _Left:
    """The runs still queued after a stack's unblock and why the oldest waits: the
    unblock's answer names only the runs it admitted, so two small reads (the QUEUED
    runs, the oldest's view); ``blocked_by`` when the answer has it."""
    blocked_by = body.get("blocked_by", _UNKNOWN)
    page = client.get(
        f"/workflows/{quote(workflow)}/runs", {"status": "QUEUED", "limit": _QUEUE_READ}
    )
    runs = page.get("runs") or []
    if not runs:
        return _Left(0, blocked_by=blocked_by)
    oldest = runs[-1]["run_id"]  # newest first: the last is the next to be admitted
    view = client.get(f"/runs/{quote(oldest)}", {"limit": 1})
    waiting = (view.get("run") or {}).get("waiting")
    return _Left(len(runs), bool(page.get("next")), waiting, blocked_by)


def _unblock_line(workflow: str, admitted: list[str], left: _Left) -> str:
    """What an unblock did: "unblocked" only when the queue was blocked (or, as a
    stack's answer does not say, when the unblock started a run); the runs it started;
    the runs that still wait and why (behind active runs: nothing blocked them);
    "nothing was waiting" only when nothing was. (It said "unblocked WF; nothing was
    waiting" with a run queued behind a running one.)"""
    if left.blocked_by is _UNKNOWN:  # a stack's answer: a run started, so one was held
        head = f"unblocked {workflow}" if admitted else f"{workflow}: no run started"
    elif left.blocked_by is None:
        head = f"{workflow} was not blocked"
    else:
        head = f"unblocked {workflow} (blocked by failed run {left.blocked_by})"
    parts = [head]
    if admitted:
        parts.append(f"started {', '.join(admitted)}")
    if left.queued:
        count = f"{left.queued}{' or more' if left.more else ''}"
        verb = "run still waits" if left.queued == 1 and not left.more else "runs still wait"
        parts.append(f"{count} {verb}" + (f" ({left.waiting})" if left.waiting else ""))
    elif not admitted:
        parts.append("nothing was waiting")
    return "; ".join(parts)


def register(app: typer.Typer) -> None:
    """Add push, start, unblock and the ``runs`` group to ``app``."""
    app.command("push")(push)
    app.command("start")(start)
    app.command("unblock")(unblock)
    app.add_typer(runs_app, name="runs")

"""``podium triggers list|enable|disable`` and ``podium backfill``: on the local home, or
on a deployed stack (--stack, --endpoint, --profile), as ``podium runs`` chooses."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from podium.cli.inputs import local_functions, local_stand_ins
from podium.cli.local_home import home_directory, local_home_services
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

triggers_app = typer.Typer(
    help="A workflow's triggers: list them, turn one on or off (no new version).",
    no_args_is_help=True,
    add_completion=False,
)


def _local_services(home: Path | None) -> Any:
    """The local home's wiring (bad input and unknown workflows: printed, exit 1)."""
    return local_home_services(home)


def _either(
    home: Path | None,
    target: TargetArgs,
    context: str,
    local: Callable[[Any], Any],
    remote: Callable[[Any], Any],
) -> Any:
    if uses_local_home(home, target.stack, target.endpoint, target.profile):
        with _local_services(home) as services:
            return local(services)
    with reporting_remote_errors(context):
        return remote(target.connect())


@triggers_app.command("list")
def list_command(
    workflow: Annotated[str, typer.Argument(help="Workflow name.")],
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """The workflow's triggers (of its active version): kind, rule, on or off."""
    from podium.service.triggers import list_triggers

    target = TargetArgs(stack, endpoint, profile, region, aws_profile)
    body = _either(
        home,
        target,
        workflow,
        lambda ctx: {"triggers": list_triggers(ctx, workflow)},
        lambda client: client.get(f"/workflows/{quote(workflow)}/triggers"),
    )
    if as_json:
        _print_json(body)
        return
    table = Table("trigger", "kind", "rule", "state", "last fired", "last failure")
    for t in body["triggers"]:
        state = Text("on", "green") if t["enabled"] else Text("off", "yellow")
        if t.get("backfills_paused"):
            state.append(", ").append("backfills paused", "yellow")
        failure = t.get("last_failure")
        failed = Text(f"{failure['at']}: {failure['error']}", style="red") if failure else "-"
        # The rule as written (an event pattern's "[...]", a cron's "?"): Text, not markup.
        rule = Text(str(t["rule"]))
        table.add_row(t["id"], t["kind"], rule, state, t.get("last_fired") or "-", failed)
    _out().print(table)


def _switch(enabled: bool) -> Callable[..., None]:
    def command(
        workflow: Annotated[str, typer.Argument(help="Workflow name.")],
        trigger: Annotated[str, typer.Argument(help="Trigger id (podium triggers list).")],
        as_json: JsonOption = False,
        home: HomeOption = None,
        stack: StackOption = None,
        endpoint: EndpointOption = None,
        profile: ProfileOption = None,
        region: RegionOption = None,
        aws_profile: AwsProfileOption = None,
    ) -> None:
        from podium.service.triggers import set_enabled

        target = TargetArgs(stack, endpoint, profile, region, aws_profile)
        verb = "enable" if enabled else "disable"

        def local(ctx: Any) -> dict[str, Any]:
            state = set_enabled(ctx, workflow, trigger, enabled)
            return {"workflow": workflow, "trigger": trigger, "enabled": state.enabled}

        body = _either(
            home,
            target,
            f"{workflow}/{trigger}",
            local,
            lambda client: client.post_json(
                f"/workflows/{quote(workflow)}/triggers/{quote(trigger)}/{verb}", {}
            ),
        )
        if as_json:
            _print_json(body)
            return
        _out().print(f"trigger {trigger} of {workflow} is {'on' if body['enabled'] else 'off'}")

    command.__doc__ = (
        "Turn a trigger on (its schedule is created again)."
        if enabled
        else "Turn a trigger off, without a new version (its schedule is deleted)."
    )
    return command


triggers_app.command("enable")(_switch(True))
triggers_app.command("disable")(_switch(False))


def backfill_command(
    workflow: Annotated[str, typer.Argument(help="Workflow name.")],
    start: Annotated[
        str | None, typer.Option("--from", help="First date (2026-01-01) or ISO time.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last date (included) or ISO time.")
    ] = None,
    trigger: Annotated[
        str | None, typer.Option("--trigger", help="Which cron/rate trigger (when several).")
    ] = None,
    reprocess: Annotated[
        str,
        typer.Option(
            "--reprocess",
            help="none: leave times that have a run; failed: run again those whose latest"
            " run did not succeed; all: run every time again (never one still active).",
        ),
    ] = "none",
    max_active: Annotated[
        int | None,
        typer.Option("--max-active", min=1, max=1000, help="At most this many at once (1-1000)."),
    ] = None,
    backwards: Annotated[bool, typer.Option("--backwards", help="Newest time first.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan only.")] = False,
    wait: Annotated[
        bool,
        typer.Option("--wait/--no-wait", help="Locally: run the backfill's runs now."),
    ] = True,
    cancel: Annotated[
        bool,
        typer.Option(
            "--cancel",
            help="Cancel the trigger's backfills asked for until now: they start no more"
            " runs (those started run on). Takes --trigger only.",
        ),
    ] = False,
    pause: Annotated[
        bool,
        typer.Option(
            "--pause",
            help="Pause the trigger's backfills: they start no run until --resume (those"
            " started run on). Takes --trigger only.",
        ),
    ] = False,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Resume the trigger's paused backfills. Takes --trigger only."
        ),
    ] = False,
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """One run per scheduled time of a cron or rate trigger between --from and --to,
    each with its logical date, under the workflow's run strategy; a time that already
    has a run is left alone unless --reprocess says otherwise. --cancel stops the
    trigger's backfills (their runs not started yet); --pause holds them until --resume."""
    from podium.core.dsl.errors import DefinitionError
    from podium.core.engine.backfill import Reprocess
    from podium.service.backfill import parse_request

    target = TargetArgs(stack, endpoint, profile, region, aws_profile)
    acts = [
        flag for flag, on in (("--cancel", cancel), ("--pause", pause), ("--resume", resume)) if on
    ]
    if len(acts) > 1:
        _err().print(Text(f"use one of {' and '.join(acts)}", style="red"))
        raise typer.Exit(2)
    if acts:
        given = [
            option
            for option, value in (
                ("--from", start),
                ("--to", end),
                ("--reprocess", reprocess != "none"),
                ("--max-active", max_active),
                ("--backwards", backwards),
                ("--dry-run", dry_run),
            )
            if value
        ]
        if given:
            _err().print(
                Text(f"{acts[0]} takes --trigger only, not {', '.join(given)}", style="red")
            )
            raise typer.Exit(2)
        _act_on_backfills(acts[0], home, target, workflow, trigger, as_json)
        return
    missing = [option for option, value in (("--from", start), ("--to", end)) if value is None]
    if missing:
        _err().print(
            Text(
                f"{' and '.join(missing)} required: the range to backfill (or --cancel,"
                " --pause, --resume)",
                style="red",
            )
        )
        raise typer.Exit(2)
    try:
        mode = Reprocess(reprocess)
    except ValueError:
        _err().print(Text("--reprocess: use none, failed or all", style="red"))
        raise typer.Exit(2) from None
    try:  # the API's checks (an empty --from, a --trigger over 40 characters ...)
        request = parse_request(
            {
                "from": start,
                "to": end,
                "trigger": trigger,
                "reprocess": mode,
                "max_active": max_active,
                "backwards": backwards,
                "dry_run": dry_run,
            }
        )
    except DefinitionError as exc:
        for issue in exc.issues:  # named by the option, not the API body's field
            option = _OPTIONS.get(issue.path.removeprefix("body."), issue.path)
            _err().print(
                Text.assemble(("  ✗ ", "red"), f"{option}: {issue.message}"), highlight=False
            )
        raise typer.Exit(2) from None
    if uses_local_home(home, stack, endpoint, profile):
        summary = _local_backfill(home, workflow, request, wait and not dry_run)
    else:
        body = request.model_dump(mode="json", by_alias=True, exclude_none=True)
        with reporting_remote_errors(workflow):
            summary = target.connect().post_json(f"/workflows/{quote(workflow)}/backfill", body)
    if as_json:
        _print_json(summary)
        return
    _print_summary(summary)


# What makes a home (podium push goes to a deployed stack, never to the home), or reads
# another: as the local store's "not found" and the read commands say it.
_NO_HOME_YET = (
    "run the workflow here first (podium run FILE), or pass --home, --stack or --endpoint"
)

_OPTIONS = {
    "from": "--from",
    "to": "--to",
    "trigger": "--trigger",
    "reprocess": "--reprocess",
    "max_active": "--max-active",
    "backwards": "--backwards",
    "dry_run": "--dry-run",
}


def _print_refusal(exc: Exception) -> None:
    """A plan's or a cancel's refusal, each issue named by its option (``--trigger``),
    not by the API body's field."""
    from podium.core.dsl.errors import Issue

    for issue in getattr(exc, "issues", None) or [str(exc)]:
        if isinstance(issue, Issue):
            issue = f"{_OPTIONS.get(issue.path, issue.path)}: {issue.message}"
        _err().print(Text.assemble(("  ✗ ", "red"), str(issue)), highlight=False)


def _act_on_backfills(
    act: str, home: Path | None, target: TargetArgs, workflow: str, trigger: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """``--cancel``, ``--pause`` or ``--resume``: in the home, or through the API."""
    from podium import bootstrap
    from podium.core.dsl.errors import DefinitionError
    from podium.core.engine.errors import NotFound
    from podium.local.runtime import LocalRuntime
    from podium.service.backfill import cancel, parse_cancel, pause

    try:  # the API's check of --trigger
        request = parse_cancel({"trigger": trigger} if trigger is not None else {})
    except DefinitionError as exc:
        for issue in exc.issues:
            _err().print(Text.assemble(("  ✗ ", "red"), f"--trigger: {issue.message}"))
        raise typer.Exit(2) from None
    name = act.removeprefix("--")
    if uses_local_home(home, target.stack, target.endpoint, target.profile):
        where = home_directory(home)
        if not (where / bootstrap.HOME_DB).exists():
            _err().print(Text(f"no local home at {where}: {_NO_HOME_YET}", "red"))
            raise typer.Exit(1)
        with LocalRuntime(store="sqlite", home=where) as rt:
            try:
                if name == "cancel":
                    answer = cancel(rt.services, workflow, request.trigger, bootstrap.local_user())
                else:
                    answer = pause(rt.services, workflow, request.trigger, name == "pause")
            except (DefinitionError, NotFound) as exc:
                _print_refusal(exc)
                raise typer.Exit(1) from None
    else:
        body = request.model_dump(mode="json", exclude_none=True)
        with reporting_remote_errors(workflow):
            answer = target.connect().post_json(
                f"/workflows/{quote(workflow)}/backfill/{name}", body
            )
    if as_json:
        _print_json(answer)
        return
    which = f"backfills of {answer['workflow']} ({answer['trigger']})"
    if name == "pause":
        said = (
            f"{which} paused at {answer['paused_at']}: they start no run until podium"
            f" backfill {answer['workflow']} --resume; the runs running run on"
        )
    elif name == "resume":
        said = f"{which} resumed at {answer['resumed_at']}: they start their next runs"
    else:
        queued = len(answer.get("stopped_queued") or [])
        said = (
            f"{which} cancelled at {answer['cancelled_at']}: they start no more runs;"
            f" {queued} queued run(s) stopped; the runs running run on (stop them with"
            " podium runs stop)"
        )
    _out().print(said, highlight=False)


def _local_backfill(home: Path | None, workflow: str, request: Any, wait: bool) -> dict[str, Any]:
    """Plan and start in the home; with ``wait``, run them here (./podium.toml maps the
    Lambda names and plays the external steps, as for podium dev) and report their
    outcome."""
    from podium import bootstrap
    from podium.core.dsl.errors import DefinitionError
    from podium.core.engine.errors import NotFound
    from podium.local.runtime import LocalRuntime
    from podium.service.backfill import backfill_request

    where = home_directory(home)
    if not (where / bootstrap.HOME_DB).exists():
        _err().print(Text(f"no local home at {where}: {_NO_HOME_YET}", "red"))
        raise typer.Exit(1)
    sys.path.insert(0, os.getcwd())
    mapping = local_functions(Path.cwd(), None)
    # ./podium.toml's stand-ins, http hosts and secrets too: as podium dev reads them.
    stand_ins = local_stand_ins(Path.cwd())
    with LocalRuntime(store="sqlite", home=where, functions=mapping, stand_ins=stand_ins) as rt:
        try:
            summary = backfill_request(rt.services, workflow, request)
        except (DefinitionError, NotFound) as exc:
            _print_refusal(exc)
            raise typer.Exit(1) from None
        if wait and summary["started"]:
            total = len(summary["started"]) + summary["waiting_for_max_active"]
            _err().print(f"running {total} backfill run(s) of {workflow} ...", highlight=False)
            _pump_until_ended(
                rt, [e["run_id"] for e in summary["entries"] if e["action"] != "skip"]
            )
            summary["outcome"] = _outcome(rt.store, summary)
    return summary


def _pump_until_ended(rt: Any, run_ids: list[str]) -> None:
    """Deliver the home's messages until this backfill's runs have ended (or nothing is
    left to deliver): not until the home's queues are empty, which another trigger's
    paused backfill keeps from happening (its driver looks again every 30 s for ever)."""
    from podium.core.engine.errors import RunNotFound

    def ended(run_id: str) -> bool:
        try:
            return bool(rt.store.get_run(run_id).status.terminal)
        except RunNotFound:  # never started (its trigger left the active version)
            return True

    while rt.pump(max_deliveries=200):
        if all(ended(r) for r in run_ids):
            return


def _outcome(store: Any, summary: dict[str, Any]) -> dict[str, int]:
    """How this backfill's runs ended, by status: the runs of its entries that it started
    or reran (their ids are its own), not earlier backfills' runs of the workflow."""
    from podium.core.engine.errors import RunNotFound

    statuses: dict[str, int] = {}
    for entry in summary["entries"]:
        if entry["action"] == "skip":
            continue
        try:
            status = store.get_run(entry["run_id"]).status.value
        except RunNotFound:  # never started (its trigger left the active version)
            continue
        statuses[status] = statuses.get(status, 0) + 1
    return statuses


def _print_summary(summary: dict[str, Any]) -> None:
    out = _out()
    verb = "would start" if summary.get("dry_run") else "started"
    out.print(
        f"backfill of {summary['workflow']} ({summary['trigger']}): {summary['times']} time(s);"
        f" {verb} {summary['to_start']} new, {summary['to_rerun']} again;"
        f" {summary['skipped']} skipped",
        highlight=False,
    )
    if summary.get("reason"):  # why the plan is empty, or shorter than the range
        out.print(f"  {summary['reason']}", style="yellow", highlight=False)
    if summary.get("waiting_for_max_active"):
        held = (
            f"the resume (podium backfill {summary['workflow']} --resume): its backfills are paused"
            if summary.get("paused")
            else "--max-active"
        )
        out.print(f"  {summary['waiting_for_max_active']} wait for {held}", style="dim")
    if summary.get("dry_run") or summary["times"] <= 40:
        for e in summary["entries"]:
            out.print(
                f"  {e['logical_date']}  {e['action']:<6} {e['reason']}  {e['run_id']}",
                highlight=False,
            )
    if summary.get("outcome"):
        parts = ", ".join(f"{n} {s.lower()}" for s, n in sorted(summary["outcome"].items()))
        out.print(f"  runs: {parts}", highlight=False)

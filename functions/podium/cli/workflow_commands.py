"""``podium workflows list|show|versions|diff|activate|rollback``: workflow versions on
the local home or a deployed stack (the same target options as ``podium runs``).

Exit codes: 0 done, 1 not found or refused (nothing older to roll back to), 2 usage."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from podium.cli.inputs import MAX_NUMBER, usage_error
from podium.cli.local_home import Home, local_home_services, print_missing_home
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

workflows_app = typer.Typer(
    help="Workflows and their versions: list, show, versions, diff, activate, rollback.",
    no_args_is_help=True,
    add_completion=False,
)


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _local(home: Path | None) -> Any:
    """The local home's services; a missing workflow or version is exit 1."""
    from podium.core.engine.errors import ActiveVersionMoved
    from podium.service.versions import NothingToRollBack

    return local_home_services(home, refused=(NothingToRollBack, ActiveVersionMoved))


class _Target:
    """Where the command goes: the local home, or the API of a stack."""

    def __init__(
        self,
        home: Path | None,
        stack: str | None,
        endpoint: str | None,
        profile: str | None,
        region: str | None,
        aws_profile: str | None,
    ) -> None:
        self.local = uses_local_home(home, stack, endpoint, profile)
        self.home = home
        self.remote = TargetArgs(stack, endpoint, profile, region, aws_profile)


@workflows_app.command("list")
def list_workflows(
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """Every workflow with its active version."""
    target = _Target(home, stack, endpoint, profile, region, aws_profile)
    if target.local and not Home(home).exists:
        # A home where nothing ran has no workflow: an empty list, exit 0, as `podium
        # runs list` says it (it was exit 1; a command naming a workflow still is).
        if as_json:
            _print_json({"workflows": []})
        else:
            print_missing_home(Home(home))
        return
    if target.local:
        with _local(home) as ctx:
            listed = [{"name": n, "active_version": v} for n, v in ctx.store.list_workflows()]
    else:
        with reporting_remote_errors():
            listed = target.remote.connect().get("/workflows")["workflows"]
    if as_json:
        _print_json({"workflows": listed})
        return
    table = Table("workflow", "active version")
    for wf in listed:
        table.add_row(wf["name"], f"v{wf['active_version']}")
    _out().print(table)


def _version_body(target: _Target, name: str, version: int | None) -> dict[str, Any]:
    if target.local:
        from podium.service.views import workflow_view

        with _local(target.home) as ctx:
            return workflow_view(ctx.store.get_workflow_version(name, version))
    with reporting_remote_errors(name):
        body: dict[str, Any] = target.remote.connect().get(
            f"/workflows/{quote(name)}", {"version": version}
        )
    return body


@workflows_app.command("show")
def show_workflow(
    name: Annotated[str, typer.Argument(help="Workflow name.")],
    version: Annotated[
        int | None,
        typer.Option(
            "--version", min=1, max=MAX_NUMBER, help="A version (default: the active one)."
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
    """A version's definition (YAML), and which version is active."""
    from podium.core.engine.records import WorkflowVersion
    from podium.service.versions import document_text

    target = _Target(home, stack, endpoint, profile, region, aws_profile)
    body = _version_body(target, name, version)
    if as_json:
        _print_json(body)
        return
    active = (
        "active"
        if body["version"] == body["active_version"]
        else (f"not active (v{body['active_version']} is)")
    )
    _out().print(
        f"# {name} v{body['version']}, {active}, pushed {_when(body.get('created_at'))}",
        highlight=False,
    )
    wv = WorkflowVersion(name, body["version"], body["definition"], "", 0, 0)
    _out().print(Text(document_text(wv)), highlight=False, end="")


@workflows_app.command("versions")
def list_versions(
    name: Annotated[str, typer.Argument(help="Workflow name.")],
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """A workflow's versions, newest first; the active one is marked."""
    target = _Target(home, stack, endpoint, profile, region, aws_profile)
    if target.local:
        from podium.service.versions import list_versions as listed_versions

        with _local(home) as ctx:
            versions: list[dict[str, Any]] = [
                {
                    "version": v.version,
                    "created_at": v.created_at,
                    "digest": v.digest,
                    "active": v.version == v.active_version,
                    "steps": len(v.document.get("steps", [])),
                }
                for v in listed_versions(ctx, name)
            ]
    else:
        with reporting_remote_errors(name):
            versions = target.remote.connect().get(f"/workflows/{quote(name)}/versions")["versions"]
    if as_json:
        _print_json({"name": name, "versions": versions})
        return
    table = Table("version", "pushed", "steps", "digest", "")
    for v in versions:
        table.add_row(
            f"v{v['version']}",
            _when(v["created_at"]),
            str(v["steps"]),
            str(v["digest"])[:12],
            "active" if v["active"] else "",
        )
    _out().print(table)


@workflows_app.command("diff")
def diff(
    name: Annotated[str, typer.Argument(help="Workflow name.")],
    a: Annotated[int, typer.Argument(min=1, max=MAX_NUMBER, help="The older version.")],
    b: Annotated[int, typer.Argument(min=1, max=MAX_NUMBER, help="The newer version.")],
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """What changed between two versions (a unified diff of their definitions)."""
    from podium.core.engine.records import WorkflowVersion
    from podium.service.versions import diff_documents

    target = _Target(home, stack, endpoint, profile, region, aws_profile)
    old, new = (_version_body(target, name, v) for v in (a, b))
    text = diff_documents(
        WorkflowVersion(name, a, old["definition"], "", 0, 0),
        WorkflowVersion(name, b, new["definition"], "", 0, 0),
    )
    if not text:
        _out().print(f"{name} v{a} and v{b} define the same workflow", highlight=False)
        return
    for line in text.splitlines():
        style = (
            "green"
            if line.startswith("+") and not line.startswith("+++")
            else "red"
            if line.startswith("-") and not line.startswith("---")
            else "cyan"
            if line.startswith("@@")
            else ""
        )
        _out().print(Text(line, style=style), highlight=False)


def _activation(target: _Target, name: str, version: int | None) -> dict[str, Any]:
    if target.local:
        from podium.service import versions

        with _local(target.home) as ctx:
            done = (
                versions.rollback(ctx, name)
                if version is None
                else versions.activate(ctx, name, version)
            )
            return done.as_json()
    with reporting_remote_errors(name):
        client = target.remote.connect()
        if version is None:
            body: dict[str, Any] = client.post_json(f"/workflows/{quote(name)}/rollback", {})
        else:
            body = client.post_json(f"/workflows/{quote(name)}/activate", {"version": version})
    return body


def _print_activation(body: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _print_json(body)
        return
    _out().print(
        f"{body['name']}: v{body['active_version']} is active (was v{body['previous']});"
        " new runs and triggers start it, running runs keep their version",
        highlight=False,
    )


@workflows_app.command("activate")
def activate(
    name: Annotated[str, typer.Argument(help="Workflow name.")],
    version: Annotated[int, typer.Argument(min=1, max=MAX_NUMBER, help="The version to activate.")],
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """Make a version the active one (new runs start it)."""
    target = _Target(home, stack, endpoint, profile, region, aws_profile)
    _print_activation(_activation(target, name, version), as_json)


@workflows_app.command("rollback")
def rollback(
    name: Annotated[str, typer.Argument(help="Workflow name.")],
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """Activate the version below the active one."""
    target = _Target(home, stack, endpoint, profile, region, aws_profile)
    _print_activation(_activation(target, name, None), as_json)


break_app = typer.Typer(
    help="Breakpoints: every attempt of a step pauses before it starts (podium steps resume"
    " lets one attempt pass; clear resumes them all).",
    no_args_is_help=True,
    add_completion=False,
)


IterationOption = Annotated[
    int | None,
    typer.Option(
        "--iteration",
        min=0,
        help="Only in this iteration of the loop (STEP is LOOP/STEP; in a nested loop, the"
        " innermost loop's index).",
    ),
]


def _check_iteration(workflow: str, action: str, step: str | None, iteration: int | None) -> None:
    """``--iteration`` names an iteration of a loop: without LOOP/STEP it is a usage
    error (exit 2), said before the home or the stack is reached (whose answer, a refusal,
    would be exit 1)."""
    if iteration is None:
        return
    if step is None:
        raise usage_error(
            f"--iteration needs the LOOP/STEP to clear: podium break clear {workflow}"
            f" LOOP/STEP --iteration {iteration}"
        )
    if "/" not in step:
        raise usage_error(
            f"--iteration takes LOOP/STEP, a step of a loop's body; {step!r} is not one"
            f" (or drop --iteration to {action} the breakpoint on {step!r} itself)"
        )


def _change_breakpoints(
    target: _Target, workflow: str, action: str, step: str | None, iteration: int | None = None
) -> dict[str, Any]:
    _check_iteration(workflow, action, step, iteration)
    if target.local:
        from podium.core.dsl.errors import DefinitionError
        from podium.service import breakpoints

        with _local(target.home) as ctx:
            try:
                if action == "set":
                    assert step is not None
                    change = breakpoints.set_breakpoint(ctx, workflow, step, iteration)
                else:
                    change = breakpoints.clear_breakpoints(ctx, workflow, step, iteration)
            except DefinitionError as exc:
                for issue in exc.issues:
                    _err().print(Text(issue.message, style="bold red"), highlight=False)
                raise typer.Exit(1) from None
            return change.as_json()
    body: dict[str, Any] = {"action": action}
    if step is not None:
        body["step"] = step
    if iteration is not None:
        body["iteration"] = iteration
    with reporting_remote_errors(workflow):
        result: dict[str, Any] = target.remote.connect().post_json(
            f"/workflows/{quote(workflow)}/breakpoints", body
        )
    return result


@break_app.command("set")
def break_set(
    workflow: Annotated[str, typer.Argument(help="Workflow name.")],
    step: Annotated[str, typer.Argument(help="Step id, or LOOP/STEP in a loop's body.")],
    iteration: IterationOption = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """Pause every attempt of STEP before it starts, in the runs going and to come (with
    --iteration, only in that iteration of the loop)."""
    target = _Target(home, stack, endpoint, profile, region, aws_profile)
    body = _change_breakpoints(target, workflow, "set", step, iteration)
    if as_json:
        _print_json(body)
        return
    if iteration is None:
        # In a loop's body a held attempt is named by its iteration: loop/INDEX/step.
        *loops, inner = step.split("/")
        held = "".join(f"{loop}/INDEX/" for loop in loops) + inner
        _out().print(
            f"breakpoint set on {workflow}.{step}: podium steps resume RUN {held} lets one"
            f" attempt pass; podium break clear {workflow} {step} resumes them all",
            highlight=False,
        )
        return
    loop, inner = step.rsplit("/", 1)
    _out().print(
        f"breakpoint set on {workflow}.{step} in iteration {iteration}: podium steps resume"
        f" RUN {loop}/{iteration}/{inner} lets it pass; podium break clear {workflow} {step}"
        f" --iteration {iteration} resumes it",
        highlight=False,
    )


@break_app.command("clear")
def break_clear(
    workflow: Annotated[str, typer.Argument(help="Workflow name.")],
    step: Annotated[
        str | None,
        typer.Argument(
            help="Step id, or LOOP/STEP (default: every breakpoint `podium break list`"
            " shows). A step's breakpoints in every iteration and in single ones all clear."
        ),
    ] = None,
    iteration: IterationOption = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """Clear breakpoints and resume every step they hold."""
    target = _Target(home, stack, endpoint, profile, region, aws_profile)
    body = _change_breakpoints(target, workflow, "clear", step, iteration)
    if as_json:
        _print_json(body)
        return
    cleared = ", ".join(body["steps"]) or "nothing"
    resumed = ", ".join(body["resumed"]) or "no step was held"
    _out().print(f"cleared {cleared}; resumed: {resumed}", highlight=False)


@break_app.command("list")
def break_list(
    workflow: Annotated[str, typer.Argument(help="Workflow name.")],
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """The steps of WORKFLOW with a breakpoint."""
    target = _Target(home, stack, endpoint, profile, region, aws_profile)
    if target.local:
        from podium.service.breakpoints import list_breakpoints

        with _local(home) as ctx:
            steps = list_breakpoints(ctx, workflow)
    else:
        with reporting_remote_errors(workflow):
            steps = target.remote.connect().get(f"/workflows/{quote(workflow)}/breakpoints")[
                "steps"
            ]
    if as_json:
        _print_json({"workflow": workflow, "steps": steps})
    else:
        _out().print(", ".join(steps) or "no breakpoint", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(workflows_app, name="workflows")
    app.add_typer(break_app, name="break")

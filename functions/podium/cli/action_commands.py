"""Operators' actions from the command line, on the local home or a deployed stack:

    podium runs stop|kill|pause|resume RUN [--reason TEXT]
    podium runs restart RUN [--from incomplete|beginning|STEP] [-p k=v] [--version N|active]
    podium steps skip|retry|stop|resume RUN STEP [--reason TEXT]

Locally the action is applied to the home, and the commands that let steps start
(resume, restart and the step actions) then run the run on to its end here, as
``podium run`` does, unless ``--no-wait`` (a ``podium dev`` on the same home runs it
then). Remotely they call ``POST /runs/{id}/actions`` and ``POST /runs/{id}/steps/actions``.
Exit codes: 0 done, 1 refused (409: the status and what is allowed are printed) or not
found, 2 a usage problem: the action's, locally and remotely alike, whether or not the
command then ran the run on here (how the run ended is printed, and is ``final_status``
with --json; ``podium runs show RUN`` exits 1 for a run that failed).
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from podium.cli.inputs import (
    MAX_NUMBER,
    TypedParamOption,
    local_functions,
    parse_params,
    typed_params,
)
from podium.cli.local_home import Home, print_missing_home
from podium.cli.local_runtime import FunctionsOption, LocalHomeRuntime, NoWaitOption
from podium.cli.output import err as _err
from podium.cli.output import out as _out
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

ReasonOption = Annotated[
    str | None, typer.Option("--reason", help="Why: kept on the run's timeline.")
]


def _request_id(value: str) -> str:
    """``--request-id``: what the API takes (locally it was any text: an id the deployed
    stack would refuse worked on the home)."""
    import re

    from podium.service.action_requests import REQUEST_ID

    if not re.match(REQUEST_ID, value):
        raise typer.BadParameter(
            f"{value[:40]!r}: use 1-128 letters, digits and _ . : - (the API's request ids)"
        )
    return value


RequestIdOption = Annotated[
    str | None,
    typer.Option(
        "--request-id",
        parser=_request_id,
        help="Makes the action safe to repeat: the same id again does nothing more"
        " (default: a new id).",
    ),
]
steps_app = typer.Typer(
    help="Act on one step of a run: skip, retry now, stop, resume (local home or a stack).",
    no_args_is_help=True,
    add_completion=False,
)


def _print(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
        return
    # A path into a child run (LOOP/INDEX/STEP) is answered with the run acted on, the
    # child: the step is named there by its own id (the path is a path from the top run).
    step = str(result.get("step") or "").rsplit("/", 1)[-1]
    what = f"step {step} of run {result['run_id']}" if step else f"run {result['run_id']}"
    line = f"{result['action']}: {what} is {result['status']}"
    if result.get("new_run"):
        line = f"restart: run {result['run_id']} restarted as {result['new_run']}"
        became = result.get("new_status")
        if became and became != "RUNNING":  # its run strategy queued or discarded it
            why = result.get("new_reason")
            line += f", which is {became}" + (f" ({why})" if why else "")
    if result.get("repeated"):
        line += " (this request was already done)"
    _out().print(line, highlight=False)


# The API body's fields a local action's refusal may name (``body.from``), as the options
# that gave them: no body was sent (trigger_commands._OPTIONS does the same for backfill).
_OPTIONS = {
    "from": "--from",
    "version": "--version",
    "params": "-p",
    "reason": "--reason",
    "request_id": "--request-id",
}


def _option_of(path: str) -> str:
    """``body.from`` as ``--from``, ``body.params.day`` as ``-p day``; any other place
    as it is."""
    field, _, rest = path.removeprefix("body.").partition(".")
    option = _OPTIONS.get(field) if path.startswith("body.") else None
    if option is None:
        return path
    return f"{option} {rest}" if rest else option


def _refused(exc: Exception) -> typer.Exit:
    from podium.core.dsl.errors import DefinitionError

    err = _err()
    if isinstance(exc, DefinitionError):
        for issue in exc.issues:
            place = _option_of(issue.path)
            err.print(Text(f"{place}: {issue.message}", style="bold red"), highlight=False)
    else:
        err.print(Text(str(exc), style="bold red"), highlight=False)
    return typer.Exit(1)


def _local_run_action(
    home: Path | None,
    run_id: str,
    action: str,
    actor_reason: str | None,
    request_id: str | None,
    as_json: bool,
    *,
    wait: bool,
    functions: list[str] | None = None,
    restart: dict[str, Any] | None = None,
) -> None:
    from podium.core.dsl.errors import DefinitionError
    from podium.core.engine.actions import ActionRefused, RunAction
    from podium.core.engine.errors import NotFound
    from podium.core.engine.request_ids import RequestIdReused
    from podium.service.actions import Actor, run_action
    from podium.service.restart import RestartRequest

    with LocalHomeRuntime(home, functions) as local:
        actor = Actor(local.by, actor_reason, request_id)
        try:
            request = None
            if restart is not None:
                request = RestartRequest(
                    restart["from"],
                    _local_params(local, run_id, restart["params"], restart["version"]),
                    restart["version"],
                )
            result = run_action(local.rt.services, run_id, RunAction(action), actor, request)
        except (ActionRefused, NotFound, DefinitionError, RequestIdReused) as exc:
            raise _refused(exc) from None
        body = result.as_json()
        target = result.new_run or run_id
        if wait and not result.repeated:
            body["final_status"] = _run_on(local, target, body, as_json)
    _print(body, as_json)
    _said_how_the_run_ended(target, body, as_json)


def _said_how_the_run_ended(run_id: str, body: dict[str, Any], as_json: bool) -> None:
    """After running the run on here (``final_status``: only when the command waited for
    it), how it ended. The exit code stays the action's (0: done), as on a stack, where
    the command does not wait: the run's own is ``podium runs show``'s."""
    final = body.get("final_status")
    if final and not as_json:  # --json: in the body alone
        why = f" ({body['final_reason']})" if body.get("final_reason") else ""
        _out().print(f"run {run_id} {final}{why}: podium runs show {run_id}", highlight=False)


def _run_on(local: LocalHomeRuntime, run_id: str, body: dict[str, Any], as_json: bool) -> str:
    """Run ``run_id`` on here to its end and return its status. Ctrl-C stops only the
    waiting: the action is done and the run stays in the home, so both are said (with the
    run's status and what carries it on), exit 130."""
    try:
        local.rt.pump(run_id=run_id)
    except KeyboardInterrupt:
        _print(body, as_json)
        status = local.rt.describe(run_id).run.status
        where = f"run {run_id} is {status.value} in the home at {local.where}"
        carried = (
            "; podium dev (or podium run) on this home carries it on" if not status.terminal else ""
        )
        _err().print(
            Text(f"interrupted: {where}{carried}: podium runs show {run_id}", style="yellow"),
            highlight=False,
        )
        raise typer.Exit(130) from None
    run = local.rt.describe(run_id).run
    if run.status.value == "QUEUED":  # behind a block only `podium unblock` lifts
        from podium.service.admission import waiting_reason

        body["final_reason"] = waiting_reason(local.rt.services, run)
    return run.status.value


def _local_params(
    local: LocalHomeRuntime, run_id: str, pairs: list[str], version: int | str | None
) -> dict[str, Any]:
    """``-p`` values typed by the version the restart runs (the run's, unless asked)."""
    from podium.service.restart import is_iteration

    if not pairs:
        return {}
    store = local.rt.services.store
    run = store.get_run(run_id)
    if not run.status.terminal or is_iteration(run):
        # Not restartable (the action's refusal says why and what to do): its params are
        # not typed by a workflow a loop's iteration does not have.
        return {}
    number = (
        run.version
        if version is None
        else store.active_version(run.workflow)
        if version == "active"
        else int(version)
    )
    defn = local.rt.services.definitions.get(run.workflow, number).definition
    return parse_params(dict(defn.params), pairs)


def _remote_run_action(
    target: TargetArgs, run_id: str, body: dict[str, Any], as_json: bool
) -> None:
    with reporting_remote_errors(run_id):
        client = target.connect()
        result = client.post_json(f"/runs/{quote(run_id)}/actions", body)
    _print(result, as_json)


def _run_command(action: str, wait_default: bool, doc: str) -> Any:
    def command(
        run_id: Annotated[str, typer.Argument(help="Run id.")],
        reason: ReasonOption = None,
        request_id: RequestIdOption = None,
        no_wait: NoWaitOption = False,
        functions: FunctionsOption = None,
        as_json: JsonOption = False,
        home: HomeOption = None,
        stack: StackOption = None,
        endpoint: EndpointOption = None,
        profile: ProfileOption = None,
        region: RegionOption = None,
        aws_profile: AwsProfileOption = None,
    ) -> None:
        rid = request_id or uuid.uuid4().hex
        if uses_local_home(home, stack, endpoint, profile):
            _local_run_action(
                home,
                run_id,
                action,
                reason,
                rid,
                as_json,
                wait=wait_default and not no_wait,
                functions=functions,
            )
            return
        target = TargetArgs(stack, endpoint, profile, region, aws_profile)
        body = {"action": action, "reason": reason, "request_id": rid}
        _remote_run_action(target, run_id, {k: v for k, v in body.items() if v}, as_json)

    command.__doc__ = doc
    command.__name__ = f"{action}_run"
    return command


def restart_run(
    run_id: Annotated[str, typer.Argument(help="Run id (a run that ended).")],
    start_from: Annotated[
        str,
        typer.Option(
            "--from",
            help="incomplete: rerun what did not succeed (reuse the rest and its outputs);"
            " beginning: rerun everything; STEP: rerun that step and everything below it;"
            " LOOP/INDEX/STEP: rerun the loop, that iteration from STEP, the other"
            " iterations from incomplete; SUBWORKFLOW_STEP/STEP: rerun the subworkflow"
            " step, its run from STEP.",
        ),
    ] = "incomplete",
    param: TypedParamOption = None,
    version: Annotated[
        str | None,
        typer.Option(
            "--version",
            help="Run another version of the workflow: a number, or 'active' (default: the"
            " version the run ran).",
        ),
    ] = None,
    reason: ReasonOption = None,
    request_id: RequestIdOption = None,
    no_wait: NoWaitOption = False,
    functions: FunctionsOption = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """Restart an ended run as a new run pointing back to it (restart_of). A run is
    restarted once: to go again, restart the new run."""
    wanted: int | str | None = None
    if version is not None:
        number = version.isascii() and version.isdigit() and len(version) <= 9 and int(version) >= 1
        if version != "active" and not number:
            _err().print(Text("--version: a version number (1 or more) or 'active'", style="red"))
            raise typer.Exit(2)
        wanted = int(version) if version.isdigit() else version
    rid = request_id or uuid.uuid4().hex
    if uses_local_home(home, stack, endpoint, profile):
        restart = {"from": start_from, "params": param or [], "version": wanted}
        _local_run_action(
            home,
            run_id,
            "restart",
            reason,
            rid,
            as_json,
            wait=not no_wait,
            functions=functions,
            restart=restart,
        )
        return
    target = TargetArgs(stack, endpoint, profile, region, aws_profile)
    body: dict[str, Any] = {"action": "restart", "from": start_from, "request_id": rid}
    if reason:
        body["reason"] = reason
    if wanted is not None:
        body["version"] = wanted
    if param:
        with reporting_remote_errors(run_id):
            run = target.connect().get(f"/runs/{quote(run_id)}", {"limit": 1})["run"]
        # Typed by the version the restart runs: the run's own unless another is asked
        # for (None: the active one).
        chosen = run["version"] if wanted is None else wanted if isinstance(wanted, int) else None
        body["params"] = typed_params(target.connect(), run["workflow"], chosen, param)
    _remote_run_action(target, run_id, body, as_json)


def _step_command(action: str, doc: str) -> Any:
    def command(
        run_id: Annotated[str, typer.Argument(help="Run id.")],
        step: Annotated[
            str,
            typer.Argument(
                help="Step id; LOOP/INDEX/STEP for a step of an iteration,"
                " SUBWORKFLOW_STEP/STEP for one of a subworkflow's run."
            ),
        ],
        reason: ReasonOption = None,
        request_id: RequestIdOption = None,
        no_wait: NoWaitOption = False,
        functions: FunctionsOption = None,
        as_json: JsonOption = False,
        home: HomeOption = None,
        stack: StackOption = None,
        endpoint: EndpointOption = None,
        profile: ProfileOption = None,
        region: RegionOption = None,
        aws_profile: AwsProfileOption = None,
    ) -> None:
        rid = request_id or uuid.uuid4().hex
        if uses_local_home(home, stack, endpoint, profile):
            _local_step_action(
                home,
                run_id,
                step,
                action,
                reason,
                rid,
                as_json,
                wait=not no_wait,
                functions=functions,
            )
            return
        target = TargetArgs(stack, endpoint, profile, region, aws_profile)
        body = {"step": step, "action": action, "reason": reason, "request_id": rid}
        with reporting_remote_errors(run_id):
            result = target.connect().post_json(
                f"/runs/{quote(run_id)}/steps/actions", {k: v for k, v in body.items() if v}
            )
        _print(result, as_json)

    command.__doc__ = doc
    command.__name__ = f"{action}_step"
    return command


def _local_step_action(
    home: Path | None,
    run_id: str,
    step: str,
    action: str,
    reason: str | None,
    request_id: str,
    as_json: bool,
    *,
    wait: bool,
    functions: list[str] | None,
) -> None:
    from podium.core.engine.actions import ActionRefused, BadStepPath, StepAction
    from podium.core.engine.errors import NotFound
    from podium.core.engine.request_ids import RequestIdReused
    from podium.service.actions import Actor, step_action

    with LocalHomeRuntime(home, functions) as local:
        actor = Actor(local.by, reason, request_id)
        try:
            result = step_action(local.rt.services, run_id, step, StepAction(action), actor)
        except (ActionRefused, NotFound, BadStepPath, RequestIdReused) as exc:
            raise _refused(exc) from None
        body = result.as_json()
        if wait and not result.repeated:
            body["final_status"] = _run_on(local, run_id, body, as_json)
    _print(body, as_json)
    _said_how_the_run_ended(run_id, body, as_json)


def replay_attempt(
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    step: Annotated[
        str,
        typer.Argument(
            help="A lambda step of the run; LOOP/INDEX/STEP in a loop iteration,"
            " SUBWORKFLOW_STEP/STEP in the run a subworkflow step started last."
        ),
    ],
    attempt: Annotated[
        int | None,
        typer.Option(
            "--attempt",
            min=1,
            max=MAX_NUMBER,
            help="Which attempt (default: the last).",
        ),
    ] = None,
    functions: FunctionsOption = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """Run an attempt's function here, with exactly the event it got (params, step params,
    the payload rendered from the upstream outputs), and show its result beside the
    recorded one. The function is the Python callable ./podium.toml or --functions maps
    the Lambda function to (a module:function runs as it is)."""
    from podium.adapters.runners import LocalFunctionRunner
    from podium.cli.local_commands import step_in_home
    from podium.service.replay import ReplayInput, run_again, same_outcome

    if uses_local_home(home, stack, endpoint, profile):
        from podium.core.dsl.errors import DefinitionError
        from podium.core.engine.errors import NotFound
        from podium.service.replay import replay_input

        with Home(home) as opened:
            if not opened.exists:
                print_missing_home(opened)
                raise typer.Exit(1)
            run_id, step = step_in_home(opened, run_id, step)  # LOOP/INDEX/STEP: where it ran
            try:
                body = replay_input(opened.services, run_id, step, attempt).as_json()
            except (NotFound, DefinitionError) as exc:
                raise _refused(exc) from None
    else:
        from podium.cli.remote_commands import step_through_api

        target = TargetArgs(stack, endpoint, profile, region, aws_profile)
        run_id, step = step_through_api(target, run_id, step)  # LOOP/INDEX/STEP, SUB/STEP
        with reporting_remote_errors(run_id):
            body = target.connect().get(
                f"/runs/{quote(run_id)}/replay", {"step": step, "attempt": attempt}
            )
    replay = ReplayInput(
        body["run_id"], body["step"], body["attempt"], body["function"], body["event"],
        body["recorded"],
    )  # fmt: skip
    sys.path.insert(0, str(Path.cwd()))
    runner = LocalFunctionRunner(local_functions(Path.cwd(), functions))
    if as_json:  # stdout carries the JSON document alone; the function prints to stderr
        with _stdout_to_stderr():
            replayed = run_again(runner, replay)
    else:
        replayed = run_again(runner, replay)
    same = same_outcome(replay.recorded, replayed)
    if as_json:
        sys.stdout.write(
            json.dumps({**body, "replayed": replayed, "same": same}, indent=2, default=str) + "\n"
        )
    else:
        out = _out()
        out.print(
            f"replayed {replay.function} for {run_id}/{step} attempt {replay.attempt}",
            highlight=False,
        )
        for label, result in (("recorded", replay.recorded), ("replayed", replayed)):
            if result["status"] == "SUCCEEDED":
                shown = json.dumps(result["output"], default=str)
            else:
                kind, error = result.get("error_type") or "error", str(result.get("error"))
                shown = error if error.startswith(kind) else f"{kind}: {error}"
            out.print(f"  {label}: {result['status']} {shown}", highlight=False)
        if replayed.get("traceback"):
            out.print(Text(str(replayed["traceback"]).rstrip(), style="dim"), highlight=False)
        out.print("same outcome" if same else "different outcome", highlight=False)
    raise typer.Exit(0 if replayed["status"] == "SUCCEEDED" else 1)


@contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """What is written to stdout meanwhile goes to stderr: Python's ``print`` and, when
    stdout is the process's file descriptor 1, what C code or a child process writes."""
    sys.stdout.flush()
    saved: int | None = None
    try:
        if sys.stdout.fileno() == 1:
            saved = os.dup(1)
            os.dup2(sys.stderr.fileno(), 1)
    except (AttributeError, OSError, ValueError):  # not a file (a test's capture)
        saved = None
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def register(app: typer.Typer, runs_app: typer.Typer) -> None:
    runs_app.command("replay")(replay_attempt)
    runs_app.command("stop")(
        _run_command(
            "stop",
            False,
            "Stop a run: no new step starts, running attempts are terminated; it ends STOPPED.",
        )
    )
    runs_app.command("kill")(
        _run_command("kill", False, "Kill a run: as stop, and the run ends FAILED.")
    )
    runs_app.command("pause")(
        _run_command("pause", False, "Pause a run: no new step starts; running attempts finish.")
    )
    runs_app.command("resume")(
        _run_command(
            "resume",
            True,
            "Resume a paused run: the steps held meanwhile start (locally: runs it on).",
        )
    )
    runs_app.command("restart")(restart_run)
    steps_app.command("skip")(
        _step_command("skip", "Skip a step (SKIPPED with the reason); the steps below go on.")
    )
    steps_app.command("retry")(
        _step_command("retry", "Start a step's next attempt now (a step waiting to retry).")
    )
    steps_app.command("stop")(
        _step_command("stop", "Stop a step (a running attempt is terminated): a failure.")
    )
    steps_app.command("resume")(
        _step_command("resume", "Resume a paused step (a breakpoint, or held by a pause).")
    )
    app.add_typer(steps_app, name="steps")

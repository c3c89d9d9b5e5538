"""The ``podium`` command: ``validate``, ``schema`` and ``run``, and every command group
registered on it.

The top of the CLI: it imports each command module; none imports it.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any

try:  # Ctrl-C while the CLI loads (half a second or so): a line, not a traceback
    import typer
    from rich.console import Console
    from rich.text import Text
    from typer.core import TyperGroup

    from podium.cli import (
        action_commands,
        callback_command,
        console_command,
        dev_command,
        dlq_commands,
        expr_command,
        prune_command,
        remote_commands,
        render,
        signal_command,
        trigger_commands,
        workflow_commands,
    )
    from podium.cli.inputs import (
        TagOption,
        check_trigger_event,
        local_functions,
        local_stand_ins,
        parse_params,
        parse_tags,
    )
    from podium.cli.local_home import creatable_home
    from podium.cli.target_options import home_directory
    from podium.core.dsl.errors import DefinitionError
    from podium.core.dsl.load import load_definition
    from podium.core.dsl.schema import workflow_json_schema
    from podium.core.dsl.triggers import ignored_field_issues
    from podium.local.text_files import UnreadableFile, read_text
except KeyboardInterrupt:
    sys.stderr.write("interrupted while podium was starting: nothing was done\n")
    raise SystemExit(130) from None


class _PodiumGroup(TyperGroup):
    """The top command. What no command can recover from is said in a line instead of a
    traceback: a home that cannot be used (locked, read-only, damaged: HomeError), and a
    Ctrl-C that the command did not report itself (typer's own exit 130 says nothing)."""

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click.Context
        from podium.adapters.sqlite.db import HomeError

        try:
            return super().invoke(ctx)
        except HomeError as exc:
            errors.print(Text(str(exc), style="bold red"), highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            errors.print(Text("interrupted (Ctrl-C)", style="yellow"), highlight=False)
            raise typer.Exit(130) from None


app = typer.Typer(
    cls=_PodiumGroup,
    help="Podium: a serverless workflow orchestrator for AWS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# soft_wrap: messages stay on one line, so they can be grepped and piped. No markup and no
# emoji codes: what is printed holds paths, outputs and errors, where "[/x]" or "[old]"
# is text and ":x:" is not an emoji (cli/output).
console = Console(soft_wrap=True, markup=False, emoji=False)
errors = Console(stderr=True, soft_wrap=True, markup=False, emoji=False)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("podium")
    except PackageNotFoundError:  # running from a source tree
        return "0+unknown"


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"podium {_version()}\n")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Podium: a serverless workflow orchestrator for AWS."""


ParamOption = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="Run param as key=value (repeatable)."),
]
FunctionsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--functions",
        help="The Python callable that plays a Lambda function locally, as"
        " name=module:function (repeatable; wins over podium.toml beside the workflow).",
    ),
]


def _read(path: Path) -> str:
    try:
        return read_text(path)
    except FileNotFoundError as exc:
        errors.print(Text(f"cannot read {path}: {exc.strerror}", style="red"), highlight=False)
        raise typer.Exit(2) from None
    except UnreadableFile as exc:
        errors.print(Text(str(exc), style="red"))
        raise typer.Exit(2) from None


def _print_issues(path: Path, exc: DefinitionError) -> None:
    errors.print(Text(f"{path}: {len(exc.issues)} problem(s)", style="bold red"), highlight=False)
    for issue in exc.issues:
        errors.print(Text.assemble(("  ✗ ", "red"), str(issue)), highlight=False)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Workflow definitions (YAML or JSON).")],
) -> None:
    """Check definitions; lists every problem with its path. Exit 1 when any is invalid."""
    bad = 0
    for path in files:
        try:
            defn = load_definition(_read(path), str(path))
            # What a push refuses beyond the load (fields that would do nothing): a
            # version stored before those checks keeps loading, a new one is refused.
            ignored = ignored_field_issues(defn.triggers)
            if ignored:
                raise DefinitionError(ignored)
        except DefinitionError as exc:
            _print_issues(path, exc)
            bad += 1
            continue
        console.print(
            Text.assemble(
                ("✓", "green"), f" {path}: workflow '{defn.name}', {len(defn.steps)} steps"
            ),
            highlight=False,
        )
        # Both read podium.toml: one that does not parse is one note, not two.
        for note in dict.fromkeys([*_function_notes(path, defn), *_stand_in_notes(path, defn)]):
            console.print(Text.assemble(("  note ", "yellow"), note), highlight=False)
    raise typer.Exit(1 if bad else 0)


def _stand_in_notes(path: Path, defn: Any) -> list[str]:
    """External job steps (ecs_task, batch_job, glue_job, sfn_execution) without a local
    stand-in in podium.toml: podium run fails them."""
    from podium.adapters.jobs.local import definition_name
    from podium.local.stand_ins import JOB_TABLES, stand_ins_beside

    try:
        stand_ins = stand_ins_beside(path.resolve().parent)
    except ValueError as exc:
        return [str(exc)]
    tables = {kind: table for table, kind in JOB_TABLES.items()}
    notes = []
    for i, step in enumerate(defn.steps):
        if step.type not in tables:
            continue
        targets = stand_ins.jobs.get(step.type, {})
        name = definition_name(step.type, step)
        if step.id not in targets and name not in targets:
            notes.append(
                f"steps[{i}]: {step.type} '{name}' has no local stand-in in podium.toml"
                f" [{tables[step.type]}]: podium run fails this step"
            )
    return notes


def _function_notes(path: Path, defn: Any) -> list[str]:
    """Where a lambda step runs: a module:function only locally; a Lambda name locally
    only when podium.toml beside the file maps it (a bad podium.toml is a note too)."""
    from podium.core.functions import is_python_ref, lambda_functions, mapped
    from podium.local.functions import config_beside, read_config

    try:
        mapping = read_config(config_beside(path))
    except ValueError as exc:
        return [str(exc)]
    notes = []
    for where, _, function in lambda_functions(defn.steps):  # loop bodies' steps too
        if is_python_ref(function):
            notes.append(
                f"{where}: '{function}' is a Python callable: it runs locally, but"
                " a deployed stack refuses it; name the Lambda function and map it in"
                " podium.toml"
            )
        elif mapped(mapping, function) is None:
            notes.append(
                f"{where}: Lambda function '{function}' has no local mapping in"
                f" {config_beside(path).name} beside the file: podium run fails this step"
                " (add it, or pass --functions)"
            )
    return notes


@app.command()
def schema() -> None:
    """Print the JSON Schema of the workflow language (for editors)."""
    sys.stdout.write(json.dumps(workflow_json_schema(), indent=2) + "\n")


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="Workflow definition to run.")],
    param: ParamOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    real_time: Annotated[
        bool, typer.Option("--real-time", help="Really wait for sleeps and retry delays.")
    ] = False,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            parser=home_directory,
            help="The local home (default: PODIUM_HOME, else .podium).",
        ),
    ] = None,
    backend: Annotated[
        str,
        typer.Option(
            "--backend",
            help="sqlite: the local home, kept for podium runs; moto: DynamoDB on in-process"
            " moto (fidelity checks); memory: in-process fakes. moto and memory keep nothing.",
        ),
    ] = "sqlite",
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Threads running ready steps at once (default: the number of cores, at"
            " least 4; 1 with --backend moto). The result is the same as with 1.",
        ),
    ] = None,
    functions: FunctionsOption = None,
    tag: TagOption = None,
    event: Annotated[
        Path | None,
        typer.Option(
            "--event",
            help="Start the run as a trigger would for this event (JSON: an S3 'Object"
            ' Created\' event, an EventBridge event, or {"time": ISO} for a cron trigger).',
        ),
    ] = None,
    print_events: Annotated[
        bool,
        typer.Option("--events", help="Print the run and step status events as JSON lines."),
    ] = False,
) -> None:
    """Run a workflow end to end on the embedded runtime (no AWS account).

    A lambda step naming a Lambda function runs the Python callable podium.toml (beside
    the workflow) or --functions maps it to; module:function runs as it is.

    State is kept in the local home (a SQLite file), so podium runs list/show/timeline
    inspect the run afterwards from another process."""
    from podium import bootstrap

    if backend not in ("sqlite", "moto", "memory"):
        errors.print(Text(f"--backend '{backend}': use sqlite, moto or memory", style="red"))
        raise typer.Exit(2)
    if home is not None and backend != "sqlite":
        # It was ignored: the run went nowhere the user would look for it.
        errors.print(
            Text(
                f"--home keeps the run in a local home, but --backend {backend} keeps"
                " nothing: drop --home, or --backend to use the home",
                style="red",
            )
        )
        raise typer.Exit(2)
    trigger_event = _read_event(event, bool(param or tag)) if event is not None else None
    with ExitStack() as stack:
        with _interrupted_before_the_run():
            from rich.live import Live

            from podium.local.runtime import LocalRuntime

            text = _read(file)
            try:
                defn = load_definition(text, str(file))
            except DefinitionError as exc:
                _print_issues(file, exc)
                raise typer.Exit(1) from None
            if trigger_event is not None:
                try:  # the event's contents, against the triggers, before the home is made
                    check_trigger_event(defn, trigger_event)
                except DefinitionError as exc:
                    _print_issues(event or file, exc)
                    raise typer.Exit(1) from None
            where = creatable_home(home) if backend == "sqlite" else None
            params = parse_params(dict(defn.params), param or [])
            mapping = local_functions(file.resolve().parent, functions)
            stand_ins = local_stand_ins(file.resolve().parent)
            tags = parse_tags(tag)
            # Local functions (module:function, mapped or written as is) live next to the
            # definition.
            sys.path.insert(0, str(file.resolve().parent))
            # In-process moto is not made for concurrent requests: one worker unless asked.
            default_workers = 1 if backend == "moto" else max(4, os.cpu_count() or 1)
            threads = workers if workers is not None else default_workers
            rt = stack.enter_context(
                LocalRuntime(
                    virtual_time=not real_time,
                    store=backend,
                    home=where,
                    workers=threads,
                    functions=mapping,
                    stand_ins=stand_ins,
                )
            )
            try:
                rt.push(text)  # refused for what only a push checks (its subworkflows')
            except DefinitionError as exc:
                _print_issues(file, exc)
                raise typer.Exit(1) from None
            if print_events:
                from podium.local.event_printer import print_events_of

                print_events_of(rt.services, sys.stderr)
            try:
                if trigger_event is not None:
                    from podium.local.event_printer import start_from_file

                    started = start_from_file(rt.services, defn.name, trigger_event)
                else:
                    started = rt.start_run(defn.name, params, tags=tags)
            except DefinitionError as exc:
                _print_issues(event or file, exc)
                raise typer.Exit(1) from None
        began = time.monotonic()
        interrupted = False
        try:
            if as_json or print_events:
                rt.pump(run_id=started.run_id)
            else:
                # No redirection: a step's prints go to its log (local/capture.py), not
                # above the live display.
                with Live(
                    console=errors,
                    transient=True,
                    refresh_per_second=8,
                    redirect_stdout=False,
                    redirect_stderr=False,
                ) as live:
                    rt.pump(
                        run_id=started.run_id,
                        on_progress=lambda v: live.update(render.progress(v, rt.clock.now_ms())),
                    )
        except KeyboardInterrupt:
            interrupted = True
        real_ms = int((time.monotonic() - began) * 1000)
        # A large run's table is cut: its joins and sinks stay in it (with every failure).
        shown = frozenset(s.id for s in defn.steps if len(s.dependency_ids) > 1) | _sinks(defn)
        view = rt.describe(started.run_id)
        held = not view.run.status.terminal and rt.held(started.run_id)
        logged = sorted({e.step for e in rt.logs.read(started.run_id)})
    if interrupted:
        errors.print(render.summary(view, real_ms=real_ms if not real_time else None, always=shown))
        kept = (
            f"its state and queued steps are kept in {where / bootstrap.HOME_DB}: podium run"
            " (or podium dev) on this home resumes them"
            if where is not None
            else "nothing is kept (--backend moto/memory)"
        )
        errors.print(
            Text(f"interrupted: run {view.run.run_id} is not over; {kept}", style="yellow"),
            highlight=False,
        )
        raise typer.Exit(130)
    if as_json:
        sys.stdout.write(json.dumps(render.view_json(view), indent=2, default=str) + "\n")
    else:
        console.print(
            render.summary(view, real_ms=real_ms if not real_time else None, always=shown)
        )
        if held:  # stopped for an operator: say what lets it go on
            rid = view.run.run_id
            errors.print(
                Text(
                    f"run {rid} is paused: podium runs resume {rid} runs it on"
                    if view.run.status.value == "PAUSED"
                    else f"run {rid} is held at a breakpoint: podium steps resume {rid} STEP"
                    " (in a loop: LOOP/INDEX/STEP; podium runs show RUN --step LOOP lists"
                    " the iterations) lets it go on",
                    style="yellow",
                ),
                highlight=False,
            )
        for s in view.steps:
            if s.step in _sinks(defn) and s.output is not None:
                console.print(Text(f"{s.step} output:", style="bold"))
                if isinstance(s.output, str):  # as the step returned it
                    console.print(Text(s.output), highlight=False)
                else:
                    console.print(json.dumps(s.output, indent=2))
        if where is not None:
            # Quoted for a shell: the hint is a command to paste (a home may hold a space).
            home_flag = f" --home {shlex.quote(str(where))}" if home is not None else ""
            errors.print(
                Text(
                    f"kept in {where / bootstrap.HOME_DB}: podium runs show"
                    f" {view.run.run_id}{home_flag}",
                    style="dim",
                ),
                highlight=False,
            )
            if logged:
                errors.print(
                    Text(
                        f"output of {', '.join(logged[:5])}{' ...' if len(logged) > 5 else ''}:"
                        f" podium runs logs {view.run.run_id}{home_flag}",
                        style="dim",
                    ),
                    highlight=False,
                )
    raise typer.Exit(0 if view.run.status.complete else 1)


def _read_event(event: Path, with_params: bool) -> dict[str, Any]:
    """``--event FILE``, read and checked before anything is made: a missing file is a
    usage problem, said as a missing workflow file is (exit 2), and so is ``-p`` or
    ``--tag`` with it; a file that is no JSON object is refused as a bad definition is
    (exit 1). Found after the home was made and the definition pushed, they came raw
    (a missing file) or late (bad JSON)."""
    from podium.local.event_printer import read_event

    if with_params:
        errors.print(
            Text(
                "--event: the trigger's params come from the event: drop -p and --tag",
                style="red",
            ),
            highlight=False,
        )
        raise typer.Exit(2)
    _read(event)  # exit 2 for a file that is not there or not text
    try:
        return read_event(event)
    except DefinitionError as exc:
        _print_issues(event, exc)
        raise typer.Exit(1) from None


@contextmanager
def _interrupted_before_the_run() -> Iterator[None]:
    """Ctrl-C before ``podium run`` started its run (reading the file, opening the home,
    pushing the definition): said, exit 130."""
    try:
        yield
    except KeyboardInterrupt:
        errors.print(Text("interrupted before the run started: nothing ran", style="yellow"))
        raise typer.Exit(130) from None


def _sinks(defn: Any) -> set[str]:
    used = {d for s in defn.steps for d in s.dependency_ids}
    return {s.id for s in defn.steps if s.id not in used}


app.command("expr")(expr_command.expr_command)


# push, start and runs: the same API a deployed stack serves (SigV4, see cli/remote.py).
remote_commands.register(app)
action_commands.register(app, remote_commands.runs_app)
remote_commands.runs_app.command("prune")(prune_command.prune_runs)
workflow_commands.register(app)
app.add_typer(dlq_commands.dlq_app, name="dlq")
app.add_typer(signal_command.signal_app, name="signal")
app.add_typer(trigger_commands.triggers_app, name="triggers")
app.command("backfill")(trigger_commands.backfill_command)
app.command("dev")(dev_command.dev_command)
app.command("console")(console_command.console_command)
app.command("callback")(callback_command.callback_command)


def main() -> None:
    """The ``podium`` command: the app (``_PodiumGroup`` says in a line what no command
    can recover from), and the same for a home error raised outside any command."""
    from podium.adapters.sqlite.db import HomeError

    try:
        app()
    except HomeError as exc:
        errors.print(Text(str(exc), style="bold red"), highlight=False)
        raise SystemExit(exc.exit_code) from None
    finally:
        # The command is over; Python still stops its threads and runs its exit hooks,
        # where a Ctrl-C would end in a traceback.
        signal.signal(signal.SIGINT, _interrupted_at_exit)


def _interrupted_at_exit(signum: int, frame: object) -> None:
    sys.stdout.flush()
    sys.stderr.write("interrupted (Ctrl-C)\n")
    sys.stderr.flush()
    os._exit(130)


if __name__ == "__main__":
    main()

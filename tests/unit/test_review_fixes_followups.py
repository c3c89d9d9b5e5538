"""Follow-ups of this session's own changes, found by a review of them: a numeric range
stored before its push check keeps loading, a subworkflow's run announces RUNNING before
what its resume ends and its pause when its launch paused it, a zero-padded huge integer
literal is a syntax error, podium.format's overload error names the zone too, and
`podium runs list`'s next-page command keeps the home, the target and quoted values.
Each test failed before its fix (its docstring says what was wrong)."""

from __future__ import annotations

import contextlib
import shlex
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.local.runtime import LocalRuntime
from tests.unit.test_events_review_fixes import paused_subworkflow_run, run_changes

# ---- event patterns: a push rule applied to stored versions ----------------------------


def test_a_stored_version_with_an_upper_then_lower_numeric_range_still_loads() -> None:
    """4639288 refuses a numeric range that is not ``[">"/">=", low, "<"/"<=", high]``
    inside ``check_pattern``, which ``EventSource._pattern`` (core/dsl/triggers.py) runs
    for every validation, stored versions included (it does not ask ``at_push``). A
    version pushed before the rule with ``["<", 10, ">", 0]`` (accepted then, and matched
    by event_patterns) no longer loads: its triggers stop routing and its runs in flight
    cannot be read (core/dsl/stored.py: a rule that refuses what an earlier release
    accepted is a push rule). Right: refuse the shape at push only (``at_push(info)``),
    let a stored version through."""
    from podium.core.dsl.load import validate_definition

    data = {
        "name": "ranged",
        "steps": [{"id": "a", "type": "noop"}],
        "triggers": [
            {
                "id": "t",
                "event": {
                    "pattern": {
                        "source": ["x"],
                        "detail": {"n": [{"numeric": ["<", 10, ">", 0]}]},
                    }
                },
            }
        ],
    }
    defn = validate_definition(data, stored=True)  # DefinitionError today
    assert defn.name == "ranged"


# ---- events: a subworkflow's run announces its pause and resume ------------------------


def test_a_resumed_subworkflow_child_whose_steps_ended_does_not_announce_running_last() -> None:
    """resume_tree's new ``resumed`` (service/resuming.py) calls ``release_held`` first,
    then ``publish_run_status(ctx, child)`` with the record read at the transition. A
    child whose last step ended while it was paused completes inside ``release_held``
    (run_ended publishes SUCCEEDED), so its RUNNING event goes out *after* SUCCEEDED: a
    consumer following the run ends on RUNNING. Right: publish the resume before
    releasing (the change happened at the transition), i.e. RUNNING, PAUSED, RUNNING,
    SUCCEEDED. (The top run's resume in actions._apply_run_action has the same order.)"""
    from podium.core.engine.actions import RunAction
    from podium.core.engine.status import RunStatus
    from podium.service.actions import Actor, run_action

    clock = ManualClock()
    with LocalRuntime(store="memory", clock=clock) as rt:
        run_id, child = paused_subworkflow_run(rt, nap_seconds=60)
        clock.advance(120_000)
        rt.pump(wait=False)  # the nap ends; the paused child waits for the resume
        assert rt.services.store.get_run(child.run_id).status is RunStatus.PAUSED
        run_action(rt.services, run_id, RunAction.RESUME, Actor(by="me"))
        rt.pump(wait=False)
        assert rt.services.store.get_run(child.run_id).status is RunStatus.SUCCEEDED
        changes = run_changes(rt, child.run_id)
    assert changes[-1] == "SUCCEEDED", changes
    assert changes == ["RUNNING", "PAUSED", "RUNNING", "SUCCEEDED"], changes


def test_a_subworkflow_child_paused_by_its_launch_announces_its_pause() -> None:
    """39d3d0c makes a subworkflow's run announce its pause when the pause's walk moves it
    (pause_tree), but a pause that lands while the subworkflow step launches the child
    (before the child exists, so the walk skips it) is applied by the launch itself:
    ``missed_pause.pause_launched`` moves the child to PAUSED and publishes nothing. The
    resume then announces RUNNING for a run never said to be paused. Right:
    ``pause_launched`` publishes each child it paused (``publish_run_status`` already
    skips loop iterations)."""
    from podium.core.engine.actions import RunAction
    from podium.core.engine.status import RunStatus
    from podium.service.actions import Actor, run_action

    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.push({"name": "child", "steps": [{"id": "nap", "type": "sleep", "seconds": 60}]})
        rt.push(
            {"name": "parent", "steps": [{"id": "sub", "type": "subworkflow", "workflow": "child"}]}
        )
        store = rt.services.store
        real = store.create_run
        paused: list[str] = []

        def create_run(record: Any, *a: Any, **k: Any) -> Any:
            if record.workflow == "child" and not paused:
                # The operator's pause lands between the launch's open and its create.
                paused.append(record.run_id)
                run_action(rt.services, record.parent_run, RunAction.PAUSE, Actor(by="me"))
            return real(record, *a, **k)

        store.create_run = create_run  # type: ignore[method-assign]
        rt.start_run("parent")
        rt.pump(wait=False)
        (child,) = store.list_runs("child")
        assert child.status is RunStatus.PAUSED  # paused by pause_launched
        changes = run_changes(rt, child.run_id)
    assert "PAUSED" in changes, changes


# ---- expressions -----------------------------------------------------------------------


@pytest.mark.parametrize("source", ["0" * 5000, "0" * 4999 + "7", "0" * 5000 + "u"])
def test_a_zero_padded_huge_integer_literal_is_a_syntax_error(source: str) -> None:
    """b165abe checks ``_significant`` digits (leading zeros stripped) against 100 before
    ``int()``, but Python's int-string limit counts every digit, zeros included: a
    literal of 5,000 zeros (with a raised ``max_length``) passes the check and a bare
    ``ValueError: Exceeds the limit (4300 digits)`` escapes compile_expression, the very
    traceback the change meant to end (its comment even says "even zero-padded").
    Right: an ExpressionSyntaxError (or the value, the zeros stripped before int()).
    Fix in literals.decode_int/decode_uint."""
    from podium.core.expr import ExpressionError, Limits, compile_expression

    with contextlib.suppress(ExpressionError):  # refused as one, or evaluated: both right
        compile_expression(source, Limits(max_length=20_000)).evaluate()


def test_podium_format_overload_error_names_the_time_zone_argument_too() -> None:
    """b165abe: "helper overload errors name every argument". ``fn_format``'s own check
    of a non-string format still raises ``no_overload("podium.format", value, fmt)``,
    dropping the zone: ``podium.format(d, 1, 'UTC')`` says 'podium.format(string, int)',
    a call of two arguments that was never written. Right: '(string, int, string)'."""
    from podium.core.expr import ExpressionError, compile_expression

    with pytest.raises(ExpressionError) as info:
        compile_expression("podium.format(d, 1, 'UTC')").evaluate({"d": "2024-01-01"})
    assert "(string, int, string)" in info.value.message, info.value.message


# ---- podium runs list --next: the printed command --------------------------------------


def _more_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("more: ")]
    assert lines, output
    return lines[0][len("more: ") :]


def _home_with_runs(tmp_path: Path, *extra: str) -> Path:
    from podium.cli.main import app

    home = tmp_path / "home"
    wf = tmp_path / "wf.yaml"
    wf.write_text("name: wf\nsteps:\n  - {id: a, type: noop}\n")
    for _ in range(3):
        result = CliRunner().invoke(app, ["run", "--home", str(home), *extra, str(wf)])
        assert result.exit_code == 0, result.output
    return home


def test_runs_list_next_command_keeps_the_home_it_listed(tmp_path: Path) -> None:
    """``more(token)`` (cli/remote_commands.list_runs) rebuilds the command from the
    workflow, --status, --since, --tag and --limit only. ``podium runs list --home DIR``
    prints ``more: podium runs list --limit 2 --next TOKEN``: run as printed, it lists
    another home (PODIUM_HOME, or .podium) from that token. The same for --stack,
    --endpoint, --profile (docs/deploy.md: ``podium runs list nightly --limit 10 --stack
    Podium``): the next page is read from the local home or another stack. Right: the
    command carries the target options it was given."""
    from podium.cli.main import app

    home = _home_with_runs(tmp_path)
    result = CliRunner().invoke(app, ["runs", "list", "--home", str(home), "--limit", "2"])
    assert result.exit_code == 0, result.output
    argv = shlex.split(_more_line(result.output))
    assert "--home" in argv and argv[argv.index("--home") + 1] == str(home), argv


def test_runs_list_next_command_quotes_a_tag_value_with_a_space(tmp_path: Path) -> None:
    """A tag value may hold spaces (core/tags.py refuses only commas and control
    characters), but the printed command joins ``--tag owner=Ann Lee`` unquoted: pasted
    into a shell it is ``--tag owner=Ann`` and a stray argument ``Lee`` (taken as the
    WORKFLOW, or refused). Right: each value shell-quoted (shlex.quote), so that the
    printed command, split as a shell would, gives back the same filters."""
    from podium.cli.main import app

    home = _home_with_runs(tmp_path, "--tag", "owner=Ann Lee")
    args = ["runs", "list", "--home", str(home), "--limit", "2", "--tag", "owner=Ann Lee"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    argv = shlex.split(_more_line(result.output))
    assert "--tag" in argv and argv[argv.index("--tag") + 1] == "owner=Ann Lee", argv


def test_remote_runs_list_next_command_keeps_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a stack the printed next-page command drops ``--stack NAME``: run as printed,
    ``podium runs list nightly --next TOKEN`` goes to the local home (or the configured
    default target), not to the stack whose token it is. Right: keep --stack (and
    --endpoint/--profile/--region/--aws-profile) in the command."""
    from podium.cli import remote_commands, target_options
    from podium.cli.main import app

    monkeypatch.setattr(target_options.TargetArgs, "connect", lambda self: object())
    monkeypatch.setattr(
        remote_commands, "_remote_runs", lambda *a, **k: {"runs": [], "next": "WzEsIngiXQ"}
    )
    result = CliRunner().invoke(app, ["runs", "list", "nightly", "--stack", "Podium"])
    argv = shlex.split(_more_line(result.output))
    assert "--stack" in argv and argv[argv.index("--stack") + 1] == "Podium", argv

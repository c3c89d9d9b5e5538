"""Text that users and their steps wrote (a step's error, a step's output, a file or home
path) was printed by ``podium run``, ``podium runs list|show|replay`` and ``podium
validate`` as rich *markup*: ``[/dev/sda1]`` was read as a closing tag (a traceback,
rich.errors.MarkupError, exit 1, after the run itself had succeeded) and ``[old]`` or
``[bold]`` as a style (silently dropped from what was shown). The CLI's consoles read no
markup now (cli/output.py, cli/main.py and each command's own console), styles go in
``Text``, and the tables the renderers build (cli/remote_render.py, cli/local_commands.py)
hold what users wrote as ``Text`` cells. The ``kept in HOME: podium runs show RUN --home
HOME`` hint quoted the home for a shell neither.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from tests.integration import test_remote_cli as remote
from tests.integration.test_cli_local import podium, run_id_of
from tests.integration.test_remote_cli import Deployed, on_stack, write

deployed = remote.deployed
user = remote.user

FAILING = """
name: bracket_fail
steps:
  - {id: ok, type: noop}
  - {id: boom, type: fail, message: "disk full on [/dev/sda1]", depends_on: [ok]}
"""
FUNCTIONS = """
def report(event):
    return "wrote 120 rows to [/data/sales.csv] ([bold] is not a style here)"
"""
REPORTING = """
name: bracket_report
steps:
  - {id: report, type: lambda, function: "bracket_fns:report"}
"""
REPORT = "wrote 120 rows to [/data/sales.csv] ([bold] is not a style here)"


def _failed(tmp_path: Path) -> tuple[Path, str]:
    home = tmp_path / "home"
    (tmp_path / "fail.yaml").write_text(FAILING)
    ran = podium(home, "run", str(tmp_path / "fail.yaml"))
    assert ran.returncode == 1, ran.stderr  # the run failed, as it should
    return home, run_id_of(home, "bracket_fail")


def _reported(tmp_path: Path) -> tuple[Path, object]:
    home = tmp_path / "home"
    (tmp_path / "bracket_fns.py").write_text(FUNCTIONS)
    (tmp_path / "wf.yaml").write_text(REPORTING)
    ran = podium(home, "run", str(tmp_path / "wf.yaml"), cwd=tmp_path)
    return home, ran


def test_runs_list_prints_a_run_error_holding_a_bracketed_path(tmp_path: Path) -> None:
    """A run failed with "disk full on [/dev/sda1]": every ``podium runs list`` of the home
    (all workflows, or this one) ended in a MarkupError traceback, exit 1, for as long as
    the run was among the newest, instead of listing the run with its error as written."""
    home, run_id = _failed(tmp_path)
    for args in (("runs", "list"), ("runs", "list", "bracket_fail")):
        listed = podium(home, *args)
        assert "Traceback" not in listed.stderr, listed.stderr[-300:]
        assert listed.returncode == 0, listed.stderr[-300:]
        assert run_id in listed.stdout and "[/dev/sda1]" in listed.stdout


def test_runs_show_prints_a_step_error_holding_a_bracketed_path(tmp_path: Path) -> None:
    """``podium runs show RUN`` of that run was a MarkupError traceback instead of its step
    table (exit 1: the run failed) with the error as written: the one command that says
    why the run failed could not be read."""
    home, run_id = _failed(tmp_path)
    shown = podium(home, "runs", "show", run_id)
    assert "Traceback" not in shown.stderr, shown.stderr[-300:]
    boom = next(ln for ln in shown.stdout.splitlines() if "│ boom" in ln)
    assert "disk full on [/dev/sda1]" in boom
    assert shown.returncode == 1


def test_podium_run_prints_a_sink_output_holding_brackets(tmp_path: Path) -> None:
    """A run whose last step returned "wrote ... [/data/sales.csv]" succeeded, then
    ``podium run`` printed a MarkupError traceback and exited 1 (a script saw a failure)
    instead of printing the output as the step returned it ("[bold]" too), exit 0."""
    _, ran = _reported(tmp_path)
    assert "Traceback" not in ran.stderr, ran.stderr[-300:]  # type: ignore[attr-defined]
    assert ran.returncode == 0, ran.stderr[-300:]  # type: ignore[attr-defined]
    assert REPORT in ran.stdout  # type: ignore[attr-defined]


def test_runs_show_prints_an_output_holding_brackets(tmp_path: Path) -> None:
    """``podium runs show RUN`` of a run whose step output held "[/data/sales.csv]" was a
    MarkupError traceback (the output column was markup), not the step table, exit 0."""
    home, _ = _reported(tmp_path)
    run_id = run_id_of(home, "bracket_report")
    shown = podium(home, "runs", "show", run_id)
    assert "Traceback" not in shown.stderr, shown.stderr[-300:]
    assert shown.returncode == 0, shown.stderr[-300:]
    assert "[/data/sales.csv]" in shown.stdout


def test_replay_prints_a_recorded_output_holding_brackets(tmp_path: Path) -> None:
    """``podium runs replay RUN report`` ran the function, then crashed printing the
    "recorded:" line (a MarkupError traceback, exit 1) instead of "same outcome"."""
    home, _ = _reported(tmp_path)
    run_id = run_id_of(home, "bracket_report")
    replayed = podium(home, "runs", "replay", run_id, "report", cwd=tmp_path)
    assert "Traceback" not in replayed.stderr, replayed.stderr[-300:]
    assert replayed.returncode == 0, replayed.stderr[-300:]
    assert "same outcome" in replayed.stdout
    assert "[/data/sales.csv]" in replayed.stdout


def test_the_kept_in_hint_names_the_home_as_a_command_can_use_it(tmp_path: Path) -> None:
    """``podium run --home "runs [old]"`` printed "kept in runs /podium.db: podium runs
    show RUN --home runs " ([old] read as a style, and the path not quoted for a shell):
    the command it suggested read another home. The home is quoted now (shlex.quote, as
    the runs list's ``more:`` hint does), so pasting the command reads it."""
    (tmp_path / "wf.yaml").write_text("name: hinted\nsteps:\n  - {id: a, type: noop}\n")
    where = tmp_path / "runs [old]"
    ran = podium(tmp_path / "unused", "run", str(tmp_path / "wf.yaml"), "--home", str(where))
    assert ran.returncode == 0, ran.stderr
    hint = next(ln for ln in ran.stderr.splitlines() if "podium runs show" in ln)
    words = shlex.split(hint.split(": ", 1)[1])
    assert words[words.index("--home") + 1] == str(where), hint


def test_validate_names_a_file_under_a_bracketed_folder(tmp_path: Path) -> None:
    """``podium validate "proj [old]/wf.yaml"`` printed "✓ proj /wf.yaml: ..." (a path that
    does not exist); with a folder "a[" it was a MarkupError traceback, exit 1, for a
    valid file, instead of naming the file as given, exit 0."""
    folder = tmp_path / "proj [old]"
    folder.mkdir()
    (folder / "wf.yaml").write_text("name: v\nsteps:\n  - {id: a, type: noop}\n")
    odd = tmp_path / "a["
    odd.mkdir()
    (odd / "x].yaml").write_text("name: v\nsteps:\n  - {id: a, type: noop}\n")
    home = tmp_path / "home"
    checked = podium(home, "validate", str(folder / "wf.yaml"))
    assert checked.returncode == 0, checked.stderr
    assert f"{folder / 'wf.yaml'}: workflow 'v'" in checked.stdout, checked.stdout
    checked = podium(home, "validate", str(odd / "x].yaml"))
    assert "Traceback" not in checked.stderr, checked.stderr[-300:]
    assert checked.returncode == 0, checked.stderr[-300:]


def test_a_stacks_runs_show_and_list_print_a_bracketed_error(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    """The same on a deployed stack: ``podium runs show RUN --stack`` and ``podium runs
    list WF --stack`` of a run failed with "disk full on [/dev/sda1]" ended in a
    MarkupError traceback (exit 1) instead of the table."""
    assert on_stack("push", str(write(tmp_path, "f.yaml", FAILING))).exit_code == 0
    started = on_stack("start", "bracket_fail", "--json")
    assert started.exit_code == 0, started.output
    run_id = json.loads(started.stdout)["run_id"]
    deployed.pump()

    shown = on_stack("runs", "show", run_id)
    assert shown.exception is None or isinstance(shown.exception, SystemExit), repr(shown.exception)
    assert "disk full on [/dev/sda1]" in shown.output
    listed = on_stack("runs", "list", "bracket_fail")
    assert listed.exit_code == 0, repr(listed.exception)
    assert "[/dev/sda1]" in listed.output


def test_a_step_in_detail_shows_its_error_as_written(tmp_path: Path) -> None:
    """``podium runs show RUN --step boom``: the attempts table's error cell was markup as
    well (a MarkupError traceback for "[/dev/sda1]")."""
    home, run_id = _failed(tmp_path)
    shown = podium(home, "runs", "show", run_id, "--step", "boom")
    assert "Traceback" not in shown.stderr, shown.stderr[-300:]
    assert shown.returncode == 1  # the step failed
    assert "disk full on [/dev/sda1]" in shown.stdout


TRIGGERED = """
name: bracket_trigger
triggers:
  - id: landed
    s3: {bucket: landing, prefix: "in/[/raw]/"}
steps:
  - {id: a, type: noop}
"""


def test_triggers_list_shows_a_rule_holding_brackets(tmp_path: Path) -> None:
    """``podium triggers list``: a rule (an S3 prefix "in/[/raw]/") went into the table as
    markup, a MarkupError traceback instead of the triggers."""
    home = tmp_path / "home"
    (tmp_path / "wf.yaml").write_text(TRIGGERED)
    assert podium(home, "run", str(tmp_path / "wf.yaml")).returncode == 0
    listed = podium(home, "triggers", "list", "bracket_trigger")
    assert "Traceback" not in listed.stderr, listed.stderr[-300:]
    assert listed.returncode == 0, listed.stderr[-300:]
    assert "s3://landing/in/[/raw]/*" in listed.stdout

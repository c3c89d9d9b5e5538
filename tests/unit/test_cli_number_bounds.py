"""The `podium` CLI on the local home: integer arguments with no upper bound reached
SQLite, which cannot bind an integer past 64 bits and raises OverflowError (not an
sqlite3.Error, so nothing turned it into a message): the command died with a traceback
instead of a one-line error naming the argument. Found by a review; each test failed
before its fix (versions and attempts are bounded as the API bounds them, 10**9; the
store answers not found past 64 bits; `podium dev --port` takes 0-65535)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.cli.main import app
from podium.local.runtime import LocalRuntime

HUGE = str(2**70)  # a number a typo (or a pasted id) easily makes
BAD = {"name": "bad", "steps": [{"id": "boom", "type": "fail", "message": "bad feed"}]}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    where = tmp_path_factory.mktemp("review-cli") / "home"
    with LocalRuntime(store="sqlite", home=str(where), clock=ManualClock()) as rt:
        rt.push(BAD)
        run_id = rt.start_run("bad").run_id
        rt.pump()
    return where, run_id


def _no_traceback(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{' '.join(args)} crashed: {type(result.exception).__name__}: {result.exception}"
    )
    assert result.exit_code in (1, 2), result.output


def test_runs_logs_with_a_huge_attempt_is_an_error_not_a_traceback(home: tuple[Path, str]) -> None:
    """`podium runs logs RUN STEP --attempt 1180591620717411303424` raises OverflowError
    from SqliteLogs.read (adapters/sqlite/logs.py: the attempt is bound as a parameter);
    the option has min=1 but no max (cli/remote_commands.py logs, --attempt). Right: a
    usage error (exit 2) naming --attempt, or "no output captured for ... attempt N"."""
    where, run_id = home
    _no_traceback(["runs", "logs", run_id, "boom", "--attempt", HUGE, "--home", str(where)])


def test_workflows_show_with_a_huge_version_is_an_error_not_a_traceback(
    home: tuple[Path, str],
) -> None:
    """`podium workflows show bad --version 1180591620717411303424` raises OverflowError
    in SqliteStateStore.get_workflow_version (adapters/sqlite/store.py); --version has
    min=1 and no max (cli/workflow_commands.py show_workflow). The memory and DynamoDB
    stores answer WorkflowNotFound, which the CLI prints as "version N not found" (exit 1).
    Right: that same one-line answer, or a usage error naming --version."""
    where, _ = home
    _no_traceback(["workflows", "show", "bad", "--version", HUGE, "--home", str(where)])


def test_workflows_activate_with_a_huge_version_is_an_error_not_a_traceback(
    home: tuple[Path, str],
) -> None:
    """`podium workflows activate bad 1180591620717411303424`: OverflowError from
    SqliteStateStore.activate_workflow_version. Right: "version N not found" (exit 1)."""
    where, _ = home
    _no_traceback(["workflows", "activate", "bad", HUGE, "--home", str(where)])


def test_workflows_diff_with_a_huge_version_is_an_error_not_a_traceback(
    home: tuple[Path, str],
) -> None:
    """`podium workflows diff bad 1 1180591620717411303424`: OverflowError. Right: "version
    N not found" (exit 1), or a usage error naming the argument."""
    where, _ = home
    _no_traceback(["workflows", "diff", "bad", "1", HUGE, "--home", str(where)])


def test_dev_with_a_port_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    """`podium dev --port 99999` (or -1) dies with `OverflowError: bind(): port must be
    0-65535` and a traceback: cli/dev_command.py catches only OSError around
    DevServer(...), and --port has no bounds. Right: a usage error (exit 2) naming
    --port and its range (typer.Option(min=0, max=65535), or catch OverflowError)."""
    result = CliRunner().invoke(app, ["dev", "--port", "99999", "--home", str(tmp_path / "h")])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"crashed: {type(result.exception).__name__}: {result.exception}"
    )
    assert result.exit_code == 2
    assert "--port" in result.output or "port" in result.output

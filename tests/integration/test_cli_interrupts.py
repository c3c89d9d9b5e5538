"""Ctrl-C says what it interrupted and what is left (exit 130 as before): before the home
opens nothing was done; during ``podium runs restart`` the action is done and the run
stays in the home, with its status. It used to exit 130 without a word."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from podium.cli import local_home
from podium.local.runtime import LocalRuntime

ROOT = Path(__file__).resolve().parents[2]
NAP = """\
name: nap
steps:
  - {id: a, type: noop}
  - {id: z, type: sleep, seconds: 30, depends_on: [a]}
"""


def podium(*args: str) -> Result:
    from podium.cli.main import app

    return CliRunner().invoke(app, list(args))


def said(result: Result) -> str:
    return " ".join(result.output.split())


def ctrl_c(*_: object, **__: object) -> None:
    raise KeyboardInterrupt


@pytest.fixture
def ended(tmp_path: Path) -> tuple[Path, Path, str]:
    """The workflow, its home, and a run of it that ended (virtual time)."""
    wf = tmp_path / "nap.yaml"
    wf.write_text(NAP)
    home = tmp_path / "home"
    ran = podium("run", str(wf), "--home", str(home), "--json")
    assert ran.exit_code == 0, ran.output
    return wf, home, str(json.loads(ran.stdout)["run"]["run_id"])


def test_ctrl_c_before_the_run_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wf = tmp_path / "nap.yaml"
    wf.write_text(NAP)
    monkeypatch.setattr(LocalRuntime, "start", ctrl_c)  # while the home opens
    done = podium("run", str(wf), "--home", str(tmp_path / "home"))
    assert done.exit_code == 130
    assert "interrupted before the run started: nothing ran" in said(done)


def test_ctrl_c_in_a_command_that_does_not_say_it_itself(
    ended: tuple[Path, Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, home, _ = ended
    monkeypatch.setattr(local_home.Home, "__enter__", ctrl_c)
    done = podium("runs", "list", "--home", str(home))
    assert done.exit_code == 130
    assert "interrupted (Ctrl-C)" in said(done)


def test_ctrl_c_before_a_restart_opened_the_home(
    ended: tuple[Path, Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, home, run_id = ended
    monkeypatch.setattr(LocalRuntime, "start", ctrl_c)
    done = podium("runs", "restart", run_id, "--home", str(home))
    assert done.exit_code == 130
    assert "interrupted before the home was opened: nothing was done" in said(done)
    listed = json.loads(podium("runs", "list", "--home", str(home), "--json").stdout)["runs"]
    assert [r["run_id"] for r in listed] == [run_id]


def test_ctrl_c_while_a_restart_runs_on_says_where_the_run_is(
    ended: tuple[Path, Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wf, home, run_id = ended
    with monkeypatch.context() as patched:
        patched.setattr(LocalRuntime, "pump", ctrl_c)
        done = podium("runs", "restart", run_id, "--home", str(home), "--from", "beginning")
    assert done.exit_code == 130
    new = f"{run_id}-r1"
    assert f"restart: run {run_id} restarted as {new}" in done.stdout
    assert (
        f"interrupted: run {new} is RUNNING in the home at {home}; podium dev (or podium run)"
        " on this home carries it on: podium runs show" in said(done)
    )
    # ... and it does: the next podium run on the home runs it to its end too.
    assert podium("run", str(wf), "--home", str(home)).exit_code == 0
    shown = json.loads(podium("runs", "show", new, "--home", str(home), "--json").stdout)
    assert shown["run"]["status"] == "SUCCEEDED"


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODIUM_")}
    env.update(PODIUM_HOME=str(home), COLUMNS="200", HOME=str(home.parent))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "functions"), str(ROOT)])
    return env


def test_a_real_ctrl_c_during_a_restart(ended: tuple[Path, Path, str]) -> None:
    """SIGINT while the restarted run sleeps (real time), as a user's Ctrl-C."""
    _, home, run_id = ended
    new = f"{run_id}-r1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "podium.cli.main", "runs", "restart", run_id, "--from", "beginning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(home),
        cwd=home.parent,
    )
    deadline = time.monotonic() + 60
    sleeping = False
    while not sleeping and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        shown = podium("runs", "show", new, "--home", str(home), "--json")
        if shown.exit_code == 0:  # the restart is done: wait until its nap began
            steps = json.loads(shown.stdout)["steps"]
            sleeping = any(s["step"] == "z" and s["status"] == "RUNNING" for s in steps)
    assert sleeping, "the restarted run did not reach its nap"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert f"restart: run {run_id} restarted as {new}" in out
    message = " ".join(err.split())
    assert f"interrupted: run {new} is RUNNING in the home at {home}" in message, err
    assert "Traceback" not in err


def test_ctrl_c_while_podium_loads(tmp_path: Path) -> None:
    """Ctrl-C in the half second the CLI imports its libraries: a line, not a traceback
    (an import hook raises it, as the signal would, while typer is imported)."""
    hook = (
        "import runpy, sys\n"
        "class CtrlC:\n"
        "    @staticmethod\n"
        "    def find_spec(name, path=None, target=None):\n"
        "        if name == 'typer':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, CtrlC)\n"
        "sys.argv = ['podium', 'runs', 'list']\n"
        "runpy.run_module('podium.cli.main', run_name='__main__')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", hook],
        capture_output=True,
        text=True,
        env=_env(tmp_path / "home"),
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr == "interrupted while podium was starting: nothing was done\n"

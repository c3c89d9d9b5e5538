"""Real `podium` processes on one local home, for the tests of processes beside each
other and of processes that die on it: the CLI in a subprocess (as a user's terminal
runs it), with this process's podium, bounded by timeouts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import podium

ROOT = Path(__file__).resolve().parents[2]
# The podium under test (this process's), for the other processes too.
FUNCTIONS = Path(podium.__file__).resolve().parents[1]
DAY_S = 86_400


def env_for(home: Path) -> dict[str, str]:
    """The environment of a `podium` process on ``home`` (no profile or config of the
    user's)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PODIUM_CONFIG", "PODIUM_PROFILE", "PODIUM_HOME")
    }
    env.update(
        PODIUM_HOME=str(home),
        HOME=str(home.parent),
        COLUMNS="200",
        PYTHONPATH=os.pathsep.join([str(FUNCTIONS), str(ROOT)]),
    )
    return env


def podium_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "podium.cli.main", *args]


def wait_for(path: Path, proc: subprocess.Popen[str], what: str) -> None:
    """Until ``path`` exists (a step's marker), failing if the process ends first."""
    deadline = time.monotonic() + 90
    while not path.exists():
        if proc.poll() is not None:
            _, err = proc.communicate()
            raise AssertionError(f"the podium run process ended before {what}: {err[-2000:]}")
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.05)


def seconds_ahead(visible_at: int) -> int:
    """How far a message's due time is ahead of the wall, in seconds."""
    return visible_at // 1000 - time.time_ns() // 1_000_000_000

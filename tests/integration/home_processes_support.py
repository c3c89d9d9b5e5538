"""Real `podium` processes on one local home, for the tests of processes beside each
other and of processes that die on it: the CLI in a subprocess (as a user's terminal
runs it), with this process's podium, bounded by timeouts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import podium
from podium.adapters.clock import FastForwardClock
from podium.local.runtime import LocalRuntime

ROOT = Path(__file__).resolve().parents[2]
# The podium under test (this process's), for the other processes too.
FUNCTIONS = Path(podium.__file__).resolve().parents[1]
DAY_S = 86_400
DAY_MS = DAY_S * 1000


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


def start_podium(home: Path, *args: str, stdout: int = subprocess.DEVNULL) -> subprocess.Popen[str]:
    """A `podium` process on ``home``, as a user's terminal starts it (its stderr kept,
    for the message of a test that fails)."""
    return subprocess.Popen(
        podium_command(*args),
        cwd=ROOT,
        env=env_for(home),
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )


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


def a_day_ahead() -> FastForwardClock:
    """The virtual clock of a `podium run` that skipped a day's sleep."""
    clock = FastForwardClock()
    clock.advance_to(clock.now_ms() + DAY_MS)
    return clock


def pump_until(rt: LocalRuntime, done: Callable[[], bool], seconds: float) -> None:
    """``rt``'s workers (as `podium dev`'s) in real time, until ``done`` or ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rt.pump(wait=False)
        rt.adopt()
        if done():
            break
        time.sleep(0.2)


def messages_ahead(rt: LocalRuntime, like: str | None = None) -> list[tuple[str, int]]:
    """The home's queued messages (those whose body is ``like``, if given), each with how
    many seconds its due time is ahead of the wall."""
    sql = "SELECT body, visible_at FROM messages"
    args: tuple[str, ...] = ()
    if like is not None:
        sql, args = f"{sql} WHERE body LIKE ?", (like,)
    with rt.store.db.query() as conn:  # type: ignore[union-attr]
        return [(body, seconds_ahead(visible_at)) for body, visible_at in conn.execute(sql, args)]

"""A new user's tour: a strict_sequential run blocked in the local home.

`podium run` (local home) answers a QUEUED run of a blocked strict_sequential queue with
`waiting: ... run 'podium unblock WF'`. A user who does exactly that, in the same shell
(PODIUM_HOME set, no remote target, no AWS credentials), got
`error: no AWS credentials found ...` (exit 2): `unblock` ignored PODIUM_HOME (only
`--home` reached the local home) and went to the stack named `Podium`. Every other
command that works locally reads the home PODIUM_HOME names (docs/deploy.md: "a set
PODIUM_HOME always means the local home"), and the hint is the only way the user is told
how to get the queue moving. `unblock` reads the local home like the others now.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

STRICT = """
name: strict_etl
run_strategy: strict_sequential
params: {fail: {type: bool, default: false}}
steps:
  - {id: a, type: noop}
  - {id: boom, type: fail, message: bad feed, depends_on: [{step: a, when: "params.fail"}]}
"""


def podium(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a new process, like a user's shell: PODIUM_HOME set, no remote target,
    no AWS credentials."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PODIUM_CONFIG", "PODIUM_PROFILE", "PODIUM_HOME") and not k.startswith("AWS_")
    }
    env.update(
        PODIUM_HOME=str(home),
        COLUMNS="400",
        HOME=str(home.parent),
        AWS_CONFIG_FILE=str(home.parent / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home.parent / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=os.pathsep.join([str(ROOT / "functions"), env.get("PYTHONPATH", "")]),
    )
    return subprocess.run(
        [sys.executable, "-m", "podium.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=home.parent,
        timeout=120,
    )


def test_the_unblock_hint_of_a_local_run_works_in_that_shell(tmp_path: Path) -> None:
    home = tmp_path / "home"
    flow = tmp_path / "strict.yaml"
    flow.write_text(STRICT)

    failed = podium(home, "run", str(flow), "-p", "fail=true")
    assert failed.returncode == 1, failed.stdout + failed.stderr

    queued = podium(home, "run", str(flow))
    out = queued.stdout + queued.stderr
    hint = re.search(r"run '(podium unblock [^']+)'", out)
    assert hint, out  # the user is told what to run

    argv = shlex.split(hint.group(1))[1:]
    unblocked = podium(home, *argv)
    assert unblocked.returncode == 0, (
        f"the hint {hint.group(1)!r}, run as printed in the shell that ran the workflow "
        f"(PODIUM_HOME={home}), fails: {unblocked.stdout}{unblocked.stderr}"
    )
    assert "unblocked strict_etl" in unblocked.stdout

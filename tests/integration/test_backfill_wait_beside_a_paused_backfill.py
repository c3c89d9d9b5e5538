"""``podium backfill OTHER --from .. --to ..`` (``--wait``, the default) pumped the whole
home until its queues were empty. A paused backfill driver of another trigger left in
the home re-sends itself every 30 s for ever, so the queues never emptied and the
command never returned. It now delivers until its own runs have ended."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.integration.test_backfill_cancel import nightly_home
from tests.integration.test_cli_local import podium


def test_a_waited_backfill_returns_beside_a_paused_one(tmp_path: Path) -> None:
    home = nightly_home(tmp_path)
    other = tmp_path / "other.yaml"
    other.write_text(
        "name: other\nsteps:\n  - {id: a, type: noop}\ntriggers:\n"
        '  - {id: daily, cron: "0 7 * * *"}\n'
    )
    assert podium(home, "run", str(other)).returncode == 0
    held = podium(
        home, "backfill", "nightly", "--from", "2026-03-01", "--to", "2026-03-03",
        "--max-active", "1", "--no-wait",
    )  # fmt: skip
    assert held.returncode == 0, held.stderr
    assert podium(home, "backfill", "nightly", "--pause").returncode == 0
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PODIUM_CONFIG", "PODIUM_PROFILE", "PODIUM_HOME")
    }
    env.update(PODIUM_HOME=str(home), COLUMNS="200", HOME=str(home.parent))
    args = ["backfill", "other", "--from", "2026-03-01", "--to", "2026-03-02"]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "podium.cli.main", *args],
            capture_output=True, text=True, env=env, cwd=home.parent, timeout=60,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise AssertionError(
            "podium backfill other (--wait) still pumping after 60 s: the paused driver of"
            " nightly keeps the home's queue from emptying"
        ) from None
    assert done.returncode == 0, done.stderr

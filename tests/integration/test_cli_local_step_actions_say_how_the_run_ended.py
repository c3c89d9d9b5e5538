"""The step actions on the local home (``podium steps resume|skip|retry|stop``) run the
run on here to its end, as ``runs restart`` and ``runs resume`` do, but printed only the
action ("resume: step boom of run X is READY"), not how the run then ended, which the
run actions print ("run X FAILED: podium runs show X"). They print it too now.

The exit code of every action stays the action's (0: done), locally and on a stack
alike (where the command does not wait for the run): a restart whose run failed again
exits 0, and ``podium runs show RUN`` (exit 1 for a failed run) or ``final_status`` in
--json say how the run ended."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli_local import podium, run_id_of

SKIPPABLE = """
name: skip_then_on
steps:
  - {id: boom, type: fail, message: broken}
  - {id: after, type: noop, depends_on: [boom]}
"""


def test_a_step_action_says_how_the_run_it_ran_on_ended(tmp_path: Path) -> None:
    """Runs held at a breakpoint: ``steps resume`` lets the failing step run and the run
    ends FAILED; ``steps skip`` of it in another run lets the run succeed. Each says so;
    both exit 0 (the action was done)."""
    home = tmp_path / "home"
    wf = tmp_path / "wf.yaml"
    wf.write_text(SKIPPABLE)
    assert podium(home, "run", str(wf)).returncode == 1
    assert podium(home, "break", "set", "skip_then_on", "boom").returncode == 0
    held = []
    for _ in range(2):
        podium(home, "run", str(wf))  # held at the breakpoint: not over
        held.append(run_id_of(home, "skip_then_on"))

    resumed = podium(home, "steps", "resume", held[0], "boom")
    assert "Traceback" not in resumed.stderr, resumed.stderr[-300:]
    assert f"run {held[0]} FAILED: podium runs show {held[0]}" in resumed.stdout, resumed.stdout
    assert resumed.returncode == 0
    assert podium(home, "runs", "show", held[0]).returncode == 1  # the run's own outcome
    skipped = podium(home, "steps", "skip", held[1], "boom", "--json")
    assert skipped.returncode == 0, skipped.stderr
    assert json.loads(skipped.stdout)["final_status"] == "SUCCEEDED"  # --json: the body

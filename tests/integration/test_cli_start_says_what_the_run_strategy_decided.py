"""``podium start`` printed "✓ started run X of WF v1 (discarded)" for a run its
first_only strategy discarded: a check mark and "started" for a run that never started,
and not the reason the docs promise ("discarded: run Y is active"). A run its strategy
queued was "✓ started ... (queued)", without why it waits. cli/remote_commands.py says
what became of the run now, and why (exit 0 either way: the request was done, the run is
recorded as the strategy decided, as for ``podium runs restart``'s new run)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration import test_remote_cli as remote
from tests.integration.test_remote_cli import Deployed, on_stack, write

deployed = remote.deployed
user = remote.user


def push_a_sleeper(tmp_path: Path, name: str, strategy: str) -> None:
    """Pushes ``name`` to the stack: one step that sleeps an hour, run as ``strategy``."""
    text = f"name: {name}\nrun_strategy: {strategy}\nsteps:\n"
    text += "  - {id: nap, type: sleep, seconds: 3600}\n"
    assert on_stack("push", str(write(tmp_path, f"{name}.yaml", text))).exit_code == 0


def start_on_stack(deployed: Deployed, name: str) -> str:
    """Starts a run of ``name`` on the stack and delivers what is due; gives its id."""
    run_id: str = json.loads(on_stack("start", name, "--json").stdout)["run_id"]
    deployed.pump()
    return run_id


def test_podium_start_of_a_discarded_run_says_it_was_discarded_and_why(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    push_a_sleeper(tmp_path, "started_first", "first_only")
    active = start_on_stack(deployed, "started_first")
    second = on_stack("start", "started_first")
    assert second.exit_code == 0, second.output
    assert "discarded" in second.output.lower()
    assert "started run" not in second.output and "✓" not in second.output, second.output
    assert f"run {active} is active" in second.output, second.output


def test_podium_start_of_a_queued_run_says_why_it_waits(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    push_a_sleeper(tmp_path, "started_in_turn", "sequential")
    first = on_stack("start", "started_in_turn")
    assert first.exit_code == 0 and "✓ started run" in first.output, first.output
    running = first.output.split("started run ", 1)[1].split()[0]
    deployed.pump()
    second = on_stack("start", "started_in_turn")
    assert second.exit_code == 0, second.output
    assert "started run" not in second.output, second.output
    assert "queued" in second.output and f"behind active run(s) {running}" in second.output
    # --json is the API's answer as it is.
    third = json.loads(on_stack("start", "started_in_turn", "--json").stdout)
    assert third["status"] == "QUEUED", third

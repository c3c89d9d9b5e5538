"""A run's start message died (it sat in the event DLQ), the sweeper started the run, it
succeeded and was pruned; then ``podium dlq redrive`` sent the start back. It raised
RunNotFound on each of its 5 receives (advance.start_roots read the run with get_run,
not gone_runs.still_there) and went back to the DLQ, ringing the alarm again. It is
dropped (logged) now, as an exec, done or deadline of a gone run is."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app
from podium.local.runtime import LocalRuntime
from podium.service import messages

runner = CliRunner()

CHAIN = """\
name: pruned_chain
steps:
  - {id: a, type: noop}
  - {id: b, type: noop, depends_on: [a]}
"""


def test_a_redriven_start_of_a_pruned_run_was_dropped_not_dead_lettered_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PODIUM_CONFIG", "PODIUM_PROFILE", "PODIUM_HOME"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    with LocalRuntime(store="sqlite", home=home) as rt:
        rt.push(CHAIN)
        run = rt.start_run("pruned_chain")
        rt.pump(run_id=run.run_id)
        assert rt.describe(run.run_id).run.status.value == "SUCCEEDED"
        rt.event_dlq.send(messages.encode(messages.Start(run.run_id)))

    def podium(*args: str) -> str:
        result = runner.invoke(app, [*args, "--home", str(home)])
        assert result.exit_code == 0, result.output
        return result.output

    podium("runs", "prune", "--older-than", "2099-01-01")
    assert f"start {run.run_id}" in podium("dlq", "redrive")
    with LocalRuntime(store="sqlite", home=home) as rt:
        for _ in range(10):
            rt.pump()
        left = rt.dead_letters()
    # Was: [{'t': 'start', 'run': ...}]: five RunNotFound tracebacks, then the DLQ again.
    assert left == [], left
    assert "dead letters: none" in podium("dlq", "list")

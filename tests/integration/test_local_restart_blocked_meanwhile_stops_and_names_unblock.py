"""The "failed nightly ETL" runbook (docs/operations.md), step 4, taken literally on the
local home: ``podium runs restart RUN --reason "fixed the feed"``.

Under strict_sequential the restart's run may be QUEUED behind a run that is still
active when the restart is made, and that this very command then runs (the local
restart runs the home's work on): when that run failed, it blocked the queue, and
nothing the command did could admit the restart. It waited in real time, saying
nothing, for the failed run's ended check (16 minutes) at least; it stops and says that
the restart waits behind the block (``podium unblock WF``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from podium.local.runtime import LocalRuntime

STRICT = """\
name: etl
run_strategy: strict_sequential
steps:
  - {id: a, type: fail}
"""


def podium(*args: str) -> Result:
    from podium.cli.main import app

    return CliRunner().invoke(app, list(args))


class WaitedInRealTime(KeyboardInterrupt):
    """Raised where the command would sleep for the next timer (as Ctrl-C would be)."""


def test_a_local_restart_blocked_meanwhile_stops_and_names_unblock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wf = tmp_path / "etl.yaml"
    wf.write_text(STRICT)
    home = str(tmp_path / "home")
    first = podium("run", str(wf), "--home", home, "--json")
    assert first.exit_code == 1, first.output  # FAILED: it blocks the queue
    failed = json.loads(first.stdout)["run"]["run_id"]
    queued = podium("run", str(wf), "--home", home)  # QUEUED behind the block
    assert "podium unblock etl" in queued.output, queued.output
    unblocked = podium("unblock", "etl", "--home", home)
    assert unblocked.exit_code == 0 and "started" in unblocked.output, unblocked.output
    # The second run now holds the slot (RUNNING, its work in the home): the restart
    # queues behind it, then runs it, and it fails: the queue is blocked again.

    seen: dict[str, str] = {}

    def idle(self: LocalRuntime, due: int) -> None:
        restart = self.store.get_run(f"{failed}-r1")
        seen["restart"] = restart.status.value
        seen["blocked_by"] = str(self.store.run_slots().state("etl").blocked_by)
        raise WaitedInRealTime

    monkeypatch.setattr(LocalRuntime, "_idle", idle)
    done = podium("runs", "restart", failed, "--home", home, "--reason", "fixed the feed")
    said = " ".join(done.output.split())
    assert done.exit_code != 130, (
        "podium runs restart waited in real time for a run only 'podium unblock' can"
        f" admit ({seen}): {said}"
    )
    assert f"{failed}-r1" in said and "QUEUED" in said, said
    assert "podium unblock etl" in said, said

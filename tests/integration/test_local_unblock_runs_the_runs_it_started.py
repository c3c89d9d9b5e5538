"""``podium unblock WF`` on the local home started the queue's next run and left it
RUNNING with nothing running it ("podium dev on this home runs it"), while the other
local actions that let steps start (``runs resume``, ``runs restart``, the step actions)
run their run on here to its end and say how it ended. It runs the runs it started the
same way now, and says what it ran; ``--no-wait`` leaves them to ``podium dev``."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from tests.integration.test_cli_unblock_local import STRICT


def podium(*args: str) -> Result:
    from podium.cli.main import app

    return CliRunner().invoke(app, list(args))


def _blocked_queue(home: Path, *params: dict[str, bool]) -> tuple[str, list[str]]:
    """A failed run blocking the queue, and runs of ``params`` queued behind it."""
    with LocalRuntime(store="sqlite", home=home) as rt:
        rt.push(STRICT)
        failed = rt.start_run(STRICT["name"], {"fail": True}).run_id
        rt.pump()
        assert rt.describe(failed).run.status is RunStatus.FAILED
        queued = [rt.start_run(STRICT["name"], p).run_id for p in params]
        assert all(rt.describe(r).run.status is RunStatus.QUEUED for r in queued)
    return failed, queued


def _status(home: Path, run_id: str) -> RunStatus:
    with LocalRuntime(store="sqlite", home=home) as rt:
        return rt.describe(run_id).run.status


def test_a_local_unblock_runs_the_run_it_started_and_says_how_it_ended(tmp_path: Path) -> None:
    home = tmp_path / "home"
    failed, (held,) = _blocked_queue(home, {})
    done = podium("unblock", STRICT["name"], "--home", str(home))
    said = " ".join(done.output.split())
    assert done.exit_code == 0, said
    assert f"blocked by failed run {failed}" in said and f"started {held}" in said, said
    assert _status(home, held) is RunStatus.SUCCEEDED, f"the started run was left: {said}"
    assert f"run {held} SUCCEEDED: podium runs show {held}" in said, said
    assert "podium dev on this home runs" not in said, said


def test_it_says_the_runs_the_queue_admitted_meanwhile_and_what_blocks_it_again(
    tmp_path: Path,
) -> None:
    """The started run ended and let the next one start, which the same command ran: a
    failure blocks the queue again, and the run behind it is said to wait."""
    home = tmp_path / "home"
    _, (first, second, third) = _blocked_queue(home, {}, {"fail": True}, {})
    done = podium("unblock", STRICT["name"], "--home", str(home))
    said = " ".join(done.output.split())
    assert done.exit_code == 0, said
    assert f"run {first} SUCCEEDED" in said and f"run {second} FAILED" in said, said
    assert "1 run still waits" in said and f"blocked by failed run {second}" in said, said
    assert _status(home, third) is RunStatus.QUEUED


def test_no_wait_leaves_the_started_run_to_podium_dev(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _, (held,) = _blocked_queue(home, {})
    done = podium("unblock", STRICT["name"], "--home", str(home), "--no-wait")
    said = " ".join(done.output.split())
    assert done.exit_code == 0, said
    assert f"started {held}; podium dev on this home runs it" in said, said
    assert _status(home, held) is RunStatus.RUNNING

"""What an attempt printed reached the home only when the attempt returned: local/capture.py
kept stdout and stderr in memory, and ``CapturingRunner`` wrote them to the logs table at
the end. ``podium runs logs`` showed nothing of an attempt whose process died (the lines
one needs to know why) nor of a long step still running."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.adapters.sqlite import Database, SqliteStateStore
from podium.adapters.sqlite.logs import SqliteLogs
from podium.cli.main import app
from podium.core.ports import Invocation, InvocationResult
from podium.local import capture
from podium.local.runtime import LocalRuntime

ROOT = Path(__file__).resolve().parents[2]


def test_what_a_killed_attempt_printed_is_in_its_log(tmp_path: Path) -> None:
    """``podium runs logs RUN b`` showed only attempt 2 of a step whose process died in
    attempt 1: the line attempt 1 printed (and flushed) before the crash was gone."""
    home, marker = tmp_path / ".podium", tmp_path / "marker"
    said = "loaded 1200 rows; about to call the partner API"
    code = (
        "from tests.integration.test_sqlite_home import _run_until_killed;"
        f" _run_until_killed({str(home)!r}, {str(marker)!r}, {said!r})"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=120, check=True)
    assert marker.exists()
    with LocalRuntime(clock=ManualClock(), store="sqlite", home=home) as rt:
        assert isinstance(rt.store, SqliteStateStore)
        (run,) = rt.store.search_runs("lost_worker")
        rt.pump(run_id=run.run_id)
        assert rt.describe(run.run_id).run.status.value == "SUCCEEDED"
    logs = CliRunner().invoke(app, ["runs", "logs", run.run_id, "b", "--home", str(home)])
    assert logs.exit_code == 0, logs.output
    assert "about to call the partner API" in logs.output, (
        f"podium runs logs shows nothing attempt 1 printed before its process died: {logs.output!r}"
    )


class _Talker:
    """Prints, then waits for the test to have read its log, then prints more."""

    def __init__(self) -> None:
        self.read = threading.Event()

    def invoke(self, invocation: Invocation) -> InvocationResult:
        print("first", flush=True)  # written at once: an explicit flush
        print("second")  # written by the flusher within about a second
        assert self.read.wait(10)
        print("third", file=sys.stderr)
        print("fourth")
        return InvocationResult(True, output=None)


def test_a_running_attempts_output_is_read_in_order_and_written_once(tmp_path: Path) -> None:
    """While an attempt ran, its log was empty; read as it runs, it has what was printed
    so far, in order, and once the attempt returns every line is there exactly once."""
    db = Database(tmp_path / "podium.db")
    logs = SqliteLogs(db)
    talker = _Talker()
    runner = capture.CapturingRunner(talker, logs, ManualClock())
    capture.install()
    try:
        worker = threading.Thread(target=runner.invoke, args=(Invocation("f", {}, "r1/s/1"),))
        worker.start()
        deadline = time.monotonic() + 5
        while_running: list[tuple[str, str]] = []
        while time.monotonic() < deadline:
            while_running = [(e.stream, e.text) for e in logs.read("r1", "s", 1)]
            if while_running == [("stdout", "first\nsecond\n")]:
                break
            time.sleep(0.05)
        talker.read.set()
        worker.join(10)
    finally:
        capture.uninstall()
    assert while_running == [("stdout", "first\nsecond\n")], while_running
    after = [(e.stream, e.text) for e in logs.read("r1")]
    assert after == [("stdout", "first\nsecond\n"), ("stderr", "third\n"), ("stdout", "fourth\n")]
    db.close()

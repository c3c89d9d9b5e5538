"""How ``scripts/bench`` writes bench-results.json: the file the docs quote every figure
from is never left half-written, nor silently emptied, and one it cannot merge into is
refused before the bench measures anything."""

from __future__ import annotations

import contextlib
import errno
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from podium.bench import __main__ as bench_main
from podium.bench import loops, peers

OLD = {
    "engine": {"embedded": {"W1": {"steps": 100}}, "loadavg_before": [1.0, 1.0, 1.0]},
    "peers": {"workloads": {"W1": {"podium_ms_per_step": 0.172}}},
    "loops": {"W4": {"embedded": {"steps": 100001}}},
}

FAKE_PEERS = {
    "repeats": 1,
    "loadavg_before": [0.1, 0.2, 0.3],
    "workloads": {"W1": {"steps": 100, "podium_ms_per_step": 0.1}},
    "console_run_view": {},
}


def _disk_fills_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``Path.write_text`` writes half its text, then fails (a full disk, a
    Ctrl-C, a killed process mid-write)."""

    def half_then_fail(self: Path, data: str, *args: Any, **kwargs: Any) -> int:
        with open(self, "w") as f:
            f.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_text", half_then_fail)


def _merge_loops(path: Path) -> None:
    bench_main.merge_results({"loops": {"W4": {"embedded": {"steps": 10001}}}}, path)


def _peers(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(peers, "run_peers_bench", lambda: FAKE_PEERS)
    with open(tmp_path / "out.txt", "w") as out:
        peers.main_peers(Console(file=out), path)


@pytest.mark.parametrize("writer", ["merge_results", "main_peers"])
def test_a_write_that_fails_midway_leaves_the_old_results(
    writer: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What was wrong: a ``scripts/bench --loops`` (or ``--peers``) that was
    interrupted or ran out of disk while writing bench-results.json left a truncated
    file: ``merge_results`` and ``main_peers`` rewrote it in place (``Path.write_text``),
    so every section the docs quote (engine, peers, loops...) was gone, and the next
    ``scripts/bench`` crashed reading it (or, with --peers, silently started afresh).
    Expected: the new file is written beside it and moved over it (os.replace), so a
    failed write leaves the previous results whole, and no temporary file behind."""
    path = tmp_path / "bench-results.json"
    path.write_text(json.dumps(OLD, indent=2) + "\n")
    _disk_fills_up(monkeypatch)
    with pytest.raises(OSError):
        if writer == "merge_results":
            _merge_loops(path)
        else:
            _peers(path, monkeypatch, tmp_path)
    try:
        kept = json.loads(path.read_text())
    except ValueError as exc:
        raise AssertionError(f"bench-results.json left half-written: {exc}") from exc
    assert kept == OLD
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "out.txt") == [path.name]


def _conflicted(path: Path) -> str:
    good = json.dumps(OLD, indent=2)
    text = f"<<<<<<< HEAD\n{good}\n=======\n{good}\n>>>>>>> other\n"
    path.write_text(text)
    return text


def test_peers_does_not_wipe_a_results_file_it_cannot_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What was wrong: after a git merge left conflict markers in bench-results.json,
    ``scripts/bench --peers`` read it, failed to parse it, treated it as empty
    (``except (OSError, ValueError): results = {}``) and overwrote it with the peers
    section alone: the engine, loops, validate... figures the docs quote were gone
    without a word (the full run's ``merge_results`` refused such a file instead).
    Expected: the unreadable file is left as it was, and the comparison (minutes of
    Luigi runs) is not started."""
    path = tmp_path / "bench-results.json"
    conflicted = _conflicted(path)
    measured: list[bool] = []
    monkeypatch.setattr(peers, "run_peers_bench", lambda: measured.append(True) or FAKE_PEERS)
    with (
        contextlib.suppress(SystemExit, ValueError, OSError),  # refusing is fine
        open(tmp_path / "out.txt", "w") as out,
    ):
        peers.main_peers(Console(file=out), path)
    assert path.read_text() == conflicted, "the unreadable results were overwritten"
    assert not measured, "the peers were measured for a file they could not be merged into"


@pytest.mark.parametrize("mode", ["--loops", "--peers"])
def test_an_unreadable_results_file_stops_the_bench_before_it_measures(
    mode: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What was wrong: ``merge_results`` read bench-results.json only after the bench
    had measured (W4 at 100,000 iterations, the full run's half hour), so a file it could
    not parse (conflict markers after a merge) cost the whole run and ended in a
    traceback, the figures lost.
    Expected: scripts/bench reads the file first and exits with a message naming it,
    having measured nothing and left the file as it was."""
    monkeypatch.chdir(tmp_path)
    conflicted = _conflicted(tmp_path / "bench-results.json")

    def measured(*_: Any, **__: Any) -> Any:
        raise AssertionError("the bench measured before checking bench-results.json")

    monkeypatch.setattr(loops, "run_loop_bench", measured)
    monkeypatch.setattr(peers, "run_peers_bench", measured)
    monkeypatch.setattr(sys, "argv", ["podium.bench", mode])
    with pytest.raises(SystemExit) as exited:
        bench_main.main()
    assert exited.value.code not in (0, None)
    assert "bench-results.json" in str(exited.value.code)
    assert (tmp_path / "bench-results.json").read_text() == conflicted

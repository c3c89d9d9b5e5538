"""scripts/bench --peers, at toy sizes: Podium's side on the SQLite home, Luigi's (when
the peers venv exists) and the console views' timing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podium.bench import peers
from podium.bench.engine import chain, fan, wide


def test_podium_side_runs_on_a_fresh_sqlite_home() -> None:
    out = peers.podium_once(chain(5))
    assert out["steps"] == 5 and out["ms_per_step"] > 0


def test_console_views_are_timed_and_sized() -> None:
    out = peers.console_views_of(fan(20), repeats=1)
    assert out["steps"] == 22
    page = out["run_page"]
    assert page["bytes"] > 0 and page["steps_listed"] == 22 and page["counts"] == {"SUCCEEDED": 22}
    assert out["step_detail"]["bytes"] > 0 and out["run_list"]["ms"] >= 0


@pytest.mark.skipif(
    not (peers.PEERS_VENV / "bin" / "python").exists(),
    reason="no peers venv (scripts/bench --peers makes it)",
)
def test_luigi_side_runs_every_step_once() -> None:
    python = peers.luigi_python(install=False)
    if python is None:
        pytest.skip("the peers venv has no luigi")
    for defn in (chain(4), fan(6), wide(21, branches=4)):
        out = peers.luigi_once(python, defn)
        assert out["steps"] == len(defn["steps"]) and out["ms_per_step"] > 0


def test_the_peers_section_is_merged_into_the_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "bench-results.json"
    results.write_text(json.dumps({"engine": {"kept": True}}))
    fake = {
        "repeats": 1,
        "loadavg_before": [0.1, 0.2, 0.3],
        "workloads": {"W1": {"steps": 100, "podium_ms_per_step": 0.1}},
        "console_run_view": {},
    }
    monkeypatch.setattr(peers, "run_peers_bench", lambda: fake)
    from rich.console import Console

    peers.main_peers(Console(file=open(tmp_path / "out.txt", "w")), results)  # noqa: SIM115
    merged = json.loads(results.read_text())
    assert merged == {"engine": {"kept": True}, "peers": fake}

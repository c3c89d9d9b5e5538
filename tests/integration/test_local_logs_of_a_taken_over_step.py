"""``podium runs logs`` of a step a restart took over, on the local home: it said the
step printed nothing, as the local home keys logs by the run they were printed in and
the taken-over step ran in the run the restart restarts."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli_local import podium, run_id_of

FNS = """
import os

def extract(event):
    print("extracted 42 rows")
    return {"rows": 42}

def load(event):
    if not os.path.exists(os.path.join(os.path.dirname(__file__), "fixed")):
        raise ValueError("warehouse down")
    print("loaded")
    return {}
"""

WF = """
name: taken
steps:
  - {id: extract, type: lambda, function: "taken_fns:extract"}
  - {id: load, type: lambda, function: "taken_fns:load", depends_on: [extract]}
"""


def _restarted(tmp_path: Path) -> tuple[Path, str]:
    home = tmp_path / "home"
    (tmp_path / "taken_fns.py").write_text(FNS)
    (tmp_path / "wf.yaml").write_text(WF)
    assert podium(home, "run", "wf.yaml", cwd=tmp_path).returncode == 1
    old = run_id_of(home, "taken")
    (tmp_path / "fixed").write_text("")
    restarted = podium(home, "runs", "restart", old, "--reason", "fixed", cwd=tmp_path)
    assert restarted.returncode == 0, restarted.stderr
    return home, old


def test_logs_of_a_taken_over_step_are_read_where_it_ran(tmp_path: Path) -> None:
    """After `podium runs restart RUN`, `podium runs logs RUN-r1 extract` (a step the
    restart took over) said "no output captured for step extract of run RUN-r1", though
    it printed "extracted 42 rows" in RUN (a stack shows those lines: the taken-over
    step keeps the old attempt's ``log_ref``). It shows them, naming the run they were
    printed in; the whole run's logs show them too, before its own steps'."""
    home, old = _restarted(tmp_path)
    new = f"{old}-r1"
    logs = podium(home, "runs", "logs", new, "extract", cwd=tmp_path)
    assert logs.returncode == 0, logs.stderr
    assert "extracted 42 rows" in logs.stdout, logs.stdout
    assert f"in run {old} (taken over from it)" in logs.stdout, logs.stdout

    shown = podium(home, "runs", "logs", new, "--json", cwd=tmp_path)
    entries = json.loads(shown.stdout)["logs"]
    assert [(e["step"], e["run_id"], e["text"]) for e in entries if e["stream"] == "stdout"] == [
        ("extract", old, "extracted 42 rows\n"),
        ("load", new, "loaded\n"),
    ]

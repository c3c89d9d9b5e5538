"""``podium backfill`` on the local home reports how the runs it started ended: its own
runs, not every earlier backfill run of the workflow."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from podium.cli.main import app

DAILY = """\
name: daily_sums
steps:
  - {id: a, type: noop}
triggers:
  - {id: daily, cron: "0 6 * * *"}
"""


def podium(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def backfill(home: str, start: str, end: str, *more: str) -> Result:
    return podium("backfill", "daily_sums", "--from", start, "--to", end, "--home", home, *more)


def test_the_outcome_counts_only_this_backfills_runs(tmp_path: Path) -> None:
    wf = tmp_path / "daily.yaml"
    wf.write_text(DAILY)
    home = str(tmp_path / "home")
    assert podium("run", str(wf), "--home", home).exit_code == 0
    first = backfill(home, "2026-03-01", "2026-03-05", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["outcome"] == {"SUCCEEDED": 5}
    second = backfill(home, "2026-04-01", "2026-04-02", "--json")
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["outcome"] == {"SUCCEEDED": 2}  # was 7: the 5 above too
    printed = backfill(home, "2026-05-01", "2026-05-03")
    assert printed.exit_code == 0, printed.output
    assert "runs: 3 succeeded" in printed.output, printed.output
    # Times that already have a run are skipped: this backfill started nothing.
    again = backfill(home, "2026-03-01", "2026-03-05", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout).get("outcome") is None
    # A rerun counts the new runs only.
    rerun = backfill(home, "2026-03-01", "2026-03-02", "--reprocess", "all", "--json")
    assert rerun.exit_code == 0, rerun.output
    assert json.loads(rerun.stdout)["outcome"] == {"SUCCEEDED": 2}

"""podium triggers list|enable|disable and podium backfill on the local home."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from podium.cli.main import app

ETL = """\
name: cli_etl
run_strategy: {parallel: 2}
params:
  day: {type: string, default: "${run.logical_date}"}
steps:
  - {id: a, type: noop}
triggers:
  - {id: daily, cron: "0 6 * * *", timezone: Europe/Berlin}
"""


def podium(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


def test_triggers_and_backfill_on_the_local_home(tmp_path: Path) -> None:
    wf = tmp_path / "etl.yaml"
    wf.write_text(ETL)
    home = str(tmp_path / "home")
    result = podium("run", str(wf), "--home", home, "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]

    listed = json.loads(podium("triggers", "list", "cli_etl", "--home", home, "--json").stdout)  # type: ignore[attr-defined]
    assert [(t["id"], t["enabled"]) for t in listed["triggers"]] == [("daily", True)]
    off = podium("triggers", "disable", "cli_etl", "daily", "--home", home)
    assert off.exit_code == 0 and "off" in off.output  # type: ignore[attr-defined]
    listed = json.loads(podium("triggers", "list", "cli_etl", "--home", home, "--json").stdout)  # type: ignore[attr-defined]
    assert listed["triggers"][0]["enabled"] is False
    bad = podium("triggers", "enable", "cli_etl", "nope", "--home", home)
    assert bad.exit_code == 1 and "daily" in bad.output  # type: ignore[attr-defined]

    args = ["backfill", "cli_etl", "--from", "2026-03-01", "--to", "2026-03-05", "--home", home]
    plan = json.loads(podium(*args, "--dry-run", "--json").stdout)  # type: ignore[attr-defined]
    assert plan["to_start"] == 5 and plan["started"] == []
    done = json.loads(podium(*args, "--json").stdout)  # type: ignore[attr-defined]
    assert len(done["started"]) == 5 and done["outcome"] == {"SUCCEEDED": 5}
    again = podium(*args)
    assert again.exit_code == 0 and "5 skipped" in again.output  # type: ignore[attr-defined]
    bad_mode = podium(*args, "--reprocess", "some")
    assert bad_mode.exit_code == 2  # type: ignore[attr-defined]

"""``podium runs list WORKFLOW`` of a workflow the local home did not have (a typo:
``daily_sales_elt``) said "no runs of daily_sales_elt in HOME yet" and exited 0, as if
the workflow existed and had not run. The same command on a stack or ``podium dev``
(``--endpoint``) answers 404 "workflow 'daily_sales_elt' not found", exit 1, and every
other local command naming an unknown workflow (``workflows show``, ``triggers list``,
``break list``, ``unblock``) says "workflow '...' not found; ... this home has ...",
exit 1. cli/local_commands.py ``list_runs`` checks that the home has the workflow now,
and says so as they do."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli_local import podium


def test_runs_list_of_a_workflow_the_home_lacks_says_not_found(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (tmp_path / "wf.yaml").write_text("name: daily_sales_etl\nsteps:\n  - {id: a, type: noop}\n")
    assert podium(home, "run", str(tmp_path / "wf.yaml")).returncode == 0
    # The other local commands: not found, naming what the home has.
    shown = podium(home, "workflows", "show", "daily_sales_elt")
    assert shown.returncode == 1 and "not found" in shown.stderr, shown.stderr

    listed = podium(home, "runs", "list", "daily_sales_elt")
    said = listed.stdout + listed.stderr
    assert "yet" not in said, said
    assert "not found" in said and "daily_sales_etl" in said, said
    assert listed.returncode == 1
    as_json = podium(home, "runs", "list", "daily_sales_elt", "--json")
    assert as_json.returncode == 1 and as_json.stdout == "", as_json.stdout
    # The workflow it has is still listed, and filters that match nothing still say so.
    known = podium(home, "runs", "list", "daily_sales_etl", "--json")
    assert known.returncode == 0 and len(json.loads(known.stdout)["runs"]) == 1
    none = podium(home, "runs", "list", "daily_sales_etl", "--status", "failed")
    assert none.returncode == 0 and "match" in none.stdout, none.stdout

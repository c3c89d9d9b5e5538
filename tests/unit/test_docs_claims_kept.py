"""Claims of the docs that the code did not keep, found by a review: `podium validate`
shows what a push would refuse (docs/deploy.md "Upgrading"), `podium run` lists a push's
refusal, and the loop cost figures match bench-results.json. Each test failed before its
fix (its docstring says what was wrong)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from podium.cli.main import app

ROOT = Path(__file__).resolve().parents[2]

# A definition that `podium push` (service/workflows.py push_definition ->
# core/dsl/triggers.py ignored_field_issues) refuses: catchup on an s3 trigger.
CATCHUP_ON_S3 = """\
name: catchup_on_s3
steps:
  - {id: a, type: noop}
triggers:
  - id: upload
    s3: {bucket: landing, prefix: raw/}
    catchup: latest
"""

# Refused at push as well: max_catchup without catchup: all.
MAX_CATCHUP_WITHOUT_ALL = """\
name: max_catchup_without_all
steps:
  - {id: a, type: noop}
triggers:
  - id: daily
    cron: "0 6 * * *"
    catchup: latest
    max_catchup: 5
"""


def _validate(tmp_path: Path, text: str) -> int:
    path = tmp_path / "workflow.yaml"
    path.write_text(text)
    return CliRunner().invoke(app, ["validate", str(path)]).exit_code


def test_validate_reports_catchup_on_a_non_schedule_trigger(tmp_path: Path) -> None:
    """docs/deploy.md:458-467 ("Upgrading"): "Run the new CLI's `podium validate` on your
    workflow files to see what the next push of them would be refused for. The checks
    added in the previous release: ... and `catchup` on a trigger that is not cron or
    rate". Also docs/workflow-language.md:865-866 (refused at push) and :4-5 (`podium
    validate FILE` lists every problem).

    False: `podium validate` (cli/main.py validate -> load_definition) passes the file
    (exit 0, "✓ ..."); only push_definition runs `ignored_field_issues`, so `podium push`
    and `podium run` refuse it (`podium run` even with an uncaught traceback)."""
    assert _validate(tmp_path, CATCHUP_ON_S3) == 1


def test_validate_reports_max_catchup_without_catchup_all(tmp_path: Path) -> None:
    """docs/deploy.md:458-467: `podium validate` shows what a push refuses, listing
    "`max_catchup` without `catchup: all`" among the checks; docs/workflow-language.md:872-873
    ("set with `none` or `latest` it is refused at push").

    False: `podium validate` exits 0 on it (the check is `Trigger.ignored_max_catchup`,
    called only from service/workflows.py push_definition)."""
    assert _validate(tmp_path, MAX_CATCHUP_WITHOUT_ALL) == 1


def test_cost_md_loop_write_units_match_bench_results() -> None:
    """docs/cost.md and docs/benchmarks.md said "4.3 write units" per iteration of W4:
    bench-results.json's loops.W4.costs_at_<sample>.per_step.dynamodb_write_units is 4.353,
    4.4 to one decimal (4.3 was the write *requests* figure, 4.254)."""
    results = json.loads((ROOT / "bench-results.json").read_text())
    (sample,) = [k for k in results["loops"]["W4"] if k.startswith("costs_at_")]
    wcu = results["loops"]["W4"][sample]["per_step"]["dynamodb_write_units"]
    assert f"About {wcu:.1f} write units" in (ROOT / "docs" / "cost.md").read_text()
    assert f"an iteration's {wcu:.1f} write units" in (ROOT / "docs" / "benchmarks.md").read_text()


def test_run_lists_a_push_refusal_instead_of_a_traceback(tmp_path: Path) -> None:
    """`podium run FILE` of a definition that loads but that a push refuses (catchup on
    an s3 trigger) stopped with a DefinitionError traceback: it lists the problem as
    `podium validate` does, exit 1."""
    path = tmp_path / "workflow.yaml"
    path.write_text(CATCHUP_ON_S3)
    home = tmp_path / "home"
    result = CliRunner().invoke(app, ["run", str(path), "--home", str(home)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "triggers[0].catchup: catchup applies to cron and rate triggers only" in result.output

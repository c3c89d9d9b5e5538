"""podium.testing: what users import to test their own workflows."""

from __future__ import annotations

from pathlib import Path

from podium.local.runtime import LocalRuntime
from podium.testing import podium_runtime, run_workflow, step_of

__all__ = ["podium_runtime"]  # the fixture, imported as a user would
ROOT = Path(__file__).resolve().parents[2]


def test_run_workflow_from_a_file() -> None:
    view = run_workflow(ROOT / "examples/sales_etl/workflow.yaml", {"date": "2026-02-02"})
    assert view.run.status.value == "SUCCEEDED"
    assert step_of(view, "load").output["total_revenue"] > 0
    # The transform is a foreach over params.regions: its outputs are index-aligned.
    aggregates = step_of(view, "transform").output["outputs"]["aggregate"]
    assert [a["region"] for a in aggregates] == ["emea", "amer", "apac"]


def test_the_fixture_gives_a_fresh_runtime(podium_runtime: LocalRuntime) -> None:
    podium_runtime.push({"name": "t", "steps": [{"id": "a", "type": "noop"}]})
    run = podium_runtime.start_run("t")
    podium_runtime.pump()
    assert podium_runtime.describe(run.run_id).run.status.value == "SUCCEEDED"

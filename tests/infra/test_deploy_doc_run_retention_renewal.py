"""docs/deploy.md's words about run retention against what the engine does
(functions/podium/adapters/dynamo_expiry.py, infra/podium_cdk/payloads.py)."""

from __future__ import annotations

from infra_support import REPO_ROOT


def _prop_row(name: str) -> str:
    text = (REPO_ROOT / "docs" / "deploy.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith(f"| `{name}` |")]
    assert len(rows) == 1, rows
    return rows[0]


def test_deploy_doc_does_not_say_a_long_run_loses_its_items_while_it_runs() -> None:
    """docs/deploy.md's run_retention_days row said "A run that lasts longer than this
    loses its oldest items while it runs: set it above your longest run", so an
    operator would raise the retention of the whole table for one long-waiting
    workflow. The sweeper renews the items of a run older than half the retention
    (adapters/dynamo_expiry.py); what does expire under a long run is its payload
    objects (payload_expiration_days, retention + 30 days by default, after they were
    written, never renewed), which the row now says instead."""
    row = _prop_row("run_retention_days")
    assert "loses its oldest items while it runs" not in row, row
    assert "renews them" in row, row
    assert "payload objects" in row and "nothing renews it" in row, row

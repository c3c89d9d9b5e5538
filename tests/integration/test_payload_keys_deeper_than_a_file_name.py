"""A big output three loops deep could not be stored in the local home.

A payload's key starts with its run's id (core/engine/outputs.py ``output_key``:
``<run>/<step>/<attempt>/output.json``), and FilePayloads (adapters/payloads.py) made
the run id one directory of ``payloads/``. A loop iteration's or a subworkflow's run id
is its parent's id, its step's id and its index (core/engine/identity.py
``child_run_id``: ``<parent>.<step>.<index>``), growing with every level (up to 10),
and step ids may be 80 characters (models.IDENTIFIER). A file name is at most 255 bytes
(ext4, APFS, NTFS...): three levels of loops with long, descriptive step ids (or five
with 40-character ones) made ``put`` fail with "File name too long". The attempt's end
raised after the function ran (attempt_records.stored, before its write): the step
stayed RUNNING until a deadline ended it, and the run never succeeded. DynamoDB takes
these ids; only the home's files did not.

Now a part of a key longer than a file name is named by its start and a digest of the
whole (adapters/payloads.py ``file_name``), and ``podium runs prune`` (local/prune.py)
deletes a run's payloads by the same name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from podium.adapters.clock import ManualClock
from podium.adapters.sqlite.db import Database
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.prune import prune_runs
from podium.local.runtime import LocalRuntime

HERE = "tests.integration.test_payload_keys_deeper_than_a_file_name"
CALLS: list[int] = []


def big(event: dict[str, Any]) -> dict[str, Any]:
    CALLS.append(1)
    return {"rows": ["x" * 100] * 200}  # ~20 KB: over the 8 KiB kept in the step item


def _loop(step_id: str, inner: dict[str, Any]) -> dict[str, Any]:
    return {"id": step_id, "type": "foreach", "over": {"i": [0]}, "steps": [inner]}


# Step ids of 80 characters, the longest an identifier may be.
REGIONS = "for_each_region_in_the_configured_list_of_regions_to_load_the_reports_from_00001"
ACCOUNTS = "for_each_account_of_the_region_in_the_organizations_list_of_member_accounts_0001"
DAYS = "for_each_day_of_the_backfill_window_between_the_start_and_the_end_dates_given_01"
WF = {
    "name": "deep_keys",
    "steps": [
        _loop(
            REGIONS,
            _loop(
                ACCOUNTS, _loop(DAYS, {"id": "load", "type": "lambda", "function": f"{HERE}:big"})
            ),
        )
    ],
}


def test_a_big_output_three_loops_deep_is_stored_in_the_home(tmp_path: Path) -> None:
    assert all(len(s) == 80 for s in (REGIONS, ACCOUNTS, DAYS))
    CALLS.clear()
    with LocalRuntime(store="sqlite", clock=ManualClock(), home=tmp_path / ".podium") as rt:
        view = rt.run(WF)
    # Before: each try of the leaf's end raised OSError [Errno 36] File name too long
    # (payloads/<a run id of 26 + 3 x 84 characters>/load/1/output.json); the leaf stayed
    # RUNNING and the run ended TIMED_OUT ten (virtual) days later, "the attempt ran
    # longer than the step's timeout of 864000 s", naming no file.
    assert view.run.status is RunStatus.SUCCEEDED, (view.run.status, view.run.error)
    assert len(CALLS) == 1


def test_prune_deletes_the_payloads_of_an_iteration_three_loops_deep(tmp_path: Path) -> None:
    home = tmp_path / ".podium"
    with LocalRuntime(store="sqlite", clock=ManualClock(), home=home) as rt:
        view = rt.run(WF)
    assert view.run.status is RunStatus.SUCCEEDED, (view.run.status, view.run.error)
    leaf = view.run.run_id
    for step in (REGIONS, ACCOUNTS, DAYS):
        leaf = child_run_id(leaf, step, 0)
    # The leaf's big output, in a directory named by the start of its run's long id.
    leaves = [d for d in (home / "payloads").iterdir() if d.name.startswith(leaf[:150])]
    assert any((d / "load").is_dir() for d in leaves), leaves
    db = Database(home / "podium.db")
    try:
        assert prune_runs(db, home / "payloads", 4_102_444_800_000).runs == 1  # before 2100
    finally:
        db.close()
    assert list((home / "payloads").iterdir()) == []

"""A run of a workflow with ``max_parallel_steps`` takes permits of a key of its own,
``run:<run_id>`` (core/engine/compiled.py ``permits_needed``). That key's record outlived
the run: on DynamoDB its ``K#run:<run_id>`` item carried no ``expires_at``
(adapters/dynamo_expiry.py stamped only ``R#`` items) and nothing deleted it at the run's
end, so one item per such run stayed in the table for good; on the local home
``podium runs prune`` deleted the run but left its key's ``permit_keys`` row.

Now the run's end deletes the key once nobody holds or waits on it (``Permits.forget``
from service/lifecycle.py ``release_run_permits``); on DynamoDB the items of a run's own
key expire with the run's (a claim after the run's end makes the key again) and are
renewed with them; a prune deletes the permit rows of every run of a tree it deletes.
docs/architecture.md: "slot, permit and queue items are deleted when done"."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium.adapters.clock import ManualClock
from podium.adapters.dynamo_expiry import TTL_ATTRIBUTE, ExpiringRunItems
from podium.adapters.dynamo_permits import DynamoPermits
from podium.adapters.dynamo_store import DynamoStateStore
from podium.adapters.sqlite.db import Database
from podium.adapters.table_schema import create_table
from podium.core.engine.permits import PermitNeed
from podium.core.engine.records import StepRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.ports import Claim
from podium.local.prune import prune_runs
from podium.local.runtime import TABLE_NAME, LocalRuntime

DAY_MS = 86_400_000
DAY_S = 86_400

CAPPED = {
    "name": "capped",
    "max_parallel_steps": 2,
    "steps": [
        {"id": "a", "type": "noop"},
        {"id": "b", "type": "noop"},
        {"id": "c", "type": "noop"},
        {"id": "d", "type": "noop", "depends_on": ["a", "b", "c"]},
    ],
}


def _scan(db: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = db.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_a_runs_own_permit_key_item_goes_when_the_run_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every item that names one run must go with it: a ``K#run:<run_id>`` item left
    without ``expires_at`` is kept for good, one per run of every workflow with
    max_parallel_steps."""
    forgotten: list[tuple[str, bool]] = []
    forget = DynamoPermits.forget

    def spy(self: DynamoPermits, key: str) -> bool:
        done = forget(self, key)
        forgotten.append((key, done))
        return done

    monkeypatch.setattr(DynamoPermits, "forget", spy)
    clock = ManualClock()
    with LocalRuntime(store="moto", clock=clock, capture_output=False) as rt:
        view = rt.run(CAPPED)
        assert view.run.status is RunStatus.SUCCEEDED
        run_id = view.run.run_id
        items = _scan(rt.dynamodb, TABLE_NAME)
    # The run took permits of its own key, and its end deleted the key's item.
    assert forgotten == [(f"run:{run_id}", True)]
    own = [i for i in items if run_id in i["pk"]["S"] and not i["pk"]["S"].startswith("R#")]
    assert own == [], f"items of run {run_id} left: {own}"


def test_a_runs_own_permit_key_items_expire_and_are_renewed_with_the_run() -> None:
    """Should a claim after the run's end make its key again (a worker that read the run
    as RUNNING), or a crash leave it, its items expire with the run's and are renewed
    with them; a shared key's are not the run's and stay."""
    clock = ManualClock(start_ms=1_000 * DAY_MS)
    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        create_table(db, "t")
        expiring = ExpiringRunItems(db, after_days=10, clock=clock)
        store = DynamoStateStore(expiring, "t")
        permits = store.permits()
        for run in ("r1", "r2"):
            store.create_step(StepRecord(run, "s", StepStatus.READY, ready_at=1))
        holder = store.get_step("r1", "s")
        assert holder is not None
        changes = {"attempt": 1, "started_at": 5, "lease_until": 99}
        needs = [PermitNeed("db", 1), PermitNeed("run:r1", 1)]
        assert permits.claim(holder, needs, attempt=1, changes=changes).outcome is Claim.CLAIMED
        waiter = store.get_step("r2", "s")
        assert waiter is not None
        assert permits.wait(waiter, "run:r1", 1, now=clock.now_ms())  # a queue item

        def stamps() -> dict[tuple[str, str], int | None]:
            return {
                (i["pk"]["S"], i["sk"]["S"]): (
                    int(i[TTL_ATTRIBUTE]["N"]) if TTL_ATTRIBUTE in i else None
                )
                for i in _scan(db, "t")
                if i["pk"]["S"].startswith("K#")
            }

        first = clock.now_ms() // 1000 + 10 * DAY_S
        written = stamps()
        own = {k: v for k, v in written.items() if k[0] == "K#run:r1"}
        assert {sk for _, sk in own} == {"#PERMITS", f"Q#{clock.now_ms():013d}#r2/s"}
        assert set(own.values()) == {first}
        assert written[("K#db", "#PERMITS")] is None  # a shared key stays

        clock.advance(6 * DAY_MS)  # older than half the retention: renewed
        assert expiring.renew_run_partition("t", "R#r1", 1_000 * DAY_MS) >= len(own)
        renewed = stamps()
        assert {renewed[k] for k in own} == {clock.now_ms() // 1000 + 10 * DAY_S}
        assert renewed[("K#db", "#PERMITS")] is None


def test_prune_deletes_a_pruned_runs_own_permit_key_row(tmp_path: Path) -> None:
    """``podium runs prune`` deletes the run's rows in every table but leaves the
    ``permit_keys`` row of its ``run:<run_id>`` key: a home that runs such a workflow
    every few minutes keeps a row per run however often it is pruned."""
    where = tmp_path / "home"
    clock = ManualClock()
    with LocalRuntime(store="sqlite", home=str(where), clock=clock) as rt:
        rt.push(CAPPED)
        run_id = rt.start_run("capped").run_id
        rt.pump()
        assert rt.describe(run_id).run.status is RunStatus.SUCCEEDED
    clock.advance(2 * DAY_MS)
    db = Database(where / "podium.db")
    try:
        report = prune_runs(db, where / "payloads", clock.now_ms() - DAY_MS)
    finally:
        db.close()
    assert report.runs == 1
    conn = sqlite3.connect(where / "podium.db")
    try:
        left = conn.execute(
            "SELECT key FROM permit_keys WHERE key LIKE ?", (f"%{run_id}%",)
        ).fetchall()
    finally:
        conn.close()
    assert left == [], f"rows of pruned run {run_id} left in permit_keys: {left}"


def test_prune_deletes_what_a_late_claim_left_of_a_runs_own_key(tmp_path: Path) -> None:
    """The run's end deletes its key's row, but a claim after it (a worker that read the
    run as RUNNING: its ended check ends the step) makes it again: the prune of the run
    deletes the rows of its own key, and of its children's, and no other key's."""
    where = tmp_path / "home"
    clock = ManualClock()
    with LocalRuntime(store="sqlite", home=str(where), clock=clock) as rt:
        rt.push(CAPPED)
        run_id = rt.start_run("capped").run_id
        other = rt.start_run("capped").run_id
        rt.pump()
        assert rt.describe(run_id).run.status is RunStatus.SUCCEEDED
    conn = sqlite3.connect(where / "podium.db")
    try:
        assert conn.execute("SELECT key FROM permit_keys").fetchall() == []  # gone at the end
        keys = [f"run:{run_id}", f"run:{run_id}.loop.0", f"run:{other}", "shared"]
        for key in keys:
            conn.execute("INSERT INTO permit_keys (key, n, w, lim) VALUES (?, 1, 1, 2)", (key,))
            conn.execute("INSERT INTO permit_holders VALUES (?, ?, 9)", (key, f"{run_id}/a"))
            conn.execute("INSERT INTO permit_queue VALUES (?, 5, ?)", (key, f"{run_id}/b"))
        # only the first run is old enough to go
        conn.execute("UPDATE runs SET record = json_set(record, '$.ended_at', ?)"
                     " WHERE run_id = ?", (clock.now_ms() + 3 * DAY_MS, other))  # fmt: skip
        conn.commit()
    finally:
        conn.close()
    clock.advance(2 * DAY_MS)
    db = Database(where / "podium.db")
    try:
        report = prune_runs(db, where / "payloads", clock.now_ms() - DAY_MS)
    finally:
        db.close()
    assert report.runs == 1
    conn = sqlite3.connect(where / "podium.db")
    try:
        for table in ("permit_keys", "permit_holders", "permit_queue"):
            left = sorted(k for (k,) in conn.execute(f"SELECT key FROM {table}"))
            assert left == sorted([f"run:{other}", "shared"]), table
    finally:
        conn.close()

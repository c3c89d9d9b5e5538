"""`podium runs prune` on the SQLite home: what a prune left behind or took away that it
should not (see docs/operations.md, "Pruning the local home"). Found by a review; each
test failed before its fix."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from podium.adapters.clock import ManualClock
from podium.adapters.sqlite.db import Database
from podium.core.engine.actions import RunAction
from podium.core.engine.outputs import is_ref
from podium.core.engine.status import RunStatus
from podium.local.prune import prune_runs
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from podium.service.restart import RestartRequest

HERE = "tests.integration.test_prune_leaves_nothing_dangling"
DAY_MS = 86_400_000


def big(event: dict[str, Any]) -> dict[str, Any]:
    """An output over the inline limit: stored as a payload file of its run."""
    return {"rows": list(range(20_000))}


FAILS_AFTER_BIG = {
    "name": "feed",
    "steps": [
        {"id": "a", "type": "lambda", "function": f"{HERE}:big"},
        {"id": "b", "type": "fail", "message": "bad feed", "depends_on": ["a"]},
    ],
}
SHORT_WITH_TIMEOUT = {
    "name": "quick",
    "timeout": "1d",
    "steps": [{"id": "boom", "type": "fail", "message": "bad feed"}],
}


def test_prune_keeps_payload_files_a_kept_restart_still_refers_to(tmp_path: Path) -> None:
    """A restart from incomplete takes the succeeded steps over by copying their output
    reference (service/reuse.py take_over: "a big output stays where it is: the
    reference is copied"), so the restarted run's step `a` points at
    payloads/<OLD RUN>/a/... . Pruning the old run (it ended long ago) while the restart
    is kept (it ended recently) deletes payloads/<OLD RUN> (local/prune.py prune_runs:
    shutil.rmtree(payloads / run.run_id)), and the kept run's output is gone: its view
    shows a dangling reference and a restart of it from `b` cannot read `a`'s output.
    Right: a prune must not delete a payload file that a run it keeps still refers to
    (keep the old tree while a run restarted from it is kept, or copy the file to the
    restart when it takes the step over)."""
    where = tmp_path / "home"
    clock = ManualClock()
    with LocalRuntime(store="sqlite", home=str(where), clock=clock) as rt:
        rt.push(FAILS_AFTER_BIG)
        old = rt.start_run("feed").run_id
        rt.pump()
        assert rt.describe(old).run.status is RunStatus.FAILED
        clock.advance(2 * DAY_MS)
        result = run_action(
            rt.services,
            old,
            RunAction("restart"),
            Actor("me", None, "r-1"),
            RestartRequest("incomplete", {}, None),
        )
        new = result.new_run
        assert new is not None
        rt.pump()
        assert rt.describe(new).run.status is RunStatus.FAILED
        taken = {s.step: s for s in rt.describe(new).steps}["a"]
        assert is_ref(taken.output)
        ref = taken.output["$payload"]
        cutoff = clock.now_ms() - DAY_MS  # the old run ended before it, the restart after

    db = Database(where / "podium.db")
    try:
        report = prune_runs(db, where / "payloads", cutoff)
    finally:
        db.close()
    assert report.runs == 1  # the old run went; the restart stays

    with LocalRuntime(store="sqlite", home=str(where), clock=clock) as rt:
        kept = {s.step: s for s in rt.describe(new).steps}["a"]
        assert kept.output["$payload"] == ref
        # The kept run's output must still be readable.
        assert rt.services.payloads.get(ref)


def test_prune_leaves_no_timer_of_a_deleted_run_to_become_a_dead_letter(tmp_path: Path) -> None:
    """A run that ends before its timers fire leaves them queued in the home's messages
    table: its own `timeout` (run_deadline, due a day on here) and the ended_check a
    lease after a failed end. The run is settled, so a prune deletes it, but not its
    messages (adapters/sqlite/prune.py RUN_TABLES has no `messages`). When they come
    due, the next `podium run`/`podium dev` on the home fails them with RunNotFound
    (service/lifecycle.py on_run_deadline / on_ended_check call store.get_run without
    catching it) until they are moved to the dead-letter queue: `podium dlq list` then
    shows poison messages nobody made. (A `done` timer of a gone run is dropped with a
    warning instead: service/completions.py.) Right: a pruned run's messages go with it,
    or these handlers drop a message whose run is gone, and no dead letter appears."""
    where = tmp_path / "home"
    clock = ManualClock()
    with LocalRuntime(store="sqlite", home=str(where), clock=clock) as rt:
        rt.push(SHORT_WITH_TIMEOUT)
        run_id = rt.start_run("quick").run_id
        rt.pump(advance_time=False)  # the run ends; its timers are still due later
        assert rt.describe(run_id).run.status is RunStatus.FAILED
        assert rt.store.get_run(run_id).settled
    conn = sqlite3.connect(where / "podium.db")
    try:
        queued = conn.execute("SELECT count(*) FROM messages WHERE body LIKE ?", (f"%{run_id}%",))
        assert queued.fetchone()[0] >= 1
    finally:
        conn.close()

    db = Database(where / "podium.db")
    try:
        assert prune_runs(db, where / "payloads", clock.now_ms() + 1).runs == 1
    finally:
        db.close()

    with LocalRuntime(store="sqlite", home=str(where), clock=clock) as rt:
        rt.pump()  # time moves on to the timers: they fire
        assert rt.dead_letters() == []

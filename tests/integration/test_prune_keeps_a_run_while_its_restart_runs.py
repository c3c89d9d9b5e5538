"""``podium runs prune`` deleted a run while a restart of it was still running. A
restarted run's loop reads the run it restarts as it launches each iteration
(service/reuse.py ``restarted_child`` -> ``iteration_run``): an iteration that succeeded
there is restarted from incomplete (its steps taken over, nothing runs again). Pruned in
between, the old run's iterations were gone, so every iteration the restart's loop
launched after the prune ran in full: work that had succeeded was done again (a load
into a warehouse twice), though the restart asked for "incomplete". The retention rule
(core/engine/retention.py ``kept_because``) kept a tree for its own unfinished runs
only, never for an unfinished restart of it.

Now a tree is kept while a run that restarts it, or restarts that restart (and so on),
is unfinished (``kept_for_restarts``; local/prune.py reads the chain by the ids restarts
take), listed in ``kept`` with why; once the restarts have ended, it goes by its own
age."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from podium.adapters.clock import ManualClock
from podium.adapters.sqlite.db import Database
from podium.core.engine.actions import RunAction
from podium.core.engine.errors import RunNotFound
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.prune import PruneReport, prune_runs
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, RestartRequest, run_action

HERE = "tests.integration.test_prune_keeps_a_run_while_its_restart_runs"
DAY_MS = 86_400_000

CALLS: list[str] = []
FAIL_BAD = [True]


def work(event: dict[str, Any]) -> str:
    x = str(event["payload"]["x"])
    CALLS.append(x)
    if x == "bad" and FAIL_BAD[0]:
        raise ValueError("bad item")
    return x.upper()


DOC = {
    "name": "one_at_a_time",
    "steps": [
        {
            "id": "loop",
            "type": "foreach",
            "over": {"x": ["bad", "a", "b"]},
            "concurrency": 1,
            "on_failure": "continue",
            "steps": [
                {
                    "id": "work",
                    "type": "lambda",
                    "function": f"{HERE}:work",
                    "payload": {"x": "${iteration.x}"},
                }
            ],
        }
    ],
}


def _exists(rt: LocalRuntime, run_id: str) -> bool:
    try:
        rt.store.get_run(run_id)
    except RunNotFound:
        return False
    return True


def test_pruning_a_run_mid_restart_does_not_make_the_restart_redo_what_succeeded(
    tmp_path: Path,
) -> None:
    where = tmp_path / "home"
    clock = ManualClock()
    CALLS.clear()
    FAIL_BAD[0] = True
    with LocalRuntime(store="sqlite", home=str(where), clock=clock) as rt:
        rt.push(DOC)
        old = rt.start_run("one_at_a_time").run_id
        rt.pump()
        assert rt.describe(old).run.status is RunStatus.FAILED
        assert sorted(CALLS) == ["a", "b", "bad"]
        clock.advance(2 * DAY_MS)  # the old run ended two days ago
        FAIL_BAD[0] = False
        CALLS.clear()
        result = run_action(
            rt.services, old, RunAction.RESTART, Actor("me"), RestartRequest("incomplete")
        )
        new = result.new_run
        assert new is not None
        # The restart's loop launches its first iteration ("bad", which reruns) ...
        _launch_first_iteration(rt, new)
        assert not _exists(rt, child_run_id(new, "loop", 1))
        assert rt.store.get_run(new).status is RunStatus.RUNNING

        # ... while a prune of runs that ended over a day ago runs on the same home.
        report = _prune(where, clock.now_ms() - DAY_MS)
        assert report.runs == 0
        assert report.kept == {old: f"its restart {new} is RUNNING"}

        rt.pump()
        assert rt.describe(new).run.status is RunStatus.SUCCEEDED
        # "a" and "b" succeeded in the old run: the restart from incomplete must take
        # them over, not run them again.
        assert CALLS == ["bad"], f"the restart ran again: {CALLS}"

        # Its restart ended: the old run goes by its own age, the restart stays.
        report = _prune(where, clock.now_ms() - DAY_MS)
        assert (report.runs, report.kept) == (1, {})
        assert not _exists(rt, old) and _exists(rt, new)


def _prune(where: Path, ended_before: int) -> PruneReport:
    db = Database(where / "podium.db")
    try:
        return prune_runs(db, where / "payloads", ended_before)
    finally:
        db.close()


def _launch_first_iteration(rt: LocalRuntime, run_id: str) -> None:
    for _ in range(200):
        if _exists(rt, child_run_id(run_id, "loop", 0)):
            return
        rt.pump(max_deliveries=1, advance_time=False)
    raise AssertionError(f"{run_id} launched no iteration")


def test_a_run_is_kept_while_a_restart_of_its_restart_runs(tmp_path: Path) -> None:
    """A restart of a restart reads the first run too (a loop step taken over twice has
    its iterations there: service/step_paths.py ``loop_home``): the chain is kept while
    its last restart runs, then goes by age."""
    where = tmp_path / "home"
    clock = ManualClock()
    CALLS.clear()
    FAIL_BAD[0] = True
    with LocalRuntime(store="sqlite", home=str(where), clock=clock) as rt:
        rt.push(DOC)
        first = rt.start_run("one_at_a_time").run_id
        rt.pump()
        chain = [first]
        for _ in range(2):
            clock.advance(2 * DAY_MS)
            FAIL_BAD[0] = len(chain) < 2  # the second restart succeeds
            result = run_action(
                rt.services, chain[-1], RunAction.RESTART, Actor("me"),
                RestartRequest("incomplete"),
            )  # fmt: skip
            assert result.new_run is not None
            chain.append(result.new_run)
            if len(chain) == 2:
                rt.pump()
                assert rt.describe(chain[1]).run.status is RunStatus.FAILED
        _launch_first_iteration(rt, chain[2])
        assert rt.store.get_run(chain[2]).status is RunStatus.RUNNING

        report = _prune(where, clock.now_ms() - DAY_MS)
        assert report.runs == 0
        assert report.kept == {
            chain[0]: f"its restart {chain[1]} was restarted in turn: {chain[2]} is RUNNING",
            chain[1]: f"its restart {chain[2]} is RUNNING",
        }
        rt.pump()
        assert rt.describe(chain[2]).run.status is RunStatus.SUCCEEDED
        report = _prune(where, clock.now_ms() - DAY_MS)
        assert (report.runs, report.kept) == (2, {})
        assert [_exists(rt, run_id) for run_id in chain] == [False, False, True]

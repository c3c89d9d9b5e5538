"""The walk along one scheduled time's runs (core/engine/backfill.py ``ChainWalk``) read
only the backfill's chain of derived ids: an operator's restart of a time's run
(``podium runs restart``: ``RUN-r1``, core/engine/restart_ids.py) was never read, so the
time's latest run was the one the operator had restarted, and ``--reprocess`` ran the
time again beside the restart (or a day whose restart succeeded again at all). Each id
the walk reads comes with its restart's ids now, in the same batched read."""

from __future__ import annotations

from podium.core.engine import backfill
from podium.core.engine.backfill import ChainWalk, first_run_id, next_run_id
from podium.service.restart import other_restart_run_id, restart_run_id

AT = 1_700_000_000_000
FIRST = first_run_id("wf", "daily", AT)


def _latest(found: set[str]) -> ChainWalk:
    walk = ChainWalk.start("wf", "daily", AT)
    while not walk.done:
        assert len(walk.window()) <= 14  # the chain's 4 ids, each with 2 restart ids, + 2
        walk = walk.after(found)
    return walk


def _after(run_id: str) -> str:
    return next_run_id("wf", "daily", AT, run_id)


def test_an_operators_restart_of_the_first_run_is_the_times_latest() -> None:
    """The schedule's run failed and was restarted: the walk ended at the failed run, and
    a rerun took ``next_run_id`` of it, a second restart of that run."""
    restart = restart_run_id(FIRST)
    walk = _latest({FIRST, restart})
    assert walk.latest == restart and walk.next_id() == _after(restart)


def test_a_restart_of_a_restart_and_a_rerun_after_it_are_followed() -> None:
    """Restarted twice by operators (``-r1``, ``-r2``), then run again by a backfill:
    each link is read in turn (a restart found is followed by its own restart's ids)."""
    r1 = restart_run_id(FIRST)
    r2 = restart_run_id(r1)
    rerun = _after(r2)
    assert _latest({FIRST, r1, r2}).latest == r2
    walk = _latest({FIRST, r1, r2, rerun})
    assert walk.latest == rerun and walk.next_id() == _after(rerun)


def test_a_restart_of_a_backfills_rerun_is_followed() -> None:
    rerun = _after(FIRST)
    restart = other_restart_run_id(rerun)  # the other id a restart may take
    assert _latest({FIRST, rerun, restart}).latest == restart


def test_a_restart_whose_run_was_pruned_is_still_found() -> None:
    """The failed first run ended first and a prune removed it; its restart, which
    succeeded, is kept: the walk found no run and planned the time "start" again."""
    restart = restart_run_id(FIRST)
    assert _latest({restart}).latest == restart


def test_the_ids_a_backfills_rerun_of_a_run_takes() -> None:
    """What ``podium runs restart`` reads to refuse a run a backfill already ran again:
    the rerun's id, from the run's id (its ULID time is the scheduled time) and each
    trigger."""
    r1 = restart_run_id(FIRST)
    rerun_ids = backfill.rerun_ids
    assert rerun_ids("wf", ["daily"], r1) == [_after(r1)]
    assert rerun_ids("wf", ["daily", "hourly"], FIRST) == [
        _after(FIRST),
        next_run_id("wf", "hourly", AT, FIRST),
    ]
    assert rerun_ids("wf", ["daily"], "my-own-run-id") == []

"""The walk along one scheduled time's chain of run ids (core/engine/backfill.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from podium.core.engine.backfill import (
    CHAIN_GAP,
    MAX_CHAIN,
    ChainWalk,
    first_run_id,
    next_run_id,
)

AT = 1_700_000_000_000


def _walk(present: set[int], chain: list[str]) -> ChainWalk:
    found = {chain[k] for k in present}
    walk = ChainWalk.start("wf", "daily", AT)
    while not walk.done:
        walk = walk.after(found)
    return walk


def _chain(n: int) -> list[str]:
    ids = [first_run_id("wf", "daily", AT)]
    while len(ids) < n:
        ids.append(next_run_id("wf", "daily", AT, ids[-1]))
    return ids


@given(st.sets(st.integers(min_value=0, max_value=30), max_size=12))
def test_the_walk_finds_the_latest_run_past_up_to_chain_gap_missing_runs(present: set[int]) -> None:
    chain = _chain(40)
    walk = _walk(present, chain)
    # The latest reachable: the last present index with no gap of CHAIN_GAP before it.
    expected, misses = None, 0
    for k in range(40):
        if k in present:
            expected, misses = k, 0
        else:
            misses += 1
            if misses > CHAIN_GAP:
                break
    assert walk.latest == (chain[expected] if expected is not None else None)
    assert walk.next_id() == (chain[expected + 1] if expected is not None else chain[0])


def test_the_walk_stops_at_max_chain() -> None:
    chain = _chain(MAX_CHAIN + 5)
    walk = _walk(set(range(MAX_CHAIN + 5)), chain)
    assert walk.latest == chain[MAX_CHAIN - 1] and walk.read == MAX_CHAIN


def test_a_latest_run_after_three_pruned_runs_in_a_row_is_found() -> None:
    """A time failed three times and its fourth run succeeded; a prune removed the three
    failed runs (they ended first). The walk stopped after the third missing id, though
    its window had read the fourth: the time was planned "start" and ran a fifth time,
    under the first pruned run's id (the docs promise three in a row)."""
    chain = _chain(6)
    walk = _walk({3}, chain)
    assert walk.latest == chain[3] and walk.next_id() == chain[4]

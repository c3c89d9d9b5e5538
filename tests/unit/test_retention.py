"""core/engine/retention.py: which finished run trees a local home may delete."""

from __future__ import annotations

from dataclasses import replace

from podium.core.engine.records import RunRecord
from podium.core.engine.retention import is_top_run, kept_because, tree_bounds
from podium.core.engine.status import RunStatus


def _run(
    run_id: str, status: RunStatus = RunStatus.SUCCEEDED, ended_at: int | None = 100
) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        workflow="wf",
        version=1,
        status=status,
        params={},
        created_at=0,
        sinks_total=1,
        ended_at=ended_at,
        settled=status.terminal,
    )


def test_a_tree_is_its_top_run_and_the_ids_that_extend_it() -> None:
    low, high = tree_bounds("abc")
    inside = [
        i
        for i in ("abc", "abc-2", "abc.each.0", "abc.each.0.inner.3", "abcd", "abc/")
        if low <= i < high
    ]
    assert inside == ["abc.each.0", "abc.each.0.inner.3"]  # the top run itself is read by id
    assert is_top_run("abc-2") and not is_top_run("abc.each.0")


def test_kept_while_anything_in_it_is_unfinished_or_unsettled() -> None:
    top = _run("r")
    assert kept_because([top, _run("r.kick.0")], ended_before=200) is None
    assert "RUNNING" in str(kept_because([top, _run("r.kick.0", RunStatus.RUNNING, None)], 200))
    unsettled = replace(_run("r.each.1"), settled=False)
    assert "follow-ups" in str(kept_because([top, unsettled], 200))


def test_kept_when_recent_or_blocking() -> None:
    top = _run("r", RunStatus.FAILED, ended_at=100)
    assert kept_because([top], ended_before=100) == "it ended too recently"
    assert "strict_sequential" in str(kept_because([top], ended_before=200, blocking={"r"}))
    assert kept_because([top], ended_before=200, blocking={"other"}) is None

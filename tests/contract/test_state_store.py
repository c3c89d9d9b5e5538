"""One contract suite for the StateStore port, run against the memory fake and against
DynamoDB on moto (Dagster's TestRunStorage pattern): the two cannot drift apart."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from podium.adapters.clock import ManualClock
from podium.adapters.dynamo_expiry import ExpiringRunItems
from podium.adapters.dynamo_store import DynamoStateStore
from podium.adapters.memory_store import MemoryStateStore
from podium.adapters.sqlite.store import SqliteStateStore
from podium.adapters.table_schema import create_table
from podium.core.engine.decide import EdgeState
from podium.core.engine.errors import (
    ActiveVersionMoved,
    RunConflict,
    RunNotFound,
    StepConflict,
    StepExists,
    VersionSuperseded,
    WorkflowNotFound,
)
from podium.core.engine.records import RunFailure, RunRecord, StepRecord, TimelineEvent
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.ports import StateStore

READY = frozenset({StepStatus.READY})
RUNNING = frozenset({StepStatus.RUNNING})


@pytest.fixture(params=["memory", "dynamodb", "dynamodb-expiring", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "memory":
        yield MemoryStateStore()
        return
    if request.param == "sqlite":
        sqlite = SqliteStateStore(tmp_path / "podium.db")
        yield sqlite
        sqlite.close()
        return
    with mock_aws():
        import boto3

        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "contract")
        if request.param == "dynamodb-expiring":  # as deployed with run_retention_days
            client = ExpiringRunItems(client, after_days=90, clock=ManualClock())
        yield DynamoStateStore(client, "contract")


def a_run(run_id: str = "r1", sinks: int = 1, created: int = 1000) -> RunRecord:
    return RunRecord(
        run_id, "wf", 1, RunStatus.RUNNING, {"p": [1, "x"]}, created, sinks_total=sinks
    )


def test_workflow_versions_are_immutable_and_pushes_idempotent(store: StateStore) -> None:
    v1, created = store.put_workflow_version("wf", {"name": "wf", "n": 1}, "d1", 10)
    assert (v1.version, created) == (1, True)
    same, created = store.put_workflow_version("wf", {"name": "wf", "n": 1}, "d1", 11)
    assert (same.version, created) == (1, False)
    v2, created = store.put_workflow_version("wf", {"name": "wf", "n": 2}, "d2", 12)
    assert (v2.version, created) == (2, True)
    assert store.get_workflow_version("wf").version == 2
    assert store.active_version("wf") == 2
    assert store.get_workflow_version("wf", 1).document == {"name": "wf", "n": 1}
    assert store.get_workflow_version("wf", 1).active_version == 2
    with pytest.raises(WorkflowNotFound):
        store.get_workflow_version("nope")
    with pytest.raises(WorkflowNotFound):
        store.active_version("nope")
    with pytest.raises(WorkflowNotFound):
        store.get_workflow_version("wf", 9)


def test_runs_create_once_read_and_list_newest_first(store: StateStore) -> None:
    store.create_run(a_run("r1", created=1000))
    store.create_run(a_run("r2", created=2000))
    with pytest.raises(RunConflict) as exc:
        store.create_run(a_run("r1"))
    assert exc.value.current is not None and exc.value.current.run_id == "r1"
    assert store.get_run("r1").params == {"p": [1, "x"]}
    assert [r.run_id for r in store.list_runs("wf")] == ["r2", "r1"]
    assert [r.run_id for r in store.list_runs("wf", limit=1)] == ["r2"]
    with pytest.raises(RunNotFound):
        store.get_run("missing")


def test_runs_are_listed_newest_first_a_page_at_a_time(store: StateStore) -> None:
    """``before`` continues where a page ended; a page holds ``limit`` runs however big
    the items (DynamoDB returns at most 1 MB a query page: the adapter follows it)."""
    blob = "x" * 40_000  # 40 KB params: 1 MB is some 25 runs
    for i in range(60):
        store.create_run(replace(a_run(f"r{i:02}", created=1000 + i), params={"b": blob}))
    store.create_run(a_run("r99", created=1059))  # a tie on created_at: run_id decides
    first = store.list_runs("wf", limit=40)
    assert [r.run_id for r in first] == [f"r{i:02}" for i in [99, *range(59, 20, -1)]]
    last = first[-1]
    rest = store.list_runs("wf", limit=40, before=(last.created_at, last.run_id))
    assert [r.run_id for r in rest] == [f"r{i:02}" for i in range(20, -1, -1)]
    assert store.list_runs("wf", limit=5, before=(1000, "r00")) == []


def test_run_transitions_are_conditional(store: StateStore) -> None:
    store.create_run(a_run())
    done = store.transition_run(
        "r1",
        expected=frozenset({RunStatus.RUNNING}),
        to=RunStatus.SUCCEEDED,
        changes={"ended_at": 5},
    )
    assert (done.status, done.ended_at) == (RunStatus.SUCCEEDED, 5)
    with pytest.raises(RunConflict) as exc:
        store.transition_run(
            "r1", expected=frozenset({RunStatus.RUNNING}), to=RunStatus.FAILED, changes={}
        )
    assert exc.value.current is not None and exc.value.current.status is RunStatus.SUCCEEDED


def test_failing_flag_keeps_the_first_error(store: StateStore) -> None:
    store.create_run(a_run())
    store.mark_run_failing("r1", "a: boom")
    store.mark_run_failing("r1", "b: later")
    run = store.get_run("r1")
    assert run.failing and run.error == "a: boom"


def test_failing_since_is_the_first_flag_time(store: StateStore) -> None:
    store.create_run(a_run())
    assert store.get_run("r1").failing_since is None
    store.mark_run_failing("r1", "a: slow", timed_out=True, at=7)
    store.mark_run_failing("r1", "b: boom", at=9)
    run = store.get_run("r1")
    assert (run.failing, run.timed_out, run.failing_since) == (True, True, 7)


@pytest.mark.parametrize("status", [RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.QUEUED])
def test_failing_flag_is_set_on_a_run_not_ended_idempotently(
    store: StateStore, status: RunStatus
) -> None:
    store.create_run(replace(a_run(), status=status))
    assert store.mark_run_failing("r1", "a: boom", at=7) is True
    assert store.mark_run_failing("r1", "a: boom", at=7) is True  # a replay
    assert store.mark_run_failing("r1", "b: later", timed_out=True, at=9) is True
    run = store.get_run("r1")
    assert (run.status, run.failing, run.timed_out, run.error, run.failing_since) == (
        status,
        True,
        True,
        "a: boom",
        7,
    )


@pytest.mark.parametrize("status", sorted((s for s in RunStatus if s.terminal), key=str))
def test_failing_flag_is_refused_once_the_run_ended(store: StateStore, status: RunStatus) -> None:
    """A failure applied after the run's end (a stop landing between a worker's read of
    the run and its flag) changes nothing: a stopped run carries no error."""
    store.create_run(replace(a_run(), status=status))
    before = store.get_run("r1")
    answers = [
        store.mark_run_failing("r1", "a: boom", at=7),
        store.mark_run_failing("r1", "a: slow", timed_out=True, at=8),
    ]
    run = store.get_run("r1")
    assert (run.failing, run.timed_out, run.error, run.failing_since) == (False, False, None, None)
    assert run == before
    assert answers == [False, False]


def test_failing_flag_is_refused_after_a_stop_and_kept_after_a_failure(store: StateStore) -> None:
    store.create_run(a_run("r1"))
    store.create_run(a_run("r2"))
    stopped = store.transition_run(
        "r1", expected=frozenset({RunStatus.RUNNING}), to=RunStatus.STOPPED, changes={"ended_at": 5}
    )
    refused = store.mark_run_failing("r1", "a: stopped by op", at=6)
    assert store.get_run("r1") == stopped
    assert refused is False
    # A run that failed keeps the failure it ended with, not a later one.
    assert store.mark_run_failing("r2", "a: boom", at=3) is True
    store.transition_run(
        "r2", expected=frozenset({RunStatus.RUNNING}), to=RunStatus.FAILED, changes={"ended_at": 4}
    )
    refused = store.mark_run_failing("r2", "b: later", timed_out=True, at=6)
    run = store.get_run("r2")
    assert (run.status, run.failing, run.timed_out, run.error, run.failing_since) == (
        RunStatus.FAILED,
        True,
        False,
        "a: boom",
        3,
    )
    assert refused is False


def test_failing_flag_on_a_missing_run_raises_run_not_found(store: StateStore) -> None:
    with pytest.raises(RunNotFound):
        store.mark_run_failing("nope", "a: boom", at=1)


_RUNNING_STEP = frozenset({StepStatus.RUNNING})


def _running_step(store: StateStore, run_id: str = "r1") -> None:
    store.create_step(StepRecord(run_id, "a", StepStatus.RUNNING, attempt=1, started_at=2))


def _end_failing(store: StateStore, run_id: str = "r1", **failure: Any) -> bool:
    return store.end_step_failing_run(
        run_id,
        "a",
        expected=_RUNNING_STEP,
        attempt=1,
        to=StepStatus.FAILED,
        changes={"ended_at": 7},
        failure=RunFailure("a: boom", **{"at": 7, **failure}),
    )


def test_a_final_failure_ends_its_step_and_flags_its_run_in_one_write(store: StateStore) -> None:
    store.create_run(a_run())
    _running_step(store)
    assert _end_failing(store) is True
    step, run = store.get_step("r1", "a"), store.get_run("r1")
    assert step is not None and (step.status, step.ended_at) == (StepStatus.FAILED, 7)
    assert (run.failing, run.timed_out, run.error, run.failing_since) == (True, False, "a: boom", 7)


def test_a_final_time_out_flags_its_run_timed_out_keeping_the_first_failure(
    store: StateStore,
) -> None:
    store.create_run(a_run())
    store.mark_run_failing("r1", "b: first", at=3)
    _running_step(store)
    assert _end_failing(store, timed_out=True) is True
    run = store.get_run("r1")
    assert (run.failing, run.timed_out, run.error, run.failing_since) == (True, True, "b: first", 3)


def test_a_final_failure_refused_by_its_step_writes_nothing(store: StateStore) -> None:
    """The step's condition fails (another attempt, or the step ended already): neither
    the step nor the run is written (the two writes are one)."""
    store.create_run(a_run())
    _running_step(store)
    before = store.get_run("r1")
    with pytest.raises(StepConflict) as exc:
        store.end_step_failing_run(
            "r1",
            "a",
            expected=_RUNNING_STEP,
            attempt=2,
            to=StepStatus.FAILED,
            changes={"ended_at": 7},
            failure=RunFailure("a: boom", 7),
        )
    assert exc.value.current is not None and exc.value.current.attempt == 1
    assert store.get_run("r1") == before
    step = store.get_step("r1", "a")
    assert step is not None and step.status is StepStatus.RUNNING


@pytest.mark.parametrize("status", [RunStatus.STOPPED, RunStatus.FAILED])
def test_a_final_failure_after_its_runs_end_ends_the_step_alone(
    store: StateStore, status: RunStatus
) -> None:
    """A stop's run end lands before its end of the step: the worker's failure still
    ends the step, and the run's end stands as it was made (no flag, no error)."""
    store.create_run(replace(a_run(), status=status))
    _running_step(store)
    before = store.get_run("r1")
    assert _end_failing(store) is False
    step = store.get_step("r1", "a")
    assert step is not None and step.status is StepStatus.FAILED
    assert store.get_run("r1") == before


def test_step_create_is_exactly_once(store: StateStore) -> None:
    store.create_run(a_run())
    store.create_step(StepRecord("r1", "a", StepStatus.READY, ready_at=1))
    with pytest.raises(StepExists) as exc:
        store.create_step(StepRecord("r1", "a", StepStatus.READY, ready_at=2))
    assert exc.value.current is not None and exc.value.current.ready_at == 1


def test_step_transition_names_the_expected_state_and_attempt(store: StateStore) -> None:
    store.create_run(a_run())
    store.create_step(StepRecord("r1", "a", StepStatus.READY, ready_at=1))
    running = store.transition_step(
        "r1",
        "a",
        expected=READY,
        attempt=0,
        to=StepStatus.RUNNING,
        changes={"attempt": 1, "started_at": 2, "lease_until": 99},
    )
    assert (running.status, running.attempt, running.lease_until) == (StepStatus.RUNNING, 1, 99)
    # A duplicate claim of attempt 1 loses, and sees who holds the step.
    with pytest.raises(StepConflict) as exc:
        store.transition_step(
            "r1", "a", expected=READY, attempt=0, to=StepStatus.RUNNING, changes={"attempt": 1}
        )
    assert exc.value.current is not None and exc.value.current.status is StepStatus.RUNNING
    done = store.transition_step(
        "r1",
        "a",
        expected=RUNNING,
        attempt=1,
        to=StepStatus.SUCCEEDED,
        changes={"ended_at": 3, "output": {"rows": [1, 2]}, "lease_until": None},
    )
    assert done.output == {"rows": [1, 2]}
    stored = store.get_step("r1", "a")
    assert stored is not None and stored.lease_until is None and stored.output == {"rows": [1, 2]}
    with pytest.raises(StepConflict):
        store.transition_step(
            "r1", "missing", expected=READY, attempt=None, to=StepStatus.RUNNING, changes={}
        )


def test_a_noted_result_makes_a_deadlines_end_of_its_attempt_yield(store: StateStore) -> None:
    store.create_run(a_run())
    store.create_step(StepRecord("r1", "a", StepStatus.RUNNING, attempt=2, started_at=1))
    assert not store.note_result("r1", "a", attempt=1)  # not the waiting attempt
    assert not store.note_result("r1", "missing", attempt=2)
    end = {"ended_at": 5, "reason": "run TIMED_OUT", "result_for": None}
    # No result noted: a deadline's end goes through (and a stop's, with no condition).
    store.create_step(StepRecord("r1", "b", StepStatus.RUNNING, attempt=1, result_for=0))
    ended = store.transition_step(
        "r1",
        "b",
        expected=RUNNING,
        attempt=1,
        to=StepStatus.TIMED_OUT,
        changes=end,
        unless_result=True,
    )
    assert (ended.status, ended.result_for) == (StepStatus.TIMED_OUT, None)
    # Noted for the attempt (twice: idempotent), the deadline's end is refused...
    assert store.note_result("r1", "a", attempt=2)
    assert store.note_result("r1", "a", attempt=2)
    with pytest.raises(StepConflict) as exc:
        store.transition_step(
            "r1",
            "a",
            expected=RUNNING,
            attempt=2,
            to=StepStatus.TIMED_OUT,
            changes=end,
            unless_result=True,
        )
    current = exc.value.current
    assert current is not None and (current.status, current.result_for) == (StepStatus.RUNNING, 2)
    # ... and the result's own end is not; an ended attempt takes no note.
    done = store.transition_step(
        "r1", "a", expected=RUNNING, attempt=2, to=StepStatus.SUCCEEDED, changes={"output": 1}
    )
    assert (done.status, done.result_for, done.output) == (StepStatus.SUCCEEDED, 2, 1)
    assert not store.note_result("r1", "a", attempt=2)
    stored = store.get_step("r1", "a")
    assert stored is not None and stored.result_for == 2


def test_sinks_are_counted_once_each(store: StateStore) -> None:
    store.create_run(a_run(sinks=2))
    assert store.count_sink("r1", "a", index=0, sinks=2) == 1
    assert store.count_sink("r1", "a", index=0, sinks=2) == 1  # a replay adds nothing
    assert store.count_sink("r1", "b", index=1, sinks=2) == 2
    assert store.count_sink("r1", "b", index=1, sinks=2) == 2
    assert store.count_sink("r2", "a", index=0, sinks=2) == 1  # per run
    assert (store.sinks_counted("r1", sinks=2), store.sinks_counted("r2", sinks=2)) == (2, 1)
    assert store.sinks_counted("none", sinks=2) == 0  # a run with no sink counted yet


def test_join_arrivals_count_each_predecessor_once(store: StateStore) -> None:
    store.create_run(a_run())
    first = store.arrive("r1", "j", 0, EdgeState.TAKEN, 1)
    assert (first.status, first.arrived, first.taken_arrivals) == (StepStatus.PENDING, 1, 1)
    again = store.arrive("r1", "j", 0, EdgeState.TAKEN, 2)
    assert again.arrived == 1
    second = store.arrive("r1", "j", 1, EdgeState.FAILED, 3)
    assert (second.arrived, second.taken_arrivals, second.failed_arrivals) == (2, 1, 1)
    third = store.arrive("r1", "j", 2, EdgeState.NOT_TAKEN, 4)
    assert (third.arrived, third.taken_arrivals, third.failed_arrivals) == (3, 1, 1)
    ready = store.transition_step(
        "r1",
        "j",
        expected=frozenset({StepStatus.PENDING}),
        attempt=0,
        to=StepStatus.READY,
        changes={"ready_at": 4},
    )
    assert ready.status is StepStatus.READY
    late = store.arrive("r1", "j", 1, EdgeState.FAILED, 5)
    assert late.status is StepStatus.READY and late.arrived == 3


def test_steps_and_events_are_listed_per_run(store: StateStore) -> None:
    store.create_run(a_run("r1"))
    store.create_run(a_run("r2"))
    for name in ("b", "a"):
        store.create_step(StepRecord("r1", name, StepStatus.READY))
    store.create_step(StepRecord("r2", "z", StepStatus.READY))
    assert [s.step for s in store.list_steps("r1")] == ["a", "b"]
    ev = TimelineEvent("r1", 7, "retry-a-1", "retry", step="a", attempt=1, detail={"e": "x"})
    store.put_event(ev)
    store.put_event(ev)  # idempotent by event id
    assert store.list_events("r1") == [ev]
    assert store.list_events("r2") == []


def test_an_event_put_once_keeps_the_first(store: StateStore) -> None:
    """put_event_once: the first put of a key (at, event_id) is kept; a later one with
    other content changes nothing and gets the first back (a callback's result)."""
    store.create_run(a_run("r1"))
    first = TimelineEvent("r1", 7, "callback-result-a-1", "callback_result", "a", 1, {"d": "x"})
    other = replace(first, detail={"d": "y"})
    assert store.put_event_once(first) == (first, True)
    assert store.put_event_once(other) == (first, False)
    assert store.put_event_once(first) == (first, False)
    later = replace(other, at=8)  # another time is another key
    assert store.put_event_once(later) == (later, True)
    assert store.list_events("r1") == [first, later]


def test_a_terminal_run_stays_active_until_settled(store: StateStore) -> None:
    """The run_ended seam: a run leaves the active index only once its follow-ups are
    done, so the sweeper finds an ended run whose slot release a crash lost."""
    store.create_run(a_run("r9"))
    assert "r9" in store.list_active_run_ids()
    ended = store.transition_run(
        "r9", expected=frozenset({RunStatus.RUNNING}), to=RunStatus.SUCCEEDED, changes={}
    )
    assert not ended.settled
    assert "r9" in store.list_active_run_ids()
    store.settle_run("r9")
    store.settle_run("r9")  # idempotent
    assert "r9" not in store.list_active_run_ids()
    assert store.get_run("r9").settled
    store.create_run(a_run("r10"))
    with pytest.raises(RunConflict):
        store.settle_run("r10")  # not terminal


def test_due_runs_come_in_check_time_order_bounded(store: StateStore) -> None:
    """The sweeper's sparse index of due work: only runs whose check time has come,
    earliest first, at most ``limit``; a check can be moved; settled runs never return."""
    from podium.core.engine.checks import FIRST_CHECK_MS

    for i, created in enumerate([30, 10, 20]):
        store.create_run(replace(a_run(f"d{i}"), created_at=created))
    first = 10 + FIRST_CHECK_MS
    assert store.list_due_run_ids(first - 1, 10) == []
    assert store.list_due_run_ids(first, 10) == ["d1"]
    assert store.list_due_run_ids(30 + FIRST_CHECK_MS, 2) == ["d1", "d2"]
    store.set_run_check("d1", 10**12)  # looked at: next check far ahead
    assert store.get_run("d1").check_at == 10**12
    assert store.list_due_run_ids(10**11, 10) == ["d2", "d0"]
    store.set_run_check("d0", 5)
    assert store.list_due_run_ids(10**11, 10) == ["d0", "d2"]
    ended = store.transition_run(
        "d0", expected=frozenset({RunStatus.RUNNING}), to=RunStatus.FAILED, changes={}
    )
    assert store.list_due_run_ids(10**11, 10)[0] == ended.run_id  # follow-ups left
    store.settle_run("d0")
    store.set_run_check("d0", 6)  # a settled run never comes back
    store.set_run_check("missing", 6)  # nor does a missing one appear
    assert store.list_due_run_ids(10**13, 10) == ["d2", "d1"]
    assert sorted(store.list_active_run_ids()) == ["d1", "d2"]


def test_step_fields_round_trip(store: StateStore) -> None:
    store.create_run(a_run("r11"))
    store.create_step(StepRecord("r11", "s", StepStatus.READY))
    store.transition_step(
        "r11",
        "s",
        expected=READY,
        attempt=None,
        to=StepStatus.RUNNING,
        changes={"attempt": 1, "due_at": 5, "error_type": "ValueError", "retry_counts": {"0": 2}},
    )
    got = store.get_step("r11", "s")
    assert got is not None
    assert (got.due_at, got.error_type, got.retry_counts) == (5, "ValueError", {"0": 2})


def test_timed_out_flag(store: StateStore) -> None:
    store.create_run(a_run("r12"))
    store.mark_run_failing("r12", "s: slow", timed_out=True)
    run = store.get_run("r12")
    assert run.timed_out and not run.failing and run.error == "s: slow"


def test_run_identity_round_trips(store: StateStore) -> None:
    from dataclasses import replace

    from podium.core.engine.identity import child_run_id

    parent = a_run("p1")
    store.create_run(parent)
    child = replace(
        a_run(child_run_id("p1", "per_day", 3)),
        root="p1",
        parent_run="p1",
        parent_step="per_day",
        parent_index=3,
        depth=1,
        logical_date="2026-01-03",
        restart_of="p0",
    )
    store.create_run(child)
    got = store.get_run("p1.per_day.3")
    assert (got.root, got.parent_run, got.parent_step, got.parent_index) == (
        "p1",
        "p1",
        "per_day",
        3,
    )
    assert (got.depth, got.logical_date, got.restart_of) == (1, "2026-01-03", "p0")
    top = store.get_run("p1")
    assert (top.root, top.parent_run, top.depth, top.logical_date) == (None, None, 0, None)
    with pytest.raises(RunConflict):
        store.create_run(child)  # a replayed launch creates nothing twice


def test_workflows_are_listed_by_name_with_their_active_version(store: StateStore) -> None:
    assert store.list_workflows() == []
    store.put_workflow_version("beta", {"name": "beta", "steps": {}}, "d1", 1000)
    store.put_workflow_version("alpha", {"name": "alpha", "steps": {}}, "d1", 1000)
    store.put_workflow_version("beta", {"name": "beta", "steps": {"a": {}}}, "d2", 2000)
    store.put_workflow_version("beta", {"name": "beta", "steps": {"a": {}}}, "d2", 3000)
    store.create_run(a_run("r1"))  # runs are not workflows
    assert store.list_workflows() == [("alpha", 1), ("beta", 2)]


def test_run_tags_round_trip_and_outlive_transitions(store: StateStore) -> None:
    tags = {"team": "sales", "env": "prod", "cost-center": "4711/a"}
    store.create_run(replace(a_run("t1"), tags=tags))
    store.create_run(a_run("t2", created=2000))  # no tags
    assert store.get_run("t1").tags == tags
    assert store.get_run("t2").tags == {}
    assert {r.run_id: r.tags for r in store.list_runs("wf")} == {"t1": tags, "t2": {}}
    store.transition_run(
        "t1",
        expected=frozenset({RunStatus.RUNNING}),
        to=RunStatus.SUCCEEDED,
        changes={"ended_at": 3000},
    )
    assert store.get_run("t1").tags == tags  # set at creation, kept by every update


def a_child(index: int, status: RunStatus = RunStatus.RUNNING) -> RunRecord:
    return replace(
        a_run(f"r1.loop.{index}"),
        workflow="wf/loop",
        status=status,
        root="r1",
        parent_run="r1",
        parent_step="loop",
        parent_index=index,
        depth=1,
        iteration={"index": index, "day": "2024-05-01", "parent": {"index": 2}},
    )


def test_a_child_is_counted_on_its_parent_step_once_and_settled_with_it(
    store: StateStore,
) -> None:
    store.create_run(a_run())
    store.create_step(StepRecord("r1", "loop", StepStatus.RUNNING, attempt=1))
    store.open_children("r1", "loop", 0, 3)
    store.create_run(a_child(0))
    with pytest.raises(RunConflict):  # still running: nothing to count
        store.count_child("r1", "loop", 0, "ok")
    store.transition_run(
        "r1.loop.0", expected=frozenset({RunStatus.RUNNING}), to=RunStatus.SUCCEEDED, changes={}
    )
    assert "r1.loop.0" in store.list_active_run_ids()
    assert store.count_child("r1", "loop", 0, "ok") is True
    assert store.count_child("r1", "loop", 0, "ok") is False  # a replay
    assert "r1.loop.0" not in store.list_active_run_ids()
    assert store.get_run("r1.loop.0").settled
    store.create_run(a_child(1))
    store.transition_run(
        "r1.loop.1", expected=frozenset({RunStatus.RUNNING}), to=RunStatus.STOPPED, changes={}
    )
    assert store.count_child("r1", "loop", 1, "stopped") is True
    store.create_run(a_child(2))
    store.transition_run(
        "r1.loop.2", expected=frozenset({RunStatus.RUNNING}), to=RunStatus.FAILED, changes={}
    )
    assert store.count_child("r1", "loop", 2, "failed") is True
    assert store.count_child("r1", "loop", 2, "failed") is False
    step = store.get_step("r1", "loop")
    assert step is not None
    assert (step.children_ok, step.children_failed, step.children_stopped) == (1, 1, 1)
    assert step.status is StepStatus.RUNNING and step.attempt == 1


def test_a_replayed_launch_never_opens_a_counted_child_again(store: StateStore) -> None:
    # Launches overlap (a pass that read an old launched mark launches again): an index
    # is opened once, so a child counted before a replayed open is not counted twice.
    # (SQLite guards the count with the child's settle alone and keeps only the highest
    # index opened; memory and DynamoDB also refuse to count an index never opened.)
    store.create_run(a_run())
    store.create_step(StepRecord("r1", "loop", StepStatus.RUNNING, attempt=1))
    running = frozenset({RunStatus.RUNNING})
    store.open_children("r1", "loop", 0, 3)
    for index in range(3):
        store.create_run(a_child(index))
    store.end_counted_child(
        a_child(0), expected=running, to=RunStatus.SUCCEEDED, changes={}, outcome="ok"
    )
    store.open_children("r1", "loop", 0, 3)  # the replay
    store.open_children("r1", "loop", 0, 5)  # a wider one: opens 3 and 4 only
    store.open_children("r1", "loop", 1, 40)  # a pass that read the mark at 1
    store.open_children("r1", "loop", 2, 18)  # one that opens nothing new on shard 2
    assert store.count_child("r1", "loop", 0, "ok") is False
    # Opened and not created yet (a launch in flight, or one that died) is listed too:
    # an ending loop fences those (service/loops.close_loop).
    assert store.running_children("r1", "loop") == list(range(1, 40))
    for index in range(3, 40):
        store.create_run(a_child(index))
    grandchild = replace(a_child(0), run_id="r1.loop.1.inner.0", parent_run="r1.loop.1")
    store.create_run(grandchild)  # below a child: not the loop's own
    assert store.running_children("r1", "loop") == list(range(1, 40))
    for index in range(1, 40):
        outcome = "failed" if index % 7 == 0 else "ok"
        to = RunStatus.FAILED if outcome == "failed" else RunStatus.SUCCEEDED
        store.transition_run(a_child(index).run_id, expected=running, to=to, changes={})
        assert store.count_child("r1", "loop", index, outcome) is True
        assert store.count_child("r1", "loop", index, outcome) is False
    step = store.get_step("r1", "loop")
    assert step is not None and (step.children_ok, step.children_failed) == (35, 5)
    (listed,) = (s for s in store.list_steps("r1") if s.step == "loop")
    assert (listed.children_ok, listed.children_failed) == (35, 5)
    assert [s.step for s in store.list_steps("r1")] == ["loop"]  # counts are no steps
    assert store.running_children("r1", "loop") == []


def test_a_child_whose_index_was_never_opened_is_not_counted(store: StateStore) -> None:
    # A launch must open before it creates: DynamoDB's count is a condition on the
    # opened set. SQLite cannot show this: its count is guarded by the settle alone.
    if isinstance(store, SqliteStateStore):
        pytest.skip("SQLite's count is guarded by the settle (one transaction), not openings")
    store.create_run(a_run())
    store.create_step(StepRecord("r1", "loop", StepStatus.RUNNING, attempt=1))
    store.create_run(a_child(0))
    store.transition_run(
        "r1.loop.0", expected=frozenset({RunStatus.RUNNING}), to=RunStatus.SUCCEEDED, changes={}
    )
    assert store.count_child("r1", "loop", 0, "ok") is False
    step = store.get_step("r1", "loop")
    assert step is not None and step.children_ok == 0


def test_the_launched_mark_only_rises_and_keeps_the_first_loop(store: StateStore) -> None:
    store.create_run(a_run())
    store.create_step(StepRecord("r1", "loop", StepStatus.RUNNING, attempt=1))
    space = {"mode": "product", "over": {"i": [1, 2, 3]}}
    store.mark_launched("r1", "loop", 2, space)
    store.mark_launched("r1", "loop", 1, {"ref": "other"})  # stale: changes nothing
    step = store.get_step("r1", "loop")
    assert step is not None and (step.children_launched, step.loop) == (2, space)
    store.mark_launched("r1", "loop", 3, {"ref": "other"})
    step = store.get_step("r1", "loop")
    assert step is not None and (step.children_launched, step.loop) == (3, space)
    other = store.get_step("r1", "loop")
    assert other is not None and other.children_ok == 0


def test_a_child_run_round_trips_its_iteration(store: StateStore) -> None:
    store.create_run(a_run())
    store.create_run(a_child(4))
    got = store.get_run("r1.loop.4")
    assert got.iteration == {"index": 4, "day": "2024-05-01", "parent": {"index": 2}}
    assert (got.parent_run, got.parent_step, got.parent_index, got.depth) == ("r1", "loop", 4, 1)
    assert store.get_run("r1").iteration is None


def test_a_version_pushed_without_activation_waits_to_be_activated(store: StateStore) -> None:
    first, _ = store.put_workflow_version("wf", {"name": "wf", "n": 1}, "d1", 10, activate=False)
    assert (first.version, first.active_version) == (1, 1)  # a first version is active
    v2, created = store.put_workflow_version("wf", {"name": "wf", "n": 2}, "d2", 20, activate=False)
    assert (v2.version, v2.active_version, created) == (2, 1, True)
    assert store.active_version("wf") == 1
    assert store.get_workflow_version("wf").version == 1
    assert store.list_workflows() == [("wf", 1)]
    activated = store.activate_workflow_version("wf", 2)
    assert (activated.version, activated.active_version) == (2, 2)
    assert store.get_workflow_version("wf").document == {"name": "wf", "n": 2}
    back = store.activate_workflow_version("wf", 1)  # a rollback
    assert back.active_version == 1 and store.active_version("wf") == 1
    v3, _ = store.put_workflow_version("wf", {"name": "wf", "n": 3}, "d3", 30)
    assert (v3.version, v3.active_version) == (3, 3)


def test_versions_are_listed_newest_first_and_unknown_ones_refused(store: StateStore) -> None:
    for n in (1, 2, 3):
        store.put_workflow_version("wf", {"name": "wf", "n": n}, f"d{n}", n * 10)
    store.activate_workflow_version("wf", 2)
    listed = store.list_workflow_versions("wf")
    assert [(v.version, v.active_version, v.created_at) for v in listed] == [
        (3, 2, 30),
        (2, 2, 20),
        (1, 2, 10),
    ]
    assert listed[0].document == {"name": "wf", "n": 3}
    assert [v.version for v in store.list_workflow_versions("wf", limit=2)] == [3, 2]
    with pytest.raises(WorkflowNotFound):
        store.activate_workflow_version("wf", 9)
    with pytest.raises(WorkflowNotFound):
        store.activate_workflow_version("nope", 1)
    with pytest.raises(WorkflowNotFound):
        store.list_workflow_versions("nope")
    assert store.active_version("wf") == 2


def test_a_version_is_made_active_only_if_latest_on_request(store: StateStore) -> None:
    for n in (1, 2):
        store.put_workflow_version("wf", {"name": "wf", "n": n}, f"d{n}", n * 10)
    store.activate_workflow_version("wf", 1)
    with pytest.raises(VersionSuperseded) as refused:
        store.activate_workflow_version("wf", 1, only_if_latest=True)
    assert (refused.value.version, refused.value.latest) == (1, 2)
    assert "version 2 was pushed since" in str(refused.value)
    assert store.active_version("wf") == 1  # nothing changed
    assert store.activate_workflow_version("wf", 2, only_if_latest=True).active_version == 2
    with pytest.raises(WorkflowNotFound):
        store.activate_workflow_version("wf", 9, only_if_latest=True)
    with pytest.raises(WorkflowNotFound):
        store.activate_workflow_version("nope", 1, only_if_latest=True)
    assert store.active_version("wf") == 2


def test_a_version_is_made_active_only_in_place_of_the_one_read_on_request(
    store: StateStore,
) -> None:
    for n in (1, 2, 3):
        store.put_workflow_version("wf", {"name": "wf", "n": n}, f"d{n}", n * 10)
    assert store.active_version("wf") == 3
    with pytest.raises(ActiveVersionMoved) as refused:
        store.activate_workflow_version("wf", 1, only_if_active=2)  # read 2; 3 came since
    assert (refused.value.expected, refused.value.active) == (2, 3)
    assert "version 3 became active" in str(refused.value)
    assert store.active_version("wf") == 3  # nothing changed
    assert store.activate_workflow_version("wf", 2, only_if_active=3).active_version == 2
    with pytest.raises(ActiveVersionMoved):  # both conditions hold only together
        store.activate_workflow_version("wf", 3, only_if_latest=True, only_if_active=3)
    assert store.activate_workflow_version("wf", 3, only_if_latest=True, only_if_active=2)
    with pytest.raises(WorkflowNotFound):
        store.activate_workflow_version("wf", 9, only_if_active=3)
    assert store.active_version("wf") == 3


def test_breakpoints_are_set_and_cleared_idempotently(store: StateStore) -> None:
    assert store.breakpoints("wf") == frozenset()
    store.set_breakpoint("wf", "load", on=True)
    store.set_breakpoint("wf", "load", on=True)
    store.set_breakpoint("wf", "report", on=True)
    store.set_breakpoint("other", "load", on=True)
    assert store.breakpoints("wf") == {"load", "report"}
    store.set_breakpoint("wf", "load", on=False)
    store.set_breakpoint("wf", "load", on=False)
    assert store.breakpoints("wf") == {"report"}
    store.set_breakpoint("wf", "report", on=False)
    assert store.breakpoints("wf") == frozenset()
    assert store.breakpoints("other") == {"load"}


def test_many_steps_are_read_at_once(store: StateStore) -> None:
    """get_steps: the items that exist, by (run, step), over more keys than one
    DynamoDB BatchGetItem takes (100), duplicates and missing keys included."""
    store.create_run(a_run("m1"))
    for i in range(230):
        store.create_step(StepRecord("m1", f"s{i:03d}", StepStatus.READY, ready_at=i))
    keys = [("m1", f"s{i:03d}") for i in range(0, 230, 1)] + [("m1", "nope"), ("m2", "s000")]
    got = store.get_steps([*keys, ("m1", "s007")])
    assert len(got) == 230
    assert got[("m1", "s007")].ready_at == 7 and got[("m1", "s229")].ready_at == 229
    assert ("m1", "nope") not in got and store.get_steps([]) == {}


def test_a_loop_closed_for_children_stays_closed_until_its_step_is_reopened(
    store: StateStore,
) -> None:
    store.create_run(a_run())
    store.create_step(StepRecord("r1", "loop", StepStatus.RUNNING, attempt=1))
    assert store.children_closed("r1", "loop") is False
    store.close_children("r1", "loop")
    store.close_children("r1", "loop")  # idempotent
    assert store.children_closed("r1", "loop") is True
    assert store.children_closed("r1", "other") is False
    store.close_children("r1", "missing")  # no step: nothing is created
    assert store.children_closed("r1", "missing") is False
    assert store.get_step("r1", "missing") is None
    step = store.get_step("r1", "loop")
    assert step is not None and step.status is StepStatus.RUNNING  # nothing else changed
    store.transition_step(
        "r1", "loop", expected=RUNNING, attempt=1, to=StepStatus.FAILED, changes={}
    )
    assert store.reopen_step("r1", "loop", expected=frozenset({StepStatus.FAILED}))
    assert store.children_closed("r1", "loop") is False  # gone with the step


def test_a_pause_mark_on_a_loop_step_comes_back_with_its_launched_mark(
    store: StateStore,
) -> None:
    """hold_children marks the step with a pause's reason (None clears it);
    mark_launched returns the mark, whether it raised its own or found a newer one."""
    store.create_run(a_run())
    store.create_step(StepRecord("r1", "loop", StepStatus.RUNNING, attempt=1))
    assert store.mark_launched("r1", "loop", 2) is None
    store.hold_children("r1", "loop", "paused by alice")
    store.hold_children("r1", "loop", "paused by alice")  # idempotent
    assert store.mark_launched("r1", "loop", 4) == "paused by alice"
    assert store.mark_launched("r1", "loop", 3) == "paused by alice"  # stale: still told
    step = store.get_step("r1", "loop")
    assert step is not None and step.children_launched == 4
    store.hold_children("r1", "loop", None)
    store.hold_children("r1", "loop", None)
    assert store.mark_launched("r1", "loop", 5) is None
    store.hold_children("r1", "missing", "paused")  # no step: nothing is created
    assert store.get_step("r1", "missing") is None
    assert store.mark_launched("r1", "missing", 1) is None
    store.hold_children("r1", "loop", "paused by bob")
    store.transition_step(
        "r1", "loop", expected=RUNNING, attempt=1, to=StepStatus.FAILED, changes={}
    )
    assert store.reopen_step("r1", "loop", expected=frozenset({StepStatus.FAILED}))
    store.create_step(StepRecord("r1", "loop", StepStatus.RUNNING, attempt=2))
    assert store.mark_launched("r1", "loop", 1) is None  # gone with the step


def test_get_runs_reads_many_runs_at_once(store: StateStore) -> None:
    """get_runs: the runs that exist, by id, over more ids than one DynamoDB
    BatchGetItem takes (100), duplicates and missing ids included; each as get_run
    reads it (settled and watched included)."""
    for i in range(130):
        store.create_run(replace(a_run(f"g{i:03d}"), watched=i % 2 == 0))
    store.transition_run(
        "g007", expected=frozenset({RunStatus.RUNNING}), to=RunStatus.FAILED, changes={}
    )
    ids = [f"g{i:03d}" for i in range(130)] + ["nope", "g005"]
    got = store.get_runs(ids)
    assert sorted(got) == [f"g{i:03d}" for i in range(130)]
    for run_id in ("g000", "g005", "g007", "g129"):
        assert got[run_id] == store.get_run(run_id)
    assert (got["g005"].watched, got["g006"].watched, got["g007"].settled) == (
        False,
        True,
        False,
    )
    assert store.get_runs([]) == {}


def test_a_loops_iteration_runs_are_not_listed_by_workflow(store: StateStore) -> None:
    # They are found from their loop step; on DynamoDB this keeps them out of the
    # by-workflow index (one index write less per iteration write).
    store.create_run(a_run())
    store.create_run(a_child(0))
    sub = replace(a_child(1), run_id="r1.call.0", workflow="wf/loop", iteration=None)
    store.create_run(sub)  # a subworkflow's child is a run of its workflow: listed
    assert [r.run_id for r in store.list_runs("wf/loop")] == ["r1.call.0"]
    assert store.get_run("r1.loop.0").iteration is not None


def test_an_iteration_ends_is_counted_and_settles_in_one_write(store: StateStore) -> None:
    store.create_run(a_run())
    store.create_step(StepRecord("r1", "loop", StepStatus.RUNNING, attempt=1))
    store.open_children("r1", "loop", 0, 1)
    store.create_run(a_child(0))
    assert "r1.loop.0" in store.list_active_run_ids()
    running = frozenset({RunStatus.RUNNING})
    ended = store.end_counted_child(
        a_child(0), expected=running, to=RunStatus.SUCCEEDED, changes={"ended_at": 7}, outcome="ok"
    )
    assert (ended.status, ended.ended_at, ended.settled) == (RunStatus.SUCCEEDED, 7, True)
    assert ended.iteration == a_child(0).iteration  # the rest of the record is kept
    stored = store.get_run("r1.loop.0")
    assert (stored.status, stored.ended_at, stored.settled) == (RunStatus.SUCCEEDED, 7, True)
    assert stored.iteration == a_child(0).iteration
    assert "r1.loop.0" not in store.list_active_run_ids()
    assert "r1.loop.0" not in store.list_due_run_ids(10**13, 100)
    with pytest.raises(RunConflict) as exc:  # a replay: ended already, nothing added
        store.end_counted_child(
            a_child(0),
            expected=running,
            to=RunStatus.SUCCEEDED,
            changes={"ended_at": 8},
            outcome="ok",
        )
    assert exc.value.current is not None and exc.value.current.ended_at == 7
    # A child ended the other way is not counted twice by a late count_child.
    assert store.count_child("r1", "loop", 0, "ok") is False
    step = store.get_step("r1", "loop")
    assert step is not None and (step.children_ok, step.children_failed) == (1, 0)
    with pytest.raises(RunConflict):
        store.end_counted_child(
            replace(a_child(5), run_id="missing"),
            expected=running,
            to=RunStatus.SUCCEEDED,
            changes={},
            outcome="ok",
        )


def test_an_unwatched_iteration_is_out_of_the_due_index_until_watched(
    store: StateStore,
) -> None:
    """A loop iteration created unwatched is unsettled but in neither the active nor the
    due list (its loop's poll watches it: service/loops.poll_children); watch_run puts
    it there once, due at the time given, and never brings back a settled run."""
    store.create_run(a_run())
    store.create_step(StepRecord("r1", "loop", StepStatus.RUNNING, attempt=1))
    store.open_children("r1", "loop", 0, 3)
    for index in range(3):
        store.create_run(replace(a_child(index), watched=False))
    got = store.get_run("r1.loop.0")
    assert (got.watched, got.settled, got.check_at) == (False, False, None)
    assert store.running_children("r1", "loop") == [0, 1, 2]  # still the loop's
    assert not {"r1.loop.0", "r1.loop.1", "r1.loop.2"} & set(store.list_active_run_ids())
    assert store.list_due_run_ids(10**13, 100) == ["r1"]
    store.set_run_check("r1.loop.0", 5)  # only a watched run's check moves
    assert store.get_run("r1.loop.0").check_at is None
    assert store.list_due_run_ids(10**13, 100) == ["r1"]

    assert store.watch_run("r1.loop.0", 50_000) is True
    assert store.watch_run("r1.loop.0", 60_000) is False  # watched already: unchanged
    got = store.get_run("r1.loop.0")
    assert (got.watched, got.settled, got.check_at) == (True, False, 50_000)
    assert "r1.loop.0" in store.list_active_run_ids()
    assert store.list_due_run_ids(50_000, 100) == ["r1.loop.0"]
    assert store.list_due_run_ids(49_999, 100) == []

    # Ended unwatched, its follow-ups not done: unsettled, and still out of the index.
    ended = store.transition_run(
        "r1.loop.1",
        expected=frozenset({RunStatus.RUNNING}),
        to=RunStatus.FAILED,
        changes={"ended_at": 9},
    )
    assert (ended.settled, ended.watched) == (False, False)
    assert (store.get_run("r1.loop.1").settled, store.get_run("r1.loop.1").watched) == (
        False,
        False,
    )
    assert "r1.loop.1" not in store.list_active_run_ids()
    assert store.count_child("r1", "loop", 1, "failed") is True
    assert store.get_run("r1.loop.1").settled
    assert store.watch_run("r1.loop.1", 5) is False  # settled: never comes back
    assert "r1.loop.1" not in store.list_active_run_ids()
    # Ended and counted at once, unwatched: settled, never in the index.
    store.end_counted_child(
        replace(a_child(2), watched=False),
        expected=frozenset({RunStatus.RUNNING}),
        to=RunStatus.SUCCEEDED,
        changes={"ended_at": 10},
        outcome="ok",
    )
    assert store.get_run("r1.loop.2").settled
    assert store.running_children("r1", "loop") == [0]
    assert store.watch_run("missing", 5) is False


def test_iterations_ended_with_a_deferred_count_are_counted_together_exactly_once(
    store: StateStore,
) -> None:
    """A batch's iteration ends leave their counts to one count_children at the batch's
    end (DynamoDB: one write per shard touched; elsewhere the end counted already):
    each is counted once, whatever else counts it meanwhile."""
    store.create_run(a_run())
    store.create_step(StepRecord("r1", "loop", StepStatus.RUNNING, attempt=1))
    store.open_children("r1", "loop", 0, 40)
    running = frozenset({RunStatus.RUNNING})
    for index in range(40):
        store.create_run(replace(a_child(index), watched=False))
    for index in range(30):
        store.end_counted_child(
            replace(a_child(index), watched=False),
            expected=running,
            to=RunStatus.SUCCEEDED,
            changes={"ended_at": 5},
            outcome="ok",
            defer_count=True,
        )
    assert store.get_run("r1.loop.3").settled
    now = store.count_children("r1", "loop", list(range(20)), "ok")
    assert now in (0, 20)  # 0: counted with their ends (memory, SQLite)
    assert store.count_children("r1", "loop", list(range(20)), "ok") == 0  # a replay
    assert store.count_child("r1", "loop", 25, "ok") is (now == 20)  # counted elsewhere
    later = store.count_children("r1", "loop", list(range(20, 30)), "ok")
    assert later == (9 if now else 0)  # the others of 25's shard too, one by one
    step = store.get_step("r1", "loop")
    assert step is not None and (step.children_ok, step.children_failed) == (30, 0)
    assert store.running_children("r1", "loop") == list(range(30, 40))


# -- an operator's retry of a failed step takes back what its failure decided -----------
def test_a_failing_flag_is_cleared_only_for_the_failure_the_caller_saw(store: StateStore) -> None:
    store.create_run(a_run())
    store.mark_run_failing("r1", "a: boom", timed_out=True, at=7)
    store.mark_run_failing("r1", "a: boom", at=7)
    assert not store.clear_run_failing("r1", 8)  # another failure than the one seen
    assert store.get_run("r1").failing
    assert store.clear_run_failing("r1", 7)
    run = store.get_run("r1")
    assert (run.failing, run.timed_out, run.failing_since, run.error) == (False, False, None, None)
    assert not store.clear_run_failing("r1", 7)  # cleared already
    assert not store.clear_run_failing("nope", 7)
    store.mark_run_failing("r1", "b: later", at=9)  # a new failure flags it again
    run = store.get_run("r1")
    assert (run.failing, run.failing_since, run.error) == (True, 9, "b: later")


def test_a_reopened_step_is_gone_with_its_arrivals_and_decided_afresh(store: StateStore) -> None:
    store.create_run(a_run())
    store.arrive("r1", "j", 0, EdgeState.FAILED, 1)
    store.arrive("r1", "j", 1, EdgeState.TAKEN, 2)
    store.transition_step(
        "r1",
        "j",
        expected=frozenset({StepStatus.PENDING}),
        attempt=None,
        to=StepStatus.SKIPPED,
        changes={"ended_at": 2, "reason": "upstream failed"},
    )
    assert not store.reopen_step("r1", "j", expected=frozenset({StepStatus.PENDING}))
    assert store.reopen_step("r1", "j", expected=frozenset({StepStatus.SKIPPED}))
    assert store.get_step("r1", "j") is None
    assert not store.reopen_step("r1", "j", expected=frozenset({StepStatus.SKIPPED}))
    again = store.arrive("r1", "j", 0, EdgeState.TAKEN, 3)  # counted again, afresh
    assert (again.status, again.arrived, again.taken_arrivals, again.failed_arrivals) == (
        StepStatus.PENDING,
        1,
        1,
        0,
    )
    store.create_step(StepRecord("r1", "s", StepStatus.SKIPPED, reason="upstream failed"))
    assert store.reopen_step("r1", "s", expected=frozenset({StepStatus.SKIPPED}))
    store.create_step(StepRecord("r1", "s", StepStatus.READY))  # created afresh


def test_a_failed_step_reopens_to_retry_wait(store: StateStore) -> None:
    store.create_run(a_run())
    store.create_step(StepRecord("r1", "a", StepStatus.FAILED, attempt=1, error="boom"))
    reopened = store.transition_step(
        "r1",
        "a",
        expected=frozenset({StepStatus.FAILED}),
        attempt=1,
        to=StepStatus.RETRY_WAIT,
        changes={"due_at": 5},
    )
    assert (reopened.status, reopened.attempt, reopened.due_at) == (StepStatus.RETRY_WAIT, 1, 5)


def test_an_uncounted_sink_is_counted_again(store: StateStore) -> None:
    store.create_run(a_run(sinks=2))
    assert store.count_sink("r1", "a", index=0, sinks=2) == 1
    assert store.count_sink("r1", "b", index=1, sinks=2) == 2
    store.uncount_sink("r1", "b", index=1, sinks=2)
    store.uncount_sink("r1", "b", index=1, sinks=2)  # idempotent
    store.uncount_sink("r1", "never", index=7, sinks=2)  # not counted: nothing to take back
    assert store.sinks_counted("r1", sinks=2) == 1  # what the run end reads again
    assert store.count_sink("r1", "a", index=0, sinks=2) == 1
    assert store.count_sink("r1", "b", index=1, sinks=2) == 2


def test_sinks_counted_together_are_each_counted_once(store: StateStore) -> None:
    # What the sweeper's check of a stale run does: count every ended sink again.
    store.create_run(a_run(sinks=3))
    store.count_sink("r1", "a", index=0, sinks=3)
    assert store.count_sinks("r1", {"a": 0, "b": 1}, sinks=3) == 2
    assert store.count_sinks("r1", {"a": 0, "b": 1}, sinks=3) == 2  # a replay
    assert store.count_sinks("r1", {"a": 0, "b": 1, "c": 2}, sinks=3) == 3
    assert store.sinks_counted("r1", sinks=3) == 3


@pytest.mark.parametrize("sinks", [600, 100])
def test_a_run_with_hundreds_of_long_named_sinks_counts_every_one(
    store: StateStore, sinks: int
) -> None:
    # Sinks named with 80 characters each (the longest a step id may be): each counted
    # once, replays add nothing, an uncount and a recount stay exact; a count may
    # return fewer than are counted until all are (DynamoDB counts 600 on 3 items, 100
    # on one). On DynamoDB a marker named after each sink made the counter item grow by
    # ~84 bytes a sink: about 5,000 such sinks reached the 400 KB item limit and the run
    # could never end (tests/integration/test_dynamo_sink_count.py checks the items).
    names = [f"{i:05d}-" + "s" * 74 for i in range(sinks)]
    store.create_run(a_run(sinks=sinks))
    for i, name in enumerate(names[:-1]):
        assert 1 <= store.count_sink("r1", name, index=i, sinks=sinks) <= i + 1
    assert store.sinks_counted("r1", sinks=sinks) == sinks - 1
    assert store.count_sink("r1", names[-1], index=sinks - 1, sinks=sinks) == sinks
    assert store.count_sink("r1", names[7], index=7, sinks=sinks) == sinks  # a replay
    store.uncount_sink("r1", names[7], index=7, sinks=sinks)
    assert store.sinks_counted("r1", sinks=sinks) == sinks - 1
    assert store.count_sinks("r1", {name: i for i, name in enumerate(names)}, sinks=sinks) == sinks
    assert store.count_sink("r1", names[7], index=7, sinks=sinks) == sinks


def test_a_runs_end_is_fenced_by_a_retry_in_place(store: StateStore) -> None:
    # A worker reads the run (reopened 0) and decides it is done; an operator's retry in
    # place marks the run reopened before it reopens the step; the worker's end write,
    # conditioned on the count it read, is refused and the run goes on.
    store.create_run(a_run())
    assert store.get_run("r1").reopened == 0
    assert store.mark_run_reopened("r1").reopened == 1
    running = frozenset({RunStatus.RUNNING})
    with pytest.raises(RunConflict) as exc:
        store.transition_run("r1", expected=running, to=RunStatus.SUCCEEDED, changes={}, reopened=0)
    assert exc.value.current is not None and exc.value.current.reopened == 1
    assert store.get_run("r1").status is RunStatus.RUNNING
    ended = store.transition_run(
        "r1", expected=running, to=RunStatus.FAILED, changes={"ended_at": 9}, reopened=1
    )
    assert (ended.status, ended.reopened) == (RunStatus.FAILED, 1)
    with pytest.raises(RunConflict):  # only a running run is reopened
        store.mark_run_reopened("r1")
    # A loop iteration's end with its count is fenced the same way.
    store.create_step(StepRecord("r1", "loop", StepStatus.RUNNING, attempt=1))
    store.open_children("r1", "loop", 0, 1)
    store.create_run(a_child(0))
    store.mark_run_reopened("r1.loop.0")
    with pytest.raises(RunConflict):
        store.end_counted_child(
            a_child(0), expected=running, to=RunStatus.SUCCEEDED, changes={}, outcome="ok"
        )
    assert store.get_run("r1.loop.0").status is RunStatus.RUNNING
    fresh = store.get_run("r1.loop.0")
    done = store.end_counted_child(
        fresh, expected=running, to=RunStatus.SUCCEEDED, changes={}, outcome="ok"
    )
    assert done.settled and store.get_step("r1", "loop").children_ok == 1  # type: ignore[union-attr]


def test_on_dynamodb_a_count_of_more_indexes_than_one_condition_names_is_split(
    store: StateStore,
) -> None:
    """DynamoDB only (the others count with the end): 64 indexes of one shard (blocks
    0, 256, 512 and 768: the 16 shards take 16-index blocks in turn) take two
    conditional updates, each index counted once."""
    if not isinstance(store, DynamoStateStore):
        pytest.skip("the memory and SQLite stores count a child with its end")
    store.create_run(a_run())
    store.create_step(StepRecord("r1", "loop", StepStatus.RUNNING, attempt=1))
    store.open_children("r1", "loop", 0, 800)
    same_shard = [b + i for b in (0, 256, 512, 768) for i in range(16)]
    assert store.count_children("r1", "loop", same_shard, "ok") == 64
    assert store.count_children("r1", "loop", same_shard, "ok") == 0
    step = store.get_step("r1", "loop")
    assert step is not None and step.children_ok == 64
    assert len(store.running_children("r1", "loop")) == 800 - 64


def test_on_dynamodb_a_loop_opened_by_the_previous_shard_layout_is_still_counted(
    store: StateStore,
) -> None:
    """DynamoDB only: the build before 16-index blocks opened index i on shard i % 16. A
    loop it launched and this build counts (after an upgrade) is counted once all the
    same, one child at a time, in a batch, or by the poll."""
    if not isinstance(store, DynamoStateStore):
        pytest.skip("only DynamoDB keeps counts on shards")
    from podium.adapters import dynamo_codec as c

    store.create_run(a_run())
    store.create_step(StepRecord("r1", "loop", StepStatus.RUNNING, attempt=1))
    store._db.update_item(  # the step's counts are on shards (set at its first launch)
        TableName=store._table,
        Key=c.key(c.run_pk("r1"), c.step_sk("loop")),
        UpdateExpression="SET #ks = :t",
        ExpressionAttributeNames={"#ks": c.SHARDED},
        ExpressionAttributeValues={":t": {"BOOL": True}},
    )
    for index in range(40):  # opened by the previous build
        store._db.update_item(
            TableName=store._table,
            Key=c.key(c.run_pk("r1"), c.legacy_shard_sk("loop", index)),
            UpdateExpression="ADD rn :i SET hi = :hi",
            ExpressionAttributeValues={":i": {"NS": [str(index)]}, ":hi": {"N": "40"}},
        )
        store.create_run(a_child(index))
    for index in (5, 18, 19, 20, 33, *range(21, 30)):
        store.transition_run(
            child_run_id_of(index),
            expected=frozenset({RunStatus.RUNNING}),
            to=RunStatus.SUCCEEDED,
            changes={},
        )
    assert store.running_children("r1", "loop") == list(range(40))
    assert store.count_child("r1", "loop", 5, "ok") is True  # block shard 0, legacy 5
    assert store.count_child("r1", "loop", 5, "ok") is False
    assert store.count_children("r1", "loop", [18, 19, 20, 33], "ok") == 4
    assert store.count_children("r1", "loop", [33], "ok") == 0
    for index in range(21, 30):  # settled, their counts lost: the loop's poll counts them
        store.settle_run(child_run_id_of(index))
    assert store.count_children("r1", "loop", list(range(21, 30)), "ok") == 9
    step = store.get_step("r1", "loop")
    assert step is not None and step.children_ok == 14
    assert len(store.running_children("r1", "loop")) == 40 - 14


def child_run_id_of(index: int) -> str:
    return f"r1.loop.{index}"


def test_keeping_a_run_s_items_changes_nothing_a_reader_sees(store: StateStore) -> None:
    """``keep_run_items`` (the sweeper, at each check of an unended run) renews expiry
    stamps where the store has them (dynamodb-expiring: the run here is decades older
    than half the retention, so it does) and nothing else; twice is as once."""
    store.create_run(a_run("k1"))
    store.create_step(StepRecord("k1", "a", StepStatus.READY, ready_at=1))
    before = (store.get_run("k1"), store.list_steps("k1"))
    store.keep_run_items(store.get_run("k1"))
    store.keep_run_items(store.get_run("k1"))
    assert (store.get_run("k1"), store.list_steps("k1")) == before
    assert "k1" in store.list_active_run_ids()


def test_keeping_a_run_keeps_the_iterations_its_running_loop_will_read(
    store: StateStore,
) -> None:
    """A loop that has not ended reads its iterations' outputs when it ends: keeping its
    run keeps them (dynamodb-expiring: every item of the children its loop launched is
    stamped again, an iteration that ended as one that runs), and changes nothing a
    reader sees, on any store."""
    store.create_run(a_run())
    store.create_step(StepRecord("r1", "loop", StepStatus.RUNNING, attempt=1))
    store.open_children("r1", "loop", 0, 3)
    for index in range(3):
        store.create_run(a_child(index))
    store.mark_launched("r1", "loop", 3)
    done = child_run_id_of(0)
    store.create_step(StepRecord(done, "a", StepStatus.SUCCEEDED, attempt=1, output={"n": 1}))
    ended = frozenset({RunStatus.RUNNING})
    store.transition_run(done, expected=ended, to=RunStatus.SUCCEEDED, changes={})
    assert store.count_child("r1", "loop", 0, "ok") is True  # settled and counted
    children = [child_run_id_of(i) for i in range(3)]

    def seen() -> object:
        return (
            store.get_run("r1"),
            store.list_steps("r1"),
            store.get_runs(children),
            store.list_steps(done),
        )

    before = seen()
    expiring = isinstance(store, DynamoStateStore) and isinstance(store._db, ExpiringRunItems)
    if expiring:  # every item of the tree as if written long ago: due to expire
        raw = store._db._client
        for run_id in ("r1", *children):
            for item in raw.query(
                TableName="contract",
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"R#{run_id}"}},
            )["Items"]:
                raw.update_item(
                    TableName="contract",
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="SET expires_at = :old",
                    ExpressionAttributeValues={":old": {"N": "1"}},
                )
    store.keep_run_items(store.get_run("r1"))
    store.keep_run_items(store.get_run("r1"))
    assert seen() == before
    if expiring:
        for run_id in children:
            stamps = [
                item["expires_at"]["N"]
                for item in raw.query(
                    TableName="contract",
                    KeyConditionExpression="pk = :pk",
                    ExpressionAttributeValues={":pk": {"S": f"R#{run_id}"}},
                )["Items"]
            ]
            assert stamps and "1" not in stamps, (run_id, stamps)

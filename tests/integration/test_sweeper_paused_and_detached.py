"""The sweeper, timeouts and run ends: a paused run past its deadline, a step past its
timeout in a paused run, a detached subworkflow's run past the deadline it inherits, a
long timer cancelled in its last 15 minutes, a prune that took a detached child that had
just ended. Found by a review; each test failed before its fix (its docstring says what
was wrong and what is right)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium.adapters.clock import ManualClock
from podium.adapters.timers import SchedulerTarget, SchedulerTimers
from podium.core.engine.actions import RunAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.actions import Actor, run_action
from podium.service.sweep import sweep

MINUTE = 60_000
ME = Actor("alice", "testing")


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, home=home, clock=ManualClock()) as runtime:
        yield runtime


def _clock(rt: LocalRuntime) -> ManualClock:
    assert isinstance(rt.clock, ManualClock)
    return rt.clock


def _lose_run_deadlines(rt: LocalRuntime) -> None:
    """The run's deadline message is lost on its way (or dead-lettered)."""
    schedule = rt.services.at

    def losing(message: Any, due_ms: int, *, queue: str) -> None:
        if not isinstance(message, messages.RunDeadline):
            schedule(message, due_ms, queue=queue)

    rt.services.at = losing  # type: ignore[method-assign]


def _sweep_every_minute(rt: LocalRuntime, until: int) -> None:
    clock = _clock(rt)
    while clock.now_ms() < until:
        clock.advance(MINUTE)
        sweep(rt.services, rt.store)
        rt.pump(advance_time=False)


def test_a_paused_run_past_its_timeout_is_timed_out_by_the_sweeper_within_minutes(
    rt: LocalRuntime,
) -> None:
    """docs/operations.md (Sweeper): the sweeper "ends a running or paused run past its
    own timeout whose deadline message came early, was lost or dead-lettered (a run's
    check is moved to its deadline, so this is within a minute of it)". For a PAUSED run
    the check is not moved to its deadline: ``core/engine/checks.next_check`` returns the
    30-minute maximum for any run that is not RUNNING, and ``sweep._check_run`` passes no
    deadline for it. A paused run whose 10-minute timeout passed stays PAUSED for up to
    half an hour more (here it ends at minute 35). Right: it ends TIMED_OUT within a
    couple of minutes of its deadline, paused or not."""
    rt.push(
        {
            "name": "bounded",
            "timeout": 600,
            "steps": [{"id": "nap", "type": "sleep", "seconds": 6 * 3600, "timeout": "1d"}],
        }
    )
    _lose_run_deadlines(rt)
    run_id = rt.start_run("bounded").run_id
    rt.pump(advance_time=False)
    started = rt.store.get_run(run_id).started_at
    assert started is not None
    run_action(rt.services, run_id, RunAction.PAUSE, ME)
    assert rt.store.get_run(run_id).status is RunStatus.PAUSED
    _sweep_every_minute(rt, started + 600_000 + 3 * MINUTE)  # 3 minutes past its deadline
    run = rt.store.get_run(run_id)
    assert run.status is RunStatus.TIMED_OUT, (
        f"still {run.status.value} 3 minutes past its deadline; next check at"
        f" +{((run.check_at or 0) - started) / MINUTE:g} min from its start"
    )


def test_a_detached_subworkflow_run_ends_at_the_deadline_it_inherits(rt: LocalRuntime) -> None:
    """docs/workflow-language.md (Timeouts): "A loop iteration or a subworkflow's run is
    bounded by its parent's deadline as by its own (...; a subworkflow step with
    ``wait: false`` passes on only its run's)", and the child run is created with that
    deadline (``ancestor_deadline``, runtimes/subworkflow.py). But nothing fires it: the
    parent's end leaves a detached child alone, ``advance.start_roots`` arms a
    ``run_deadline`` timer only for the child's own ``timeout``, and the sweeper's
    ``_past_timeout`` / ``next_check`` (service/sweep.py) look only at the workflow's own
    ``timeout`` (not ``deadlines.run_deadline``). So the child runs on, RUNNING, past the
    deadline, until some completion happens to be checked against it: here its one-hour
    sleep ends it TIMED_OUT 50 minutes late (a callback step would sit RUNNING for its
    10-day default, refusing every result as past the deadline). Right: the child ends
    TIMED_OUT at (within a sweep or two of) the deadline it inherited."""
    rt.push({"name": "kid", "steps": [{"id": "nap", "type": "sleep", "seconds": 3600}]})
    rt.push(
        {
            "name": "parent",
            "timeout": 600,
            "steps": [{"id": "sub", "type": "subworkflow", "workflow": "kid", "wait": False}],
        }
    )
    run_id = rt.start_run("parent").run_id
    rt.pump(advance_time=False)
    kid = child_run_id(run_id, "sub", 0)
    parent = rt.store.get_run(run_id)
    assert parent.status is RunStatus.SUCCEEDED  # the detached child outlives it
    assert parent.started_at is not None
    deadline = rt.store.get_run(kid).ancestor_deadline
    assert deadline == parent.started_at + 600_000
    _sweep_every_minute(rt, deadline + 5 * MINUTE)
    child = rt.store.get_run(kid)
    assert child.status is RunStatus.TIMED_OUT, (
        f"the detached child is still {child.status.value} 5 minutes past its deadline"
    )
    # Its error names where that deadline came from: its parent run's (its step did not
    # wait, so that step's timeout never bound it; the message said it might have).
    assert child.error is not None
    assert f"the deadline of run {run_id}, which started it from its step 'sub'" in child.error
    assert "that step's timeout, or" not in child.error


def test_cancelling_a_long_timer_deletes_its_schedule_even_in_its_last_15_minutes() -> None:
    """adapters/timers.py ``SchedulerTimers.cancel`` decides whether a schedule was made
    from the time left *now* (``_delay_seconds(due_ms, now) <= 900``), not from when the
    timer was set. A wait longer than 15 minutes got a Scheduler schedule; cancelled in
    its last 15 minutes (a step that ends 5 minutes before its 20-minute deadline, a
    signal wait released late, a sleep stopped near its end), no delete is made and the
    schedule is left to fire (tests/contract/test_timers.py: "A schedule is deleted:
    nothing is left to fire (or to count against the quota)"). Right: a cancel deletes
    the schedule whenever one may have been made (the delete of one never made is
    already harmless: ResourceNotFound is ignored)."""

    class NoQueue:
        def send(self, message: Any, delay_seconds: int = 0) -> None:  # pragma: no cover
            raise AssertionError("a 20-minute wait is a schedule, not an SQS delay")

    with mock_aws():
        scheduler = boto3.client("scheduler", region_name="us-east-1")
        scheduler.create_schedule_group(Name="podium")
        clock = ManualClock()
        target = SchedulerTarget(
            "arn:aws:sqs:us-east-1:123456789012:events", "arn:aws:iam::123456789012:role/s"
        )
        timers = SchedulerTimers(
            NoQueue(),  # type: ignore[arg-type]
            NoQueue(),  # type: ignore[arg-type]
            clock,
            scheduler,
            group="podium",
            targets={"events": target, "work": target},
        )
        set_at = clock.now_ms()
        due = set_at + 20 * MINUTE
        body = {"t": "done", "run": "r", "step": "s", "attempt": 1, "e": {"kind": "deadline"}}
        timers.schedule(body, due, queue="events", dedup="r/s/1/deadline")
        assert len(scheduler.list_schedules(GroupName="podium")["Schedules"]) == 1
        clock.advance(10 * MINUTE)  # the step ended 10 minutes before its deadline
        timers.cancel(dedup="r/s/1/deadline", due_ms=due, set_ms=set_at)
        left = scheduler.list_schedules(GroupName="podium")["Schedules"]
        assert left == [], "the cancelled timer's schedule is still there and will fire"


def test_a_step_past_its_timeout_in_a_paused_run_is_timed_out_when_its_timer_is_lost(
    rt: LocalRuntime,
) -> None:
    """docs/operations.md (run ``pause``): "Timeouts keep counting ...: a running step
    ... that passes its ``timeout`` during the pause ends TIMED_OUT"; and the sweeper
    "reclaims a RUNNING attempt whose lease passed ... neither outlives the step's
    ``timeout``". ``sweep._check_run`` returns before ``_redrive_steps`` for any run that
    is not RUNNING, so in a PAUSED run an attempt past its lease is never reclaimed: a
    sleep with a 2-minute timeout whose deadline timer was lost stays RUNNING through 40
    minutes of sweeps (and so would a lambda attempt whose worker died, holding its
    permits, for the whole pause). Right: the sweeper reclaims expired leases of a
    paused run too (the attempt times out; what follows it is held by the pause)."""
    rt.push(
        {
            "name": "napping",
            "steps": [
                {"id": "nap", "type": "sleep", "seconds": 3600, "timeout": 120},
                {"id": "after", "type": "noop", "depends_on": ["nap"]},
            ],
        }
    )
    schedule = rt.services.at

    def losing(message: Any, due_ms: int, *, queue: str) -> None:
        deadline = messages.DEADLINE_EVENT["kind"]
        if isinstance(message, messages.Done) and message.event.get("kind") == deadline:
            return  # the step's deadline timer is lost
        schedule(message, due_ms, queue=queue)

    rt.services.at = losing  # type: ignore[method-assign]
    run_id = rt.start_run("napping").run_id
    rt.pump(advance_time=False)
    nap = rt.store.get_step(run_id, "nap")
    assert nap is not None and nap.started_at is not None and nap.lease_until is not None
    assert nap.lease_until == nap.started_at + 120_000  # the lease is the step's timeout
    run_action(rt.services, run_id, RunAction.PAUSE, ME)
    _sweep_every_minute(rt, nap.started_at + 40 * MINUTE)
    nap = rt.store.get_step(run_id, "nap")
    assert nap is not None
    assert nap.status.value == "TIMED_OUT", (
        f"the step is still {nap.status.value} 38 minutes past its 2-minute timeout"
    )


def test_prune_keeps_a_detached_child_that_ended_after_the_cutoff(tmp_path: Any) -> None:
    """``podium runs prune --older-than 30d`` is documented as deleting "the runs that
    ended before this" (its help, docs/operations.md: "A run that ended before it goes
    with its whole tree"). A ``wait: false`` subworkflow run is a run of its own (listed,
    shown, can outlive its parent), yet ``core/engine/retention.kept_because`` judges
    the age of a tree by its top run's ``ended_at`` only. A parent that ended 40 days ago
    takes with it its detached child that ended just now: the prune of runs older than
    30 days deletes a run a minute old. Right: a tree stays until every run in it ended
    before the cutoff (or at least the child's own end is judged)."""
    from pathlib import Path

    from podium.local.prune import prune_runs

    day = 86_400_000
    with LocalRuntime(store="sqlite", home=Path(tmp_path), clock=ManualClock()) as rt:
        rt.push(
            {
                "name": "kid",
                "steps": [{"id": "nap", "type": "sleep", "seconds": 40 * 86_400, "timeout": "41d"}],
            }
        )
        rt.push(
            {
                "name": "parent",
                "steps": [{"id": "sub", "type": "subworkflow", "workflow": "kid", "wait": False}],
            }
        )
        top = rt.start_run("parent").run_id
        rt.pump()
        kid = child_run_id(top, "sub", 0)
        now = _clock(rt).now_ms()
        parent, child = rt.store.get_run(top), rt.store.get_run(kid)
        assert parent.status is RunStatus.SUCCEEDED and child.status is RunStatus.SUCCEEDED
        assert parent.ended_at is not None and parent.ended_at <= now - 39 * day
        assert child.ended_at is not None and child.ended_at >= now - day  # ended just now
        db = rt.store.db  # type: ignore[attr-defined]
        report = prune_runs(db, Path(tmp_path) / "payloads", now - 30 * day)
        assert report.runs == 0, (
            f"pruned {report.runs} tree(s) with {report.children} child run(s): the child"
            " that ended a moment ago went with its 40-day-old parent"
        )
        assert rt.store.get_run(kid).status is RunStatus.SUCCEEDED


def test_a_signal_wait_past_its_deadline_in_a_paused_run_times_out(rt: LocalRuntime) -> None:
    """A step waiting for signals in a paused run whose deadline timer was lost (or the
    10-day default, which has no timer: the sweeper's look is its deadline) never timed
    out: the sweeper looked at a paused run only for its parent. Timeouts keep counting
    through a pause: it ends TIMED_OUT within minutes of its deadline."""
    rt.push(
        {
            "name": "waits_paused",
            "steps": [{"id": "w", "type": "noop", "timeout": 600, "wait_for": [{"signal": "go"}]}],
        }
    )
    schedule = rt.services.at

    def losing(message: Any, due_ms: int, *, queue: str) -> None:
        if not isinstance(message, messages.SignalCheck):
            schedule(message, due_ms, queue=queue)

    rt.services.at = losing  # type: ignore[method-assign]
    run_id = rt.start_run("waits_paused").run_id
    rt.pump(advance_time=False)
    began = _clock(rt).now_ms()
    run_action(rt.services, run_id, RunAction.PAUSE, ME)
    _sweep_every_minute(rt, began + 600_000 + 3 * MINUTE)
    step = rt.store.get_step(run_id, "w")
    assert step is not None and step.status.value == "TIMED_OUT", step


def test_after_a_redrive_the_next_check_is_no_later_than_the_runs_deadline() -> None:
    """After the sweeper re-drove something of a run, its next look was 5 minutes out
    (``stale_ms``) even with the run's deadline 2 minutes away: a lost deadline message
    was made up 3 minutes late. The look comes at the deadline when that is sooner."""
    from podium.core.engine.checks import next_check
    from podium.core.engine.records import RunRecord

    now = 10 * MINUTE
    run = RunRecord("r", "w", 1, RunStatus.RUNNING, {}, created_at=0, sinks_total=1)
    after = next_check(run, [], now, stale_ms=5 * MINUTE, deadline=now + 2 * MINUTE, acted=True)
    assert after == now + 2 * MINUTE
    assert next_check(run, [], now, stale_ms=5 * MINUTE, acted=True) == now + 5 * MINUTE

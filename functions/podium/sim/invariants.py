"""The invariants checked after a world settles, and the comparison with the fault-free
run of the same workload.

What is compared with the fault-free baseline:
- every run (by its place in the workload) ends with the baseline's run status, and each
  of its steps with the baseline's step status (attempt counts may differ: a crash may
  cost an attempt);
- ``last_only``: the newest run (latest ``created_at``, then id) must match the
  baseline's newest run exactly; every older run may legitimately end SUCCEEDED (it
  finished before the next start), STOPPED or DISCARDED, depending on timing, so only
  that set is checked; timing decides which, not faults;
- ``first_only``: every run ends SUCCEEDED or DISCARDED and at least one SUCCEEDED (how
  many depends on timing); each SUCCEEDED run's steps match a fault-free SUCCEEDED run.
The shape's ``Expected`` (the documented semantics) is checked on both worlds, so a bug
that the baseline shares is still found (``unexpected_result``).
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from podium.core.dsl.models import DEFAULT_WAIT_TIMEOUT_SECONDS
from podium.core.engine.actions import taken_over_from
from podium.core.engine.identity import child_run_id
from podium.core.engine.loops import outcome_of
from podium.core.engine.outputs import is_ref
from podium.core.engine.records import RunRecord
from podium.core.engine.signals import compare as param_holds
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.engine.step_error import USER_ERROR, StepError
from podium.service.detached_runs import detached
from podium.service.run_reads import STATUS_FRESH_MS
from podium.service.runtimes.callback import find_result_mark
from podium.service.signals import emit_request_id
from podium.sim.callbacks import _step_spec, deadline_over
from podium.sim.faults import INJECTED_NAMES, FaultRates
from podium.sim.harness import LAMBDA_MAX_MS, ClaimSeen, PauseSpan, RunOutcome, World
from podium.sim.shapes import Shape

INVARIANTS = (
    "result_differs",  # a run or step status differs from the fault-free run
    "unexpected_result",  # a run or step status differs from the documented semantics
    "double_invoke",  # a user function ran twice for one (run, step, attempt)
    "retry_early",  # an attempt started before its retry delay was over
    "retry_over_budget",  # a step's code failed on more attempts than its retries allow
    "limit_exceeded",  # a key's permits or a workflow's slots over the limit, any moment
    "slot_leak",  # a run slot still held (or a run still queued) at the end
    "permit_leak",  # a permit still held (or a step still waiting on a key) at the end
    "timer_leak",  # a one-time schedule (a wait over 15 minutes) still held at the end,
    # or (fault-free world) one the engine withdraws fired after its wait had ended
    "run_not_terminal",  # a run neither ended nor discarded at the end
    "step_not_terminal",  # a step left open in an ended run
    "dlq_unexplained",  # a dead letter whose failures were not all injected faults
    "handler_error",  # a handler, sweep or API call raised an unexpected exception
    "hot_loop",  # a message delivered over and over, or a process that never ends
    "not_settled",  # the world kept changing after every queue drained and sweep ran
    # Callback steps (sim/callbacks.py):
    "double_start",  # an attempt's token published, or its function invoked, again when
    # its start had completed or the worker of the one before could still be at it
    "callback_outcome",  # a callback step's attempt did not end as its first recorded
    # result says (in time: SUCCEEDED with its output, or FAILED; after the deadline, or
    # none: TIMED_OUT)
    "callback_conflict",  # a second, different result (or a stranger's decision) accepted
    "callback_stuck",  # a result recorded in time applied only hours later (its done lost)
    "callback_stale",  # a callback (a result, a heartbeat) accepted for an attempt whose
    # step had claimed a later attempt before the request began (a closed attempt)
    # A run's own ``timeout`` (its deadline: its start + the timeout):
    "past_run_deadline",  # a user function invoked, or a step started, after the run's
    # deadline; the run ended SUCCEEDED after it; a step ended SUCCEEDED (or FAILED)
    # after it with no result it had by it (a callback received, a sleep's due time)
    # A step's ``emit``:
    "emit_lost",  # the step SUCCEEDED and an entry of its emit was never sent
    "emit_unearned",  # an entry of its emit was sent, and the step did not succeed
    # A loop step (foreach, while) and its iterations (child runs):
    "loop_inconsistent",  # more iterations running at once than its ``concurrency``, a
    # step left open in an ended iteration, or its counters not its children's ends
    "loop_outcome",  # a loop step's iterations did not end as its policy says (by run
    # status: exactly without faults; under faults the counts no timing can change)
    "late_fault_free",  # with no fault at all, a retry, a sleep's end, a queued run's
    # admission or a permit's waiter came later than due (its timer or message lost:
    # only the sweeper, minutes later, moved it on)
    "work_after_end",  # a user function invoked by a process that began after its run
    # had ended (it read the run ended, and started the attempt all the same)
    "signal_mismatch",  # a step released by a signal its ``wait_for`` entry does not match
    # Operators' pauses (sim/actions.py) and concurrency keys:
    "ran_while_paused",  # a step attempt claimed (started) while its run, or a run it is
    # a loop iteration or subworkflow run of, was paused (allowed: a claim resting on a
    # read of its run from before the pause, or within STATUS_FRESH_MS of it)
    "taken_over_unsucceeded",  # a restart took over (as SUCCEEDED, reused) a step that
    # had not succeeded in the run it came from, or with another output
    "permit_held_after_end",  # a step's permit still held when the process that ended
    # its running attempt (for good, to be retried, or a job's start given back) was
    # done, with no fault injected into it since (a crash leaves it to the sweeper)
    "run_strategy_broken",  # a first_only run created while another ran and not
    # DISCARDED, or a strict_sequential run admitted after a failed run's end with no
    # unblock in between
    "job_lost",  # an external job submitted (the submit acted) that nothing looked up by
    # its attempt's key again, nor stopped: work started and lost track of
    "payload_differs",  # a step that SUCCEEDED was invoked with another payload than the
    # shape's semantics say (data a loop or a subworkflow hands its successor)
    "ran_twice_at_once",  # a step's attempt claimed while the worker of the attempt
    # before it could still be running its function (alive, within Lambda's 15 minutes,
    # that attempt ended by another process: a lease reclaimed from a live worker)
    "breakpoint_ignored",  # an attempt of a step a breakpoint holds started before it
    # was resumed (``podium steps resume``) or the breakpoint cleared
    "backfill_broken",  # a backfill ran more runs at once than its max_active, a driver
    # message whose tick had moved on sent the next (a chain of its own), or a driver
    # still on its trigger's state at the end
)

# How late, in a fault-free world, a retry's next attempt, a sleep's end or a queued
# run's admission may come (queue delays are whole seconds; the clock steps a
# millisecond a delivery). The sweeper that would make up for a lost timer comes every
# minute and redrives only what has been stale for minutes.
LATE_FAULT_FREE_MS = 2_000

# A callback result recorded in time must close its attempt within this (clock jumps
# and dead letters delay a done message; a lost one found only at a 10-day deadline is
# stuck).
STUCK_MS = 12 * 3_600_000

_OLDER_LAST_ONLY = {RunStatus.SUCCEEDED, RunStatus.STOPPED, RunStatus.DISCARDED}


@dataclass
class Verdict:
    violations: Counter[str] = field(default_factory=Counter)
    details: list[str] = field(default_factory=list)

    def add(self, invariant: str, detail: str) -> None:
        assert invariant in INVARIANTS, invariant
        self.violations[invariant] += 1
        if len(self.details) < 40:
            self.details.append(f"{invariant}: {detail}")

    @property
    def ok(self) -> bool:
        return not self.violations


def summary(
    outcome: RunOutcome, loose: Mapping[str, object] | None = None
) -> tuple[str | None, dict[str, str]]:
    """The run's status and its steps' statuses (without the shape's loose steps)."""
    status = outcome.run.status.value if outcome.run else None
    skip = loose or {}
    return status, {k: s.status.value for k, s in sorted(outcome.steps.items()) if k not in skip}


def _judged(world: World, outcomes: list[RunOutcome]) -> list[RunOutcome]:
    """The outcomes a shape's expectations apply to: a run an operator stopped ends as
    the stop found it (it must still end and settle with nothing held: _check_ends)."""
    return [
        RunOutcome(o.index, None, {}) if o.run and o.run.run_id in world.changed_by_operator else o
        for o in outcomes
    ]


def _check_loose(shape: Shape, outcomes: list[RunOutcome], verdict: Verdict, label: str) -> None:
    for o in outcomes:
        if o.run is None:
            continue
        for step, allowed in shape.loose.items():
            got = o.steps[step].status.value if step in o.steps else None
            if got not in allowed:
                verdict.add(
                    "unexpected_result",
                    f"{label}: run #{o.index} step {step} is {got} (want one of"
                    f" {sorted(str(a) for a in allowed)})",
                )


def newest_index(outcomes: list[RunOutcome]) -> int | None:
    present = [o for o in outcomes if o.run is not None]
    if not present:
        return None
    newest = max(present, key=lambda o: (o.run.created_at, o.run.run_id))  # type: ignore[union-attr]
    return newest.index


def check_world(world: World, verdict: Verdict, label: str) -> None:
    """Invariants of one world on its own (also applied to the baseline)."""
    shape = world.shape
    outcomes = world.outcomes()
    obs = world.obs
    for line in obs.limit_violations[:3]:
        verdict.add("limit_exceeded", f"{label}: {line}")
    for line in obs.handler_errors[:3]:
        verdict.add("handler_error", f"{label}: {line}")
    for line in obs.hot_loops[:3]:
        verdict.add("hot_loop", f"{label}: {line}")
    for line in obs.unsettled:
        verdict.add("not_settled", f"{label}: {line}")
    for line in obs.permits_held[:3]:
        verdict.add("permit_held_after_end", f"{label}: {line}")
    for line in obs.backfills[:3]:
        verdict.add("backfill_broken", f"{label}: {line}")
    _check_backfill_ends(world, verdict, label)
    _check_paused_claims(world, verdict, label)
    _check_breakpoints(world, verdict, label)
    _check_live_workers(world, verdict, label)
    for (run_id, step, attempt), n in world.invocations.items():
        if n > 1:
            verdict.add("double_invoke", f"{label}: {run_id}/{step}#{attempt} invoked {n} times")
    fault_free = _fault_free(world)
    _check_retry_delays(world, fault_free, verdict, label)
    _check_retry_budgets(world, verdict, label)
    _check_ends(world, outcomes, verdict, label)
    _check_run_deadlines(world, outcomes, verdict, label)
    _check_emits(world, outcomes, verdict, label)
    _check_loops(world, outcomes, verdict, label)
    _check_work_after_end(world, verdict, label)
    _check_signal_matches(world, outcomes, verdict, label)
    _check_taken_over(world, verdict, label)
    _check_run_strategies(world, verdict, label)
    _check_loop_children(world, outcomes, verdict, label)
    _check_payloads(world, outcomes, verdict, label)
    _check_jobs(world, verdict, label)
    if fault_free:
        _check_fault_free_timing(world, outcomes, verdict, label)
        _check_fault_free_steps(shape, outcomes, verdict, label)
    if shape.callbacks:
        _check_callbacks(world, outcomes, verdict, label)
    if not _judged_by_each_other(world):
        _check_expected(shape, _judged(world, outcomes), verdict, label)
    if shape.distinct_runs is not None:
        names = {doc["name"] for doc in shape.workflows}
        listed = [r for name in sorted(names) for r in world.inner_store.list_runs(name, 1000)]
        runs = [r.run_id for r in listed if r.run_id not in world.restarted]  # not an event's
        started = set(world.run_ids.values())
        for run in listed:
            # A run a trigger started (a signal set, a scheduled time) is in no RunSpec:
            # it must end and settle too.
            if run.run_id not in started and not (run.status.terminal and run.settled):
                state = "ended but not settled" if run.status.terminal else run.status.value
                verdict.add("run_not_terminal", f"{label}: triggered run {run.run_id} is {state}")
        allowed = {shape.distinct_runs}
        if not fault_free and shape.distinct_runs_under_faults is not None:
            allowed = set(shape.distinct_runs_under_faults)
        if len(set(runs)) not in allowed:
            verdict.add(
                "unexpected_result",
                f"{label}: {len(set(runs))} runs, want {' or '.join(map(str, sorted(allowed)))}"
                " (one per event, or per scheduled time)",
            )
    for name, (due, _, body) in world.timers.schedules.items():
        verdict.add("timer_leak", f"{label}: schedule {name} due {due} for {body}")
    if fault_free:
        # The settling runs the clock past every schedule, which then fires and deletes
        # itself: one not withdrawn shows as a firing after its wait ended. Under faults a
        # crash between a wait's end and its withdrawal leaves the schedule (harmless: it
        # fires and is dropped), so only the fault-free world judges it.
        for line in world.timers.fired_in_vain[:3]:
            verdict.add("timer_leak", f"{label}: {line}, and was not withdrawn")
    for queue in world.queues.values():
        for msg in queue.dead:
            if not msg.failures or not all(f.startswith(INJECTED_NAMES) for f in msg.failures):
                verdict.add(
                    "dlq_unexplained", f"{label}: {queue.name} {msg.body} after {msg.failures}"
                )


def _check_live_workers(world: World, verdict: Verdict, label: str) -> None:
    """``ran_twice_at_once``: a synchronous attempt's lease (16 minutes) outlives its
    worker (Lambda stops one at 15), so the sweeper reclaims only an attempt whose
    worker is gone, and a step's function never runs twice at once
    (service/in_flight.py, core/engine/plans.lease_of). So attempt N + 1 is never
    claimed (a start, not one given back) while the process that invoked attempt N's
    function is alive and within its 15 minutes, unless that process ended attempt N
    itself (it failed, to be retried, and the worker is still at its follow-ups). An
    operator's retry in place, which may start a stopped attempt's next one beside it,
    is not judged. Judged from the claims, invocations and end writes the harness saw."""
    for claim in world.claims:
        if claim.given_back or claim.attempt < 2:
            continue
        if (claim.run_id, claim.step) in world.operator_retried:
            continue
        before = (claim.run_id, claim.step, claim.attempt - 1)
        worker = world.invoked_by.get(before)
        if worker is None or world.ended_by.get(before) is worker:
            continue
        alive = worker.finished_seq is None or worker.finished_seq > claim.seq
        if alive and claim.at < worker.started_ms + LAMBDA_MAX_MS:
            ender = world.ended_by.get(before)
            verdict.add(
                "ran_twice_at_once",
                f"{label}: {claim.run_id}/{claim.step}#{claim.attempt} claimed"
                f" {claim.at - worker.started_ms} ms after {worker.label} began, which was"
                f" still running attempt {claim.attempt - 1} (ended by"
                f" {ender.label if ender else '?'})",
            )


def _check_breakpoints(world: World, verdict: Verdict, label: str) -> None:
    """``breakpoint_ignored``: every attempt of a step with a breakpoint pauses before it
    starts until that attempt is resumed or the breakpoint cleared (service/breakpoints.py;
    a loop body's breakpoint holds the step in every iteration). So a start of a held
    step before the breakpoint's clear write needs a resume write of that step (PAUSED
    -> READY at the attempt before it) before its claim: the
    harness sees the claims, resumes and clears at the writes (World.observe_write).
    A platform retry's attempt is held again. A start is a claim whose function was
    invoked (the shape's held steps are lambdas): a claim that invoked nothing started
    nothing. Costs nothing without breakpoints."""
    from podium.core.engine.breakpoints import held_by

    if not world.breakpoint_keys:
        return
    for claim in world.claims:
        seen = world.created.get(claim.run_id)
        if seen is None or claim.given_back:
            continue
        invoked = world.invoked_seq.get((claim.run_id, claim.step, claim.attempt))
        if invoked is None:
            # A successor claimed in-process is checked for a breakpoint after its claim
            # (service/continuations.py), then given back: one whose worker died first,
            # or that a stop ended first, started nothing (its function never ran).
            continue
        keys = world.breakpoint_keys.get(seen.workflow, set())
        if not keys or not held_by(keys, claim.step, seen.parent_index):
            continue
        cleared = [world.breakpoint_clears.get((seen.workflow, k)) for k in keys]
        if any(c is not None and c < invoked for c in cleared):
            continue  # started after the clear (an in-process claim checks after it)
        resumes = world.step_resumes.get((claim.run_id, claim.step), [])
        if any(n == claim.attempt - 1 and seq < claim.seq for n, seq in resumes):
            continue
        verdict.add(
            "breakpoint_ignored",
            f"{label}: {claim.run_id}/{claim.step}#{claim.attempt} started (by"
            f" {claim.by.label if claim.by else '?'}) while a breakpoint held it, with no"
            " resume of that attempt and no clear before it",
        )


def _check_backfill_ends(world: World, verdict: Verdict, label: str) -> None:
    """``backfill_broken``, at the end: a driver that sent a message is gone from its
    trigger's state (removed when it ends: docs/architecture.md, ``bd:<driver>``). A
    driver made by a request that died before it sent its first message (its retry
    plans the rest again, under another id) is left out: it stays on the state, an
    open finding (tests/simulation/test_backfill_and_breakpoint_shapes.py)."""
    for spec in world.shape.backfills:
        for state in world.inner_store.trigger_states().states(spec.workflow).values():
            left = {d: t for d, t in state.backfill_drivers.items() if d in world.drivers_sent}
            if left:
                verdict.add(
                    "backfill_broken",
                    f"{label}: {spec.workflow}: drivers {left} still on its trigger's state at"
                    " the end",
                )


def _check_retry_delays(world: World, fault_free: bool, verdict: Verdict, label: str) -> None:
    """``retry_early``: an attempt invoked before its retry's delay (``Shape.retry_delays``)
    was over after the attempt before it; ``late_fault_free``: without faults, one
    invoked later than that delay (plus LATE_FAULT_FREE_MS: its timer lost, only the
    sweeper moved it on). A delay per retry (a policy's backoff, capped by its
    ``max_delay``) is judged exactly without faults; under faults, where an attempt lost
    to a dead worker shifts the numbers, only its minimum is (as is a single delay).
    Without faults only the first retry of a single delay is judged late: a policy's
    backoff makes its later delays longer."""
    for (run_id, step), calls in world.invoked_at.items():
        wanted = world.shape.retry_delays.get(step)
        if wanted is None or (run_id, step) in world.operator_retried:
            continue
        first: dict[int, int] = {}
        for attempt, at in calls:
            first.setdefault(attempt, at)
        for attempt, at in first.items():
            prev = first.get(attempt - 1)
            if prev is None:
                continue
            # An attempt whose worker died may end by its lease (a platform error, with
            # a backoff of its own): only a failure the engine recorded owes the delay.
            lost = world.invoked_by.get((run_id, step, attempt - 1))
            if lost is not None and lost.error is not None:
                continue
            delay, exact = _retry_delay(wanted, attempt, fault_free)
            if delay is None:
                continue
            if at - prev < delay * 1000:
                verdict.add(
                    "retry_early",
                    f"{label}: {run_id}/{step} attempt {attempt} {at - prev} ms after"
                    f" attempt {attempt - 1}; its retry's delay is {delay} s",
                )
            late = at - delay * 1000 - LATE_FAULT_FREE_MS
            if fault_free and (exact or attempt == 2) and late > prev:
                verdict.add(
                    "late_fault_free",
                    f"{label}: {run_id}/{step} attempt {attempt} {at - prev} ms after"
                    f" attempt {attempt - 1}; its retry's delay is {delay} s",
                )


def _retry_delay(
    wanted: int | tuple[int, ...], attempt: int, fault_free: bool
) -> tuple[int | None, bool]:
    """The delay (seconds) owed before ``attempt``, and whether it is exact (a policy's
    delay of that retry, without faults); None when the shape says none for it."""
    if isinstance(wanted, int):
        return wanted, False
    if not fault_free:
        return min(wanted), False
    if attempt - 2 >= len(wanted):
        return None, False
    return wanted[attempt - 2], True


def _check_retry_budgets(world: World, verdict: Verdict, label: str) -> None:
    """``retry_over_budget``: a step's attempts that ended with a user error (its
    code's failure, seen at the write that ended the attempt: World.failure_ends) are
    at most its retriers' ``max_attempts`` + 1 (``retries: N``: N + 1), counting every
    retrier that names one of those errors (a ``when`` may skip one: an upper bound).
    A lost worker's attempt (a platform error) has a budget of its own and does not
    count; a step an operator retried in place is not judged. And, without faults, a
    step ends with the attempts the shape says (``Shape.attempts``: exactly; a budget
    one short changes no status)."""
    for (run_id, step), ends in world.failure_ends.items():
        if (run_id, step) in world.operator_retried:
            continue
        user = {n: t for n, t in ends.items() if StepError.of(t, "").category == USER_ERROR}
        if not user:
            continue
        seen = world.created.get(run_id)
        if seen is None:
            continue
        spec = world.definitions.get(seen.workflow, seen.version).by_id.get(step)
        if spec is None:
            continue
        errors = [StepError.of(t, "") for t in set(user.values())]
        budget = sum(
            r.max_attempts for r in spec.retriers if any(e.matches(tuple(r.errors)) for e in errors)
        )
        if len(user) > budget + 1:
            verdict.add(
                "retry_over_budget",
                f"{label}: {run_id}/{step} ended {len(user)} attempts with its code's error"
                f" ({sorted(user)}: {sorted(set(user.values()))}); its retries allow"
                f" {budget} retries",
            )
    if not _fault_free(world) or not world.shape.attempts:
        return
    for run_id in world.run_ids.values():
        for step, want in world.shape.attempts.items():
            record = world.inner_store.get_step(run_id, step)
            got = record.attempt if record is not None else None
            if got != want:
                verdict.add(
                    "unexpected_result",
                    f"{label}: {run_id}/{step} ended at attempt {got} without faults (want"
                    f" {want}: its retries)",
                )


def _check_ends(world: World, outcomes: list[RunOutcome], verdict: Verdict, label: str) -> None:
    store = world.inner_store
    for o in outcomes:
        if o.run is None:
            verdict.add("run_not_terminal", f"{label}: run #{o.index} was never created")
            continue
        if not o.run.status.terminal:
            verdict.add("run_not_terminal", f"{label}: run #{o.index} is {o.run.status.value}")
            continue
        for s in o.steps.values():
            if s.status.terminal:
                continue
            if o.run.status in (RunStatus.STOPPED, RunStatus.DISCARDED) and s.status in (
                StepStatus.PENDING,
                StepStatus.READY,
            ):
                continue  # a stopped run drops work that had not started (documented)
            verdict.add(
                "step_not_terminal",
                f"{label}: run #{o.index} ({o.run.status.value}) step {s.step} is {s.status.value}",
            )
    # Every run settled: child runs (loop iterations, subworkflows) included, each
    # counted by its parent and out of the active index.
    unsettled = set(store.list_active_run_ids())
    # Loop iterations are out of that index until their loop watches them: walk the
    # trees of the runs started.
    tops = [o.run.run_id for o in outcomes if o.run is not None]
    tops += sorted(world.restarted)  # by an operator's restart: not among the outcomes
    unsettled |= {r.run_id for r in _tree_runs(store, tops) if not r.settled}
    # (a restart refused, or that crashed before creating its run, created none)
    restarted = store.get_runs(sorted(world.restarted)) if world.restarted else {}
    unsettled |= {r.run_id for r in restarted.values() if not r.settled}
    for run_id in sorted(unsettled):
        run = store.get_run(run_id)
        state = "ended but not settled" if run.status.terminal else run.status.value
        verdict.add("run_not_terminal", f"{label}: run {run_id} is {state}")
    slots = store.run_slots()
    for wf in world.slot_limits:
        state = slots.state(wf)
        if state.active or state.holders:
            verdict.add("slot_leak", f"{label}: {wf} slots held by {sorted(state.holders)}")
        queued = slots.queued(wf, 100)
        if queued:
            verdict.add("slot_leak", f"{label}: {wf} still queues {[e.run_id for e in queued]}")
    permits = store.permits()
    keys = set(world.limits) | set(world.own_keys())  # every run's, restarts' too
    for key in sorted(keys):
        state = permits.state(key)
        if state.active or state.holders:
            verdict.add("permit_leak", f"{label}: {key} held by {sorted(state.holders)}")
        if state.waiting:
            verdict.add("permit_leak", f"{label}: {key} has {state.waiting} waiting")


def _check_callbacks(
    world: World, outcomes: list[RunOutcome], verdict: Verdict, label: str
) -> None:
    """Each callback step's attempt against what the party did (the per-attempt oracle),
    and each attempt's token events and async invokes counted."""
    sender = world.callbacks
    for (key, what), pubs in sorted(sender.publications.items()):
        for n, pub in enumerate(pubs[1:], start=2):
            if pub.problem is not None:
                verdict.add(
                    "double_start",
                    f"{label}: {'/'.join(map(str, key))} {what} #{n} at {pub.at}: {pub.problem}",
                )
    accepted: dict[tuple[str, str, int], set[str]] = {}
    for answer in sender.answers:
        if answer.kind == "heartbeat" or not answer.accepted:
            continue
        if answer.kind == "stranger":
            verdict.add("callback_conflict", f"{label}: {answer.key}: a stranger's decision"
                        f" was accepted: {answer.detail}")  # fmt: skip
        accepted.setdefault(answer.key, set()).add(json.dumps(answer.body, sort_keys=True))
    for key, bodies in sorted(accepted.items()):
        if len(bodies) > 1:
            verdict.add("callback_conflict", f"{label}: {key}: accepted {sorted(bodies)}")
    _check_stale_callbacks(world, verdict, label)
    store = world.inner_store
    tops = [o.run.run_id for o in outcomes if o.run is not None]
    runs = [store.get_run(r) for r in tops] + _tree_runs(store, tops)
    for run in runs:
        if _acted_on(world, run):
            continue
        events = None
        for record in store.list_steps(run.run_id):
            behaviour = sender.behaviour_of(record.step)
            if behaviour is None or not record.status.terminal or record.attempt == 0:
                continue
            if record.status is StepStatus.SKIPPED:
                continue  # never started
            if record.status is StepStatus.STOPPED and not _ended_by_deadline(world, run):
                continue  # ended by the run's end (a stop, a failure): keeps no result
            if (run.run_id, record.step) in world.operator_retried:
                continue
            if events is None:
                events = store.list_events(run.run_id)
            found = _callback_problem(world, run, record, events)
            if found is not None:
                invariant, problem = found
                named = f"{run.run_id}/{record.step}#{record.attempt}"
                chosen = sender.chosen.get((run.run_id, record.step, record.attempt), behaviour)
                verdict.add(invariant, f"{label}: {named} ({chosen}): {problem}")


def _check_stale_callbacks(world: World, verdict: Verdict, label: str) -> None:
    """``callback_stale``: an attempt is closed once its step has claimed a later one
    (the harness sees the claim's write): every callback for it is refused then, a
    result and a heartbeat alike (service/callbacks.py: only the attempt waiting takes
    them). A request that began after that claim (``World.seq``) and was accepted took
    a callback for an attempt no longer there."""
    accepted = [a for a in world.callbacks.answers if a.accepted]
    if not accepted:
        return
    later: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for claim in world.claims:
        later.setdefault((claim.run_id, claim.step), []).append((claim.attempt, claim.seq))
    for answer in accepted:
        run_id, step, attempt = answer.key
        claimed = [seq for n, seq in later.get((run_id, step), []) if n > attempt]
        if claimed and min(claimed) < answer.began_seq:
            verdict.add(
                "callback_stale",
                f"{label}: {run_id}/{step}#{attempt}: a {answer.kind} accepted ({answer.detail})"
                f" by a request begun after attempt {attempt + 1} or later was claimed",
            )


def _callback_problem(
    world: World, run: RunRecord, record: Any, events: list[Any]
) -> tuple[str, str] | None:
    """What is wrong with how a callback step's last attempt ended, if anything: its
    result is the first one recorded for it (its mark); received by the deadline (the
    earlier of the attempt's and its run's), it is the attempt's result (with its
    output), even when the run's deadline ended the run before its done was applied;
    after it, or with none, a timeout (or STOPPED, by the run's end). The run's deadline
    is its own or an ancestor's, whichever comes first (a child run keeps a result
    received by its parent's deadline)."""
    run_id = run.run_id
    spec = _step_spec(world.shape.workflows, record.step.rsplit("/", 1)[-1])
    timeout_ms = int(float(spec.get("timeout") or DEFAULT_WAIT_TIMEOUT_SECONDS) * 1000)
    started = record.started_at or 0
    deadline = started + timeout_ms
    run_ends = deadline_over(world, run)  # its run's, or an ancestor's
    if run_ends is not None and run_ends < deadline:
        deadline = run_ends
    mark = find_result_mark(events, record.step, record.attempt, record.started_at)
    got = record.status.value
    if mark is None:
        want, output = "TIMED_OUT", None
        why = "no result was recorded"
    else:
        received = mark.detail.get("received_at")
        result = mark.detail.get("result") or {}
        if not isinstance(received, int) or received > deadline:
            want, output = "TIMED_OUT", None
            why = f"its result was received at {received}, after the deadline {deadline}"
        elif mark.detail.get("success"):
            want = "SUCCEEDED"
            if spec["type"] == "approval":
                output = {"approved": True, "by": result.get("by"),
                          "comment": result.get("comment")}  # fmt: skip
            else:
                output = result.get("output")
            why = f"its success was received at {received}, by the deadline {deadline}"
        else:
            want, output = "FAILED", None
            why = f"its failure was received at {received}, by the deadline {deadline}"
    if got == "TIMED_OUT" and "heartbeat" in (record.error or ""):
        silence = _longest_silence(world, run_id, record, events, mark)
        beat_ms = int(spec.get("heartbeat_seconds") or 0) * 1000
        if silence is not None and silence < beat_ms:
            return "callback_outcome", (
                f"ended {got} ({record.error}), but its longest silence (from the start's"
                f" mark to its end, between heartbeats and its result) was {silence} ms"
            )
        if silence is not None:
            return None  # silent too long: the heartbeat check timed it out
    if mark is not None and want == "TIMED_OUT" and _accepted(world, record):
        # The first result came after the deadline: it and every result after it are
        # refused (409 deadline_passed), whatever the attempt ended as.
        return "callback_outcome", f"a result was accepted (202), but {why}"
    if got == "STOPPED" and want == "TIMED_OUT":
        return None  # a run that timed out ends its unfinished steps, this one untimely
    if want != "TIMED_OUT" and got in ("TIMED_OUT", "STOPPED") and not _accepted(world, record):
        # The deadline's end landed before the request noted its result on the step:
        # the request was told 409 ("not applied"), or got no answer (it died). Only a
        # result answered 202 is owed.
        return None
    if got != want:
        return "callback_outcome", f"ended {got} ({record.error}), want {want}: {why}"
    if want == "SUCCEEDED" and record.output != output:
        return "callback_outcome", f"output {record.output!r}, want the first result's {output!r}"
    if mark is not None and want != "TIMED_OUT":
        waited = (record.ended_at or 0) - int(mark.detail["received_at"])
        if waited > STUCK_MS:
            return "callback_stuck", f"ended {got} {waited // 1000} s after it was due: {why}"
    return None


def _accepted(world: World, record: Any) -> bool:
    """Whether a result request for this attempt was answered 202."""
    key = (record.run_id, record.step, record.attempt)
    return any(
        a.accepted and a.kind != "heartbeat" and a.key == key for a in world.callbacks.answers
    )


def _acted_on(world: World, run: RunRecord) -> bool:
    """An operator stopped or killed the run, or ended one of its steps, or did so to
    an ancestor (a loop step stopped ends its iterations STOPPED, keeping no result)."""
    while True:
        if run.run_id in world.changed_by_operator:
            return True
        if run.parent_run is None:
            return False
        run = world.inner_store.get_run(run.parent_run)


def _ended_by_deadline(world: World, run: RunRecord) -> bool:
    """The run ended by a deadline, and its waiting steps keep a result received by it:
    its own (TIMED_OUT), or an ancestor's, which stopped it (the ancestor, or the loop
    or subworkflow step that started it, TIMED_OUT; the run ended at or after that
    deadline)."""
    if run.status is RunStatus.TIMED_OUT:
        return True
    if run.status is not RunStatus.STOPPED or run.parent_run is None:
        return False
    ends = deadline_over(world, run)
    if ends is None or run.ended_at is None or run.ended_at < ends:
        return False
    parent = world.inner_store.get_run(run.parent_run)
    step = world.inner_store.get_step(parent.run_id, run.parent_step)
    if step is not None and step.status is StepStatus.TIMED_OUT:
        return True  # the loop or subworkflow step's own timeout stopped it
    return parent.status is RunStatus.TIMED_OUT or _ended_by_deadline(world, parent)


def _run_deadline(world: World, run: RunRecord) -> int | None:
    """When the run times out, by its workflow's ``timeout`` in the shape, from the
    run's start (None: it has none; a loop's iteration runs a body of its own)."""
    wf = next((w for w in world.shape.workflows if w["name"] == run.workflow), None)
    if wf is None or wf.get("timeout") is None:
        return None
    started = run.started_at if run.started_at is not None else run.created_at
    return started + int(float(wf["timeout"]) * 1000)


def _check_run_deadlines(
    world: World, outcomes: list[RunOutcome], verdict: Verdict, label: str
) -> None:
    """``past_run_deadline``: a run whose workflow has a ``timeout`` (its deadline: its
    start + the timeout, ``_run_deadline``, as service/deadlines.run_deadline) does no
    new work after it. An instant *at* the deadline is in time, as the engine judges
    (deadlines.past_run_deadline: ``at > deadline``). Judged, after the run settled:

    - no step *starts* after it: a step item's ``started_at`` is the claiming worker's
      clock read before its claim's write (plan_claim), so a later one is a claim the
      worker decided after the deadline (only the step's latest attempt has one);
    - no user function is invoked for an attempt claimed after it. ``invoked_at`` (and
      an async lambda's ``invoke`` publication) is the clock when the runner was
      called, which in the simulation may be long after the claim: a worker parked at
      a fault point between its claim and its invoke, or clock jumps meanwhile, is a
      start begun in time that the engine cannot take back (it times the attempt out
      when its result comes: attempts.apply_result). So an invocation after the
      deadline is flagged only when its attempt's claim was after it too: the step
      item's ``started_at`` when the invocation is of its latest attempt (claimed no
      later than invoked); else the start of the process that invoked it, the earliest
      its claim can have been (claim and invoke happen in one process: execute, then
      perform), which lets an earlier attempt claimed after the deadline by a process
      begun by it through (the harness records no claim time per attempt);
    - the run does not end SUCCEEDED after it (it ends TIMED_OUT, or earlier);
    - no step ends SUCCEEDED or FAILED after it unless it had its result by then: a
      callback's result received by the deadline (its mark: lifecycle.kept_result,
      end_with_result), or a sleep whose due time was by the deadline (Done at its
      due time, handled after it: attempts.apply_result keeps it). Any other result
      handled after the deadline times the run out instead.

    Child runs (loop iterations, subworkflow runs) are judged only by a timeout of
    their own (a loop's body has none; a subworkflow's workflow may). Costs nothing in
    a shape without a timed workflow; else one step listing per judged run."""
    workflows = world.shape.workflows
    timed = {w["name"] for w in workflows if w.get("timeout") is not None}
    if not timed:
        return
    store = world.inner_store
    runs = [o.run for o in outcomes if o.run is not None]
    if world.restarted:  # an operator's restart is a run with the same timeout
        runs += store.get_runs(sorted(world.restarted)).values()
    if _subworkflow_targets(workflows) & timed:
        runs += _tree_runs(store, [r.run_id for r in runs])
    deadlines: dict[str, int] = {}
    records: dict[tuple[str, str], Any] = {}
    for run in runs:
        deadline = _run_deadline(world, run)
        if deadline is None or run.run_id in deadlines:
            continue
        deadlines[run.run_id] = deadline
        for s in store.list_steps(run.run_id):
            records[(run.run_id, s.step)] = s
            _check_step_in_time(world, run, s, deadline, verdict, label)
        late = (run.ended_at or 0) - deadline
        if run.status is RunStatus.SUCCEEDED and late > 0:
            verdict.add(
                "past_run_deadline",
                f"{label}: run {run.run_id} ended SUCCEEDED {late} ms after its deadline"
                f" {deadline}",
            )
    calls = [
        (run_id, step, attempt, at, world.invoked_by.get((run_id, step, attempt)))
        for (run_id, step), each in world.invoked_at.items()
        if run_id in deadlines
        for attempt, at in each
    ]
    calls += [
        (key[0], key[1], key[2], pub.at, pub.proc)
        for (key, what), pubs in world.callbacks.publications.items()
        if what == "invoke" and key[0] in deadlines
        for pub in pubs
    ]
    for run_id, step, attempt, at, proc in calls:
        deadline = deadlines[run_id]
        if at <= deadline:
            continue
        record = records.get((run_id, step))
        started = record.started_at if record is not None and record.attempt == attempt else None
        if started is not None and started <= at:
            claimed, how = started, "claimed"
        elif proc is not None:
            claimed, how = proc.started_ms, f"its worker {proc.label} began"
        else:
            claimed, how = at, "claimed"
        if claimed > deadline:
            verdict.add(
                "past_run_deadline",
                f"{label}: {run_id}/{step}#{attempt} invoked {at - deadline} ms after the"
                f" run's deadline {deadline} ({how} {claimed - deadline} ms after it)",
            )


def _check_step_in_time(
    world: World, run: RunRecord, record: Any, deadline: int, verdict: Verdict, label: str
) -> None:
    named = f"{run.run_id}/{record.step}#{record.attempt}"
    started = record.started_at
    if started is not None and started > deadline:
        verdict.add(
            "past_run_deadline",
            f"{label}: {named} ({record.status.value}) started {started - deadline} ms after"
            f" the run's deadline {deadline}",
        )
    ended = record.ended_at
    if ended is None or ended <= deadline or record.status not in _RESULTS:
        return
    if _had_result_by(world, run, record, deadline):
        return
    verdict.add(
        "past_run_deadline",
        f"{label}: {named} ended {record.status.value} {ended - deadline} ms after the run's"
        f" deadline {deadline}, with no result by then",
    )


_RESULTS = frozenset({StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.FAILED_IGNORED})


def _had_result_by(world: World, run: RunRecord, record: Any, deadline: int) -> bool:
    """Whether a step that ended after its run's deadline had its result by it: a
    callback's result received by then (its mark, as kept_result finds it), or a
    sleep's due time by then (read only for such a step: rare)."""
    try:
        spec = _step_spec(world.shape.workflows, record.step.rsplit("/", 1)[-1])
    except KeyError:
        spec = {}
    if spec.get("type") == "sleep" and record.started_at is not None:
        return bool(record.started_at + int(spec["seconds"]) * 1000 <= deadline)
    events = world.inner_store.list_events(run.run_id)
    mark = find_result_mark(events, record.step, record.attempt, record.started_at)
    received = mark.detail.get("received_at") if mark is not None else None
    return isinstance(received, int) and received <= deadline


def _subworkflow_targets(workflows: Any) -> set[str]:
    """The workflows the shape's subworkflow steps start (in loop bodies too)."""
    found: set[str] = set()
    todo = [s for w in workflows for s in w["steps"]]
    while todo:
        spec = todo.pop()
        if spec.get("type") == "subworkflow":
            found.add(spec["workflow"])
        todo += spec.get("steps", [])
    return found


def _longest_silence(
    world: World, run_id: str, record: Any, events: list[Any], mark: Any
) -> int | None:
    """The longest time without news of the attempt from its start's mark (the token
    in the timeline) to its end, news being an accepted heartbeat or its result, at
    most (a heartbeat was written between its request's start and its answer); None
    when its start left no mark."""
    from podium.service.runtimes.callback import token_event_id

    wanted = token_event_id(record.step, record.attempt)
    begun = [e.at for e in events if e.event_id == wanted and e.at >= (record.started_at or 0)]
    if not begun:
        return None
    end = record.ended_at or 0
    key = (run_id, record.step, record.attempt)
    start = max(begun)
    news = [
        (a.began, a.at)
        for a in world.callbacks.answers
        if a.key == key and a.accepted and a.kind == "heartbeat"
    ]
    if mark is not None:
        received = int(mark.detail["received_at"])
        news.append((received, received))
    within = [n for n in news if start <= n[1] and n[0] <= end]
    points = sorted([(start, start), *within, (end, end)])
    return max((b[1] - a[0] for a, b in itertools.pairwise(points)), default=0)


def _emits_of(steps: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The signal names each step's ``emit`` sends, by step id (loop bodies included)."""
    found: dict[str, list[str]] = {}
    for step in steps:
        if step.get("emit"):
            found[step["id"]] = [entry["signal"] for entry in step["emit"]]
        found.update(_emits_of(step.get("steps") or []))
    return found


def _check_emits(world: World, outcomes: list[RunOutcome], verdict: Verdict, label: str) -> None:
    """A step's ``emit`` is sent when, and only when, the step ends SUCCEEDED: each
    entry under its request id (``emit:RUN/STEP/INDEX``), whatever crashed between the
    success and the send (a replay's, or a kept success's emit message). Each is sent
    once by construction (its request id)."""
    emits: dict[str, list[str]] = {}
    for doc in world.shape.workflows:
        emits.update(_emits_of(doc["steps"]))
    if not emits:
        return
    store = world.inner_store
    now = world.clock.now_ms()
    sent = {
        s.request_id
        for name in sorted({n for names in emits.values() for n in names})
        for s in store.signals().find(name, [], now=now, limit=10_000)
    }
    tops = [o.run.run_id for o in outcomes if o.run is not None]
    runs = list(store.get_runs(tops).values()) + _tree_runs(store, tops) if tops else []
    for run in runs:
        for record in store.list_steps(run.run_id):
            for index, _ in enumerate(emits.get(record.step, ())):
                there = emit_request_id(run.run_id, record.step, index) in sent
                succeeded = record.status is StepStatus.SUCCEEDED
                if succeeded and not there:
                    verdict.add(
                        "emit_lost",
                        f"{label}: {run.run_id}/{record.step} SUCCEEDED, emit {index} not sent",
                    )
                elif there and not succeeded:
                    verdict.add(
                        "emit_unearned",
                        f"{label}: {run.run_id}/{record.step} is {record.status.value},"
                        f" yet emit {index} was sent",
                    )


def _check_loops(world: World, outcomes: list[RunOutcome], verdict: Verdict, label: str) -> None:
    """``loop_inconsistent``, for every foreach and while step in the trees of the runs
    started, once its run ended:

    - no more than its ``concurrency`` iterations at once: a child run exists from its
      launch (``created_at``) to its end (``ended_at``), inside the time its loop
      counts it as running (launched before the child is created, counted after it
      ended), so an overlap of more is a launch past the limit;
    - each ended iteration's steps ended (a stopped one may drop work not started);
    - the step's counters (ok, failed, stopped) are its children's ends, every child
      it opened counted once (a fence, created ended, is a stop; it may be past the
      launched mark)."""
    store = world.inner_store
    tops = [o.run.run_id for o in outcomes if o.run is not None] + sorted(world.restarted)
    tops_runs = store.get_runs(tops) if tops else {}
    for run in [*tops_runs.values(), *_tree_runs(store, tops)]:
        if not run.status.terminal:
            continue  # reported as run_not_terminal
        definition = world.ctx.definitions.get(run.workflow, run.version)
        for s in store.list_steps(run.run_id):
            spec = definition.step(s.step)
            if spec.type not in ("foreach", "while") or s.children_launched == 0:
                continue
            where = f"{label}: {run.run_id}/{s.step}"
            limit = getattr(spec, "concurrency", 1) if spec.type == "foreach" else 1
            # Past the launched mark: fences of indexes a launch racing the loop's end
            # opened (a launch opens at most its concurrency's worth at once).
            last = s.children_launched + 2 * limit
            children = store.get_runs([child_run_id(run.run_id, s.step, i) for i in range(last)])
            launched = s.children_launched
            fenced = sum(1 for c in children.values() if (c.parent_index or 0) >= launched)
            _check_loop_counts(s, children, s.children_launched + fenced, verdict, where)
            most = _most_at_once(children.values())
            if most > limit:
                verdict.add(
                    "loop_inconsistent", f"{where}: {most} iterations at once (limit {limit})"
                )
            for child in children.values():
                for cs in store.list_steps(child.run_id):
                    open_ok = child.status is RunStatus.STOPPED and cs.status in (
                        StepStatus.PENDING,
                        StepStatus.READY,
                    )
                    if child.status.terminal and not cs.status.terminal and not open_ok:
                        verdict.add(
                            "loop_inconsistent",
                            f"{where}: iteration {child.run_id} ({child.status.value}) step"
                            f" {cs.step} is {cs.status.value}",
                        )


def _check_loop_counts(
    s: Any, children: Mapping[str, RunRecord], opened: int, verdict: Verdict, where: str
) -> None:
    """The loop step's counters against its children's ends (see _check_loops)."""
    ends = Counter(outcome_of(c.status) for c in children.values() if c.status.terminal)
    counted = {"ok": s.children_ok, "failed": s.children_failed, "stopped": s.children_stopped}
    if dict(counted) != {k: ends.get(k, 0) for k in counted} or sum(counted.values()) != opened:
        verdict.add(
            "loop_inconsistent",
            f"{where}: counted {counted} of {opened} opened; its children ended {dict(ends)}"
            f" ({opened - len(children)} never created)",
        )


def _most_at_once(children: Any) -> int:
    """The most child runs alive at one moment: each from ``created_at`` to
    ``ended_at`` (an end at the instant of another's launch is before it)."""
    edges: list[tuple[int, int]] = []
    for c in children:
        if c.ended_at is None or c.ended_at <= c.created_at:
            continue  # never ran (a fence, an iteration taken over from a restart)
        edges += [(c.created_at, 1), (c.ended_at, -1)]
    most = alive = 0
    for _, delta in sorted(edges):  # at one instant the ends (-1) come first
        alive += delta
        most = max(most, alive)
    return most


def _tree_runs(store: Any, run_ids: list[str]) -> list[RunRecord]:
    """Every child run below the runs named (loop iterations, subworkflow runs), found
    from their parent steps: a child's id is derived from its step and index."""
    found: list[RunRecord] = []
    todo = list(run_ids)
    while todo:
        run_id = todo.pop()
        for s in store.list_steps(run_id):
            ids = [child_run_id(run_id, s.step, i) for i in range(s.children_launched)]
            children = store.get_runs(ids) if ids else {}  # batched: 100 a request
            found += children.values()
            todo += children
    return found


def _check_expected(shape: Shape, outcomes: list[RunOutcome], verdict: Verdict, label: str) -> None:
    _check_loose(shape, outcomes, verdict, label)
    if shape.run_loose is not None:
        for o in outcomes:
            if o.run is not None and o.run.status.value not in shape.run_loose:
                verdict.add(
                    "unexpected_result",
                    f"{label}: run #{o.index} ended {o.run.status.value} (want one of"
                    f" {sorted(shape.run_loose)})",
                )
    if shape.first_only:
        ended = [o.run.status for o in outcomes if o.run is not None]
        if any(st not in (RunStatus.SUCCEEDED, RunStatus.DISCARDED) for st in ended) or (
            RunStatus.SUCCEEDED not in ended
        ):
            verdict.add(
                "unexpected_result",
                f"{label}: first_only runs ended {[st.value for st in ended]}",
            )
        return
    if shape.last_only:
        newest = newest_index(outcomes)
        for o in outcomes:
            if o.run is None or o.index == newest:
                continue
            if o.run.status not in _OLDER_LAST_ONLY:
                verdict.add(
                    "unexpected_result",
                    f"{label}: older last_only run #{o.index} ended {o.run.status.value}",
                )
        if newest is not None:
            o = outcomes[newest]
            assert o.run is not None
            if o.run.status is not RunStatus.SUCCEEDED:
                verdict.add(
                    "unexpected_result",
                    f"{label}: the newest last_only run #{newest} ended {o.run.status.value}"
                    f" ({o.run.reason})",
                )
        return
    for o, want in zip(outcomes, shape.expected, strict=False):
        if want is None or o.run is None:
            continue
        status, steps = summary(o)
        wrong = {k: steps.get(k) for k, v in want.steps.items() if steps.get(k) != v}
        if (status != want.status and shape.run_loose is None) or wrong:
            verdict.add(
                "unexpected_result",
                f"{label}: run #{o.index} {status} (want {want.status}); steps {wrong}"
                f" (want {want.steps})",
            )


def _judged_by_each_other(world: World) -> bool:
    """A first_only, last_only or strict_sequential shape whose runs an operator changed:
    which run goes on and which is discarded, stopped or blocked depends on that (a
    stopped run lets the next one in, a killed strict one blocks the queue until an
    operator unblocks it, a restart is a new run of the workflow), so the shape's
    expectations (judged by the runs together) do not apply; every run must still end
    and settle, with no slot, queue entry or permit held (_check_ends)."""
    shape = world.shape
    strict = any(w.get("run_strategy") == "strict_sequential" for w in shape.workflows)
    acted = world.changed_by_operator or world.restarted or world.operator_retried
    return bool((shape.first_only or shape.last_only or strict) and acted)


def compare(baseline: list[RunOutcome], faulty: World, verdict: Verdict) -> None:
    """The faulty world against the fault-free run of the same workload."""
    outcomes = faulty.outcomes()
    if _judged_by_each_other(faulty):
        return
    if faulty.shape.first_only:
        oks = [summary(o) for o in baseline if o.run and o.run.status is RunStatus.SUCCEEDED]
        for o in outcomes:
            succeeded = o.run is not None and o.run.status is RunStatus.SUCCEEDED
            if succeeded and summary(o) not in oks:
                verdict.add(
                    "result_differs",
                    f"first_only run #{o.index}: {summary(o)} vs fault-free {oks}",
                )
        return
    if faulty.shape.last_only:
        want, got = newest_index(baseline), newest_index(outcomes)
        if want is None or got is None:
            return
        if summary(baseline[want]) != summary(outcomes[got]):
            verdict.add(
                "result_differs",
                f"newest run #{got}: {summary(outcomes[got])} vs fault-free"
                f" {summary(baseline[want])}",
            )
        return
    loose = faulty.shape.loose
    run_loose = faulty.shape.run_loose
    for base, o in zip(baseline, outcomes, strict=True):
        if o.run is not None and o.run.run_id in faulty.changed_by_operator:
            continue  # stopped by an operator: ends as the stop found it
        if run_loose is not None:
            if summary(base, loose)[1] != summary(o, loose)[1]:
                verdict.add(
                    "result_differs",
                    f"run #{o.index}: steps {summary(o, loose)[1]} vs fault-free"
                    f" {summary(base, loose)[1]}",
                )
            continue
        if summary(base, loose) != summary(o, loose):
            verdict.add(
                "result_differs",
                f"run #{o.index}: {summary(o, loose)} vs fault-free {summary(base, loose)}",
            )


def _fault_free(world: World) -> bool:
    """The baseline world: no fault was ever drawn (and no operator acts in it)."""
    return world.rates == FaultRates.none() and not hasattr(world, "action_rng")


def _check_fault_free_timing(
    world: World, outcomes: list[RunOutcome], verdict: Verdict, label: str
) -> None:
    """``late_fault_free``: with no crash, no lost message and no clock jump, nothing
    waits for the sweeper. A timer or a message the engine forgot to send is made up
    for by the sweeper (a stale step redriven, a queued run admitted, a lease
    reclaimed), so the run still ends as it should, minutes late: on AWS every retry,
    sleep or queued run would wait that long. Judged on the fault-free world only
    (faults delay things legitimately), where the timings are exact:

    - a step's first retry (attempt 2) is invoked within its ``retry_delay_seconds``
      of attempt 1 (plus LATE_FAULT_FREE_MS); see the retry loop in check_world;
    - a ``sleep`` step that SUCCEEDED ended within its ``seconds`` of its start;
    - a step or a run that ended TIMED_OUT did so within its ``timeout`` of its start
      (the deadline's timer ends it);
    - a run that waited QUEUED (a run limit, a strict queue) started within
      LATE_FAULT_FREE_MS of the end of another run of its workflow (the end that freed
      its slot admits it), or of an unblock of its workflow's queue;
    - a step that queued for a concurrency key claimed its permit within
      LATE_FAULT_FREE_MS of the last release of a permit of that key before its claim
      (or of its queueing): a release wakes the head of the queue (permits.wake_head);
      one that forgot to leaves the waiter to the sweeper's wake, up to a minute later.

    The baseline runs once per shape, so this costs nothing per seed."""
    store = world.inner_store
    tops = [o.run.run_id for o in outcomes if o.run is not None]
    runs = list(store.get_runs(tops).values()) + _tree_runs(store, tops) if tops else []
    sleeps = _sleep_seconds(world.shape.workflows)
    if sleeps:
        for run in runs:
            for s in store.list_steps(run.run_id):
                seconds = sleeps.get(s.step)
                if seconds is None or s.status is not StepStatus.SUCCEEDED:
                    continue
                if s.started_at is None or s.ended_at is None:
                    continue
                took = s.ended_at - s.started_at
                if took > seconds * 1000 + LATE_FAULT_FREE_MS:
                    verdict.add(
                        "late_fault_free",
                        f"{label}: {run.run_id}/{s.step} slept {took} ms; seconds is {seconds}",
                    )
    for run in runs:
        # A deadline's timer ends what outlives it at once (the sweeper would only come
        # minutes later): a step TIMED_OUT within its ``timeout``, a run within its own.
        compiled = world.ctx.definitions.get(run.workflow, run.version)
        own = compiled.definition.timeout
        if run.status is RunStatus.TIMED_OUT and own is not None and run.started_at is not None:
            took = (run.ended_at or 0) - run.started_at
            if took > float(own) * 1000 + LATE_FAULT_FREE_MS:
                verdict.add(
                    "late_fault_free",
                    f"{label}: run {run.run_id} timed out after {took} ms; its timeout is {own} s",
                )
        for s in store.list_steps(run.run_id):
            spec = compiled.by_id.get(s.step)
            limit = getattr(spec, "timeout", None)
            if s.status is not StepStatus.TIMED_OUT or limit is None:
                continue
            if s.started_at is None or s.ended_at is None:
                continue
            if s.ended_at - s.started_at > float(limit) * 1000 + LATE_FAULT_FREE_MS:
                verdict.add(
                    "late_fault_free",
                    f"{label}: {run.run_id}/{s.step} timed out after"
                    f" {s.ended_at - s.started_at} ms; its timeout is {limit} s",
                )
    _check_key_wake_ups(world, verdict, label)
    # What frees a queued run's way: another run's end, or an unblock of a strict queue.
    ends: dict[str, list[int]] = {wf: [at for _, at in u] for wf, u in world.unblocks.items()}
    for run in runs:
        if run.parent_run is None and run.ended_at is not None:
            ends.setdefault(run.workflow, []).append(run.ended_at)
    for run in runs:
        if run.parent_run is not None or run.started_at is None:
            continue
        if run.started_at - run.created_at <= LATE_FAULT_FREE_MS:
            continue  # admitted at once
        freed = [e for e in ends.get(run.workflow, []) if e <= run.started_at]
        if not freed or run.started_at - max(freed) > LATE_FAULT_FREE_MS:
            last = max(freed) if freed else None
            verdict.add(
                "late_fault_free",
                f"{label}: run {run.run_id} waited queued {run.started_at - run.created_at}"
                f" ms; the last run of {run.workflow} before its start ended (or its queue"
                f" was unblocked) at {last}, {run.started_at - (last or run.created_at)} ms"
                " before it",
            )


def _check_key_wake_ups(world: World, verdict: Verdict, label: str) -> None:
    """``late_fault_free`` (fault-free world): a step that queued for a concurrency key
    claims a permit soon after one is given back (see _check_fault_free_timing). The
    last release before the claim is the latest moment the key can have had room (a
    waiter ahead of it may take an earlier one), so this flags no waiter that was
    rightly behind others."""
    for wait in world.key_waits:
        claimed = wait.claimed_at
        if claimed is None:
            continue
        released = [at for at in world.key_releases.get(wait.key, ()) if at <= claimed]
        room = max([wait.queued_at, *released])
        if claimed - room > LATE_FAULT_FREE_MS:
            verdict.add(
                "late_fault_free",
                f"{label}: {wait.holder} claimed a permit of {wait.key} {claimed - room} ms"
                f" after the last release before it (it queued at {wait.queued_at},"
                f" released at {released[-3:]}, claimed at {claimed})",
            )


def _check_fault_free_steps(
    shape: Shape, outcomes: list[RunOutcome], verdict: Verdict, label: str
) -> None:
    """``unexpected_result``: a loose step (timing under faults decides it) ends in the
    fault-free world as the semantics say (``Shape.fault_free_steps``)."""
    for o in outcomes:
        if o.run is None:
            continue
        for step, want in shape.fault_free_steps.items():
            got = o.steps[step].status.value if step in o.steps else None
            if got != want:
                verdict.add(
                    "unexpected_result",
                    f"{label}: run #{o.index} step {step} is {got} without faults (want {want})",
                )


def _sleep_seconds(steps_or_workflows: Any) -> dict[str, int]:
    """The ``sleep`` steps of the shape's workflows (loop bodies included): seconds by
    step id."""
    found: dict[str, int] = {}
    todo = [s for w in steps_or_workflows for s in w["steps"]]
    while todo:
        spec = todo.pop()
        if spec.get("type") == "sleep":
            found[spec["id"]] = int(spec["seconds"])
        todo += spec.get("steps", [])
    return found


def _check_work_after_end(world: World, verdict: Verdict, label: str) -> None:
    """``work_after_end``: an attempt's user function (a lambda invoke, an async
    lambda's ``Event`` invoke) invoked by a process that began after the attempt's run
    had ended (its final end: ``ended_at``). Such a process read the run after its
    end, so every path it took (a work message, a timer, a sweep) must have seen the
    run ended and started nothing. A process begun before the end may still invoke
    after it: a claim made before the end (or a successor claimed in-process) is a
    start the engine cannot take back (the ended check a lease later closes it), so
    it is not judged. One batched read of the runs invoked."""
    calls = [
        (run_id, step, attempt, at, world.invoked_by.get((run_id, step, attempt)))
        for (run_id, step), each in world.invoked_at.items()
        for attempt, at in each
    ]
    calls += [
        (key[0], key[1], key[2], pub.at, pub.proc)
        for (key, what), pubs in world.callbacks.publications.items()
        if what == "invoke"
        for pub in pubs
    ]
    if not calls:
        return
    runs = world.inner_store.get_runs(sorted({c[0] for c in calls}))
    for run_id, step, attempt, at, proc in calls:
        run = runs.get(run_id)
        if run is None or not run.status.terminal or run.ended_at is None or proc is None:
            continue
        # The end's write, not its ``ended_at``: a stop takes its time, then writes (a
        # process parked in between reads the run RUNNING after that time).
        ended = max(run.ended_at, world.ended_writes.get(run_id, run.ended_at))
        if proc.started_ms > ended and at > ended:
            verdict.add(
                "work_after_end",
                f"{label}: {run_id}/{step}#{attempt} invoked {at - ended} ms after its"
                f" run ended {run.status.value}, by {proc.label}, begun"
                f" {proc.started_ms - ended} ms after the end",
            )


def _waiting_steps(steps: list[dict[str, Any]]) -> set[str]:
    """The ids of the steps with a ``wait_for`` (loop bodies included)."""
    found: set[str] = set()
    for step in steps:
        if step.get("wait_for"):
            found.add(step["id"])
        found |= _waiting_steps(step.get("steps") or [])
    return found


def _check_signal_matches(
    world: World, outcomes: list[RunOutcome], verdict: Verdict, label: str
) -> None:
    """``signal_mismatch``: a step with a ``wait_for`` released (its matched signals on
    its item) by a signal of the entry's name whose params do not meet the entry's
    ``match`` (a send of another day, say, must not start it). Costs nothing in a shape
    without a ``wait_for``; else one step listing per run."""
    waiting: set[str] = set()
    for doc in world.shape.workflows:
        waiting |= _waiting_steps(doc["steps"])
    if not waiting:
        return
    store = world.inner_store
    tops = [o.run.run_id for o in outcomes if o.run is not None] + sorted(world.restarted)
    runs = list(store.get_runs(tops).values()) + _tree_runs(store, tops) if tops else []
    for run in runs:
        for record in store.list_steps(run.run_id):
            if record.step not in waiting or not isinstance(record.signals, dict):
                continue  # not released (or its signals stored apart: big)
            spec = world.ctx.definitions.get(run.workflow, run.version).step(record.step)
            for wait in spec.wait_for:
                got = record.signals.get(wait.signal)
                if not isinstance(got, dict) or not isinstance(got.get("params"), dict):
                    continue
                params = got["params"]
                if not all(
                    param_holds(params.get(c.param), c.op, c.value) for c in wait.conditions
                ):
                    verdict.add(
                        "signal_mismatch",
                        f"{label}: {run.run_id}/{record.step} released by {wait.signal}"
                        f" {params} (signal {got.get('signal_id')}); it waits for"
                        f" match {wait.match}",
                    )


def _check_paused_claims(world: World, verdict: Verdict, label: str) -> None:
    """``ran_while_paused``: no step attempt is claimed (started) while its run, or an
    ancestor run (the loop step's or subworkflow step's run above a child run; not a
    detached subworkflow's: a parent's pause leaves it alone), is PAUSED: after the
    store write that paused it and before the one that moved it on (the harness sees
    both at the write: World.observe_write). A paused run's steps are held PAUSED
    instead, and start on resume (docs/operations.md, "Acting on runs").

    What the semantics allow:
    - a claim given back unstarted (a worker that claimed a successor in-process finds
      its run paused and hands the claim back: service/continuations.py) is no start;
    - a claim made on a read of its run taken before the pause (the claiming process's
      last ``get_run`` of the run came before the pause's write): the worker decided
      before it could know (the docs' known limit; a worker parked between its read
      and its claim stretches the instant);
    - a claim within run_reads.STATUS_FRESH_MS of the pause: an in-process continuation
      goes on from a read of its run up to that old (possibly another process's);
    - under an ancestor's pause, a claim made before the pausing process had walked the
      run's tree (its own read of the run came before that process was done), or after
      a pause that a fault cut short (the walk is not asked again: the run stays
      running until its resume).
    Breakpoints and step resumes are not among the simulation's actions (a step is
    resumed only in a RUNNING run); no step type starts in a paused run by design.
    Costs nothing without a pause; else one batched read of the claimed runs (and of
    their ancestors)."""
    spans = world.pause_spans
    if not spans:
        return
    claims = [c for c in world.claims if not c.given_back]
    runs: dict[str, RunRecord] = {}
    todo = sorted({c.run_id for c in claims})
    while todo:
        found = world.inner_store.get_runs(todo)
        runs.update(found)
        todo = sorted({r.parent_run for r in found.values() if r.parent_run} - set(runs))
    lines: dict[str, list[tuple[str, bool]]] = {}
    for claim in claims:
        chain = lines.get(claim.run_id)
        if chain is None:
            chain = lines[claim.run_id] = _pausable_line(world, runs, claim.run_id)
        for run_id, own in chain:
            span = next((s for s in spans.get(run_id, ()) if _during(s, claim.seq)), None)
            if span is None or not _claim_unexcused(claim, span, own):
                continue
            whose = "its run" if own else f"its ancestor run {run_id}"
            read = "no read" if claim.read_seq is None else "a read after the pause"
            verdict.add(
                "ran_while_paused",
                f"{label}: {claim.run_id}/{claim.step}#{claim.attempt} claimed"
                f" {claim.at - span.at} ms after {whose} was paused (by"
                f" {span.by.label if span.by else '?'}), on {read} of the run, by"
                f" {claim.by.label if claim.by else '?'}",
            )
            break


def _pausable_line(
    world: World, runs: Mapping[str, RunRecord], run_id: str
) -> list[tuple[str, bool]]:
    """The run and the ancestors whose pause pauses it: (run id, whether it is the run
    itself), up to a top run or a detached subworkflow's run."""
    chain: list[tuple[str, bool]] = [(run_id, True)]
    run = runs.get(run_id)
    while run is not None and run.parent_run is not None:
        parent = runs.get(run.parent_run)
        if parent is None or detached(world.ctx, run, parent):
            break
        chain.append((parent.run_id, False))
        run = parent
    return chain


def _during(span: PauseSpan, seq: int) -> bool:
    return span.seq < seq and (span.end_seq is None or seq < span.end_seq)


def _claim_unexcused(claim: ClaimSeen, span: PauseSpan, own: bool) -> bool:
    """Whether a claim made while ``span`` paused the run (``own``) or an ancestor has
    none of the excuses ``_check_paused_claims`` lists."""
    if claim.read_seq is not None and claim.read_seq < span.seq:
        return False  # decided on a read from before the pause
    if claim.at - span.at < STATUS_FRESH_MS:
        return False  # an in-process continuation's read may be that old
    if own:
        return True
    walker = span.by
    if walker is None or walker.faults or walker.finished_seq is None:
        return False  # the pause's walk of the tree was cut short
    return walker.finished_seq < (claim.read_seq if claim.read_seq is not None else claim.seq)


def _check_taken_over(world: World, verdict: Verdict, label: str) -> None:
    """``taken_over_unsucceeded``: a step a restart took over (its reason names the run it
    came from, ``reused from run X``: in the restart's run or in an iteration a restarted
    loop took over) must have SUCCEEDED there, with the same output: failed or stopped
    work passed off as done would be skipped by the restart. Costs nothing without a
    restart; else one listing of each restarted run's tree."""
    if not world.restarted:
        return
    store = world.inner_store
    tops = sorted(world.restarted)
    runs = list(store.get_runs(tops).values()) + _tree_runs(store, tops)
    for run in runs:
        for record in store.list_steps(run.run_id):
            origin = taken_over_from(record.reason)
            if origin is None:
                continue
            old = store.get_step(origin, record.step)
            if old is None:
                continue  # its run is gone: nothing to compare
            # A big output is copied under the new run's own key: only its reference differs.
            copied = is_ref(old.output) or is_ref(record.output)
            if old.status is not StepStatus.SUCCEEDED or (
                not copied and old.output != record.output
            ):
                verdict.add(
                    "taken_over_unsucceeded",
                    f"{label}: {run.run_id}/{record.step} taken over from run {origin},"
                    f" where it is {old.status.value} (output {old.output!r:.80} there,"
                    f" {record.output!r:.80} here)",
                )


def _check_run_strategies(world: World, verdict: Verdict, label: str) -> None:
    """``run_strategy_broken``: what a workflow's run strategy promises
    (docs/run-strategies.md), judged by the order of the store writes that took its
    runs through it (World.run_writes, World.unblocks: sequence numbers, exact where
    clock reads are not):

    - first_only: a run created while another run of its workflow runs (after the
      write that made that one RUNNING, before the one that ended it) is DISCARDED at
      once, never queued to start after it;
    - strict_sequential: a FAILED run that held a slot blocks the queue until an
      unblock: no run is admitted after its end write with no unblock write in
      between (an unblock read before that end forgives nothing in advance, and a
      restart of the failed run waits behind the block too).

    Every top run of the workflow counts, an operator's restart too (it goes through
    the strategy as any start), and an operator's stop or kill changes nothing of it.
    Costs nothing in a shape without these strategies; else one listing of runs."""
    for doc in world.shape.workflows:
        strategy = doc.get("run_strategy")
        if strategy not in ("first_only", "strict_sequential"):
            continue
        runs = [r for r in world.inner_store.list_runs(doc["name"], 1000) if r.parent_run is None]
        if strategy == "first_only":
            _check_first_only(world, runs, verdict, label)
        else:
            _check_strict(world, doc["name"], runs, verdict, label)


def _check_first_only(world: World, runs: list[RunRecord], verdict: Verdict, label: str) -> None:
    writes = world.run_writes
    spans = [
        (r.run_id, w.admitted, w.ended)
        for r in runs
        if (w := writes.get(r.run_id)) is not None and w.admitted is not None
    ]
    for run in runs:
        born = writes[run.run_id].created if run.run_id in writes else None
        if run.status is RunStatus.DISCARDED or born is None:
            continue
        for other, admitted, ended in spans:
            if other != run.run_id and admitted < born and (ended is None or born < ended):
                verdict.add(
                    "run_strategy_broken",
                    f"{label}: first_only run {run.run_id} ended {run.status.value}; it was"
                    f" created while run {other} ran (it must be DISCARDED)",
                )
                break


def _check_strict(
    world: World, workflow: str, runs: list[RunRecord], verdict: Verdict, label: str
) -> None:
    writes = world.run_writes
    cleared = [seq for seq, _ in world.unblocks.get(workflow, ())]
    for failed in runs:
        w = writes.get(failed.run_id)
        if failed.status is not RunStatus.FAILED or w is None or w.ended is None:
            continue
        if w.admitted is None:
            continue  # never held a slot (dropped from the queue): it blocks nothing
        end = w.ended
        for run in runs:
            admitted = writes[run.run_id].admitted if run.run_id in writes else None
            if admitted is None or admitted < end:
                continue
            if not any(end < seq < admitted for seq in cleared):
                verdict.add(
                    "run_strategy_broken",
                    f"{label}: strict_sequential run {run.run_id} was admitted after run"
                    f" {failed.run_id} ended FAILED, with no unblock in between",
                )


def _operator_touched(world: World, run_id: str) -> bool:
    """An operator stopped or killed the run, ended one of its steps or retried one in
    place (its loops' iterations' too: by path)."""
    return run_id in world.changed_by_operator or any(
        run == run_id for run, _ in world.operator_retried
    )


def _never_ran(child: RunRecord) -> bool:
    """A loop's fence: an index a racing launch opened, ended STOPPED by the loop's end
    before it was created (loops.close_loop)."""
    return child.status is RunStatus.STOPPED and (child.ended_at or 0) <= child.created_at


def _check_loop_children(
    world: World, outcomes: list[RunOutcome], verdict: Verdict, label: str
) -> None:
    """``loop_outcome``: each loop step a shape names (``Shape.loop_children``) in a run
    of its workload that ended, no operator having changed it, has its iterations (its
    child runs, fences past the launched mark included) ended as its failure policy
    says, counted by run status: every status exactly in the fault-free world, where
    the order in which iterations end is fixed; under faults only the statuses whose
    counts no timing can change (a fail_fast's one failure, a while's iterations up to
    its ``max_iterations``), fences left out. A launch past a finish_running failure, a
    fail_fast that stops nothing, or a while one iteration over its cap changes no
    step's status, only these counts. One batched read of each judged loop's children."""
    wanted = world.shape.loop_children
    if not wanted:
        return
    fault_free = _fault_free(world)
    store = world.inner_store
    for o in outcomes:
        if o.run is None or not o.run.status.terminal or _operator_touched(world, o.run.run_id):
            continue
        definition = world.ctx.definitions.get(o.run.workflow, o.run.version)
        for step, want in wanted.items():
            record = o.steps.get(step)
            if record is None:
                continue
            spec = definition.step(step)
            limit = getattr(spec, "concurrency", 1) if spec.type == "foreach" else 1
            last = record.children_launched + 2 * limit  # fences may be past the mark
            ids = [child_run_id(o.run.run_id, step, i) for i in range(last)]
            children = store.get_runs(ids).values()
            got = Counter(c.status.value for c in children if fault_free or not _never_ran(c))
            judged = set(want.statuses) | set(got) if fault_free else set(want.under_faults)
            if any(got.get(st, 0) != want.statuses.get(st, 0) for st in judged):
                scope = "" if fault_free else f" (under faults: {sorted(want.under_faults)})"
                verdict.add(
                    "loop_outcome",
                    f"{label}: run #{o.index} {step}: its iterations ended {dict(got)}, want"
                    f" {want.statuses}{scope}",
                )


def _check_jobs(world: World, verdict: Verdict, label: str) -> None:
    """``job_lost``: a job the engine submitted (the submit acted, whatever it was
    answered) is followed to its end by the attempt that started it, whose key finds it
    again: its polls, or, when the start was given back (its answer a throttle: nothing
    seemed started), the same attempt's next start, which looks the key up before
    submitting (docs/operations.md: the claim after the backoff finds it). Or it is
    stopped (a timeout, a stop). A job nobody asks about again runs on unwatched, and
    its step's next attempt submits another. A run an operator acted on is left out
    (a kill leaves its work alone)."""
    lost = world.jobs.lost()
    for key in lost:
        run_id, step, attempt = key.rsplit("/", 2)
        if run_id in world.changed_by_operator or (run_id, step) in world.operator_retried:
            continue
        verdict.add(
            "job_lost",
            f"{label}: the job of {run_id}/{step}#{attempt} was submitted, then neither looked"
            " up by its key again nor stopped",
        )


def _check_payloads(world: World, outcomes: list[RunOutcome], verdict: Verdict, label: str) -> None:
    """``payload_differs``: a step the shape names (``Shape.payloads``) that SUCCEEDED
    in a run of its workload, no operator having changed the run, was invoked (the
    attempt it succeeded with) with the rendered ``payload`` the semantics say: what a
    while's final state, or a subworkflow's ``outputs``, hands the step after it. A
    wrong value there changes no status. A step taken over by a restart, never invoked
    in this run, is not judged. Costs nothing in a shape that names none."""
    wanted = world.shape.payloads
    if not wanted:
        return
    for o in outcomes:
        if o.run is None or o.run.run_id in world.changed_by_operator:
            continue
        for step, want in wanted.items():
            record = o.steps.get(step)
            if record is None or record.status is not StepStatus.SUCCEEDED:
                continue
            key = (o.run.run_id, step, record.attempt)
            if key in world.invoked_with and world.invoked_with[key] != want:
                verdict.add(
                    "payload_differs",
                    f"{label}: run #{o.index} {step}#{record.attempt} was invoked with"
                    f" {world.invoked_with[key]!r}, want {want!r}",
                )

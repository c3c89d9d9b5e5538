"""Operators acting at random moments in the simulation: pauses, each resumed a little
later, retries in place of a failed step of a run that still runs, stops, kills and
restarts of runs, and skips and stops of their steps, under the same fault schedules
(crashes inside the actions too). A pause and its resume must change no outcome, leave
no step held, and run nothing twice; a retry gives the failed step one more attempt,
which fails again (the shapes' failures are deterministic), so it changes no outcome
either. The result of a run stopped or killed, or with a step skipped or stopped, is
not compared (it ends as the operator made it), but it must end, with its loops'
iterations and subworkflow runs, everything settled and nothing held, and so must a
restart's new run: an action cut short by a crash is asked again, or finished by the
sweeper if the run ended already. The world's usual invariants and the comparison with
the fault-free run check it.

A separate random stream draws the actions, so a seed's faults are the ones it has
without actions."""

from __future__ import annotations

import heapq
import itertools
import random
from typing import Any

from podium.core.engine.actions import (
    STEP_ACTION_RUNS,
    STEP_ACTIONS,
    ActionRefused,
    RunAction,
    StepAction,
)
from podium.core.engine.errors import NotFound
from podium.core.engine.status import RunStatus, StepStatus
from podium.service.actions import Actor, run_action, step_action
from podium.service.restart import restart_run_id
from podium.sim.harness import World

PAUSE_RATE = 0.03  # per tick, while faults are on
RETRY_RATE = 0.05  # per tick while faults are on and a running run has a failed step
STOP_RATE = 0.005  # a stop or kill: per tick, while faults are on (not in every shape)
STEP_ACT_RATE = 0.01  # a step skipped or stopped: per tick, the same shapes
RESTART_RATE = 0.005  # an ended run restarted (from incomplete): per tick, the same shapes
RETRYABLE = frozenset({StepStatus.FAILED, StepStatus.TIMED_OUT})
_ENDING = (StepAction.SKIP, StepAction.STOP)
_ENDING_RUN = (RunAction.STOP, RunAction.KILL)
MAX_PAUSE_MS = 60_000
RESUME_RETRY_MS = 1_000


class ActingWorld(World):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action_rng = random.Random(self.seed * 104_729 + 3)
        self.pending_resumes: list[tuple[int, int, str, str]] = []  # (due, seq, run, request)
        self._seq = itertools.count()
        self.pauses = 0
        self.resumes = 0
        self.retries = 0
        self.stops = 0
        self.step_ends = 0
        self.restarts = 0
        self.pending_restarts: list[tuple[int, int, str, str]] = []  # (due, seq, run, request)
        self.pending_step_ends: list[tuple[int, int, str, str, StepAction, str]] = []
        # (due, seq, run, stop or kill, request)
        self.pending_stops: list[tuple[int, int, str, RunAction, str]] = []
        self.pending_retries: list[tuple[int, int, str, str, StepStatus, str]] = []

    def tick(self) -> bool:
        now = self.clock.now_ms()
        if self.pending_retries and self.pending_retries[0][0] <= now:
            _, _, run_id, step, was, request = heapq.heappop(self.pending_retries)
            self.start_retry(run_id, step, was, request)
            return True
        if self.pending_restarts and self.pending_restarts[0][0] <= now:
            _, _, run_id, request = heapq.heappop(self.pending_restarts)
            self.start_restart(run_id, request)
            return True
        if self.pending_step_ends and self.pending_step_ends[0][0] <= now:
            _, _, run_id, step, action, request = heapq.heappop(self.pending_step_ends)
            self.start_step_end(run_id, step, action, request)
            return True
        if self.pending_stops and self.pending_stops[0][0] <= now:
            _, _, run_id, ending, request = heapq.heappop(self.pending_stops)
            self.start_stop(run_id, ending, request)
            return True
        if self.pending_resumes and self.pending_resumes[0][0] <= now:
            _, _, run_id, request = heapq.heappop(self.pending_resumes)
            self.start_resume(run_id, request)
            return True
        if self.faults_on and self.run_ids and self.action_rng.random() < PAUSE_RATE:
            self.start_pause(self.action_rng.choice(sorted(self.run_ids.values())))
            return True
        if self.faults_on and self.run_ids and self._stoppable(STOP_RATE):
            run_id = self.action_rng.choice(sorted(self.run_ids.values()))
            self.start_stop(run_id, self.action_rng.choice(_ENDING_RUN))
            return True
        if self.faults_on and self.run_ids and self._stoppable(RESTART_RATE):
            ended = self._ended_runs()
            if ended:
                self.start_restart(self.action_rng.choice(ended))
                return True
        if self.faults_on and self.run_ids and self._stoppable(STEP_ACT_RATE):
            picked = self._step_to_end()
            if picked is not None:
                self.start_step_end(*picked)
                return True
        if self.faults_on and self.run_ids and self.action_rng.random() < RETRY_RATE:
            failed = self._failed_steps()
            if failed:
                self.start_retry(*self.action_rng.choice(failed))
                return True
        if super().tick():
            return True
        heads = self.pending_resumes[:1] + self.pending_stops[:1]
        pending = [p[0] for p in heads] + [p[0] for p in self.pending_retries[:1]]
        pending += [p[0] for p in self.pending_step_ends[:1] + self.pending_restarts[:1]]
        if pending:  # nothing else to do: time passes to the next resume or retry
            self.clock.advance_to(min(pending))
            return True
        return False

    def start_pause(self, run_id: str) -> None:
        n = next(self._seq)

        def call() -> None:
            try:
                run_action(self.ctx, run_id, RunAction.PAUSE, Actor("sim", request_id=f"p{n}"))
                self.pauses += 1
            except (ActionRefused, NotFound):
                pass  # not running (not created yet, queued, ended, paused): nothing to resume

        def done(_proc: Any) -> None:
            # Resume in any case: a pause that crashed may have paused the run anyway.
            due = self.clock.now_ms() + self.action_rng.randrange(1, MAX_PAUSE_MS)
            heapq.heappush(self.pending_resumes, (due, next(self._seq), run_id, f"r{n}"))

        self.spawn("api", f"api<pause {run_id}>", call, done)

    def _stoppable(self, rate: float) -> bool:
        # Drawn only where the shape's expectations stand without the run changed: the
        # first_only and last_only shapes judge runs by the others, and a strict_sequential
        # run that does not succeed blocks the next ones until an operator unblocks them.
        shape = self.shape
        strict = any(w.get("run_strategy") == "strict_sequential" for w in shape.workflows)
        if shape.first_only or shape.last_only or strict:
            return False
        return self.action_rng.random() < rate

    def _ended_runs(self) -> list[str]:
        """Runs of the shape, and restarts, that ended (no faults): what may be restarted."""
        ended: list[str] = []
        for run_id in sorted({*self.run_ids.values(), *self.restarted}):
            try:
                if self.inner_store.get_run(run_id).status.terminal:
                    ended.append(run_id)
            except NotFound:
                continue
        return ended

    def start_restart(self, run_id: str, request: str | None = None) -> None:
        """A new run of an ended one (from incomplete: what succeeded is reused, a loop's
        iterations included); a run is restarted at most once (its new run's id is
        derived from it), so asking again only finds that run."""
        request = request or f"x{next(self._seq)}"
        self.restarted.add(restart_run_id(run_id))

        def call() -> None:
            try:
                run_action(self.ctx, run_id, RunAction.RESTART, Actor("sim", request_id=request))
                self.restarts += 1
            except (ActionRefused, NotFound):
                pass

        def done(proc: Any) -> None:
            if proc.error is not None:  # the operator asks again with the same request
                due = self.clock.now_ms() + RESUME_RETRY_MS
                heapq.heappush(self.pending_restarts, (due, next(self._seq), run_id, request))

        self.spawn("api", f"api<restart {run_id}>", call, done)

    def _step_to_end(self) -> tuple[str, str, StepAction] | None:
        """A step of a running run that an operator may skip or stop now (no faults)."""
        found: list[tuple[str, str, StepAction]] = []
        for run_id in sorted(self.run_ids.values()):
            try:
                run = self.inner_store.get_run(run_id)
            except NotFound:
                continue
            if run.status not in STEP_ACTION_RUNS[StepAction.STOP]:
                continue
            for s in self.inner_store.list_steps(run_id):
                allowed = STEP_ACTIONS.get(s.status, frozenset())
                found += [(run_id, s.step, a) for a in _ENDING if a in allowed]
        return self.action_rng.choice(found) if found else None

    def start_step_end(
        self, run_id: str, step: str, action: StepAction, request: str | None = None
    ) -> None:
        request = request or f"e{next(self._seq)}"
        self.changed_by_operator.add(run_id)

        def call() -> None:
            try:
                step_action(self.ctx, run_id, step, action, Actor("sim", request_id=request))
                self.step_ends += 1
            except (ActionRefused, NotFound):
                pass  # the step or the run moved on meanwhile

        def done(proc: Any) -> None:
            if proc.error is not None:  # the operator asks again with the same request
                due = self.clock.now_ms() + RESUME_RETRY_MS
                entry = (due, next(self._seq), run_id, step, action, request)
                heapq.heappush(self.pending_step_ends, entry)

        self.spawn("api", f"api<{action.value} {run_id}/{step}>", call, done)

    def start_stop(self, run_id: str, action: RunAction, request: str | None = None) -> None:
        """A stop, or a kill (the same, ending the run FAILED)."""
        request = request or f"s{next(self._seq)}"
        self.changed_by_operator.add(run_id)

        def call() -> None:
            try:
                run_action(self.ctx, run_id, action, Actor("sim", request_id=request))
                self.stops += 1
            except (ActionRefused, NotFound):
                pass  # ended already (or not created yet): the sweeper finishes a cut stop

        def done(proc: Any) -> None:
            if proc.error is not None:  # the operator asks again with the same request
                due = self.clock.now_ms() + RESUME_RETRY_MS
                entry = (due, next(self._seq), run_id, action, request)
                heapq.heappush(self.pending_stops, entry)

        self.spawn("api", f"api<{action.value} {run_id}>", call, done)

    def _failed_steps(self) -> list[tuple[str, str, StepStatus]]:
        """(run, step, status) of failed steps in runs that still run (no faults)."""
        found: list[tuple[str, str, StepStatus]] = []
        for run_id in sorted(self.run_ids.values()):
            try:
                run = self.inner_store.get_run(run_id)
            except NotFound:
                continue
            if run.status is RunStatus.RUNNING:
                found += [
                    (run_id, s.step, s.status)
                    for s in self.inner_store.list_steps(run_id)
                    if s.status in RETRYABLE
                ]
        return found

    def start_retry(
        self, run_id: str, step: str, was: StepStatus, request: str | None = None
    ) -> None:
        request = request or f"t{next(self._seq)}"
        self.operator_retried.setdefault((run_id, step), was)

        def call() -> None:
            try:
                step_action(
                    self.ctx, run_id, step, StepAction.RETRY, Actor("sim", request_id=request)
                )
                self.retries += 1
            except (ActionRefused, NotFound):
                pass  # the run ended meanwhile (restart is the action then), or a loop step

        def done(proc: Any) -> None:
            # A retry cut short by a crash is finished by asking again (same request).
            if proc.error is not None:
                due = self.clock.now_ms() + RESUME_RETRY_MS
                entry = (due, next(self._seq), run_id, step, was, request)
                heapq.heappush(self.pending_retries, entry)

        self.spawn("api", f"api<retry {run_id}/{step}>", call, done)

    def start_resume(self, run_id: str, request: str) -> None:
        def call() -> None:
            try:
                run_action(self.ctx, run_id, RunAction.RESUME, Actor("sim", request_id=request))
                self.resumes += 1
            except (ActionRefused, NotFound):
                pass  # running already (its pause was refused or resumed), or ended

        def done(proc: Any) -> None:
            if proc.error is not None:  # the operator tries again with the same request
                due = self.clock.now_ms() + RESUME_RETRY_MS
                heapq.heappush(self.pending_resumes, (due, next(self._seq), run_id, request))

        self.spawn("api", f"api<resume {run_id}>", call, done)

    def settle(self) -> None:
        """Every pause is resumed before the world settles (faults off)."""
        self.faults_on = False
        self.finish_all()
        while (self.pending_resumes or self.pending_retries or self.pending_stops) or (
            self.pending_step_ends or self.pending_restarts
        ):
            if self.pending_restarts:
                _, _, run_id, request = heapq.heappop(self.pending_restarts)
                self.start_restart(run_id, request)
            elif self.pending_step_ends:
                _, _, run_id, step, action, request = heapq.heappop(self.pending_step_ends)
                self.start_step_end(run_id, step, action, request)
            elif self.pending_stops:
                _, _, run_id, ending, request = heapq.heappop(self.pending_stops)
                self.start_stop(run_id, ending, request)
            elif self.pending_retries:
                _, _, run_id, step, was, request = heapq.heappop(self.pending_retries)
                self.start_retry(run_id, step, was, request)
            else:
                _, _, run_id, request = heapq.heappop(self.pending_resumes)
                self.start_resume(run_id, request)
            self.finish_all()
        super().settle()

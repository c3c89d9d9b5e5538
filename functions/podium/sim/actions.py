"""Operators acting at random moments in the simulation: pauses, each resumed a little
later, retries in place of a failed step of a run that still runs, stops, kills and
restarts of runs, and skips and stops of their steps (their loops' iterations' steps
too, named by path), and unblocks of a strict_sequential queue that a failed run
blocked, under the same fault schedules
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
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

from podium.core.engine.actions import (
    STEP_ACTION_RUNS,
    STEP_ACTIONS,
    ActionRefused,
    RunAction,
    StepAction,
    resolve_step_path,
)
from podium.core.engine.errors import NotFound
from podium.core.engine.records import StepRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.service.actions import Actor, run_action, step_action
from podium.service.admission import unblock
from podium.service.restart import RestartRequest, restart_run_id
from podium.sim.harness import World

PAUSE_RATE = 0.03  # per tick, while faults are on
RETRY_RATE = 0.05  # per tick while faults are on and a running run has a failed step
STOP_RATE = 0.005  # a stop or kill: per tick, while faults are on (not in every shape)
STEP_ACT_RATE = 0.01  # a step skipped or stopped: per tick, the same shapes
RESTART_RATE = 0.005  # an ended run restarted (from incomplete): per tick, the same shapes
UNBLOCK_RATE = 0.02  # a blocked strict_sequential queue unblocked: per tick, faults on
RETRYABLE = frozenset({StepStatus.FAILED, StepStatus.TIMED_OUT})
_ENDING = (StepAction.SKIP, StepAction.STOP)
_ENDING_RUN = (RunAction.STOP, RunAction.KILL)
_ANY_RUN = frozenset(RunStatus)
MAX_PAUSE_MS = 60_000
RESUME_RETRY_MS = 1_000


class ActingWorld(World):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action_rng = random.Random(self.seed * 104_729 + 3)
        self._seq = itertools.count()
        # Requests to make later, earliest first: resumes, and requests a crash cut short.
        self.pending: list[tuple[int, int, Callable[[], None]]] = []
        self.acted: Counter[str] = Counter()  # requests that went through, by action

    def tick(self) -> bool:
        if self.pending and self.pending[0][0] <= self.clock.now_ms():
            heapq.heappop(self.pending)[2]()
            return True
        if self.faults_on and self.run_ids and self._draw():
            return True
        if super().tick():
            return True
        if self.pending:  # nothing else to do: time passes to the next request
            self.clock.advance_to(self.pending[0][0])
            return True
        return False

    def _draw(self) -> bool:
        """Maybe start one operator's request now; True if one started."""
        rng, runs = self.action_rng, sorted(self.run_ids.values())
        if rng.random() < PAUSE_RATE:
            self.start_pause(rng.choice(runs))
            return True
        if self._changeable(STOP_RATE):
            self.start_stop(rng.choice(runs), rng.choice(_ENDING_RUN))
            return True
        if self._changeable(RESTART_RATE):
            ended = self._ended_runs()
            if ended:
                self.start_restart(rng.choice(ended))
                return True
        if self._changeable(STEP_ACT_RATE):
            picked = self._step_to_end()
            if picked is not None:
                self.start_step_end(*picked)
                return True
        if rng.random() < RETRY_RATE:
            failed = self._failed_steps()
            if failed:
                self.start_retry(*rng.choice(failed))
                return True
        if rng.random() < UNBLOCK_RATE:
            blocked = self.blocked_workflows()
            if blocked:
                self.start_unblock(rng.choice(blocked))
                return True
        return False

    def start_unblock(self, workflow: str) -> None:
        """``podium unblock``: the queue moves on after a failed run (idempotent); one a
        crash cut short is asked again a moment later."""
        act = partial(unblock, self.ctx, workflow)
        again = partial(self.start_unblock, workflow)
        self._ask(f"api<unblock {workflow}>", "unblock", act, again)

    def _later(self, delay_ms: int, request: Callable[[], None]) -> None:
        heapq.heappush(self.pending, (self.clock.now_ms() + delay_ms, next(self._seq), request))

    def _ask(
        self,
        label: str,
        kind: str,
        act: Callable[[], object],
        again: Callable[[], None] | None,
        done: Callable[[], None] | None = None,
    ) -> None:
        """One operator's request, on its own process (faults apply). Refused (the run or
        the step moved on meanwhile) is an answer; one a crash cut short is asked again a
        moment later by ``again`` (with the same request id). ``done`` runs after it,
        whatever happened."""

        def call() -> None:
            try:
                act()
                self.acted[kind] += 1
            except (ActionRefused, NotFound):
                pass

        def finished(proc: Any) -> None:
            if proc.error is not None and again is not None:
                self._later(RESUME_RETRY_MS, again)
            if done is not None:
                done()

        self.spawn("api", label, call, finished)

    def start_pause(self, run_id: str) -> None:
        n = next(self._seq)
        pause = Actor("sim", request_id=f"p{n}")

        def resume_later() -> None:
            # Resume in any case: a pause that crashed may have paused the run anyway.
            delay = self.action_rng.randrange(1, MAX_PAUSE_MS)
            self._later(delay, partial(self.start_resume, run_id, f"r{n}"))

        act = partial(run_action, self.ctx, run_id, RunAction.PAUSE, pause)
        self._ask(f"api<pause {run_id}>", "pause", act, None, resume_later)

    def start_resume(self, run_id: str, request: str) -> None:
        actor = Actor("sim", request_id=request)
        act = partial(run_action, self.ctx, run_id, RunAction.RESUME, actor)
        again = partial(self.start_resume, run_id, request)
        self._ask(f"api<resume {run_id}>", "resume", act, again)

    def start_stop(self, run_id: str, action: RunAction, request: str | None = None) -> None:
        """A stop, or a kill (the same, ending the run FAILED)."""
        request = request or f"s{next(self._seq)}"
        self.changed_by_operator.add(run_id)
        actor = Actor("sim", request_id=request)
        act = partial(run_action, self.ctx, run_id, action, actor)
        again = partial(self.start_stop, run_id, action, request)
        self._ask(f"api<{action.value} {run_id}>", action.value, act, again)

    def start_restart(
        self, run_id: str, start_from: str | None = None, request: str | None = None
    ) -> None:
        """A new run of an ended one: from incomplete (what succeeded is reused, a loop's
        iterations included), from the beginning, or from one of its steps (a loop
        iteration's step too, by path: that iteration reruns from it). A run is
        restarted at most once (its new run's id is derived from it), so asking again
        only finds that run."""
        request = request or f"x{next(self._seq)}"
        start_from = start_from or self._restart_point(run_id)
        self.restarted.add(restart_run_id(run_id))
        actor = Actor("sim", request_id=request)
        how = RestartRequest(start_from=start_from)
        act = partial(run_action, self.ctx, run_id, RunAction.RESTART, actor, how)
        again = partial(self.start_restart, run_id, start_from, request)
        self._ask(f"api<restart {run_id} from {start_from}>", "restart", act, again)

    def _restart_point(self, run_id: str) -> str:
        """Mostly from incomplete; else from the beginning, or from a step it reached."""
        rng = self.action_rng
        if rng.random() < 0.5:
            return "incomplete"
        steps = [path for _, path, _ in self.steps_below(run_id, run_id, "", _ANY_RUN)]
        return rng.choice(["beginning", *steps])

    def start_step_end(
        self, run_id: str, step: str, action: StepAction, request: str | None = None
    ) -> None:
        """A step skipped or stopped."""
        request = request or f"e{next(self._seq)}"
        self.changed_by_operator.add(run_id)
        actor = Actor("sim", request_id=request)
        act = partial(step_action, self.ctx, run_id, step, action, actor)
        again = partial(self.start_step_end, run_id, step, action, request)
        self._ask(f"api<{action.value} {run_id}/{step}>", f"step {action.value}", act, again)

    def start_retry(
        self, run_id: str, step: str, was: StepStatus, request: str | None = None
    ) -> None:
        """A failed step retried in place (refused once its run ended: restart then)."""
        request = request or f"t{next(self._seq)}"
        self.operator_retried.setdefault((run_id, step), was)
        where = resolve_step_path(run_id, step)  # an iteration's step: in its own run
        self.operator_retried.setdefault((where.run_id, where.step), was)
        actor = Actor("sim", request_id=request)
        act = partial(step_action, self.ctx, run_id, step, StepAction.RETRY, actor)
        again = partial(self.start_retry, run_id, step, was, request)
        self._ask(f"api<retry {run_id}/{step}>", "retry", act, again)

    def _changeable(self, rate: float) -> bool:
        # In the first_only, last_only and strict_sequential shapes, only the safety
        # checks judge runs an operator changed (invariants._judged_by_each_other); a
        # killed strict_sequential run blocks the queue until an operator unblocks it.
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

    def _step_to_end(self) -> tuple[str, str, StepAction] | None:
        """A step of a running run, or of a running iteration of its loops, that an
        operator may skip or stop now (no faults)."""
        found = [
            (run_id, path, a)
            for run_id, path, s in self._steps_of_runs(STEP_ACTION_RUNS[StepAction.STOP])
            for a in _ENDING
            if a in STEP_ACTIONS.get(s.status, frozenset())
        ]
        return self.action_rng.choice(found) if found else None

    def _failed_steps(self) -> list[tuple[str, str, StepStatus]]:
        """(run, step path, status) of failed steps in runs (and iterations) that still
        run (no faults)."""
        running = frozenset({RunStatus.RUNNING})
        return [
            (run_id, path, s.status)
            for run_id, path, s in self._steps_of_runs(running)
            if s.status in RETRYABLE
        ]

    def _steps_of_runs(self, statuses: frozenset[RunStatus]) -> list[tuple[str, str, StepRecord]]:
        """(run, step path, step) of the shape's runs that are in ``statuses``, and of
        their loops' iterations in ``statuses`` (path ``loop/index/step``, nested alike:
        what ``podium runs steps`` takes), read without faults."""
        found: list[tuple[str, str, StepRecord]] = []
        for run_id in sorted(self.run_ids.values()):
            try:
                run = self.inner_store.get_run(run_id)
            except NotFound:
                continue
            if run.status in statuses:
                found += self.steps_below(run_id, run_id, "", statuses)
        return found

    def settle(self) -> None:
        """Every pending request is made before the world settles (faults off): every
        pause resumed, every request a crash cut short asked again."""
        self.faults_on = False
        self.finish_all()
        while self.pending:
            heapq.heappop(self.pending)[2]()
            self.finish_all()
        super().settle()

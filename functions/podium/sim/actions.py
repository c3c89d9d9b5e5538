"""Operators acting at random moments in the simulation: pauses, each resumed a little
later, under the same fault schedules (crashes inside the actions too). A pause and its
resume must change no outcome, leave no step held, and run nothing twice; the world's
usual invariants and the comparison with the fault-free run check it.

A separate random stream draws the actions, so a seed's faults are the ones it has
without actions."""

from __future__ import annotations

import heapq
import itertools
import random
from typing import Any

from podium.core.engine.actions import ActionRefused, RunAction
from podium.core.engine.errors import NotFound
from podium.service.actions import Actor, run_action
from podium.sim.harness import World

PAUSE_RATE = 0.03  # per tick, while faults are on
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

    def tick(self) -> bool:
        now = self.clock.now_ms()
        if self.pending_resumes and self.pending_resumes[0][0] <= now:
            _, _, run_id, request = heapq.heappop(self.pending_resumes)
            self.start_resume(run_id, request)
            return True
        if self.faults_on and self.run_ids and self.action_rng.random() < PAUSE_RATE:
            self.start_pause(self.action_rng.choice(sorted(self.run_ids.values())))
            return True
        if super().tick():
            return True
        if self.pending_resumes:  # nothing else to do: time passes to the next resume
            self.clock.advance_to(self.pending_resumes[0][0])
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
        while self.pending_resumes:
            _, _, run_id, request = heapq.heappop(self.pending_resumes)
            self.start_resume(run_id, request)
            self.finish_all()
        super().settle()

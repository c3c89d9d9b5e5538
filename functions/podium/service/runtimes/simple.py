"""The runtimes with nothing outside Podium: noop, fail and sleep."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.step_error import user_error
from podium.service import messages
from podium.service.context import Services
from podium.service.runtimes.base import Attempt, Done, Failed, Result, Waiting


class NoopRuntime:
    synchronous = True
    has_child_runs = False

    def wait_ms(self, spec: Any) -> int:
        return 0

    def start(self, ctx: Services, attempt: Attempt) -> Result:
        return Done()

    def on_event(self, ctx: Services, attempt: Attempt, event: Mapping[str, Any]) -> Result:
        return Done()

    def poll(self, ctx: Services, attempt: Attempt) -> Result:
        return Done()

    def child_runs(self, ctx: Services, run: RunRecord, record: StepRecord) -> list[str]:
        return []  # no child runs

    def terminate(self, ctx: Services, attempt: Attempt, reason: str) -> None:
        return None


class FailRuntime(NoopRuntime):
    def _failed(self, attempt: Attempt) -> Result:
        return Failed(user_error(attempt.spec.message))

    def start(self, ctx: Services, attempt: Attempt) -> Result:
        return self._failed(attempt)

    def on_event(self, ctx: Services, attempt: Attempt, event: Mapping[str, Any]) -> Result:
        return self._failed(attempt)

    def poll(self, ctx: Services, attempt: Attempt) -> Result:
        return self._failed(attempt)


class SleepRuntime:
    """Waits on a timer: no worker is held, however long the sleep."""

    synchronous = False
    has_child_runs = False

    def wait_ms(self, spec: Any) -> int:
        return int(spec.seconds) * 1000

    def _until(self, attempt: Attempt) -> int:
        return attempt.started_at + self.wait_ms(attempt.spec)

    def start(self, ctx: Services, attempt: Attempt) -> Result:
        return Waiting(until=self._until(attempt))

    def on_event(self, ctx: Services, attempt: Attempt, event: Mapping[str, Any]) -> Result:
        return self.poll(ctx, attempt)

    def poll(self, ctx: Services, attempt: Attempt) -> Result:
        until = self._until(attempt)
        # A timer that fires early (or twice) is harmless: it just waits again.
        return Done(at=until) if ctx.now() >= until else Waiting(until=until)

    def child_runs(self, ctx: Services, run: RunRecord, record: StepRecord) -> list[str]:
        return []  # no child runs

    def terminate(self, ctx: Services, attempt: Attempt, reason: str) -> None:
        # Nothing runs outside; a long sleep's schedule is withdrawn (a short one's SQS
        # delay arrives and finds the attempt closed).
        run_id = attempt.run.run_id
        timer = messages.Done(run_id, attempt.step, attempt.number, messages.TIMER_EVENT)
        ctx.cancel_at(timer, self._until(attempt), set_ms=attempt.started_at)

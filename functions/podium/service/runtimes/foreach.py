"""The foreach runtime: iterations as child runs, launched within ``concurrency``.

A ``Waiting`` runtime: no worker waits for the loop. Each pass (its start, every child
that ends, a poll) reads the step's counters, asks core.engine.loops.plan_foreach what
to do, and does it: launch the next children in index order, stop the running ones
(fail_fast), or end the step with its index-aligned outputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podium.core.dsl.models import DEFAULT_WAIT_TIMEOUT_SECONDS
from podium.core.engine.loops import LoopError, OnFailure, plan_foreach
from podium.core.engine.outputs import OUTPUT_ERROR
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.status import StepStatus
from podium.core.engine.step_error import StepError, stopped_reason, user_error
from podium.core.expr import ExpressionError
from podium.service import loops
from podium.service.context import Services
from podium.service.deadlines import children_deadline, past_own_deadline, step_deadline
from podium.service.runtimes.base import Attempt, Done, Failed, Result, Waiting

# Inner step types that never have an output: every other one is listed in the loop's
# ``outputs`` (null where an iteration has none), whatever its type.
_NO_OUTPUT_TYPES = frozenset({"noop", "sleep", "fail"})


class ForeachRuntime:
    synchronous = False
    has_child_runs = True

    def wait_ms(self, spec: Any) -> int:
        # Its lease is its timeout: children and their messages drive it, and the
        # sweeper only has to step in when the deadline passes.
        timeout = spec.timeout if spec.timeout is not None else DEFAULT_WAIT_TIMEOUT_SECONDS
        return int(float(timeout) * 1000)

    def start(self, ctx: Services, attempt: Attempt) -> Result:
        return self._pass(ctx, attempt)

    def on_event(self, ctx: Services, attempt: Attempt, event: Mapping[str, Any]) -> Result:
        return self._pass(ctx, attempt, attempt.record)

    def poll(self, ctx: Services, attempt: Attempt) -> Result:
        # The poll (the parent's sweeper check) also counts a child that a crash left
        # settled but uncounted, and watches the children that outlived their first check.
        loops.poll_children(ctx, attempt.run, attempt.step)
        return self._pass(ctx, attempt)

    def child_runs(self, ctx: Services, run: RunRecord, record: StepRecord) -> list[str]:
        return loops.uncounted_child_ids(ctx, run, record.step)

    def terminate(self, ctx: Services, attempt: Attempt, reason: str) -> None:
        record = attempt.record or ctx.store.get_step(attempt.run.run_id, attempt.step)
        if record is not None:
            loops.stop_children(
                ctx, attempt.run, record, stopped_reason(reason), deadline=step_deadline(attempt)
            )

    def _pass(self, ctx: Services, attempt: Attempt, read: StepRecord | None = None) -> Result:
        run, spec = attempt.run, attempt.spec
        record = read if read is not None else ctx.store.get_step(run.run_id, attempt.step)
        if record is None or record.status is not StepStatus.RUNNING:
            return Waiting()  # closed meanwhile: whoever closed it owns the follow-ups
        try:
            space = loops.space_of(ctx, run, record, spec)
        except (LoopError, ExpressionError) as exc:
            message = exc.message if isinstance(exc, ExpressionError) else str(exc)
            # A message that names its place already (over.day ...) is not prefixed again.
            said = message if message.startswith("over") else f"over: {message}"
            return Failed(user_error(said, retryable=False))
        loops.catch_up_mark(ctx, run, record)
        counts = loops.counts_of(record, space.count)
        policy = OnFailure(spec.on_failure)
        plan = plan_foreach(counts, spec.concurrency, policy, spec.tolerated_failures)
        if plan.finish != "ok" and past_own_deadline(ctx, attempt):
            return loops.time_out(ctx, attempt, record)
        if plan.launch_to > plan.launch_from:
            stored = (
                None
                if record.loop is not None
                else loops.stored_space(ctx, run, attempt.step, space)
            )
            try:
                loops.launch(
                    ctx,
                    run,
                    attempt.step,
                    space,
                    plan.launch_from,
                    plan.launch_to,
                    stored,
                    deadline=children_deadline(ctx, attempt),
                )
            except LoopError as exc:
                return Failed(user_error(str(exc), retryable=False))
        if plan.finish is not None and not plan.stop_running:
            # No poll comes once it ends: a child it leaves uncounted (a crash cut its
            # end short) is the sweeper's (stop_children does the same).
            running = loops.close_loop(ctx, run, attempt.step)
            if running and plan.finish == "failed":
                # finish_running, its counts saying nothing runs: the launched mark lags
                # a launch in flight (its children created, the mark not raised yet).
                # The loop is closed (nothing more starts); their ends bring the next pass.
                return Waiting()
        if plan.stop_running:
            loops.stop_children(
                ctx, run, record, f"stopped: iteration failed ({spec.id} on_failure fail_fast)"
            )
        if plan.finish == "failed":
            # The run's error names the step already ("each: 1 of 8 iterations failed").
            return Failed(user_error(plan.message, retryable=False))
        if plan.finish == "ok":
            try:
                return Done(self._output(ctx, attempt, counts, space.count))
            except loops.OutputTooLarge as exc:  # as a Lambda's output past the limit is
                return Failed(StepError.of(OUTPUT_ERROR, str(exc), retryable=False))
            except ExpressionError as exc:  # bindings.MissingPayload: an iteration's is gone
                return Failed(user_error(f"outputs: {exc.message}", retryable=False))
        return Waiting()

    def _output(self, ctx: Services, attempt: Attempt, counts: Any, total: int) -> Any:
        inner = [s.id for s in attempt.spec.steps if s.type not in _NO_OUTPUT_TYPES]
        outputs = loops.child_outputs(ctx, attempt.run, attempt.step, total, inner)
        return {
            "count": total,
            "succeeded": counts.ok,
            "failed": counts.failed + counts.stopped,
            # Always 0 today: the step only has an output once every iteration ended
            # (plan_foreach's "ok" needs ended >= count; a loop that stops launching
            # fails, with no output). Kept: documented, and read by callers.
            "skipped": total - counts.launched if counts.launched < total else 0,
            "outputs": outputs,
        }

"""A wait for signals' own bookkeeping: when it times out, and the waiter rows and the
deadline timer it leaves behind. A leaf module (core, messages and the services only),
so that a run's end (service/lifecycle.py) can clear a wait's leftovers without
importing the waits' logic (service/signal_waits.py), which imports the run's end."""

from __future__ import annotations

from podium.core.dsl.models import DEFAULT_WAIT_TIMEOUT_SECONDS
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.signals import Waiter
from podium.service import messages
from podium.service.context import Services


def deadline_of(ctx: Services, run: RunRecord, record: StepRecord) -> int:
    """When the wait times out: its step's ``timeout`` (10 days by default) from when
    it began waiting."""
    spec = ctx.definitions.get(run.workflow, run.version).step(record.step)
    timeout = spec.timeout if spec.timeout is not None else DEFAULT_WAIT_TIMEOUT_SECONDS
    since = record.waiting_since if record.waiting_since is not None else ctx.now()
    return since + int(float(timeout) * 1000)


def forget(ctx: Services, run: RunRecord, step: str) -> None:
    """Remove the step's waiter of every name it waits for."""
    assert ctx.signals is not None
    spec = ctx.definitions.get(run.workflow, run.version).step(step)
    for wait in spec.wait_for:
        ctx.signals.remove_waiter(wait.signal, Waiter(run.run_id, step))


def wait_ended(ctx: Services, run: RunRecord, record: StepRecord) -> None:
    """A waiting step ended another way (its run stopped, timed out or failed): its
    waiters go, and its deadline timer (signals of its names woke it in vain until the
    wait's deadline, an hour past it for the waiter rows)."""
    forget(ctx, run, record.step)
    spec = ctx.definitions.get(run.workflow, run.version).step(record.step)
    if spec.timeout is not None and record.waiting_since is not None:
        deadline = deadline_of(ctx, run, record)
        ctx.cancel_at(
            messages.SignalCheck(run.run_id, record.step), deadline, set_ms=record.waiting_since
        )

"""What an ended attempt writes besides its status: its output (or rendered params, or
matched signals) in the step item when small and by reference to Payloads when big, and
its structured error as a timeline item, and whether a callback's result ended it.
Shared by every path that ends an attempt: its completion (service/attempts.py), a
signal wait's match (service/signal_waits.py) and a result kept when its run's deadline
ended it (service/lifecycle.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from podium.core.engine.outputs import INLINE_OUTPUT_BYTES, is_ref, ref_of
from podium.core.engine.records import RunRecord, TimelineEvent
from podium.core.engine.step_error import StepError
from podium.core.engine.text_fields import utf8_json
from podium.service.context import Services


def stored(
    ctx: Services, key: str, value: Any, *, default: Callable[[Any], Any] | None = None
) -> Any:
    """A small value stays in the step item; a big one is written once to Payloads under
    ``key`` and the item keeps its reference (readers resolve it: service.bindings).
    Keeps the step item far from DynamoDB's 400 KB.

    A value shaped like a reference (``{"$payload": ..., "bytes": ...}``, which a step's
    code may return) is written to Payloads too, however small: kept as it is, every
    reader would take it for a reference and read the object it names instead."""
    if value is None:
        return None
    # Measured and stored in UTF-8, its real size (ASCII escapes made Japanese text 2x,
    # emoji 3x: offloaded that much sooner).
    data = utf8_json(value, default=default)
    if len(data) <= INLINE_OUTPUT_BYTES and not is_ref(value):
        return value
    assert ctx.payloads is not None
    return ref_of(ctx.payloads.put(key, data), len(data))


class Outcome(Protocol):
    @property
    def callback(self) -> bool: ...


def with_result_for(changes: Mapping[str, Any], outcome: Outcome, attempt: int) -> dict[str, Any]:
    """An end's step changes, saying (``result_for``) when a callback's result ended the
    attempt: a result request that lost the race to its end (its note on the step
    refused) reads there whether its result was applied (service/callbacks.py)."""
    return {**changes, "result_for": attempt} if outcome.callback else dict(changes)


def record_error(
    ctx: Services,
    run: RunRecord,
    step: str,
    attempt: int,
    at: int,
    error: StepError,
    kind: str,
    extra: dict[str, Any] | None = None,
    *,
    replay: bool = False,
) -> None:
    """Failures are exceptional, so each gets a timeline item with the whole structured
    error (traceback included): the step item keeps only a one-line summary. A
    ``replay`` (whose error is rebuilt from that summary) writes it only if the first
    write never happened: it does not overwrite the whole error with less."""
    put = ctx.store.put_event_once if replay else ctx.store.put_event
    put(
        TimelineEvent(
            run.run_id,
            at,
            f"{kind}-{step}-{attempt}",  # deterministic: a replay overwrites, not adds
            kind,
            step=step,
            attempt=attempt,
            # "error" stays the one-line summary; "error_detail" is the structured error.
            detail={"error": error.summary(), "error_detail": error.as_json(), **(extra or {})},
        )
    )

"""Where the steps a restart took over ran, for the views that show them (the API's run
view, the console's run page and step detail).

``reuse.take_over`` copies a step's output into the new run, which starts and ends it
at the restart's write: read as they are, its times say it ran for 0 ms. Its views show
instead the duration it ran for in the run it ran in (followed back through restarts of
restarts), and that run (``taken_over.ran_in``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from podium.core.engine.actions import taken_over_from
from podium.core.engine.records import StepRecord
from podium.service.context import Services

# Restarts of restarts followed back at most this deep (one batch of reads each).
MAX_TAKEN_OVER_DEPTH = 50

# A step a restart took over: the run it ran in (or the last one known), and its record
# there (None: that run, or its step, is gone: pruned or expired).
RanIn = tuple[str, StepRecord | None]


def where_they_ran(ctx: Services, records: Iterable[StepRecord]) -> dict[str, RanIn]:
    """For each step among ``records`` a restart took over (``taken_over_from``): the
    run it ran in, followed back through restarts of restarts, and its record there.
    One batch of reads per restart followed back; none when no step was taken over."""
    ran: dict[str, RanIn] = {}
    todo = {r.step: r for r in records if taken_over_from(r.reason) is not None}
    seen = {step: {r.run_id} for step, r in todo.items()}
    for _ in range(MAX_TAKEN_OVER_DEPTH):
        if not todo:
            break
        keys = [(str(taken_over_from(r.reason)), step) for step, r in todo.items()]
        found = ctx.store.get_steps(keys)
        nxt: dict[str, StepRecord] = {}
        for key in keys:
            origin, step = key
            there = found.get(key)
            if there is None:
                ran[step] = (origin, None)
                continue
            back = taken_over_from(there.reason)
            if back is None:
                ran[step] = (origin, there)
            elif back in seen[step]:  # a cycle (never written so): nothing ran
                ran[step] = (origin, None)
            else:
                seen[step].add(origin)
                nxt[step] = there
        todo = nxt
    for step, r in todo.items():  # deeper than followed: not known
        ran[step] = (r.run_id, None)
    return ran


def duration_ms(record: StepRecord) -> int | None:
    """How long a step ran, by its record (None until it has started and ended)."""
    if record.ended_at is None or record.started_at is None:
        return None
    return record.ended_at - record.started_at


def shown_as_ran(view: dict[str, Any], ran: RanIn | None) -> dict[str, Any]:
    """A step's view (views.step_view), for a step a restart took over (``ran``, from
    ``where_they_ran``): the duration it ran for in the run it ran in, none when that
    run is gone, and that run (``taken_over.ran_in``). Any other step's as it is."""
    if ran is None:
        return view
    home, there = ran
    return {
        **view,
        "duration_ms": duration_ms(there) if there is not None else None,
        "taken_over": {"ran_in": home},  # the run it ran in (or the last one known)
    }

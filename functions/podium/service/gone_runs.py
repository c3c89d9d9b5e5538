"""A message's run when it is still there: a run pruned from a local home, or expired by
its retention, may leave timers and messages behind (a deadline, a retry's exec, a
stop_work retry, an emit look-again). Nothing is left to do for them: raising would only
dead-letter them (and ring the dead-letter alarm) after five tries that cannot succeed."""

from __future__ import annotations

import logging

from podium.core.engine.errors import RunNotFound
from podium.core.engine.records import RunRecord
from podium.service.context import Services

log = logging.getLogger("podium.gone_runs")


def still_there(ctx: Services, run_id: str, what: str) -> RunRecord | None:
    """The run ``run_id``, or None (logged, with ``what`` the message) when it is gone."""
    try:
        return ctx.store.get_run(run_id)
    except RunNotFound:
        log.warning("%s of run %s dropped: the run is gone", what, run_id)
        return None

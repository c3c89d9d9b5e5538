"""A backfill with ``max_active`` sent a second time (a client's retry after a timeout,
or the same command run again) started the next ``max_active`` runs at once, beside the
ones the first call's driver held active; now the range's runs still active hold places
of ``max_active`` (and are in the driver's count).

docs/workflow-language.md (Backfill): "``--max-active N`` ... also caps the backfill
itself" and "A time that already has a run ... is left alone, so a second call starts
nothing". service/backfill.py ``execute`` took the plan's entries that are not SKIP and
started the first ``max_active`` of them: the entries of the first call's still-running
runs are SKIP ("a run is running"), so the second call's first ``max_active`` were the
times the first call's driver was holding back, and they started. With ``max_active:
1`` two runs of the backfill were active at once, and every repeat added one more.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from podium.service.backfill import BackfillRequest, backfill_request

WF = {
    "name": "bf_repeat",
    "params": {"day": {"type": "string", "default": "none"}},
    # A long step: the runs stay active while the calls are made.
    "steps": [{"id": "wait", "type": "sleep", "seconds": 7200}],
    "run_strategy": {"parallel": 10},
    "triggers": [{"id": "daily", "cron": "0 6 * * *", "params": {"day": "${event.logical_date}"}}],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    clock = ManualClock(start_ms=parse_iso("2026-04-01T12:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as runtime:
        runtime.push(WF)
        yield runtime


def _active(rt: LocalRuntime) -> list[str]:
    return sorted(
        r.logical_date or "" for r in rt.store.list_runs("bf_repeat", 100) if not r.status.terminal
    )


def test_the_same_backfill_sent_twice_keeps_max_active(rt: LocalRuntime) -> None:
    request = BackfillRequest.model_validate(
        {"from": "2026-03-01", "to": "2026-03-05", "max_active": 1}
    )
    first = backfill_request(rt.services, "bf_repeat", request)
    assert len(first["started"]) == 1 and first["waiting_for_max_active"] == 4
    assert _active(rt) == ["2026-03-01"]

    second = backfill_request(rt.services, "bf_repeat", request)  # the same call again
    assert second["started"] == [], f"a second call started {second['started']}"
    assert _active(rt) == ["2026-03-01"], f"max_active 1, active: {_active(rt)}"

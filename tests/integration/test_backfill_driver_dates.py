"""The runs a ``max_active`` backfill's driver starts later took their logical date
from the trigger's time zone *at that moment*, not from the plan, so a time zone changed
while the backfill ran gave them the wrong day; now the driver's message carries each
time's planned logical date.

service/backfill.py ``execute`` plans each time with its logical date (in the trigger's
time zone), starts the first ``max_active`` and hands the rest to a driver message. That
message was ``[at, run_id, restart_of]``, the date left out, and ``on_driver`` computed
it again with ``_tz_of`` (the active version's trigger then). A nightly ``0 6 * * *`` in
Asia/Tokyo fires at 21:00 UTC the evening before; its time zone corrected to UTC by a
push while the backfill ran, the driver's runs were dated a day early: 2026-03-02 JST
became 2026-03-01 (a date the first run already had), and 2026-03-03's run was dated
03-02, while the runs' ids and the summary the caller got said the planned dates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from podium.service.backfill import BackfillRequest, backfill_request


def _wf(tz: str) -> dict[str, Any]:
    return {
        "name": "t_driver",
        "params": {"day": {"type": "string", "default": "none"}},
        "steps": [{"id": "wait", "type": "sleep", "seconds": 600}],
        "run_strategy": {"parallel": 10},
        "triggers": [
            {
                "id": "daily",
                "cron": "0 6 * * *",
                "timezone": tz,
                "params": {"day": "${event.logical_date}"},
            }
        ],
    }


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    clock = ManualClock(start_ms=parse_iso("2026-04-01T12:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as runtime:
        runtime.push(_wf("Asia/Tokyo"))
        yield runtime


def test_the_driver_starts_each_time_with_its_planned_logical_date(rt: LocalRuntime) -> None:
    request = BackfillRequest.model_validate(
        {"from": "2026-03-01", "to": "2026-03-03", "max_active": 1}
    )
    summary = backfill_request(rt.services, "t_driver", request)
    planned = {e["run_id"]: e["logical_date"] for e in summary["entries"]}
    assert sorted(planned.values()) == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert summary["waiting_for_max_active"] == 2

    rt.push(_wf("UTC"))  # the trigger's time zone corrected while the backfill runs
    rt.pump()

    runs = rt.store.list_runs("t_driver", 100)
    got = {r.run_id: (r.logical_date, r.params["day"]) for r in runs}
    assert set(got) == set(planned)
    wrong = {planned[rid]: got[rid] for rid in planned if got[rid] != (planned[rid], planned[rid])}
    assert wrong == {}, f"planned date -> (run's logical_date, params.day): {wrong}"

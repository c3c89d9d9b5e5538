"""The examples of issue 12: an S3-triggered pipeline, and a cron-scheduled ETL that
signals a downstream report workflow (podium.testing on the SQLite home)."""

from __future__ import annotations

import sys
from pathlib import Path

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import parse_iso
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.backfill import execute, plan
from podium.testing import fire_trigger

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_s3_triggered_pipeline(tmp_path: Path) -> None:
    folder = EXAMPLES / "s3_ingest"
    sys.path.insert(0, str(folder))
    with LocalRuntime(store="sqlite", home=tmp_path / "h", clock=ManualClock()) as rt:
        rt.push(folder / "workflow.yaml")
        view = fire_trigger(rt, "s3_ingest", folder / "s3-event.json")
        assert view.run.status is RunStatus.SUCCEEDED, view
        assert view.run.params == {"bucket": "landing", "key": "raw/2026-01-15/orders.csv"}
        assert view.run.trigger == "s3:upload"
        assert rt.services.signals is not None
        [loaded] = rt.services.signals.find("file_loaded", [], now=rt.clock.now_ms())
        assert loaded.params == {"key": "raw/2026-01-15/orders.csv", "rows": 3}


def test_the_cron_etl_signals_the_report(tmp_path: Path) -> None:
    folder = EXAMPLES / "cron_etl_report"
    sys.path.insert(0, str(folder))
    with LocalRuntime(store="sqlite", home=tmp_path / "h", clock=ManualClock()) as rt:
        rt.push(folder / "report.yaml")
        rt.push(folder / "etl.yaml")
        rt.clock.advance(60_000)  # the report's trigger exists before the ETL's signals
        etl = fire_trigger(rt, "cron_etl", folder / "fire.json")
        assert etl.run.status is RunStatus.SUCCEEDED and etl.run.logical_date == "2026-01-15"
        # The 06:00 firing of the 15th loads the day before, the last whole one.
        assert etl.run.params == {"day": "2026-01-14"}
        rt.pump()
        [report] = rt.store.list_runs("daily_report", 10)
        assert report.trigger == "signal:on_sales"
        assert report.params == {"day": "2026-01-14", "table": "sales_20260114"}
        assert report.status is RunStatus.SUCCEEDED

        # A week's backfill: one ETL run per firing, each loading the day before its
        # own and signalling its report (a backfill runs the times that have come: the
        # clock moves to the 15th). The firings of the 8th to the 14th load the 7th to
        # the 13th; the 14th was loaded by the firing above.
        rt.clock.advance_to(parse_iso("2026-01-15T12:00:00Z"))
        week = execute(rt.services, plan(rt.services, "cron_etl", "2026-01-08", "2026-01-14"))
        assert len(week.started) == 7
        rt.pump()
        days = sorted(r.params["day"] for r in rt.store.list_runs("daily_report", 20))
        assert days == [f"2026-01-{d:02d}" for d in range(7, 15)]

"""Locally: podium dev's ticker fires cron triggers, podium.testing sends signals and
fires triggers (an S3 event JSON file), podium run --event FILE and --events."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.cli.main import app
from podium.core.engine.schedule import parse_iso
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.local.schedule_ticker import ScheduleTicker
from podium.testing import fire_trigger, send_signal

NIGHTLY = {
    "name": "nightly",
    "params": {"day": {"type": "string", "default": "?"}},
    "steps": [{"id": "a", "type": "noop"}],
    "run_strategy": {"parallel": 5},
    "triggers": [{"id": "t", "cron": "*/10 * * * *", "params": {"day": "${event.logical_date}"}}],
}
S3_EVENT = {
    "version": "0",
    "id": "17793124-05d4-b198-2fde-7ededc63b103",
    "detail-type": "Object Created",
    "source": "aws.s3",
    "account": "123456789012",
    "time": "2026-01-05T06:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:s3:::landing"],
    "detail": {
        "version": "0",
        "bucket": {"name": "landing"},
        "object": {"key": "raw/2026-01-05/sales.csv", "size": 5, "etag": "b1946ac9"},
        "request-id": "N4N7GDK58NMKJ12R",
        "reason": "PutObject",
    },
}
INGEST = {
    "name": "ingest",
    "params": {"key": {"type": "string"}},
    "steps": [{"id": "load", "type": "noop"}],
    "triggers": [
        {
            "id": "upload",
            "s3": {"bucket": "landing", "prefix": "raw/"},
            "params": {"key": "${event.detail.object.key}"},
        }
    ],
}


def test_the_dev_ticker_fires_cron_triggers_of_the_home(tmp_path: Path) -> None:
    clock = ManualClock(start_ms=parse_iso("2026-01-05T06:01:00Z"))
    with LocalRuntime(store="sqlite", home=tmp_path / "h", clock=clock) as rt:
        rt.push(NIGHTLY)
    # A new process (podium dev) on the same home: the workflow's schedules come back.
    with LocalRuntime(store="sqlite", home=tmp_path / "h", clock=clock) as rt:
        ticker = ScheduleTicker(rt)
        assert ticker.prime() == 1
        assert ticker.tick() == 0  # the first look: nothing is due yet
        for _ in range(3):  # 06:10, 06:20, 06:30, each looked at when it came
            clock.advance(10 * 60_000)
            assert ticker.tick() == 1
        rt.pump()
        runs = rt.store.list_runs("nightly", 10)
    assert len(runs) == 3 and {r.trigger for r in runs} == {"cron:t"}
    assert all(r.status is RunStatus.SUCCEEDED and r.params["day"] == "2026-01-05" for r in runs)


def test_podium_dev_schedules_a_workflow_another_process_pushed(tmp_path: Path) -> None:
    """The ticker scheduled the home's workflows once, at dev's start: a cron workflow a
    `podium run` in another terminal pushed was never scheduled by dev."""
    clock = ManualClock(start_ms=parse_iso("2026-01-05T06:00:00Z"))
    with LocalRuntime(store="sqlite", home=tmp_path / "h", clock=clock) as dev:
        ticker = ScheduleTicker(dev)
        assert ticker.prime() == 0
        with LocalRuntime(store="sqlite", home=tmp_path / "h", clock=clock) as other:
            other.push(NIGHTLY)  # another terminal
        assert ticker.follow_home(time.monotonic()) == 0  # looked at a moment ago
        assert ticker.follow_home(time.monotonic() + 3) == 1
        assert ticker.follow_home(time.monotonic() + 6) == 0  # nothing changed since
        assert ticker.tick() == 0  # its first look: from now on
        clock.advance(10 * 60_000)
        assert ticker.tick() == 1


def test_podium_testing_sends_signals_and_fires_triggers(tmp_path: Path) -> None:
    event_file = tmp_path / "s3-event.json"
    event_file.write_text(json.dumps(S3_EVENT))
    with LocalRuntime(store="sqlite", home=tmp_path / "h", clock=ManualClock()) as rt:
        rt.push(INGEST)
        view = fire_trigger(rt, "ingest", event_file)
        assert view.run.status is RunStatus.SUCCEEDED
        assert view.run.params == {"key": "raw/2026-01-05/sales.csv"}
        assert view.run.trigger == "s3:upload"

        rt.push(
            {
                "name": "waits",
                "steps": [{"id": "w", "type": "noop", "wait_for": [{"signal": "go"}]}],
            }
        )
        run = rt.start_run("waits")
        rt.pump(advance_time=False)
        assert rt.store.get_step(run.run_id, "w").status is StepStatus.WAITING_FOR_SIGNALS  # type: ignore[union-attr]
        signal = send_signal(rt, "go", {"n": 1}, {"x": 1})
        assert signal.params == {"n": 1}
        assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED

        rt.push(NIGHTLY)
        fired = fire_trigger(rt, "nightly", {"time": "2026-01-07T06:10:00Z"})
        assert fired.run.logical_date == "2026-01-07" and fired.run.trigger == "cron:t"


def test_podium_run_event_file_and_events(tmp_path: Path) -> None:
    wf = tmp_path / "ingest.json"
    wf.write_text(json.dumps(INGEST))
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(S3_EVENT))
    home = str(tmp_path / "home")
    result: Any = CliRunner().invoke(
        app, ["run", str(wf), "--event", str(event_file), "--events", "--json", "--home", home]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["run"]["params"] == {"key": "raw/2026-01-05/sales.csv"}
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert [e["detail-type"] for e in lines] == ["Podium Run Status Change"] * 2
    assert [e["detail"]["status"] for e in lines] == ["RUNNING", "SUCCEEDED"]

    other = tmp_path / "other.json"
    other.write_text(
        json.dumps({**S3_EVENT, "detail": {"bucket": {"name": "x"}, "object": {"key": "k"}}})
    )
    result = CliRunner().invoke(app, ["run", str(wf), "--event", str(other), "--home", home])
    assert result.exit_code == 1 and "no trigger" in result.stderr

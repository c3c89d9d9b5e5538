"""Triggers on moto: EventBridge Scheduler schedules follow the active version, a cron
firing twice for one time starts one run, catch-up, enable/disable without a new
version, an S3 object-created event (through the events function) starting a run with
mapped params, an event pattern, and a signal trigger joining two signals on a key."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.schedules import SchedulerSchedules, with_time
from podium.adapters.timers import SchedulerTarget
from podium.core.engine.schedule import parse_iso
from podium.core.engine.signals import SignalRequest
from podium.core.engine.status import RunStatus
from podium.handlers import events
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.inbox import handle_event
from podium.service.signals import send_signal
from podium.service.triggers import list_triggers, schedule_prefix, set_enabled, sync_triggers
from podium.service.workflows import push_workflow

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:podium-events"
ROLE = "arn:aws:iam::123456789012:role/scheduler"

ETL = {
    "name": "daily_etl",
    "params": {"day": {"type": "string", "default": "none"}},
    "steps": [{"id": "a", "type": "noop"}],
    "run_strategy": {"parallel": 5},
    "triggers": [
        {
            "id": "nightly",
            "cron": "0 6 * * *",
            "timezone": "Europe/Berlin",
            "jitter": "10m",
            "params": {"day": "${event.logical_date}"},
        },
        {"id": "often", "rate": "15m"},
    ],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    # 2026-03-27T12:00Z, the week of the spring DST change in Berlin.
    with LocalRuntime(clock=ManualClock(start_ms=parse_iso("2026-03-27T12:00:00Z"))) as runtime:
        scheduler = boto3.client("scheduler", region_name="us-east-1")
        scheduler.create_schedule_group(Name="podium")
        runtime.services.schedules = SchedulerSchedules(
            scheduler, group="podium", target=SchedulerTarget(QUEUE_ARN, ROLE)
        )
        runtime.scheduler = scheduler  # type: ignore[attr-defined]
        yield runtime


def schedules(rt: LocalRuntime, workflow: str) -> dict[str, Any]:
    out = {}
    client = rt.scheduler  # type: ignore[attr-defined]
    for item in client.list_schedules(GroupName="podium")["Schedules"]:
        if not item["Name"].startswith(schedule_prefix(workflow)):
            continue
        got = client.get_schedule(Name=item["Name"], GroupName="podium")
        out[json.loads(got["Target"]["Input"])["tr"]] = got
    return out


def fire(rt: LocalRuntime, workflow: str, trigger: str, at: str) -> None:
    body = with_time(
        {"t": "fire", "wf": workflow, "tr": trigger, "at": "<aws.scheduler.scheduled-time>"},
        parse_iso(at),
    )
    handle_event(rt.services, body)


def runs(rt: LocalRuntime, workflow: str) -> list[Any]:
    return rt.store.list_runs(workflow, 100)


def test_schedules_follow_the_active_version(rt: LocalRuntime) -> None:
    rt.push(ETL)
    got = schedules(rt, "daily_etl")
    assert set(got) == {"nightly", "often"}
    nightly = got["nightly"]
    assert nightly["ScheduleExpression"] == "cron(0 6 * * ? *)"
    assert nightly["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert nightly["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10}
    assert nightly["Target"]["Arn"] == QUEUE_ARN and nightly["Target"]["RoleArn"] == ROLE
    assert json.loads(nightly["Target"]["Input"])["at"] == "<aws.scheduler.scheduled-time>"
    assert got["often"]["ScheduleExpression"] == "rate(15 minutes)"

    v2 = {**ETL, "triggers": [{**ETL["triggers"][0], "cron": "30 7 * * 1-5"}]}
    rt.push(v2)
    got = schedules(rt, "daily_etl")
    assert set(got) == {"nightly"}  # the rate trigger is gone with v2
    assert got["nightly"]["ScheduleExpression"] == "cron(30 7 ? * 2-6 *)"

    rt.push({**ETL, "triggers": []})
    assert schedules(rt, "daily_etl") == {}


def test_enable_and_disable_without_a_new_version(rt: LocalRuntime) -> None:
    rt.push(ETL)
    set_enabled(rt.services, "daily_etl", "nightly", False)
    assert set(schedules(rt, "daily_etl")) == {"often"}
    assert rt.store.active_version("daily_etl") == 1
    fire(rt, "daily_etl", "nightly", "2026-03-28T05:00:00Z")
    assert runs(rt, "daily_etl") == []  # a schedule firing while its deletion raced
    set_enabled(rt.services, "daily_etl", "nightly", True)
    assert set(schedules(rt, "daily_etl")) == {"nightly", "often"}
    listed = {t["id"]: t for t in list_triggers(rt.services, "daily_etl")}
    assert listed["nightly"]["enabled"] and listed["nightly"]["kind"] == "cron"
    from podium.service.triggers import TriggerNotFound

    with pytest.raises(TriggerNotFound, match="nightly"):  # 404 on the API
        set_enabled(rt.services, "daily_etl", "nighty", True)


def test_a_cron_firing_twice_for_one_time_starts_one_run(rt: LocalRuntime) -> None:
    rt.push(ETL)
    fire(rt, "daily_etl", "nightly", "2026-03-29T04:00:00Z")
    fire(rt, "daily_etl", "nightly", "2026-03-29T04:00:00Z")
    started = runs(rt, "daily_etl")
    assert len(started) == 1
    run = started[0]
    assert run.trigger == "cron:nightly" and run.logical_date == "2026-03-29"
    assert run.params == {"day": "2026-03-29"}
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED


def test_catchup_all_runs_the_missed_times_after_a_pause(rt: LocalRuntime) -> None:
    wf = {**ETL, "triggers": [{**ETL["triggers"][0], "catchup": "all", "max_catchup": 3}]}
    rt.push(wf)
    fire(rt, "daily_etl", "nightly", "2026-03-26T05:00:00Z")
    set_enabled(rt.services, "daily_etl", "nightly", False)
    set_enabled(rt.services, "daily_etl", "nightly", True)
    # Paused for 5 days: 27, 28, 29 (DST: 04:00Z), 30 were missed; the cap keeps 3.
    fire(rt, "daily_etl", "nightly", "2026-03-31T04:00:00Z")
    dates = sorted(r.logical_date for r in runs(rt, "daily_etl"))
    assert dates == ["2026-03-26", "2026-03-28", "2026-03-29", "2026-03-30", "2026-03-31"]
    fire(rt, "daily_etl", "nightly", "2026-03-31T04:00:00Z")  # a repeat adds nothing
    assert len(runs(rt, "daily_etl")) == 5


def test_catchup_none_runs_only_the_time_that_fired(rt: LocalRuntime) -> None:
    rt.push(ETL)
    fire(rt, "daily_etl", "nightly", "2026-03-26T05:00:00Z")
    fire(rt, "daily_etl", "nightly", "2026-03-31T04:00:00Z")
    assert sorted(r.logical_date for r in runs(rt, "daily_etl")) == ["2026-03-26", "2026-03-31"]


def test_a_dst_week_of_fires_from_the_local_schedules() -> None:
    """The in-process schedules (podium dev) fire at Scheduler's times across DST."""
    from podium.adapters.schedules import MemorySchedules

    start = parse_iso("2026-03-26T00:00:00Z")
    clock = ManualClock(start_ms=start)
    with LocalRuntime(store="memory", clock=clock) as rt:
        local = MemorySchedules()
        rt.services.schedules = local
        rt.push(ETL)
        set_enabled(rt.services, "daily_etl", "often", False)
        clock.advance_to(parse_iso("2026-04-01T00:00:00Z"))
        for body in local.due(clock.now_ms(), since_ms=start):
            handle_event(rt.services, body)
        times = sorted(r.created_at for r in runs(rt, "daily_etl"))
        dates = sorted(r.logical_date for r in runs(rt, "daily_etl"))
    assert dates == [f"2026-03-{d}" for d in range(26, 32)]
    assert len(times) == 6


S3_WF = {
    "name": "ingest",
    "params": {"key": {"type": "string"}, "bucket": {"type": "string"}},
    "steps": [{"id": "load", "type": "noop"}],
    "run_strategy": {"parallel": 10},
    "triggers": [
        {
            "id": "upload",
            "s3": {"bucket": "landing", "prefix": "raw/", "suffix": ".csv"},
            "params": {
                "key": "${event.detail.object.key}",
                "bucket": "${event.detail.bucket.name}",
            },
        }
    ],
}


def s3_event(key: str, event_id: str = "e-1", bucket: str = "landing") -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id,
        "source": "aws.s3",
        "detail-type": "Object Created",
        "account": "123456789012",
        "time": "2026-03-27T12:00:00Z",
        "region": "us-east-1",
        "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": 10}},
    }


def test_an_s3_object_created_event_starts_a_run_with_mapped_params(rt: LocalRuntime) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="landing")
    s3.put_object(Bucket="landing", Key="raw/2026-03-27.csv", Body=b"a,b\n")
    rt.push(S3_WF)
    result = events.handler(s3_event("raw/2026-03-27.csv"), None)
    assert result["matched"] == 1
    again = events.handler(s3_event("raw/2026-03-27.csv"), None)  # delivered twice
    assert again["runs"] == result["runs"]
    started = runs(rt, "ingest")
    assert len(started) == 1
    assert started[0].params == {"key": "raw/2026-03-27.csv", "bucket": "landing"}
    assert started[0].trigger == "s3:upload"
    for other in (
        s3_event("raw/x.json", "e-2"),
        s3_event("other/x.csv", "e-3"),
        s3_event("raw/x.csv", "e-4", "elsewhere"),
    ):
        assert events.handler(other, None)["matched"] == 0
    rt.pump()
    assert rt.describe(started[0].run_id).run.status is RunStatus.SUCCEEDED


def test_an_event_pattern_trigger(rt: LocalRuntime) -> None:
    wf = {
        "name": "on_glue",
        "params": {"job": {"type": "string"}},
        "steps": [{"id": "a", "type": "noop"}],
        "triggers": [
            {
                "event": {
                    "pattern": {
                        "source": ["aws.glue"],
                        "detail": {"state": ["SUCCEEDED"], "jobName": [{"prefix": "etl-"}]},
                    }
                },
                "params": {"job": "${event.detail.jobName}"},
            }
        ],
    }
    rt.push(wf)
    event = {
        "id": "g-1",
        "source": "aws.glue",
        "detail-type": "Glue Job State Change",
        "detail": {"state": "SUCCEEDED", "jobName": "etl-daily"},
    }
    # A Glue state change is also offered to the step types' routing (service/
    # external_events.py: no attempt of ours here); the trigger starts its run anyway.
    assert events.handler(event, None)["runs"]
    failed = {**event, "id": "g-2", "detail": {"state": "FAILED", "jobName": "etl-daily"}}
    assert "runs" not in events.handler(failed, None)  # no trigger took it
    [run] = runs(rt, "on_glue")
    assert run.params == {"job": "etl-daily"} and run.trigger == "event:event_0"


JOINED = {
    "name": "report",
    "params": {"day": {"type": "string"}, "rows": {"type": "int"}},
    "steps": [{"id": "a", "type": "noop"}],
    "run_strategy": {"parallel": 10},
    "triggers": [
        {
            "id": "both_ready",
            "signal": {
                "names": ["sales_ready", "costs_ready"],
                "join_keys": ["day"],
                "condition": "event.signals.sales_ready.params.rows > 0",
            },
            "params": {
                "day": "${event.signals.sales_ready.params.day}",
                "rows": "${event.signals.sales_ready.params.rows}",
            },
        }
    ],
}


def send(rt: LocalRuntime, name: str, **params: Any) -> None:
    send_signal(rt.services, SignalRequest(name, params=params))


def test_a_signal_trigger_joins_two_signals_on_a_key(rt: LocalRuntime) -> None:
    send(rt, "costs_ready", day="2026-03-26")  # before the trigger existed: does not count
    rt.clock.advance(1000)
    rt.push(JOINED)
    rt.clock.advance(1000)
    send(rt, "sales_ready", day="2026-03-26", rows=5)
    assert runs(rt, "report") == []
    send(rt, "sales_ready", day="2026-03-27", rows=7)
    send(rt, "costs_ready", day="2026-03-27")
    [run] = runs(rt, "report")
    assert run.params == {"day": "2026-03-27", "rows": 7} and run.trigger == "signal:both_ready"
    send(rt, "costs_ready", day="2026-03-26")  # name+params as before: the old signal
    assert len(runs(rt, "report")) == 1  # ... sent before the trigger existed
    send_signal(
        rt.services, SignalRequest("costs_ready", params={"day": "2026-03-26"}, request_id="c2")
    )
    days = sorted(r.params["day"] for r in runs(rt, "report"))
    assert days == ["2026-03-26", "2026-03-27"]
    # Each signal is consumed once: a third costs signal for the 27th has no sales partner.
    send_signal(
        rt.services, SignalRequest("costs_ready", params={"day": "2026-03-27"}, request_id="c3")
    )
    assert len(runs(rt, "report")) == 2
    # The condition must hold: rows == 0 joins nothing.
    send(rt, "sales_ready", day="2026-03-28", rows=0)
    send(rt, "costs_ready", day="2026-03-28")
    assert len(runs(rt, "report")) == 2


def test_a_sync_with_nothing_to_change_changes_nothing(rt: LocalRuntime) -> None:
    rt.push(ETL)
    report = sync_triggers(rt.services, "daily_etl")
    assert (report.created, report.updated, report.deleted) == ([], [], [])


def test_the_fire_message_round_trips(rt: LocalRuntime) -> None:
    msg = messages.Fire("wf", "nightly", "2026-03-27T05:00:00Z")
    assert messages.decode(messages.encode(msg)) == (msg, None)


def test_catchup_of_a_rate_trigger_counts_from_the_last_time_fired(rt: LocalRuntime) -> None:
    wf = {**ETL, "triggers": [{"id": "often", "rate": "15m", "catchup": "all"}]}
    rt.push(wf)
    fire(rt, "daily_etl", "often", "2026-03-27T12:07:00Z")
    fire(rt, "daily_etl", "often", "2026-03-27T13:07:00Z")  # 3 missed in between
    times = sorted(r.created_at for r in runs(rt, "daily_etl"))
    assert len(times) == 5
    assert {r.trigger for r in runs(rt, "daily_etl")} == {"rate:often"}


def test_schedules_follow_activate_and_rollback(rt: LocalRuntime) -> None:
    from podium.service.versions import activate, rollback
    from podium.service.workflows import push_workflow

    rt.push(ETL)  # v1: nightly and often
    v2 = {**ETL, "triggers": [{"id": "weekly", "cron": "0 7 * * MON"}]}
    push_workflow(rt.services, v2, activate=False)  # stored, not active: nothing changes
    assert set(schedules(rt, "daily_etl")) == {"nightly", "often"}
    activate(rt.services, "daily_etl", 2)
    assert set(schedules(rt, "daily_etl")) == {"weekly"}
    assert schedules(rt, "daily_etl")["weekly"]["ScheduleExpression"] == "cron(0 7 ? * 2 *)"
    rollback(rt.services, "daily_etl")
    assert set(schedules(rt, "daily_etl")) == {"nightly", "often"}


def test_an_event_trigger_fires_only_for_the_bus_it_names(rt: LocalRuntime) -> None:
    """``event: {pattern, bus: NAME}``: the construct's rule on that bus wraps what it
    delivers as {"podium_bus": NAME, "event": ...}; a trigger matches only events of the
    bus it names (default: the default bus), and Podium's own bus still carries signals."""
    pattern = {"source": ["acme.orders"], "detail-type": ["OrderPlaced"]}
    for name, bus in (("on_orders_bus", "acme-orders"), ("on_default_bus", "default")):
        rt.push(
            {
                "name": name,
                "params": {"order": {"type": "string"}},
                "steps": [{"id": "a", "type": "noop"}],
                "triggers": [
                    {
                        "event": {"pattern": pattern, "bus": bus},
                        "params": {"order": "${event.detail.id}"},
                    }
                ],
            }
        )
    placed = {
        "id": "o-1",
        "source": "acme.orders",
        "detail-type": "OrderPlaced",
        "detail": {"id": "7"},
    }
    wrapped = {"podium_bus": "acme-orders", "event": placed}
    assert events.handler(wrapped, None)["matched"] == 1
    assert [r.params for r in runs(rt, "on_orders_bus")] == [{"order": "7"}]
    assert runs(rt, "on_default_bus") == []
    assert events.handler({**placed, "id": "o-2"}, None)["matched"] == 1  # the default bus
    assert len(runs(rt, "on_default_bus")) == 1 and len(runs(rt, "on_orders_bus")) == 1
    other = {"podium_bus": "elsewhere", "event": {**placed, "id": "o-3"}}
    assert events.handler(other, None)["matched"] == 0
    signal = {
        "podium_bus": "podium",
        "event": {
            "id": "s-1",
            "source": "acme",
            "detail-type": "podium.signal",
            "detail": {"name": "orders_ready", "params": {"day": "2026-12-01"}},
        },
    }
    assert events.handler(signal, None)["matched"] == 1


@pytest.mark.parametrize("workers", [1, 2])
def test_a_trigger_on_podiums_own_bus_fires_in_the_embedded_runtime(workers: int) -> None:
    """``event: {bus: podium}`` matches what Podium itself publishes (a run's status
    change): on AWS the bus's rule delivers it to the events function; the embedded
    runtime offers what the engine published to the same triggers."""
    from podium.adapters.clock import ManualClock

    with LocalRuntime(store="memory", clock=ManualClock(), workers=workers) as local:
        local.push({"name": "nightly_etl", "steps": [{"id": "boom", "type": "fail"}]})
        local.push(
            {
                "name": "page_oncall",
                "params": {"failed": {"type": "string"}},
                "steps": [{"id": "page", "type": "noop"}],
                "triggers": [
                    {
                        "id": "etl_failed",
                        "event": {
                            "bus": "podium",
                            "pattern": {
                                "source": ["podium"],
                                "detail-type": ["Podium Run Status Change"],
                                "detail": {"workflow": ["nightly_etl"], "status": ["FAILED"]},
                            },
                        },
                        "params": {"failed": "${event.detail.run_id}"},
                    }
                ],
            }
        )
        failed = local.start_run("nightly_etl").run_id
        local.pump()
        (paging,) = runs(local, "page_oncall")
        assert paging.params == {"failed": failed}
        assert paging.status.value == "SUCCEEDED"
        assert paging.trigger == "event:etl_failed"


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_status_change_published_again_starts_no_second_run(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run_ended`` publishes the run's status change, then settles the run; a crash
    between the two has the sweeper redo it, which publishes the change again under a
    new event id. A ``bus: podium`` trigger keys it by what it says (run, status), so
    the downstream workflow starts once."""
    from podium.adapters.clock import ManualClock
    from podium.service.sweep import sweep

    home = {"home": ":memory:"} if store == "sqlite" else {}
    with LocalRuntime(store=store, clock=ManualClock(), **home) as local:
        local.push({"name": "wf_a", "steps": [{"id": "s", "type": "noop"}]})
        local.push(
            {
                "name": "wf_b",
                "steps": [{"id": "s", "type": "noop"}],
                "triggers": [
                    {
                        "id": "after_a",
                        "event": {
                            "bus": "podium",
                            "pattern": {
                                "source": ["podium"],
                                "detail-type": ["Podium Run Status Change"],
                                "detail": {"workflow": ["wf_a"], "status": ["SUCCEEDED"]},
                            },
                        },
                    }
                ],
            }
        )
        real, crashed = local.store.settle_run, []

        def settle_crashes_once(run_id: str) -> object:
            if not crashed:
                crashed.append(run_id)
                raise RuntimeError("the worker dies after the publish, before the settle")
            return real(run_id)

        monkeypatch.setattr(local.store, "settle_run", settle_crashes_once)
        first = local.start_run("wf_a").run_id
        with contextlib.suppress(RuntimeError):
            local.pump()
        local.pump()
        assert crashed  # the end was redone (a redelivery, or the sweep below)
        local.clock.advance(3_600_000)
        sweep(local.services, local.store)  # redoes run_ended: publishes again
        local.pump()
        assert local.store.get_run(first).settled
        (b_run,) = runs(local, "wf_b")
        assert b_run.status.value == "SUCCEEDED"


@pytest.mark.parametrize("store", ["memory", "sqlite", "moto"])
def test_a_signal_triggers_run_lost_after_its_signals_were_consumed_starts_on_a_resend(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signal trigger marks its set of signals used, then starts the run: a crash (or
    throttling) between the two left the set used and no run, and a resend (the same
    request id) found the signal used and did nothing. Now it starts the set's run."""
    from podium.adapters.clock import ManualClock
    from podium.core.engine.signals import SignalRequest
    from podium.service import runs as runs_service
    from podium.service.signals import send_signal

    home = {"home": ":memory:"} if store == "sqlite" else {}
    with LocalRuntime(store=store, clock=ManualClock(), **home) as local:
        local.push(
            {
                "name": "on_ready",
                "params": {"day": {"type": "string"}},
                "steps": [{"id": "a", "type": "noop"}],
                "triggers": [
                    {
                        "id": "t",
                        "signal": {"names": ["ready", "approved"], "join_keys": ["day"]},
                        "params": {"day": "${event.signals.ready.params.day}"},
                    }
                ],
            }
        )
        real, failed = runs_service.start_run, []

        def fails_once(*args: Any, **kwargs: Any) -> Any:
            if not failed:
                failed.append(1)
                raise RuntimeError("the events function dies before the run's put")
            return real(*args, **kwargs)

        monkeypatch.setattr(runs_service, "start_run", fails_once)
        send_signal(local.services, SignalRequest("ready", params={"day": "d1"}, request_id="a"))
        approved = SignalRequest("approved", params={"day": "d1"}, request_id="b")
        with pytest.raises(RuntimeError):
            send_signal(local.services, approved)
        assert runs(local, "on_ready") == []
        send_signal(local.services, approved)  # the sender retries
        (run,) = runs(local, "on_ready")
        assert run.params == {"day": "d1"}
        send_signal(local.services, approved)  # and again: the same run, no second
        assert len(runs(local, "on_ready")) == 1


def test_a_trigger_that_matched_and_could_not_start_its_run_says_so(rt: LocalRuntime) -> None:
    """An S3 upload matched a trigger whose params refuse the key: no run, and the events
    function answered "no trigger matches" (counted EventsUnmatched); only a log line
    said otherwise. Now its answer names the trigger that failed, and the failure is on
    the trigger's state, which `podium triggers list` shows."""
    from podium.handlers import events as events_handler
    from podium.service.triggers import list_triggers

    rt.push(
        {
            "name": "ingest",
            "params": {
                "key": {
                    "type": "string",
                    "validate": {"expr": "value.endsWith('.csv')", "message": "only csv"},
                }
            },
            "steps": [{"id": "a", "type": "noop"}],
            "triggers": [
                {
                    "id": "upload",
                    "s3": {"bucket": "landing", "prefix": "raw/"},
                    "params": {"key": "${event.detail.object.key}"},
                }
            ],
        }
    )
    event = {
        "version": "0",
        "id": "e-1",
        "source": "aws.s3",
        "detail-type": "Object Created",
        "time": "2026-03-27T12:00:00Z",
        "detail": {"bucket": {"name": "landing"}, "object": {"key": "raw/file.json"}},
    }
    answer = events_handler.handler(event, None)
    assert answer["failed"] == ["ingest/upload"] and answer["runs"] == []
    (listed,) = list_triggers(rt.services, "ingest")
    assert listed["last_failure"]["error"].endswith("only csv")
    assert runs(rt, "ingest") == []


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_burst_of_more_than_fifty_signals_is_joined_whole(store: str) -> None:
    """A join looked at the newest 50 signals of the other name only: after 60 `a`s
    then 60 `b`s, the 10 oldest `a`s were never joined (and 10 `b`s waited for ever)."""
    from podium.adapters.clock import ManualClock
    from podium.core.engine.signals import SignalRequest
    from podium.service.signals import send_signal

    home = {"home": ":memory:"} if store == "sqlite" else {}
    with LocalRuntime(store=store, clock=ManualClock(), **home) as local:
        local.push(
            {
                "name": "pairs",
                "params": {"a": {"type": "int"}, "b": {"type": "int"}},
                "steps": [{"id": "x", "type": "noop"}],
                "triggers": [
                    {
                        "id": "t",
                        "signal": {"names": ["a", "b"]},
                        "params": {
                            "a": "${event.signals.a.params.n}",
                            "b": "${event.signals.b.params.n}",
                        },
                    }
                ],
            }
        )
        for name in ("a", "b"):
            for i in range(60):
                local.clock.advance(1000)
                send_signal(local.services, SignalRequest(name, params={"n": i}))
        pairs = sorted((r.params["a"], r.params["b"]) for r in runs(local, "pairs"))
        assert sorted(a for a, _ in pairs) == list(range(60))
        assert sorted(b for _, b in pairs) == list(range(60))


def test_a_trigger_added_before_a_disabled_one_leaves_it_disabled(rt: LocalRuntime) -> None:
    """A default id is the trigger's position: without keeping ids, adding a trigger in
    front renamed the disabled cron_0 to cron_1, whose new state was enabled."""
    nightly = {"cron": "0 6 * * *", "params": {"day": "${event.logical_date}"}}
    rt.push({**ETL, "triggers": [nightly]})
    set_enabled(rt.services, "daily_etl", "cron_0", False)
    upload = {"s3": {"bucket": "landing", "prefix": "raw/"}}
    moved = {**ETL, "triggers": [upload, {"rate": "1h"}, nightly]}
    version, created = push_workflow(rt.services, moved)
    assert created and version.version == 2
    listed = {t["id"]: t for t in list_triggers(rt.services, "daily_etl")}
    assert set(listed) == {"s3_0", "rate_1", "cron_0"}
    assert not listed["cron_0"]["enabled"] and listed["cron_0"]["rule"].startswith("0 6")
    assert set(schedules(rt, "daily_etl")) == {"rate_1"}  # the nightly one is still off
    # The stored version names the moved trigger; pushing the same file again is no change.
    assert version.document["triggers"][2]["id"] == "cron_0"
    assert push_workflow(rt.services, moved)[1] is False
    fire(rt, "daily_etl", "cron_0", "2026-03-28T06:00:00Z")
    assert runs(rt, "daily_etl") == []

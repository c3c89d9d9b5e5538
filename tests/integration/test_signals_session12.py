"""Signals and triggers, after an audit (scripts of /tmp/audit_triggers).

- A signal id comes back once its signal has expired (no request id: the name and
  params; or the same request id). A signal trigger's consumption marks, keyed by the
  id and kept past the signal, made the new signal "consumed": it re-formed the old set
  with a still-live partner (a second run) and the new day's set never ran. Marks and
  sets now name instances (id and sent_at); an old mark (id only) counts only for the
  instance sent no later than it was made.
- A consumed set whose run is missing is started again by a re-send only within
  RECOVER_WINDOW_MS of the consume: later, the run is missing because retention deleted
  it, and starting it again ran the set twice.
- A lone surrogate in a signal is refused naming its field (it wedged an emitting run on
  DynamoDB and made the events function raise); one signal trigger's failure no longer
  keeps the others from the signal, nor fails an emit.
- A ``bus: podium`` trigger matching the status changes of its own runs looped forever.
- A rate trigger's run had the firing's logical date, not its slot's (which backfill
  gives the same run id).
- A ``podium.signal`` event was a signal on any bus; a trailing newline passed the name
  checks; 100,000 bad params were answered with 100,001 issues; racing enable/disable
  left a trigger enabled without its schedule.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.schedules import MemorySchedules
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.schedule import parse_iso
from podium.core.engine.signals import (
    LEGACY_MARK_TTL_MS,
    RECOVER_WINDOW_MS,
    SignalRequest,
    check_request,
)
from podium.handlers import events
from podium.local.runtime import LocalRuntime
from podium.service.signals import request_from_json, send_signal
from podium.service.triggers import list_triggers, schedule_name, set_enabled

H = 3_600_000
DAY = 24 * H


def local(store: str, at: str = "2026-03-01T00:00:00Z") -> LocalRuntime:
    home = {"home": ":memory:"} if store == "sqlite" else {}
    return LocalRuntime(store=store, clock=ManualClock(start_ms=parse_iso(at)), **home)


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    with local(request.param) as runtime:
        yield runtime


def runs(rt: LocalRuntime, workflow: str) -> list[Any]:
    return rt.store.list_runs(workflow, 1000)


def clock(rt: LocalRuntime) -> ManualClock:
    assert isinstance(rt.clock, ManualClock)
    return rt.clock


DAILY = {
    "name": "rep",
    "steps": [{"id": "a", "type": "noop"}],
    "run_strategy": {"parallel": 50},
    "params": {"day": {"type": "string"}},
    "triggers": [
        {
            "id": "ab",
            "signal": {"names": ["A", "B"]},
            "params": {"day": "${event.signals.B.params.day}"},
        }
    ],
}


# 1. a signal id that comes back is a new signal -----------------------------------------
def test_a_signal_id_sent_again_after_it_expired_is_a_new_signal(rt: LocalRuntime) -> None:
    """A is a daily flag without params (ttl 1 day: the same id every day), B carries
    the day. Each day joins that day's A and B: once, and every day (it ran day 1 twice
    and never day 2 or 3)."""
    rt.push(DAILY)
    clock(rt).advance(60_000)
    for day in ("2026-03-01", "2026-03-02", "2026-03-03"):
        send_signal(rt.services, SignalRequest("A", ttl_ms=DAY))
        clock(rt).advance(H)
        send_signal(rt.services, SignalRequest("B", params={"day": day}))
        clock(rt).advance(23 * H + 60_000)  # yesterday's A has expired, its B lives on
    assert sorted(r.params["day"] for r in runs(rt, "rep")) == [
        "2026-03-01",
        "2026-03-02",
        "2026-03-03",
    ]


def test_both_ids_coming_back_start_one_run_a_day(rt: LocalRuntime) -> None:
    """Neither signal has params: both ids come back each day (it started 2 runs a day)."""
    rt.push({**DAILY, "params": {}, "triggers": [{"id": "ab", "signal": {"names": ["A", "B"]}}]})
    clock(rt).advance(60_000)
    for _ in range(3):
        send_signal(rt.services, SignalRequest("A", ttl_ms=DAY))
        clock(rt).advance(H)
        send_signal(rt.services, SignalRequest("B", ttl_ms=DAY))
        clock(rt).advance(23 * H + 30 * 60_000)
    assert len(runs(rt, "rep")) == 3


def test_an_old_mark_of_an_id_covers_only_the_signal_it_was_made_for(rt: LocalRuntime) -> None:
    """A mark made before marks named instances (the signal id alone, no time): the
    signal it was made for stays consumed (no second run for it), and a later signal of
    the same id, sent after that one expired, is a new one that starts its run."""
    rt.push({"name": "one", "steps": [{"id": "a", "type": "noop"}], "triggers": [
        {"id": "t", "signal": {"names": ["ready"]}}]})  # fmt: skip
    clock(rt).advance(60_000)
    signals = rt.services.signals
    assert signals is not None
    req = SignalRequest("ready", request_id="r-1", ttl_ms=2 * DAY)
    # As the old code left it: the signal stored, its mark by id (its run since gone).
    from podium.core.engine.signals import new_signal

    stored, _ = signals.send(new_signal(req, clock(rt).now_ms()))
    made = clock(rt).now_ms()
    assert signals.consume("one/t", [stored.signal_id], stored.signal_id, made + LEGACY_MARK_TTL_MS)
    clock(rt).advance(DAY)
    send_signal(rt.services, req)  # the same signal again: consumed, no run
    assert runs(rt, "one") == []
    clock(rt).advance(2 * DAY)  # it expired; the id comes back as a new signal
    _, created = send_signal(rt.services, req)
    assert created and len(runs(rt, "one")) == 1


# 4. a re-send long after the consume does not run the set again ---------------------------
def test_a_resend_long_after_the_consume_starts_no_run(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run of a consumed set is missing: within RECOVER_WINDOW_MS of the consume a
    re-send starts it (a start that died); later it is missing because retention
    deleted it, and a re-send (a producer re-publishing) must not run the set twice."""
    from podium.service import runs as runs_service

    rt.push({"name": "w", "steps": [{"id": "a", "type": "noop"}], "triggers": [
        {"id": "s", "signal": {"names": ["ready"]}}]})  # fmt: skip
    clock(rt).advance(1000)
    real = runs_service.start_run

    def dies(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the run's put is lost (or retention deleted the run since)")

    monkeypatch.setattr(runs_service, "start_run", dies)
    req = SignalRequest("ready", request_id="ready-1", ttl_ms=365 * DAY)
    with pytest.raises(RuntimeError):  # consumed, no run; the API's caller is told
        send_signal(rt.services, req)
    monkeypatch.setattr(runs_service, "start_run", real)
    clock(rt).advance(RECOVER_WINDOW_MS + 1)
    send_signal(rt.services, req)
    assert runs(rt, "w") == []


def test_a_resend_after_retention_deleted_the_run_starts_no_second_run() -> None:
    """The audit's case on DynamoDB: the run's items are deleted as its TTL would."""
    with local("moto") as rt:
        rt.push({"name": "w", "steps": [{"id": "a", "type": "noop"}], "triggers": [
            {"id": "s", "signal": {"names": ["ready"]}}]})  # fmt: skip
        clock(rt).advance(1000)
        req = SignalRequest("ready", request_id="ready-1", ttl_ms=365 * DAY)
        send_signal(rt.services, req)
        rt.pump()
        [first] = runs(rt, "w")
        clock(rt).advance(100 * DAY)
        db, table = rt.store._db, rt.store._table  # type: ignore[attr-defined]
        for item in db.scan(TableName=table)["Items"]:
            text = repr(item)
            if first.run_id in text:
                db.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
        assert runs(rt, "w") == []
        _, created = send_signal(rt.services, req)
        assert not created and runs(rt, "w") == []


# 2. characters with no UTF-8 form ------------------------------------------------------
@pytest.mark.parametrize(
    ("request_", "path"),
    [
        (SignalRequest("n", params={"day": "2026\ud800"}), "signal.params.day"),
        (SignalRequest("n", request_id="r\ud800"), "signal.request_id"),
        (SignalRequest("n", payload={"x": ["ok", "\udc00"]}), "signal.payload.x[1]"),
        (SignalRequest("n", payload={"k\ud800": 1}), "signal.payload.k\\ud800"),
    ],
)
def test_a_string_without_a_utf8_form_is_refused_naming_its_field(
    request_: SignalRequest, path: str
) -> None:
    with pytest.raises(DefinitionError) as err:
        check_request(request_)
    assert [i.path for i in err.value.issues] == [path]
    assert "UTF-8" in str(err.value)
    str(err.value).encode("utf-8")  # the answer itself encodes (it is logged and sent)


@pytest.mark.parametrize("store", ["memory", "moto"])
def test_a_bad_bus_signal_is_dropped_not_raised(store: str) -> None:
    with local(store):
        for detail in (
            {"name": "n", "request_id": "r\ud800"},
            {"name": "n", "params": {"day": "2026\ud800"}},
        ):
            event = {"id": "s", "source": "x", "detail-type": "podium.signal", "detail": detail}
            answer = events.handler({"podium_bus": "podium", "event": event}, None)
            assert answer["dropped"] == 1, answer


def test_an_emit_that_renders_a_bad_signal_does_not_wedge_its_run(tmp_path: Any) -> None:
    """A step's output with a lone surrogate, emitted as a param: on DynamoDB the store
    raised, the step's completion was redone until it dead-lettered (run RUNNING)."""
    module = tmp_path / "surr_fn_s12.py"
    module.write_text('def out(event):\n    return {"day": "2026" + "\\ud800"}\n')
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        with local("moto") as rt:
            rt.push(
                {
                    "name": "em",
                    "steps": [
                        {
                            "id": "x",
                            "type": "lambda",
                            "function": "surr_fn_s12:out",
                            "emit": [
                                {"signal": "ready", "params": {"day": "${steps.x.output.day}"}}
                            ],
                        },
                        {"id": "after", "type": "noop", "depends_on": ["x"]},
                    ],
                }
            )
            run = rt.start_run("em")
            rt.pump(max_deliveries=200)
            assert rt.describe(run.run_id).run.status.value == "SUCCEEDED"
            assert rt.dead_letters() == []
    finally:
        sys.path.remove(str(tmp_path))


def test_one_failing_signal_trigger_blocks_neither_the_emit_nor_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from podium.service import signal_triggers as triggers

    with local("memory") as rt:
        for name in ("bad", "good"):
            rt.push({"name": name, "steps": [{"id": "a", "type": "noop"}], "triggers": [
                {"id": "t", "signal": {"names": ["ready"]}}]})  # fmt: skip
        clock(rt).advance(1000)
        real = triggers._try_signal_trigger

        def fails_for_bad(ctx: Any, workflow: str, *args: Any) -> Any:
            if workflow == "bad":
                raise RuntimeError("boom")
            return real(ctx, workflow, *args)

        monkeypatch.setattr(triggers, "_try_signal_trigger", fails_for_bad)
        send_signal(rt.services, SignalRequest("ready", source="emit"))  # nothing raised
        assert len(runs(rt, "good")) == 1 and runs(rt, "bad") == []
        [state] = list_triggers(rt.services, "bad")
        assert "RuntimeError: boom" in state["last_failure"]["error"]
        # A sender waiting for an answer is told (after every trigger had its turn).
        with pytest.raises(RuntimeError):
            send_signal(rt.services, SignalRequest("ready", params={"n": 2}, source="api"))
        assert len(runs(rt, "good")) == 2


# 3. a trigger started by its own runs' status changes -----------------------------------
def test_a_podium_bus_trigger_on_its_own_runs_does_not_loop() -> None:
    with local("memory") as rt:
        rt.push(
            {
                "name": "selfish",
                "steps": [{"id": "a", "type": "fail"}],
                "triggers": [
                    {
                        "id": "again",
                        "event": {
                            "bus": "podium",
                            "pattern": {
                                "source": ["podium"],
                                "detail-type": ["Podium Run Status Change"],
                                "detail": {"workflow": ["selfish"], "status": ["FAILED"]},
                            },
                        },
                    }
                ],
            }
        )
        rt.start_run("selfish")  # by hand: its failure starts one run of the trigger
        for _ in range(4):
            rt.pump(max_deliveries=200)
        assert len(runs(rt, "selfish")) == 2
        [state] = list_triggers(rt.services, "selfish")
        assert "a run it started itself" in state["last_failure"]["error"]


# 5. a rate trigger's run is its slot's ------------------------------------------------
def test_a_rate_triggers_run_has_its_slots_logical_date() -> None:
    from podium.adapters.schedules import with_time
    from podium.service import backfill
    from podium.service.inbox import handle_event

    with local("memory", "2026-03-01T23:30:00Z") as rt:
        rt.push(
            {
                "name": "r",
                "params": {"day": {"type": "string"}, "time": {"type": "string"}},
                "steps": [{"id": "a", "type": "noop"}],
                "triggers": [
                    {
                        "id": "daily",
                        "rate": "1d",
                        "params": {"day": "${event.logical_date}", "time": "${event.time}"},
                    }
                ],
            }
        )  # slots start at 23:30 each day; a schedule re-made later fires at 00:10
        msg = {"t": "fire", "wf": "r", "tr": "daily", "at": "<aws.scheduler.scheduled-time>"}
        handle_event(rt.services, with_time(msg, parse_iso("2026-03-04T00:10:00Z")))
        [run] = runs(rt, "r")
        assert run.logical_date == "2026-03-03"
        assert run.params == {"day": "2026-03-03", "time": "2026-03-03T23:30:00Z"}
        clock(rt).advance_to(parse_iso("2026-03-06T00:00:00Z"))
        [entry] = backfill.plan(rt.services, "r", "2026-03-03", "2026-03-03").entries
        assert (entry.run_id, entry.logical_date) == (run.run_id, run.logical_date)


# 6. podium.signal only from Podium's bus ------------------------------------------------
def test_a_podium_signal_event_is_a_signal_only_on_podiums_bus() -> None:
    with local("memory") as rt:

        def event(name: str) -> dict[str, Any]:
            return {"id": name, "source": "anyone", "detail-type": "podium.signal",
                    "detail": {"name": name}}  # fmt: skip

        events.handler({"podium_bus": "acme-orders", "event": event("on_named")}, None)
        events.handler(event("on_default"), None)
        answer = events.handler({"podium_bus": "podium", "event": event("on_podium")}, None)
        assert answer["matched"] == 1 and answer["created"] is True
        signals, now = rt.services.signals, clock(rt).now_ms()
        assert signals is not None
        found = {n: signals.find(n, [], now=now) for n in ("on_named", "on_default", "on_podium")}
        assert {n: len(s) for n, s in found.items()} == {
            "on_named": 0,
            "on_default": 0,
            "on_podium": 1,
        }


# 7. names and many params -------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"name": "sales_ready\n"}, "body.name"),
        ({"name": "sales_ready", "params": {"day\n": "2026-01-01"}}, "body.params.day\n"),
    ],
)
def test_a_trailing_newline_is_no_name(body: dict[str, Any], path: str) -> None:
    with pytest.raises(DefinitionError) as err:
        request_from_json(body)
    assert [i.path for i in err.value.issues] == [path]


def test_too_many_params_are_one_issue() -> None:
    body = {"name": "n", "params": {f"p{i}": 1.5 for i in range(100_000)}}
    with pytest.raises(DefinitionError) as err:
        request_from_json(body)
    assert [(i.path, i.message) for i in err.value.issues] == [
        ("body.params", "at most 20 params, not 100,000")
    ]


# 8. racing enable and disable ---------------------------------------------------------
def test_racing_enable_and_disable_leave_the_schedule_as_the_state_says() -> None:
    """A's disable read the states (disabled) and is about to delete the schedule; B's
    enable runs whole meanwhile; then A deletes: enabled, and no schedule."""

    class Hooked(MemorySchedules):
        hook: Any = None

        def delete(self, name: str) -> None:
            if self.hook:
                hook, self.hook = self.hook, None
                hook()
            super().delete(name)

    with local("memory") as rt:
        schedules = Hooked()
        rt.services.schedules = schedules
        rt.push({"name": "etl", "steps": [{"id": "a", "type": "noop"}],
                 "triggers": [{"id": "nightly", "cron": "0 6 * * *"}]})  # fmt: skip
        name = schedule_name("etl", "nightly")
        assert schedules.get(name) is not None
        schedules.hook = lambda: set_enabled(rt.services, "etl", "nightly", True)
        set_enabled(rt.services, "etl", "nightly", False)
        assert list_triggers(rt.services, "etl")[0]["enabled"] is True
        assert schedules.get(name) is not None

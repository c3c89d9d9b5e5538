"""Incoming and emitted events, found by a review: `bus: podium` triggers fire with
`--events` printing, a best-effort status event the bus refuses fails no action, event
patterns match leaves only (an object is no value; nested lists flattened), a
subworkflow's run announces its pause and resume, and the construct refuses a trigger
bus named `podium` or `default`. Each test failed before its fix (its docstring says
what was wrong)."""

from __future__ import annotations

import io
from typing import Any, ClassVar

from podium.adapters.clock import ManualClock
from podium.local.runtime import LocalRuntime
from tests.integration.test_chain_event_start import REPORT  # starts when an etl run succeeds

ETL = {"name": "etl", "steps": [{"id": "a", "type": "noop"}]}


def test_bus_podium_triggers_still_fire_locally_with_events_printed() -> None:
    """`podium run --events` / `podium dev --events` wrap the in-memory events in
    PrintingEvents (local/event_printer.py), which has no ``take_unrouted``; the pump's
    ``_route_own_events`` looks that method up with getattr and so offers nothing to the
    `bus: podium` triggers: printing events silently switches chained workflows off.
    docs/workflow-language.md: the embedded runtime delivers these too."""
    from podium.local.event_printer import print_events_of

    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.push(REPORT)
        print_events_of(rt.services, io.StringIO())
        rt.run(ETL)
        rt.pump()
        reports = rt.services.store.list_runs("report")
    assert len(reports) == 1


class _RefusingBus:
    """Podium's bus refusing PutEvents (throttled, or EventBridgeEvents' RuntimeError
    after three partial failures)."""

    published: ClassVar[list[dict[str, Any]]] = []

    def publish(self, events: Any) -> None:
        raise RuntimeError("EventBridge refused 1 events to podium-bus")


def test_a_pause_is_applied_and_answered_when_its_status_event_cannot_be_published() -> None:
    """docs/events.md: a pause or resume is published by the action after its write,
    *best effort*. ``publish_run_status`` (service/run_events.py) lets the bus's error
    escape, so the pause is written but the action raises (a 500), and no action record
    is kept: retrying the same request is then refused as the run is already PAUSED.
    ``publish_step`` already swallows and logs such errors; run status changes should
    too (at least for the best-effort ones: pause, resume, queued drops)."""
    from podium.core.engine.actions import RunAction
    from podium.core.engine.status import RunStatus
    from podium.service.actions import Actor, run_action

    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.push({"name": "napper", "steps": [{"id": "nap", "type": "sleep", "seconds": 3600}]})
        run = rt.start_run("napper")
        rt.pump(wait=False)
        assert rt.services.store.get_run(run.run_id).status is RunStatus.RUNNING
        rt.services.events = _RefusingBus()  # type: ignore[assignment]
        try:
            result = run_action(rt.services, run.run_id, RunAction.PAUSE, Actor(by="me"))
        finally:
            paused = rt.services.store.get_run(run.run_id).status
    assert paused is RunStatus.PAUSED
    assert result.status == "PAUSED"


def test_anything_but_does_not_match_a_field_holding_an_object() -> None:
    """EventBridge matches on leaf values: a field holding an object (or a list of
    objects) has no value there, so ``anything-but`` cannot match it, exactly as
    ``exists`` already treats it in this module. ``_one`` (core/engine/event_patterns.py)
    answers ``not any(excluded == v)`` for any v, so an object "is anything but
    FAILED" and a state-change pattern fires on events whose ``state`` is a structure."""
    from podium.core.engine.event_patterns import check_pattern, matches

    pattern = {"detail": {"state": [{"anything-but": "FAILED"}]}}
    check_pattern(pattern)
    assert matches(pattern, {"detail": {"state": "SUCCEEDED"}})  # a leaf: matches
    assert not matches(pattern, {"detail": {"state": {"name": "FAILED"}}})
    assert not matches(pattern, {"detail": {"state": [{"name": "FAILED"}]}})
    assert not matches(
        {"detail": {"state": [{"anything-but": ["A", "B"]}]}}, {"detail": {"state": {}}}
    )


def test_a_value_inside_a_nested_list_matches_like_one_in_a_flat_list() -> None:
    """EventBridge flattens arrays of arrays: ``[["a"]]`` offers the value "a" to the
    pattern as ``["a"]`` does. This module already sees through nested lists for
    ``exists`` (``_has_leaf``) and for nested patterns (``_nested_matches``), but
    ``_field_matches`` only unwraps one level, so ``exists: true`` holds while ``["a"]``,
    ``prefix`` and the rest never match the same field."""
    from podium.core.engine.event_patterns import matches

    event = {"detail": {"tags": [["a", "b"], ["c"]]}}
    assert matches({"detail": {"tags": [{"exists": True}]}}, event)  # sees "a"
    assert matches({"detail": {"tags": ["a"]}}, event)
    assert matches({"detail": {"tags": [{"prefix": "c"}]}}, event)


def test_a_subworkflow_child_paused_with_its_parent_publishes_its_pause() -> None:
    """docs/events.md: a run status change is published when a run is paused (PAUSED)
    or resumed, and "a subworkflow's child run publishes its own". Pausing the parent
    moves its subworkflow child to PAUSED too (``pause_tree``/``move_tree``,
    service/pausing.py), but only the parent's change is published
    (``_apply_run_action``): a consumer following the child sees RUNNING, then
    SUCCEEDED, never that it was paused. (A loop's iteration runs rightly publish none.)"""
    from podium.core.engine.actions import RunAction
    from podium.core.engine.status import RunStatus
    from podium.service.actions import Actor, run_action

    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        run_id, child = paused_subworkflow_run(rt, nap_seconds=3600)
        assert child.status is RunStatus.PAUSED
        run_action(rt.services, run_id, RunAction.RESUME, Actor(by="me"))
        mine = run_changes(rt, child.run_id)
    assert mine == ["RUNNING", "PAUSED", "RUNNING"], mine


def paused_subworkflow_run(rt: LocalRuntime, *, nap_seconds: int) -> tuple[str, Any]:
    """A `parent` run whose subworkflow step's `child` run naps, paused by an operator:
    the parent's id and the child's record."""
    from podium.core.engine.actions import RunAction
    from podium.service.actions import Actor, run_action

    rt.push({"name": "child", "steps": [{"id": "nap", "type": "sleep", "seconds": nap_seconds}]})
    rt.push(
        {"name": "parent", "steps": [{"id": "sub", "type": "subworkflow", "workflow": "child"}]}
    )
    run = rt.start_run("parent")
    rt.pump(wait=False)
    run_action(rt.services, run.run_id, RunAction.PAUSE, Actor(by="me"))
    (child,) = rt.services.store.list_runs("child")
    return run.run_id, child


def run_changes(rt: LocalRuntime, run_id: str) -> list[str]:
    """The statuses the run's status-change events said, in order."""
    return [
        e["detail"]["status"]
        for e in rt.services.events.published  # type: ignore[attr-defined]
        if e["detail-type"] == "Podium Run Status Change" and e["detail"]["run_id"] == run_id
    ]


def test_a_trigger_bus_named_podium_is_refused_by_the_construct() -> None:
    """The rule of a bus listed in ``trigger_event_buses`` wraps its events as
    ``{"podium_bus": NAME, ...}`` (infra/podium_cdk/eventing.py), and the events
    function takes ``podium_bus == "podium"`` as Podium's own bus (handlers/events.py,
    service/event_routing.py): there a ``podium.signal`` event is a signal. A user's
    bus named ``podium`` (a valid EventBridge name) is accepted by PodiumProps, so
    anyone allowed to put events on that bus sends signals and feeds ``bus: podium``
    triggers, which docs/events.md rules out ("only there ... on another bus ... an
    ordinary event"). The props should refuse the reserved names (or the construct tag
    its own bus unambiguously)."""
    import sys
    from pathlib import Path

    import pytest

    pytest.importorskip("aws_cdk")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "infra"))
    from podium_cdk.props import PodiumProps

    with pytest.raises(ValueError, match="podium"):
        PodiumProps(trigger_event_buses=["podium"])


def test_a_numeric_range_is_a_lower_bound_then_an_upper_one() -> None:
    """`{"numeric": ["<", 5, "<", 10]}` (and a range whose low is not below its high) was
    accepted at push: EventBridge refuses such a pattern, and it means nothing useful. It
    is refused naming the shape of a range."""
    import pytest

    from podium.core.engine.event_patterns import PatternError, check_pattern, matches

    for bad in (["<", 5, "<", 10], ["<=", 10, ">", 1], [">", 10, "<", 5], ["=", 1, "<", 5]):
        with pytest.raises(PatternError, match="numeric"):
            check_pattern({"detail": {"n": [{"numeric": bad}]}})
    good = {"detail": {"n": [{"numeric": [">=", 0, "<", 10]}]}}
    check_pattern(good)
    assert matches(good, {"detail": {"n": 3}}) and not matches(good, {"detail": {"n": 10}})

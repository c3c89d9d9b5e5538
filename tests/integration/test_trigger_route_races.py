"""Taking a workflow off the routing keys its active version no longer has, raced by
activations of a version that has them (core/engine/trigger_index.py's analysis): the
interleavings made one by one, on memory, SQLite and DynamoDB (moto). Whatever the
order, an event under a key never misses a workflow whose active version has it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import parse_iso
from podium.core.engine.trigger_index import ACTIVATION_GRACE_MS, RouteActivations
from podium.handlers import events
from podium.local.runtime import LocalRuntime
from podium.service.triggers import activating
from podium.service.versions import activate, rollback

WITH = {
    "name": "w",
    "steps": [{"id": "a", "type": "noop"}],
    "triggers": [{"id": "up", "s3": {"bucket": "bkt"}}],
}
WITHOUT = {"name": "w", "steps": [{"id": "b", "type": "noop"}]}


def s3_event(event_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "source": "aws.s3",
        "detail-type": "Object Created",
        "time": "2026-03-27T12:00:00Z",
        "detail": {"bucket": {"name": "bkt"}, "object": {"key": "k.csv", "size": 1}},
    }


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalRuntime]:
    clock = ManualClock(start_ms=parse_iso("2026-03-27T12:00:00Z"))
    home = tmp_path / "home" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, clock=clock, home=home) as runtime:
        runtime.store.trigger_states().mark_routes_built()
        yield runtime


def routed(rt: LocalRuntime) -> bool:
    found = rt.store.trigger_states().get_routes(["s3:bkt"])
    assert found is not None
    return "w" in found.get("s3:bkt", ())


def definition(rt: LocalRuntime, version: int) -> Any:
    return rt.services.definitions.get("w", version).definition


def test_a_dropped_trigger_is_pruned_and_a_rollback_routes_it_again(rt: LocalRuntime) -> None:
    rt.push(WITH)
    assert routed(rt)
    rt.push(WITHOUT)
    assert not routed(rt)
    rollback(rt.services, "w")
    assert routed(rt)
    assert len(events.handler(s3_event("e1"), None)["runs"]) == 1


def test_a_prune_keeps_a_key_an_activation_in_flight_added(rt: LocalRuntime) -> None:
    """X (activating v1, which has the key) has added its routes, not yet made v1
    active, when P pushes v2 without the key and prunes: P must keep the key, or the
    event after X's activation misses the workflow."""
    rt.push(WITH)
    v1 = definition(rt, 1)
    with activating(rt.services, "w", v1, v1):  # X: its routes added
        rt.push(WITHOUT)  # P: v2 active, then its prune
        rt.store.activate_workflow_version("w", 1)  # X: v1 active
    assert routed(rt)
    assert len(events.handler(s3_event("e1"), None)["runs"]) == 1


def _before_removal(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch, race: Callable[[], None]
) -> None:
    """Run ``race`` once, between a prune's reads (r1, r2) and its removal (r3)."""
    cls = type(rt.store.trigger_states())
    real = cls.remove_routes

    def racing(self: Any, *args: Any) -> bool:
        monkeypatch.setattr(cls, "remove_routes", real)
        race()
        return real(self, *args)

    monkeypatch.setattr(cls, "remove_routes", racing)


def test_a_removal_is_refused_after_an_activation_between_its_reads_and_it(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """P (pushing v2 without the key) has read the activations and v2 active; a whole
    activation of v1 (with it) runs before P removes the key: P's removal is refused,
    and its next round finds v1 active."""
    rt.push(WITH)
    _before_removal(rt, monkeypatch, lambda: activate(rt.services, "w", 1) and None)
    rt.push(WITHOUT)
    assert rt.store.active_version("w") == 1
    assert routed(rt)
    assert len(events.handler(s3_event("e1"), None)["runs"]) == 1


def test_a_crashed_activation_delays_pruning_until_its_mark_expires(rt: LocalRuntime) -> None:
    rt.push(WITH)
    states = rt.store.trigger_states()
    states.begin_activation("w", "crashed", rt.services.now())  # never ended
    rt.push(WITHOUT)
    assert routed(rt)  # kept: an extra candidate, which starts nothing
    assert events.handler(s3_event("e1"), None)["matched"] == 0
    rt.clock.advance(ACTIVATION_GRACE_MS + 1)  # type: ignore[attr-defined]
    rollback(rt.services, "w")
    activate(rt.services, "w", 2)  # its prune clears the dead mark with the key
    assert not routed(rt)
    assert states.route_activations("w").pending == {}


def test_an_activation_slower_than_the_grace_adds_its_routes_again(rt: LocalRuntime) -> None:
    """Taken for a crashed one, X's mark is cleared and its key pruned before its
    version is active: X finds its mark gone once it is, and adds its routes again."""
    rt.push(WITH)
    v1 = definition(rt, 1)
    with activating(rt.services, "w", v1, v1):
        rt.clock.advance(ACTIVATION_GRACE_MS + 1)  # type: ignore[attr-defined]
        rt.push(WITHOUT)
        assert not routed(rt)
        rt.store.activate_workflow_version("w", 1)
    assert routed(rt)
    generation = rt.store.trigger_states().route_activations("w")
    assert generation == RouteActivations(generation.generation, {})


def test_a_slow_activation_that_ends_between_a_prunes_reads_and_removal_refuses_it(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """P reads X's mark as expired; X then makes v1 active and unmarks itself (finding
    its mark there: no second add) before P's removal, which must then be refused: the
    unmark moved the generation."""
    rt.push(WITH)
    v1 = definition(rt, 1)
    with ExitStack() as x:
        x.enter_context(activating(rt.services, "w", v1, v1))
        rt.clock.advance(ACTIVATION_GRACE_MS + 1)  # type: ignore[attr-defined]

        def x_ends() -> None:
            rt.store.activate_workflow_version("w", 1)
            x.close()

        _before_removal(rt, monkeypatch, x_ends)
        rt.push(WITHOUT)
    assert rt.store.active_version("w") == 1
    assert routed(rt)


def test_a_prune_that_fails_leaves_an_extra_candidate_and_the_push_stands(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt.push(WITH)
    cls = type(rt.store.trigger_states())

    def broken(self: Any, *args: Any) -> bool:
        raise RuntimeError("store down")

    monkeypatch.setattr(cls, "remove_routes", broken)
    rt.push(WITHOUT)
    assert rt.store.active_version("w") == 2
    assert routed(rt)
    assert events.handler(s3_event("e1"), None)["matched"] == 0

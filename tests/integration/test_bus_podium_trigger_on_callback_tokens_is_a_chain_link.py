"""A ``bus: podium`` trigger on "Podium Callback Token" events is a link of a chain, as
one on run and step status changes is (core/engine/trigger_events.py): the token event
carried neither ``trigger`` nor ``chain``, so a workflow started by token events that
itself waits for a callback started runs without end, every one at chain 0."""

from __future__ import annotations

from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.schedule import parse_iso
from podium.core.engine.trigger_events import MAX_CHAIN
from podium.local.runtime import LocalRuntime
from podium.service.triggers import event_run_id
from podium.testing import fire_trigger

TOKEN = "Podium Callback Token"


def waits_on_tokens_of(name: str, of: str) -> dict[str, Any]:
    """A workflow that waits for an acknowledgement, started by ``of``'s tokens."""
    return {
        "name": name,
        "params": {"of": {"type": "string", "default": "-"}},
        "steps": [
            {
                "id": "ack",
                "type": "wait_for_callback",
                "payload": {"of": "${params.of}"},
                "timeout": "1m",
            }
        ],
        "triggers": [
            {
                "id": "on_wait",
                "event": {
                    "bus": "podium",
                    "pattern": {
                        "source": ["podium"],
                        "detail-type": [TOKEN],
                        "detail": {"workflow": [of]},
                    },
                },
                "params": {"of": "${event.detail.run_id}"},
            }
        ],
    }


def _runtime() -> LocalRuntime:
    return LocalRuntime(
        store="memory", clock=ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    )


def test_a_trigger_on_its_own_runs_tokens_is_refused_as_self_started() -> None:
    """A notifier started by its own runs' tokens started a run from each, forever."""
    with _runtime() as rt:
        rt.push(waits_on_tokens_of("escalate", "escalate"))
        rt.start_run("escalate")
        for _ in range(3 * MAX_CHAIN):  # bounded: a cycle that never stops fails below
            rt.pump(max_deliveries=200)
        runs = rt.store.list_runs("escalate", 1000)
    # The run started by hand, and the one its token started: that one's token is its
    # own trigger's, refused.
    assert sorted(r.chain for r in runs) == [0, 1]


def test_a_cycle_through_two_workflows_tokens_stops_at_the_chain_limit() -> None:
    """ping's runs start from pong's tokens and pong's from ping's: no self-start, but
    each run is one link further, and none starts past MAX_CHAIN."""
    with _runtime() as rt:
        rt.push(waits_on_tokens_of("ping", "pong"))
        rt.push(waits_on_tokens_of("pong", "ping"))
        started = rt.start_run("ping")
        for _ in range(3 * MAX_CHAIN):
            rt.pump(max_deliveries=200)
        runs = rt.store.list_runs("ping", 1000) + rt.store.list_runs("pong", 1000)
        published = [
            e["detail"]
            for e in rt.services.events.published  # type: ignore[union-attr]
            if e["detail-type"] == TOKEN
        ]
    assert sorted(r.chain for r in runs) == list(range(MAX_CHAIN + 1))
    first = next(d for d in published if d["chain"] == 0)
    assert first["trigger"] == started.trigger and first["workflow"] == "ping"
    assert isinstance(first["created_at"], int) and isinstance(first["at"], int)


def _token_event(
    chain: int, trigger: str = "api", time: str = "2026-01-15T00:00:01Z"
) -> dict[str, Any]:
    return {
        "id": f"e-{time}",
        "source": "podium",
        "detail-type": TOKEN,
        "time": time,
        "detail": {
            "token": "pcb1_x",
            "run_id": "01KDVDNA00AD3DAJ2JEGH4GZTS",
            "workflow": "upstream",
            "version": 1,
            "created_at": 1_767_225_600_000,
            "step": "ack",
            "attempt": 1,
            "at": 1_767_225_600_500,
            "type": "wait_for_callback",
            "trigger": trigger,
            "chain": chain,
        },
    }


def test_a_token_event_past_the_chain_limit_starts_no_run() -> None:
    with _runtime() as rt:
        rt.push(waits_on_tokens_of("notify", "upstream"))
        assert fire_trigger(rt, "notify", _token_event(3), pump=False).run.chain == 4
        with pytest.raises(DefinitionError) as raised:
            fire_trigger(rt, "notify", _token_event(MAX_CHAIN), pump=False)
    (issue,) = raised.value.issues
    assert issue.path == "event.detail.chain"
    assert "the callback token of step 'ack'" in issue.message


def test_a_token_event_published_again_names_the_same_run() -> None:
    """A start redone publishes its token event again (a new event id and time): the
    run it starts is the one the first started, named by the attempt, not the event."""
    with _runtime() as rt:
        rt.push(waits_on_tokens_of("notify", "upstream"))
        first = event_run_id(rt.services, "notify", _token_event(0))
        again = event_run_id(rt.services, "notify", _token_event(0, time="2026-01-15T00:09:00Z"))
    assert first == again

"""``podium_link`` (core/engine/trigger_events.py): what a ``bus: podium`` trigger may
start from one status change: refused (and where the event says why), the started
run's chain, and past ONCE_PER_RUN_FROM links one firing per changed run."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.engine.trigger_events import MAX_CHAIN, ONCE_PER_RUN_FROM, podium_link


def run_change(**fields: Any) -> dict[str, Any]:
    return {
        "run_id": "R1",
        "workflow": "pong",
        "status": "RUNNING",
        "trigger": "event:after_ping",
        "created_at": 1_000,
        **fields,
    }


def link(detail: dict[str, Any]) -> Any:
    return podium_link(detail, "ping", "after_pong", "event:after_pong")


@pytest.mark.parametrize("chain", range(ONCE_PER_RUN_FROM))
def test_each_change_is_a_firing_of_its_own_in_the_first_links(chain: int) -> None:
    made = link(run_change(chain=chain))
    assert (made.chain, made.refused, made.per_run) == (chain + 1, None, None)


@pytest.mark.parametrize("chain", range(ONCE_PER_RUN_FROM, MAX_CHAIN))
def test_past_them_one_firing_per_changed_run(chain: int) -> None:
    running = link(run_change(chain=chain))
    ended = link(run_change(chain=chain, status="SUCCEEDED", ended_at=9_000))
    assert running.chain == chain + 1 and running.refused is None
    assert running.per_run == ended.per_run == ("podium-run:R1", 1_000)
    assert link(run_change(chain=chain, run_id="R2")).per_run != running.per_run


@pytest.mark.parametrize("created", [None, "1000", True])
def test_a_change_without_its_runs_creation_time_stays_a_firing_of_its_own(
    created: Any,
) -> None:
    """A step's status change carries no ``created_at``: no time names its run."""
    detail = run_change(chain=ONCE_PER_RUN_FROM, step="a")
    if created is None:
        del detail["created_at"]
    else:
        detail["created_at"] = created
    assert link(detail).per_run is None


def test_refusals_say_where() -> None:
    too_long = link(run_change(chain=MAX_CHAIN))
    assert too_long.where == "event.detail.chain" and too_long.refused is not None
    assert f"whose detail.chain is {MAX_CHAIN}" in too_long.refused
    own = link(run_change(chain=1, workflow="ping", trigger="event:after_pong"))
    assert own.where == "event.detail.trigger" and own.refused is not None
    assert "a run it started itself" in own.refused

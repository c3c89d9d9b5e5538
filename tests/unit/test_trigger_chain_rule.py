"""The chain guard's pure rule (core/engine/trigger_events.py), the status changes that
carry a run's chain, and its round trip through the DynamoDB and SQLite codecs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from podium.adapters import dynamo_codec
from podium.adapters.sqlite import codec as sqlite_codec
from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.engine.trigger_events import MAX_CHAIN, chain_of, chain_too_long
from podium.service.run_events import run_status_event
from podium.service.step_events import step_status_event


def detail(**fields: Any) -> dict[str, Any]:
    return {"run_id": "R1", "workflow": "pong", "status": "SUCCEEDED", **fields}


@pytest.mark.parametrize(
    ("given", "chain"),
    [(0, 0), (3, 3), (MAX_CHAIN, MAX_CHAIN), (None, 0), (True, 0), ("4", 0), (-2, 0), (2.0, 0)],
)
def test_the_chain_of_a_status_change(given: Any, chain: int) -> None:
    """An event from an older release (no chain) or one whose chain is no count starts
    a chain of its own rather than failing the trigger."""
    fields = {} if given is None else {"chain": given}
    assert chain_of(detail(**fields)) == chain


def test_a_trigger_starts_runs_up_to_the_limit_and_says_why_it_stops() -> None:
    for chain in range(MAX_CHAIN):
        assert chain_too_long(detail(chain=chain), "ping", "after_pong") is None
    why = chain_too_long(detail(chain=MAX_CHAIN), "ping", "after_pong")
    assert why is not None
    assert why.startswith("event trigger 'after_pong' of 'ping' matched the status change of")
    assert "run R1 of 'pong' (SUCCEEDED)" in why
    assert f"At most {MAX_CHAIN} runs are started in a row" in why
    assert "Break the cycle" in why and "detail: {chain: [0]}" in why
    assert chain_too_long(detail(chain=MAX_CHAIN + 5), "ping", "after_pong") is not None


def run(chain: int) -> RunRecord:
    return RunRecord(
        run_id="01KDVDNA00AD3DAJ2JEGH4GZTS",
        workflow="ping",
        version=1,
        status=RunStatus.RUNNING,
        params={},
        created_at=1,
        sinks_total=1,
        trigger="event:after_pong",
        chain=chain,
    )


def test_status_changes_carry_the_runs_chain() -> None:
    assert run_status_event(run(3))["detail"]["chain"] == 3
    assert run_status_event(run(0))["detail"]["chain"] == 0
    step = step_status_event(run(4), "a", StepStatus.FAILED, 1, "boom", 5)
    assert step["detail"]["chain"] == 4


@pytest.mark.parametrize("chain", [0, 1, MAX_CHAIN])
def test_the_chain_round_trips_through_the_stores_codecs(chain: int) -> None:
    record = run(chain)
    item = dynamo_codec.run_to_item(record)
    assert ("chn" in item) is (chain > 0)  # most runs have none: no attribute
    assert dynamo_codec.run_from_item(item).chain == chain
    row = sqlite_codec.run_to_row(record)
    assert sqlite_codec.run_from_row(record.run_id, row).chain == chain
    # A run stored before the field existed reads as the head of its own chain.
    old_item = {k: v for k, v in item.items() if k != "chn"}
    assert dynamo_codec.run_from_item(old_item).chain == 0
    old_row = {k: v for k, v in json.loads(row).items() if k != "chain"}
    assert sqlite_codec.run_from_row(record.run_id, json.dumps(old_row)).chain == 0

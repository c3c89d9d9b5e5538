"""A workflow's active runs hold its slots in one DynamoDB item (``W#<workflow>``/
``#SLOTS``, 400 KB at most). ``{parallel: 10000}`` was accepted, but the item holds
about 5,800 holders of 64-character run ids: the next admission failed with DynamoDB's
raw ValidationException (item size exceeded), ``admit`` re-raised it and the API's start
answered 500 after the run was queued. Now ``parallel`` is at most 5,000 at push (what
the item holds with room to spare), and an admission the item cannot hold (a version
stored before, with more) is refused as one at the limit: the run stays queued, and is
told it waits behind the active runs (the first ten named, not thousands)."""

from __future__ import annotations

from typing import Any

import pytest

from podium.adapters import dynamo_codec as c
from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition
from podium.core.engine.status import RunStatus
from podium.local.runtime import TABLE_NAME, LocalRuntime
from podium.service.runs import describe_run

FAR = 2**41


def _fill(client: Any, workflow: str) -> int:
    """The slots' item as active runs of long ids leave it: 10 bytes short of moto's
    405,000 (one write: moto copies the table on every transaction)."""
    item: dict[str, Any] = {**c.key(c.workflow_pk(workflow), "#SLOTS")}
    holders = [f"{'r' * 990}{i:04d}" for i in range(395)]
    item.update({f"h:{h}": {"N": str(FAR)} for h in holders})
    size = sum(len(k) + (8 if "N" in v else len(v["S"])) for k, v in item.items())
    pad = 405_000 - 10 - size - len("h:") - 8 - len("n") - 3
    item[f"h:{'p' * pad}"] = {"N": str(FAR)}
    item["n"] = {"N": str(len(holders) + 1)}
    client.put_item(TableName=TABLE_NAME, Item=item)
    return len(holders) + 1


def test_a_start_the_slots_item_cannot_hold_stays_queued() -> None:
    wf = {
        "name": "wide",
        "run_strategy": {"parallel": 5_000},
        "steps": [{"id": "a", "type": "noop"}],
    }
    with LocalRuntime(store="moto", clock=ManualClock(), capture_output=False) as rt:
        rt.push(wf)
        active = _fill(rt.store._db, "wide")  # type: ignore[attr-defined]
        run = rt.start_run("wide")
        assert run.status is RunStatus.QUEUED
        waiting = describe_run(rt.services, run.run_id).waiting or ""
        assert waiting.startswith("queued at position 1 of 1; behind active run(s) ")
        assert waiting.endswith(f" and {active - 10:,} more"), waiting[-80:]


@pytest.mark.parametrize("limit", [5_001, 10_000])
def test_parallel_over_what_the_slots_item_holds_is_refused_at_push(limit: int) -> None:
    wf = {"name": "w", "run_strategy": {"parallel": limit}, "steps": [{"id": "a", "type": "noop"}]}
    with pytest.raises(DefinitionError) as refused:
        validate_definition(wf)
    assert [(i.path, i.message) for i in refused.value.issues] == [
        (
            "run_strategy.parallel",
            f"{limit:,} is over the maximum of 5,000 active runs (a workflow's run slots"
            " are kept in one 400 KB DynamoDB item)",
        )
    ]
    # A version stored before the bound still loads, and runs (its admissions past what
    # the item holds wait, as above).
    assert validate_definition(wf, stored=True).run_limit == limit
    assert validate_definition({**wf, "run_strategy": {"parallel": 5_000}}).run_limit == 5_000

"""A detached child run (``wait: false``) outlives its parent by design, and on
DynamoDB the parent's items expire ``run_retention_days`` after its end while the child
goes on (the sweeper renews the child's own items). service/detached_runs.py
``detached`` answers False when the parent run is gone, so once the parent expired the
child was taken for one that "pauses and resumes with its parent" (service/actions.py
``_check_run``): a resume of the paused child was refused, naming a parent run that no
longer exists, and nothing else resumed it: it stayed PAUSED for good. A child whose
parent is gone is now acted on as a run of its own (``detached_runs.follows_parent``).

docs/operations.md: "a ``wait: false`` child can outlive its parent"."""

from __future__ import annotations

from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.dynamo_expiry import TTL_ATTRIBUTE
from podium.core.engine.actions import ActionRefused, RunAction
from podium.core.engine.errors import RunNotFound
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import TABLE_NAME, LocalRuntime
from podium.service.actions import Actor, run_action
from podium.service.sweep import sweep

DAY_MS = 86_400_000
DAY_S = 86_400

NAPPER = {
    "name": "napper",
    "steps": [{"id": "nap", "type": "sleep", "seconds": 119 * DAY_S, "timeout": "120d"}],
}
KICKER = {
    "name": "kicker",
    "steps": [{"id": "kick", "type": "subworkflow", "workflow": "napper", "wait": False}],
}


def _ttl(rt: LocalRuntime, now_s: int) -> None:
    """DynamoDB's TTL: delete every item whose stamp has passed."""
    kwargs: dict[str, Any] = {"TableName": TABLE_NAME}
    while True:
        page = rt.dynamodb.scan(**kwargs)
        for item in page["Items"]:
            if TTL_ATTRIBUTE in item and int(item[TTL_ATTRIBUTE]["N"]) <= now_s:
                key = {"pk": item["pk"], "sk": item["sk"]}
                rt.dynamodb.delete_item(TableName=TABLE_NAME, Key=key)
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_a_paused_detached_child_can_be_resumed_after_its_parent_expired() -> None:
    clock = ManualClock()
    with LocalRuntime(store="moto", clock=clock, capture_output=False) as rt:
        rt.push(NAPPER)
        rt.push(KICKER)
        parent = rt.start_run("kicker").run_id
        rt.pump(advance_time=False)
        assert rt.store.get_run(parent).status is RunStatus.SUCCEEDED
        child = child_run_id(parent, "kick", 0)
        assert rt.store.get_run(child).status is RunStatus.RUNNING
        # Detached: the operator pauses it as a run of its own (allowed).
        run_action(rt.services, child, RunAction.PAUSE, Actor("me"))
        rt.pump(advance_time=False)
        assert rt.store.get_run(child).status is RunStatus.PAUSED

        for _ in range(0, 100, 5):  # 100 days: the sweeper checks the child meanwhile
            clock.advance(5 * DAY_MS)
            rt.pump(advance_time=False)
            sweep(rt.services, rt.store)
            rt.pump(advance_time=False)
            _ttl(rt, clock.now_ms() // 1000)
        with pytest.raises(RunNotFound):
            rt.store.get_run(parent)  # expired 90 days after it ended
        assert rt.store.get_run(child).status is RunStatus.PAUSED  # renewed: still here

        try:
            run_action(rt.services, child, RunAction.RESUME, Actor("me"))
        except ActionRefused as refused:
            pytest.fail(f"the detached child can no longer be resumed: {refused}")
        rt.pump(advance_time=False)
        assert rt.store.get_run(child).status is RunStatus.RUNNING

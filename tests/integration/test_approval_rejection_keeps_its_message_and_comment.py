"""A rejection with a comment kept the comment and lost its message: `podium callback
TOKEN --fail "accuracy dropped to 0.71" --by bob --comment "see JIRA-12"` failed the
approval with "rejected by bob: see JIRA-12", the --fail message in neither the error
nor its details (only in the callback_result timeline item)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.callbacks import token_of
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.callbacks import callback, parse_callback


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def _reject(rt: LocalRuntime, name: str, body: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    rt.push(
        {
            "name": name,
            "steps": [
                {"id": "approve", "type": "approval", "message": "ok?", "approvers": ["bob"]}
            ],
        }
    )
    run = rt.start_run(name)
    rt.pump(wait=False)
    callback(rt.services, token_of(f"{run.run_id}/approve/1"), parse_callback(body))
    rt.pump()
    record = rt.store.get_step(run.run_id, "approve")
    assert record is not None and record.status is StepStatus.FAILED
    (failed,) = [e.detail for e in rt.store.list_events(run.run_id) if e.kind == "failed"]
    return record, failed["error_detail"]


def test_a_rejection_keeps_its_message_beside_the_comment(rt: LocalRuntime) -> None:
    body = {"fail": "accuracy dropped to 0.71", "by": "bob", "comment": "see JIRA-12"}
    record, detail = _reject(rt, "reject_with_comment", body)
    assert record.error == (
        "Podium.Rejected: rejected by bob: accuracy dropped to 0.71 (comment: see JIRA-12)"
    )
    assert detail["details"] == {
        "by": "bob",
        "comment": "see JIRA-12",
        "error": "accuracy dropped to 0.71",
    }
    assert detail["retryable"] is False


def test_a_rejection_without_a_comment_says_its_message(rt: LocalRuntime) -> None:
    record, detail = _reject(rt, "reject_plain", {"fail": "not now", "by": "bob"})
    assert record.error == "Podium.Rejected: rejected by bob: not now"
    assert detail["details"]["error"] == "not now"

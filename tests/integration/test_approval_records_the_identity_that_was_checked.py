"""Who an approval records as having decided: an approver allowed by its IAM identity
(an ARN in ``approvers``) could record any name (``"by": "alice"``) as the approver,
and its identity was recorded nowhere; a callback through the API without ``by`` to a
step without approvers recorded nobody."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.callbacks import token_of
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.callbacks import CallbackRequest

from .test_callbacks import _as

ROLE = "arn:aws:sts::123456789012:assumed-role/release/*"
BOB = "arn:aws:sts::123456789012:assumed-role/release/bob"


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def _waiting(rt: LocalRuntime, name: str, step: dict[str, Any]) -> tuple[str, str]:
    rt.push({"name": name, "steps": [{"id": "decide", **step}]})
    run = rt.start_run(name)
    rt.pump(wait=False)
    return run.run_id, token_of(f"{run.run_id}/decide/1")


def _approval(approvers: list[str]) -> dict[str, Any]:
    return {"type": "approval", "message": "ok?", "approvers": approvers}


def test_an_approver_allowed_by_its_identity_is_recorded_by_it(rt: LocalRuntime) -> None:
    """bob, a session of the approvers' role, said ``"by": "alice"``: the output said
    ``by: alice``. It now says bob's identity, and keeps the name given apart."""
    run_id, token = _waiting(rt, "iam_role_approval", _approval([ROLE]))
    status, body = _as(BOB, f"/callbacks/{token}", {"success": {}, "by": "alice"})
    assert status == 202, body
    rt.pump()
    record = rt.store.get_step(run_id, "decide")
    assert record is not None and record.status is StepStatus.SUCCEEDED
    assert record.output == {"approved": True, "by": BOB, "by_name": "alice", "comment": None}


def test_a_rejection_by_identity_records_it_too(rt: LocalRuntime) -> None:
    run_id, token = _waiting(rt, "iam_role_rejection", _approval([ROLE]))
    status, body = _as(BOB, f"/callbacks/{token}", {"fail": "no", "by": "alice"})
    assert status == 202, body
    rt.pump()
    record = rt.store.get_step(run_id, "decide")
    assert record is not None and record.status is StepStatus.FAILED
    assert (record.error or "").startswith(f"Podium.Rejected: rejected by {BOB}: no")


def test_an_approver_listed_by_name_is_recorded_by_that_name(rt: LocalRuntime) -> None:
    run_id, token = _waiting(rt, "named_approval", _approval(["alice", ROLE]))
    status, body = _as(BOB, f"/callbacks/{token}", {"success": {}, "by": "alice"})
    assert status == 202, body
    rt.pump()
    record = rt.store.get_step(run_id, "decide")
    assert record is not None and record.output == {
        "approved": True,
        "by": "alice",
        "comment": None,
    }


def test_without_approvers_the_api_records_the_callers_identity(rt: LocalRuntime) -> None:
    """Anyone may decide an approval without approvers: through the API without ``by``
    it recorded ``by: null``; it now records who called."""
    run_id, token = _waiting(rt, "anyone_approval", _approval([]))
    status, body = _as(BOB, f"/callbacks/{token}", {"success": {}})
    assert status == 202, body
    rt.pump()
    record = rt.store.get_step(run_id, "decide")
    assert record is not None and record.output is not None and record.output["by"] == BOB


def test_who_decides() -> None:
    from podium.service.callbacks import deciders

    given = CallbackRequest("success", by="alice", caller=BOB)
    assert deciders([ROLE], given) == (BOB, "alice")
    assert deciders([ROLE], CallbackRequest("success", by=BOB, caller=BOB)) == (BOB, None)
    assert deciders(["alice"], given) == ("alice", None)
    assert deciders([], CallbackRequest("success", caller=BOB)) == (BOB, None)
    assert deciders([], CallbackRequest("success")) == (None, None)  # locally
    assert deciders([ROLE], CallbackRequest("success", by="alice")) is None

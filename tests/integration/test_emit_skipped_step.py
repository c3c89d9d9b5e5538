"""A step an operator skipped sends no ``emit``.

An operator's skip lets the DAG go on as after a success (``propagates_as``), and a
replay of the skipped step's follow-ups (its exec message arriving after the skip, the
sweeper, a retry in place) passed that propagated status on as the step's own: the
replay sent the step's ``emit`` as if it had succeeded. Found by the simulation's
``emit_unearned`` invariant (``callback_run_deadline --actions``, seed 249). On the
memory store, the SQLite home and DynamoDB on moto."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.core.engine.actions import StepAction
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.actions import Actor, step_action
from podium.service.inbox import handle_event
from tests.integration.keyed_queue import STORES, keyed_runtime

EMIT = [{"signal": "edge_done", "params": {"run": "${run.id}"}}]


@pytest.fixture(params=[*STORES, "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    with keyed_runtime(request.param) as runtime:
        yield runtime


def sent(rt: LocalRuntime) -> int:
    return len(rt.store.signals().find("edge_done", [], now=rt.services.now(), limit=10))


@pytest.mark.parametrize("kind", ["wait_for_callback", "noop"])
def test_a_step_skipped_before_its_message_arrives_sends_no_emit(
    rt: LocalRuntime, kind: str
) -> None:
    payload = {"payload": {"t": 1}} if kind == "wait_for_callback" else {}
    rt.push(
        {
            "name": "skipped",
            "steps": [
                {"id": "edge", "type": kind, "emit": EMIT, **payload},
                {"id": "after", "type": "noop", "depends_on": ["edge"]},
            ],
        }
    )
    run_id = rt.start_run("skipped").run_id
    # The run's start created edge READY and sent its exec message; the operator skips
    # it before that message is handled.
    handle_event(rt.services, messages.encode(messages.Start(run_id)))
    record = rt.store.get_step(run_id, "edge")
    assert record is not None and record.status is StepStatus.READY, record
    step_action(rt.services, run_id, "edge", StepAction.SKIP, Actor("op", "not today"))
    rt.pump()  # edge's exec message finds it skipped and replays its follow-ups
    assert rt.store.get_step(run_id, "edge").status is StepStatus.SKIPPED  # type: ignore[union-attr]
    after = rt.store.get_step(run_id, "after")
    assert after is not None and after.status is StepStatus.SUCCEEDED  # the DAG went on
    assert sent(rt) == 0


def test_a_step_that_succeeded_sends_its_emit_once(rt: LocalRuntime) -> None:
    rt.push({"name": "ok", "steps": [{"id": "edge", "type": "noop", "emit": EMIT}]})
    rt.start_run("ok")
    rt.pump()
    assert sent(rt) == 1

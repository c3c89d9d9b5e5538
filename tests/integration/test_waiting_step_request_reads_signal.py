"""A step with ``wait_for`` reads the signals that released it (``signal.<name>``) in
its request, as in its params: an approval's message, a wait_for_callback's payload.

The push accepted ``${signal.ready.payload.table}`` there (docs: a step with wait_for
reads signal.<name>.payload), but the request was rendered with the bindings of any
other template (service/runtimes/external.render_request used ``bindings_for``), so
when the signal arrived the step failed with "unknown variable 'signal'". It is now
rendered with the step's own bindings (``step_bindings``), as its params are."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.testing import send_signal


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("approval", {"message": "Deploy table ${signal.ready.payload.table}?"}),
        ("wait_for_callback", {"payload": {"table": "${signal.ready.payload.table}"}}),
    ],
)
def test_a_waiting_steps_request_reads_the_signal_that_released_it(
    home_rt: LocalRuntime, kind: str, fields: dict[str, Any]
) -> None:
    """The step failed with "unknown variable 'signal'" once the signal released it; it
    now publishes its token with the rendered request and waits for the callback."""
    home_rt.push(
        {
            "name": "gate",
            "steps": [{"id": "s", "type": kind, "wait_for": [{"signal": "ready"}], **fields}],
        }
    )
    run = home_rt.start_run("gate")
    home_rt.pump(advance_time=False)
    send_signal(home_rt, "ready", {}, {"table": "sales"})
    step = home_rt.store.get_step(run.run_id, "s")
    assert step is not None
    assert step.status is StepStatus.RUNNING, (step.status, step.error)
    published = [
        e["detail"]
        for e in home_rt.services.events.published  # type: ignore[union-attr]
        if e["detail-type"] == "Podium Callback Token"
    ]
    assert "sales" in repr(published)

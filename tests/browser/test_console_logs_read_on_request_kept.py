"""A deployed lambda step's CloudWatch logs, read on request in the console, on a run
that goes on (the stack's page, signed; the stand-in of API Gateway over moto)."""

from __future__ import annotations

import time
from typing import Any

from podium.cli.remote import connect, resolve_target
from tests.browser.conftest import expect
from tests.browser.test_console_hosted import EXPORTED
from tests.integration.test_console_remote import Deployed, deployed, user

__all__ = ["deployed", "user"]  # fixtures


def rows(event: dict[str, Any]) -> int:
    return 42


def _log_reads(deployed: Deployed) -> int:
    return len([s for s in deployed.gateway.seen if s.path.split("?")[0].endswith("/logs")])


def test_logs_read_on_request_stay_while_the_run_goes_on(
    deployed: Deployed, user: None, page: Any
) -> None:
    """On a run still running (here: waiting for an approval after its lambda step), the
    user clicked "Load attempt 1's logs from CloudWatch" and saw the answer; 2 s later
    the live refresh redrew the step's detail and the answer was gone, the button back
    in its place, and each click read CloudWatch again (a Logs Insights query each).
    What was read now stays shown, read once, until the user leaves the step."""
    client = connect(resolve_target(endpoint=deployed.gateway.url))
    workflow = {
        "name": "count_then_approve",
        "steps": [
            {"id": "count", "type": "lambda", "function": f"{__name__}:rows"},
            {"id": "gate", "type": "approval", "message": "ok?", "depends_on": ["count"]},
        ],
    }
    client.post_json("/workflows", workflow)
    client.post_json("/workflows/count_then_approve/runs", {"run_id": "counting-run"})
    deployed.pump()
    page.goto(f"{deployed.gateway.url}/console/app")
    page.fill("#auth-paste", EXPORTED)
    page.dispatch_event("#auth-paste", "input")
    page.click("#auth-save")
    page.goto(f"{deployed.gateway.url}/console/app#/runs/counting-run?step=count")
    expect(page.locator("#live")).to_have_class("live on")  # the run goes on: polled
    logs = page.locator("#detail-logs")
    with page.expect_response(lambda r: "/logs?" in r.url):
        page.click("#load-logs")
    reads = _log_reads(deployed)
    # The next refresh of the open step (the run page polls every 2 s), then its drawing.
    with page.expect_response(lambda r: "/step?" in r.url, timeout=10_000):
        pass
    time.sleep(0.5)
    assert page.locator("#load-logs").count() == 0, (
        "the logs read on request were replaced by the Load button at the next refresh: "
        + logs.inner_text()
    )
    expect(logs).to_contain_text("recorded no Lambda invocation")
    assert _log_reads(deployed) == reads == 1

    # Another step opened, then this one again: read anew (on request), not kept forever.
    page.click('.step-row[data-step="gate"]')
    expect(page.locator("#detail-title")).to_have_text("gate")
    page.click('.step-row[data-step="count"]')
    expect(page.locator("#load-logs")).to_have_count(1)

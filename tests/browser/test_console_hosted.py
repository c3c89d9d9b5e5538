"""The console as a deployed stack serves it: ``<ApiUrl>/console/app`` loaded straight from
the stand-in of API Gateway (tests/integration/remote_support), which serves the page
unsigned and checks the SigV4 signature of every other call. The page signs its calls in
the browser with the credentials pasted into its form."""

from __future__ import annotations

import json
from typing import Any

from podium.cli.remote import connect, resolve_target
from podium.local.dev_server import DevServer
from tests.browser.conftest import expect, shot
from tests.integration import remote_support as rs
from tests.integration.test_console_remote import CHAIN, Deployed, deployed, user

__all__ = ["deployed", "user"]  # fixtures

EXPORTED = f"""export AWS_ACCESS_KEY_ID={rs.ACCESS_KEY}
export AWS_SECRET_ACCESS_KEY={rs.SECRET_KEY}
export AWS_SESSION_TOKEN=IQoJb3JpZ2luX2VjEPODIUMTEST
export AWS_CREDENTIAL_EXPIRATION=2030-01-01T00:00:00+00:00
"""


def _a_failed_run(deployed: Deployed, run_id: str) -> None:
    client = connect(resolve_target(endpoint=deployed.gateway.url))
    client.post_json("/workflows", CHAIN)
    client.post_json("/workflows/console_wf/runs", {"run_id": run_id})
    deployed.pump()


def test_the_stack_serves_a_console_that_signs_its_calls(
    deployed: Deployed, user: None, page: Any
) -> None:
    _a_failed_run(deployed, "hosted-1")
    seen_before = len(deployed.gateway.seen)
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{deployed.gateway.url}/console/app")
    # No credentials yet: the form, and no call to the API.
    page.wait_for_selector("#auth-form")
    assert page.input_value("#auth-region") == rs.REGION  # from the stack's page
    assert "Credentials needed" in page.inner_text("#runs-body")

    # `aws configure export-credentials --format env`, pasted: it fills the form.
    page.fill("#auth-paste", EXPORTED)
    page.dispatch_event("#auth-paste", "input")
    assert page.input_value("#auth-key") == rs.ACCESS_KEY
    assert page.input_value("#auth-token") == "IQoJb3JpZ2luX2VjEPODIUMTEST"
    page.click("#auth-save")
    page.wait_for_selector('tr.run-row[data-run="hosted-1"][data-status="FAILED"]')
    assert page.is_hidden("#auth")
    assert "AKID…TEST" in page.inner_text("#auth-state")

    page.click('tr.run-row[data-run="hosted-1"] a')
    page.wait_for_selector('g.node[data-node="b"][data-status="FAILED"]')
    page.click('g.node[data-node="b"]')
    page.wait_for_selector("#detail-title:has-text('b')")
    assert "disk full" in page.inner_text("#detail-error")
    shot(page, "console-hosted")
    # The page's Content-Security-Policy lets it work (no violation, no other error).
    assert console_errors == [], console_errors

    seen = deployed.gateway.seen[seen_before:]
    files = [s for s in seen if s.path.split("?")[0].startswith("/console/app")]
    views = [s for s in seen if not s.path.split("?")[0].startswith("/console/app")]
    assert {s.path.split("?")[0] for s in files} >= {"/console/app", "/console/app/app.js"}
    assert all(s.status == 200 and s.scope == "" for s in files)  # served unsigned
    assert {s.path.split("?")[0] for s in views} >= {
        "/console/runs",
        "/console/runs/hosted-1",
        "/console/runs/hosted-1/step",
    }
    # Every view was signed in the browser and accepted by the gateway's SigV4 check.
    assert all(s.status == 200 for s in views), views
    assert all(s.scope.endswith(f"/{rs.REGION}/execute-api/aws4_request") for s in views)

    # The credentials live in this tab's sessionStorage: a reload keeps them.
    page.reload()
    page.wait_for_selector('g.node[data-node="b"][data-status="FAILED"]')
    assert page.is_hidden("#auth")


def test_wrong_credentials_show_the_403_message(deployed: Deployed, user: None, page: Any) -> None:
    _a_failed_run(deployed, "hosted-2")
    page.goto(f"{deployed.gateway.url}/console/app")
    page.fill("#auth-key", rs.ACCESS_KEY)
    page.fill("#auth-secret", "not-the-secret")
    page.click("#auth-save")
    page.wait_for_selector("#auth-message")
    message = page.inner_text("#auth-message")
    assert "403" in message and "execute-api:Invoke" in message
    assert "signature we calculated does not match" in message  # the gateway's own words
    assert page.is_visible("#auth-form")
    page.wait_for_selector("#runs-body .problem[data-auth='refused']")
    shot(page, "console-hosted-403")
    refused = [s for s in deployed.gateway.seen if s.path.startswith("/console/runs")]
    assert refused and refused[-1].status == 403

    # Fixed in place, here by pasting `aws sts get-session-token`'s JSON: the runs load.
    page.fill("#auth-paste", json.dumps(
        {"Credentials": {"AccessKeyId": rs.ACCESS_KEY, "SecretAccessKey": rs.SECRET_KEY,
                         "SessionToken": "FwoGZXIvYXdzEPODIUM", "Expiration": "2030-01-01T00:00:00Z"}}
    ))  # fmt: skip
    page.dispatch_event("#auth-paste", "input")
    assert page.input_value("#auth-secret") == rs.SECRET_KEY
    page.click("#auth-save")
    page.wait_for_selector('tr.run-row[data-run="hosted-2"]')
    assert page.is_hidden("#auth")


def rows(event: dict[str, Any]) -> int:
    return 42


def test_a_lambda_steps_logs_are_read_on_request(deployed: Deployed, user: None, page: Any) -> None:
    # A deployed lambda step's lines are in CloudWatch: the detail offers to read them
    # (a signed GET /runs/{id}/logs at the API's root), and shows what the API answers.
    # Here the function ran in-process, so the API says it recorded no invocation.
    client = connect(resolve_target(endpoint=deployed.gateway.url))
    workflow = {
        "name": "console_logs",
        "steps": [{"id": "count", "type": "lambda", "function": f"{__name__}:rows"}],
    }
    client.post_json("/workflows", workflow)
    client.post_json("/workflows/console_logs/runs", {"run_id": "hosted-logs"})
    deployed.pump()
    page.goto(f"{deployed.gateway.url}/console/app")
    page.fill("#auth-paste", EXPORTED)
    page.dispatch_event("#auth-paste", "input")
    page.click("#auth-save")
    page.goto(f"{deployed.gateway.url}/console/app#/runs/hosted-logs?step=count")
    page.wait_for_selector("#detail-title:has-text('count')")
    seen_before = len(deployed.gateway.seen)
    page.click("#load-logs")
    page.wait_for_selector("#detail-logs .problem")
    assert "recorded no Lambda invocation" in page.inner_text("#detail-logs")
    (call,) = [s for s in deployed.gateway.seen[seen_before:] if "/logs" in s.path]
    assert call.path.startswith("/runs/hosted-logs/logs?step=count&attempt=1")
    assert call.scope.endswith(f"/{rs.REGION}/execute-api/aws4_request")  # signed


def test_the_page_of_podium_dev_does_not_sign(dev: DevServer, page: Any) -> None:
    """Only the stack's page carries the signing marker: under ``podium dev`` (and
    ``podium console``, which serves the same index.html) there is no form, and the page
    calls api/console/... unsigned, as before."""
    from podium.service import console_files

    local = console_files._read("index.html")
    assert "podium-auth" not in local and "aws4fetch" not in local
    assert '<meta name="podium-auth" content="sigv4">' in console_files.page(rs.REGION)

    page.goto(f"{dev.url}/#/")
    expect(page.locator("#runs-total")).to_contain_text("run")
    assert page.locator("#auth").count() == 0 and page.locator("#auth-state").count() == 0
    assert "Could not load" not in page.inner_text("#runs-body")

"""The console against hostile and extreme data, on a real ``podium dev`` in Chromium.

The page served by a stack signs its calls with the user's AWS credentials, so a script
injected into it could use them: everything the page did not write itself (errors,
outputs, params, tags, reasons, messages, iteration values, logs) must reach it as text.
Data may also be huge (a 1 MB output), deeply nested or one unbroken 2,000-character
word; the page stays usable. API errors and refused actions are said, and stay said."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, dev_server, shot
from tests.browser.test_console import _finish, _start
from tests.browser.test_console_hosted import EXPORTED, _a_failed_run
from tests.integration.test_console_remote import Deployed, deployed, user

__all__ = ["deployed", "user"]  # fixtures

XSS = (
    '<img src=x onerror="window.__xss=1"></script><script>window.__xss=2</script>'
    '<svg onload="window.__xss=3"><a href="javascript:window.__xss=4">x</a>'
)


def hostile_output(event: dict[str, Any]) -> dict[str, Any]:
    print(XSS)  # the step's captured log
    return {
        "html": XSS,
        "log_url": "javascript:window.__xss=5",  # a link-looking value stays text
        "s3": "javascript:alert(1)",
    }


def hostile_error(event: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError(XSS)


HOSTILE = {
    "name": "hostile_text",
    "params": {"p": {"type": "string", "default": XSS}},
    "steps": [
        {"id": "out", "type": "lambda", "function": f"{__name__}:hostile_output"},
        {"id": "boom", "type": "lambda", "function": f"{__name__}:hostile_error"},
        {"id": "gate", "type": "approval", "message": XSS, "approvers": ["alice"]},
        {
            "id": "per",
            "type": "foreach",
            "over": {"i": [XSS, "<b>bold</b>"]},
            "steps": [{"id": "n", "type": "fail", "message": XSS}],
        },
    ],
}
SLOW = {
    "name": "slow_hostile",
    "steps": [
        {"id": "first", "type": "noop"},
        {"id": "wait", "type": "sleep", "seconds": 600, "depends_on": ["first"]},
    ],
}

# What the page must not hold after rendering hostile data: a flag set by injected code,
# an element it did not make, an event-handler attribute, a link off the page.
_INJECTED = """() => ({
  xss: window.__xss === undefined ? null : window.__xss,
  imgs: document.querySelectorAll('img').length,
  scripts: document.scripts.length,
  handlers: [...document.querySelectorAll('*')].filter(
    (el) => [...el.attributes].some((a) => a.name.toLowerCase().startsWith('on'))).length,
  offPage: [...document.querySelectorAll('[href]')].map((el) => el.getAttribute('href'))
    .filter((href) => !href.startsWith('#') && !href.startsWith('static/') && href !== 'data:,'),
  wide: document.documentElement.scrollWidth > document.documentElement.clientWidth,
})"""


def _clean(page: Any) -> None:
    found = page.evaluate(_INJECTED)
    assert found == {
        "xss": None,
        "imgs": 0,
        "scripts": 2,
        "handlers": 0,
        "offPage": [],
        "wide": found["wide"],
    }, found


def _until(dev: DevServer, run_id: str, pred: Any, timeout_s: float = 20) -> None:
    assert wait_until(lambda: pred(call(dev, f"/runs/{run_id}")[1]), timeout_s), call(
        dev, f"/runs/{run_id}"
    )


def _steps(body: dict[str, Any]) -> dict[str, str]:
    return {s["step"]: s["status"] for s in body["steps"]}


@pytest.fixture
def raw_page(browser: Any) -> Iterator[Any]:
    """A page whose Content-Security-Policy is ignored: what it shows is the page's own
    doing, not the policy's (which is tested on its own below)."""
    context = browser.new_context(viewport={"width": 1440, "height": 960}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def dialog(opened: Any) -> None:  # alert(), confirm(): only injected code opens one
        errors.append("dialog: " + opened.message)
        opened.dismiss()

    page.on("dialog", dialog)
    yield page
    context.close()
    assert not errors, f"JavaScript errors or dialogs on the page: {errors}"


def test_hostile_text_is_shown_as_text_everywhere(tmp_path: Path, raw_page: Any) -> None:
    page = raw_page
    with dev_server(tmp_path / "home") as dev:
        call(dev, "/workflows", HOSTILE)
        status, run = call(
            dev, "/workflows/hostile_text/runs", {"params": {}, "tags": {"note": XSS}}
        )
        assert status == 202, run
        run_id = run["run_id"]
        _until(
            dev,
            run_id,
            lambda b: (
                _steps(b).get("gate") == "RUNNING"
                and _steps(b).get("per") == "FAILED"
                and _steps(b).get("boom") == "FAILED"
            ),
        )
        assert call(dev, f"/runs/{run_id}/actions", {"action": "pause", "reason": XSS})[0] == 200

        # Fields the engine does not fill with free text here, filled by the test.
        def run_view(route: Any) -> None:
            body = route.fetch().json()
            body["run"].update(trigger=XSS, waiting=XSS, error=XSS)
            body["related"]["restarted_as"] = {"run_id": XSS, "status": "SUCCEEDED"}
            for entry in body["action_log"]:
                entry["by"] = XSS
            body["graph"]["nodes"][0]["label"] = XSS
            route.fulfill(json=body)

        def step_view(route: Any) -> None:
            body = route.fetch().json()
            if body["step"]["step"] == "gate":
                body["callback"]["payload"] = {"x": XSS}
            if body["step"]["step"] == "boom":
                body["logs"] = None  # as a stack's lambda step: read from CloudWatch
            for event in body["events"]:
                event["kind"] = XSS
            route.fulfill(json=body)

        page.route("**/api/console/runs/*?*", run_view)
        page.route("**/api/console/runs/*/step?*", step_view)
        page.route(
            "**/runs/*/logs?*",
            lambda route: route.fulfill(
                json={"attempt": 1, "function": XSS, "request_id": XSS, "text": XSS}
            ),
        )

        page.goto(f"{dev.url}/#/")
        page.wait_for_selector(f'tr.run-row[data-run="{run_id}"]')
        assert XSS in page.inner_text(f'tr.run-row[data-run="{run_id}"]')
        _clean(page)

        page.goto(f"{dev.url}/#/runs/{run_id}")
        page.wait_for_selector("#run-error")
        head = page.inner_text("#run-head")
        for shown in ("Error: " + XSS, "Reason: ", "Waiting: " + XSS, XSS + " —"):
            assert shown in head, shown
        assert XSS in (page.text_content("g.node title") or "")
        _clean(page)

        page.goto(f"{dev.url}/#/runs/{run_id}?step=out")
        page.wait_for_selector("#detail-output pre")
        output = page.inner_text("#detail-output")
        assert XSS in output.replace('\\"', '"') and "javascript:window.__xss=5" in output
        assert XSS in page.inner_text("#detail-logs")
        _clean(page)

        page.goto(f"{dev.url}/#/runs/{run_id}?step=boom")
        page.wait_for_selector("#detail-error")
        assert XSS in page.inner_text("#detail-error")
        page.click("#load-logs")
        page.wait_for_selector("#detail-logs .log-stdout")
        assert page.inner_text("#detail-logs .log-stdout") == XSS
        _clean(page)

        page.goto(f"{dev.url}/#/runs/{run_id}?step=gate")
        page.wait_for_selector("#detail-callback-message")
        assert page.inner_text("#detail-callback-message") == XSS
        assert XSS in page.inner_text("#detail-callback").replace('\\"', '"')
        _clean(page)

        page.goto(f"{dev.url}/#/runs/{run_id}?step=per")
        page.wait_for_selector("#detail-iterations .it-cell")
        tips = page.eval_on_selector_all(
            "#detail-iterations .it-cell", "els => els.map(e => e.title)"
        )
        assert any(XSS in t for t in tips), tips
        _clean(page)
        shot(page, "console-hostile-text")

        call(dev, f"/runs/{run_id}/actions", {"action": "stop"})


def test_the_dev_server_serves_the_console_with_a_strict_csp(dev: DevServer, page: Any) -> None:
    import urllib.request

    for path in ("/", "/static/app.js", "/static/app.css", "/static/vendor/dagre.min.js"):
        with urllib.request.urlopen(dev.url + path, timeout=10) as response:
            headers = response.headers
        policy = headers.get("Content-Security-Policy") or ""
        assert "script-src 'self'" in policy and "default-src 'none'" in policy, (path, policy)
        assert "unsafe-inline" not in policy and "style-src 'self'" in policy
        assert "unsafe-eval" not in policy, (path, policy)
        assert "frame-ancestors 'none'" in policy
        assert headers.get("X-Content-Type-Options") == "nosniff"
        assert headers.get("X-Frame-Options") == "DENY"
    with urllib.request.urlopen(dev.url + "/api/console/workflows", timeout=10) as response:
        assert response.headers.get("X-Content-Type-Options") == "nosniff"

    # The console works under it: no violation while it lists, draws and details a run.
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    run_id = _start(dev, SLOW)
    _until(dev, run_id, lambda b: _steps(b).get("wait") == "RUNNING")
    page.goto(f"{dev.url}/#/")
    page.wait_for_selector("tr.run-row")
    page.goto(f"{dev.url}/#/runs/{run_id}?step=first")
    page.wait_for_selector("g.node")
    page.wait_for_selector("#detail-title")
    page.wait_for_selector(".g-track .seg")  # positioned with style properties, allowed
    assert page.evaluate("window.__violations") == []

    # Were markup ever inserted as HTML, its handlers and inline scripts would not run.
    page.evaluate(
        """() => {
      document.body.insertAdjacentHTML('beforeend', '<img src=x onerror="window.__csp=1">');
      const s = document.createElement('script'); s.textContent = 'window.__csp = 2';
      document.body.append(s);
    }"""
    )
    assert wait_until(lambda: page.evaluate("window.__violations.length") >= 2, 10)
    assert page.evaluate("window.__csp") is None
    call(dev, f"/runs/{run_id}/actions", {"action": "stop"})


def test_a_refused_action_says_why_and_stays_said(dev: DevServer, page: Any) -> None:
    run_id = _start(dev, SLOW)
    _until(dev, run_id, lambda b: _steps(b).get("wait") == "RUNNING")
    polls: list[float] = []
    page.on(
        "request",
        lambda r: (
            polls.append(time.monotonic()) if f"/api/console/runs/{run_id}?" in r.url else None
        ),
    )

    def refused(route: Any) -> None:
        route.fulfill(
            status=409,
            json={
                "code": "action_refused",
                "message": "run is STOPPED: stop is refused (another tab stopped it)",
                "errors": [],
            },
        )

    page.route("**/runs/*/actions", refused)
    page.goto(f"{dev.url}/#/runs/{run_id}")
    page.wait_for_selector('#run-actions button[data-action="stop"]')
    page.click('#run-actions button[data-action="stop"]')
    page.fill("#action-reason", "tidy up")
    page.click("#action-confirm")
    page.wait_for_selector("#action-note .problem")
    clicked = time.monotonic()
    # The live page refreshes its head every 2 s: the refusal is still there after two.
    # (page.evaluate keeps Playwright's event loop turning while waiting.)
    assert wait_until(lambda: (page.evaluate("1"), sum(t > clicked for t in polls) >= 2)[1], 15)
    note = page.inner_text("#action-note")
    assert "Stop refused" in note and "another tab stopped it" in note, note
    page.unroute("**/runs/*/actions")

    # The API's 400 names the field and its rule (a reason is at most 1,000 characters).
    page.click('#run-actions button[data-action="pause"]')
    page.fill("#action-reason", "r" * 1200)
    page.click("#action-confirm")
    page.wait_for_selector("#action-note:has-text('body.reason')")
    assert "Pause refused: invalid request · body.reason:" in page.inner_text("#action-note")
    assert call(dev, f"/runs/{run_id}")[1]["run"]["status"] == "RUNNING"

    # A step's refusal is said next to the step's buttons too.
    page.route(
        "**/runs/*/steps/actions",
        lambda route: route.fulfill(
            status=409, json={"message": "step wait is SUCCEEDED: stop is refused", "errors": []}
        ),
    )
    page.goto(f"{dev.url}/#/runs/{run_id}?step=wait")
    page.wait_for_selector('#step-actions button[data-action="stop"]')
    page.click('#step-actions button[data-action="stop"]')
    page.click("#action-confirm")
    page.wait_for_selector("#step-action-note .problem")
    assert "stop is refused" in page.inner_text("#step-action-note")
    call(dev, f"/runs/{run_id}/actions", {"action": "stop"})


def test_a_malformed_address_says_so(dev: DevServer, page: Any) -> None:
    page.goto(f"{dev.url}/#/runs/%E0%A4%A")  # not UTF-8 once decoded: decodeURIComponent throws
    page.wait_for_selector("#bad-address")
    assert "malformed" in page.inner_text("#bad-address")
    page.click("text=Show every run")
    page.wait_for_selector("#runs-table")


def test_api_errors_are_said_in_words(dev: DevServer, page: Any) -> None:
    run_id = _start(dev, {"name": "tiny", "steps": [{"id": "a", "type": "noop"}]})
    _finish(dev, run_id)
    page.route(
        "**/api/console/runs?*",
        lambda route: route.fulfill(
            status=500, body="<html>proxy error</html>", content_type="text/html"
        ),
    )
    page.goto(f"{dev.url}/#/")
    page.wait_for_selector("#runs-body .problem")
    assert "Could not load: 500" in page.inner_text("#runs-body")
    page.unroute("**/api/console/runs?*")

    page.route("**/api/console/runs?*", lambda route: route.abort())  # the server is gone
    page.goto(f"{dev.url}/#/?status=FAILED")
    page.wait_for_selector("#runs-body .problem")
    assert "No answer from the server" in page.inner_text("#runs-body")
    page.unroute("**/api/console/runs?*")

    page.goto(f"{dev.url}/#/runs/NOPE")
    page.wait_for_selector("#run-head .problem")
    assert "not found" in page.inner_text("#run-head")
    page.goto(f"{dev.url}/#/runs/{run_id}?step=nope")
    page.wait_for_selector("#detail .problem")
    assert "has no step 'nope'" in page.inner_text("#detail")


LONG = {
    "name": "long_words",
    "steps": [
        {"id": "broken", "type": "fail", "message": "E" * 2000},
        {"id": "gate", "type": "approval", "message": "M" * 1500},
    ],
}


def test_long_unbroken_text_keeps_the_page_width(dev: DevServer, page: Any) -> None:
    assert call(dev, "/workflows", LONG)[0] in (200, 201)
    status, run = call(
        dev, "/workflows/long_words/runs", {"params": {}, "tags": {"batch": "T" * 256}}
    )
    assert status == 202, run
    run_id = run["run_id"]
    _until(dev, run_id, lambda b: _steps(b).get("gate") == "RUNNING")
    assert call(dev, f"/runs/{run_id}/actions", {"action": "pause", "reason": "R" * 1000})[0] == 200
    wide = "document.documentElement.scrollWidth > document.documentElement.clientWidth"

    page.goto(f"{dev.url}/#/")
    row = page.wait_for_selector(f'tr.run-row[data-run="{run_id}"]')
    assert not page.evaluate(wide)
    # The row's run link is on screen (a long tag chip pushed it out of the table's card).
    card = page.eval_on_selector(
        "#runs-table", "el => el.parentElement.getBoundingClientRect().right"
    )
    link = row.query_selector("a").bounding_box()
    assert link["x"] + link["width"] <= card, (link, card)
    assert page.get_attribute(".chip.tag", "title") == "only runs tagged batch=" + "T" * 256

    page.goto(f"{dev.url}/#/runs/{run_id}?step=gate")
    page.wait_for_selector("#detail-callback-message")
    page.wait_for_selector("#action-log")
    assert not page.evaluate(wide)
    assert page.evaluate(
        "(el => el.scrollWidth <= el.clientWidth)(document.getElementById('detail'))"
    )
    # The step's buttons sit inside the panel's padding, as its text does.
    # Locators wait for an element that is there (the detail is drawn again as it polls:
    # an element handle can go stale between the query and its box).
    button = page.locator("#step-actions button").first.bounding_box()
    panel = page.locator("#detail").bounding_box()
    assert button is not None and panel is not None
    assert button["x"] >= panel["x"] + 12, (button, panel)
    shot(page, "console-long-words")
    call(dev, f"/runs/{run_id}/actions", {"action": "stop"})


def _deep(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"k": value}
    return value


def test_huge_texts_are_cut_with_a_way_to_see_them_whole(dev: DevServer, page: Any) -> None:
    run_id = _start(dev, SLOW)  # live: the open step is read again on each refresh
    _until(dev, run_id, lambda b: _steps(b).get("wait") == "RUNNING")
    mb = 1_000_000
    reads: list[float] = []

    def step_view(route: Any) -> None:
        reads.append(time.monotonic())
        body = route.fetch().json()
        if body["step"]["step"] == "first":
            body["step"].update(error="E" * mb, output={"x": "O" * mb})
            body["attempts"][-1].update(error="E" * mb, traceback="T" * mb)
            body["logs"] = [{"attempt": 1, "stream": "stdout", "at": 0, "text": "L" * mb}]
        else:
            body["step"]["output"] = _deep(900)  # ~1.6 MB once indented
        route.fulfill(json=body)

    page.route("**/api/console/runs/*/step?*", step_view)
    page.goto(f"{dev.url}/#/runs/{run_id}?step=first")
    page.wait_for_selector("#detail-attempts")
    height = page.evaluate("document.getElementById('detail').scrollHeight")
    assert height < 20_000, height  # each text is cut to a few thousand characters
    for key in ("error", "output", "log-1-stdout", "attempt-1-error"):
        assert page.locator(f'button.show-all[data-clip="{key}"]').count() == 1, key
    assert "Show all 1,000,000 characters" in page.inner_text("#detail-error")

    page.click('button.show-all[data-clip="output"]')
    whole = "document.getElementById('detail-output').textContent.length"
    assert page.evaluate(whole) > mb
    # It stays whole while the page refreshes the step; the others stay cut.
    clicked = time.monotonic()
    assert wait_until(lambda: (page.evaluate("1"), sum(t > clicked for t in reads) >= 2)[1], 15)
    page.wait_for_selector("#detail-attempts")
    assert page.evaluate(whole) > mb
    assert page.locator('button.show-all[data-clip="error"]').count() == 1

    started = time.monotonic()
    page.goto(f"{dev.url}/#/runs/{run_id}?step=wait")
    page.wait_for_selector('#detail-output button.show-all[data-clip="output"]')
    assert time.monotonic() - started < 10
    assert page.evaluate("document.getElementById('detail').scrollHeight") < 20_000
    call(dev, f"/runs/{run_id}/actions", {"action": "stop"})


def test_a_signed_action_refused_by_iam_says_what_is_missing(
    deployed: Deployed, user: None, page: Any
) -> None:
    """The stack's page, opened on a run's link: once credentials are pasted the run
    shows (it stayed "Credentials needed"). An identity that may read (GET) but not act
    (POST) is answered 403 by API Gateway: the page says which permission is missing,
    not a bare "Forbidden"."""
    _a_failed_run(deployed, "hostile-403")
    page.goto(f"{deployed.gateway.url}/console/app#/runs/hostile-403")
    page.fill("#auth-paste", EXPORTED)
    page.dispatch_event("#auth-paste", "input")
    page.click("#auth-save")
    # A link to a run, opened before pasting credentials: the run is read once they are.
    page.wait_for_selector('#run-actions button[data-action="restart"]')
    assert "Credentials needed" not in page.inner_text("#run-head")
    page.route(
        "**/runs/*/actions", lambda route: route.fulfill(status=403, json={"message": "Forbidden"})
    )
    page.click('#run-actions button[data-action="restart"]')
    page.click("#action-confirm")
    page.wait_for_selector("#action-note .problem")
    note = page.inner_text("#action-note")
    assert "403: Forbidden" in note and "execute-api:Invoke on POST /runs/*" in note, note

"""``podium dev`` answered the console's views (``/api/console/...``,
``DevServer.console_view``) differently from the deployed API's routes for the same
views (``/console/...``, handlers/api.py), which ``podium console --stack`` forwards
``/api/console/...`` to and which the same dev server also serves. handlers/api.py says
"``podium dev`` serves the same under /api/console/...".

Found by a review; each test failed before its fix (it shows a difference and says what
the right answer is), and now both answers agree.
The deployed answer is read from the same dev server (its /console/... paths go to
api.handler), so both answers are about the same home and the same request."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from podium.local.dev_server import DevServer
from tests.integration import test_cli_dev_console_queries as console_queries

WF = {"name": "rv_dev", "steps": [{"id": "a", "type": "noop"}]}


# podium dev on a memory home: the fixture of the CLI's console-query tests.
dev = console_queries.dev


def send(server: DevServer, path: str, method: str = "GET") -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(server.url + path, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


def both(server: DevServer, view: str, method: str = "GET") -> tuple[Any, Any]:
    """(podium dev's /api/console answer, the deployed route's /console answer)."""
    return send(server, "/api/console" + view, method), send(server, "/console" + view, method)


def test_step_detail_without_a_name_is_a_400_naming_query_name(dev: DevServer) -> None:
    """/api/console/runs/{id}/step with no ?name= (or an empty one) answers 404 "run X has
    no step ''" under podium dev: console_view passes query.get("name", "") on to
    step_detail (dev_server.py console_view). The deployed route answers 400 at query.name
    "name the step: ?name=STEP" (handlers/api.py console_step). podium dev should refuse
    it the same way: a missing parameter is the caller's mistake, not a missing step."""
    run_id = dev.runtime.run(WF).run.run_id
    for view in (f"/runs/{run_id}/step", f"/runs/{run_id}/step?name="):
        (dev_status, _, dev_body), (api_status, _, api_body) = both(dev, view)
        assert api_status == 400 and api_body["errors"][0]["path"] == "query.name"  # control
        assert (dev_status, dev_body.get("errors")) == (api_status, api_body["errors"]), view


def test_a_since_of_thousands_of_digits_is_a_400_not_a_500(dev: DevServer) -> None:
    """/api/console/runs?since=<5,000 digits> answers 500 Internal Server Error under podium
    dev: console_views.parse_since calls int() on it, and Python refuses to convert a
    string of more than 4,300 digits (ValueError). The deployed route refuses it with 400
    at query.since (a query value is at most 1,024 characters: handlers/api.py _str_query),
    and nothing a caller sends should be a 500. podium dev should apply the same length
    bound to its query values (or parse_since should bound the digits it converts)."""
    dev.runtime.run(WF)
    for since in ("9" * 5000, "9" * 5000 + "d"):
        (dev_status, _, dev_body), (api_status, _, _) = both(dev, f"/runs?since={since}")
        assert api_status == 400  # control
        assert dev_status == 400, dev_body


def test_a_query_value_over_1024_characters_is_refused_as_deployed(dev: DevServer) -> None:
    """The deployed API refuses any query value over 1,024 characters (400 at query.q,
    "must be at most 1024 characters": handlers/api.py _str_query). podium dev's console
    view reads its query values with no bound (dev_server.py console_view), so the same
    run page search ?q=<2,000 characters> answers 200 there. The same request should get
    the same answer from podium dev and a stack."""
    run_id = dev.runtime.run(WF).run.run_id
    (dev_status, _, dev_body), (api_status, _, api_body) = both(
        dev, f"/runs/{run_id}?q={'a' * 2000}"
    )
    assert api_status == 400 and api_body["errors"][0]["path"] == "query.q"  # control
    assert dev_status == 400, str(dev_body)[:300]


def test_error_bodies_carry_code_and_request_id_as_deployed(dev: DevServer) -> None:
    """docs/operations.md "Limits": an error is JSON {"code", "message", "errors",
    "request_id"}; the deployed console routes answer an unknown run with
    {"code": "not_found", ...}. podium dev's console views answer {"message", "errors"}
    only (dev_server.py console_view's except clauses: DefinitionError, NotFound, the
    no-view 404 and the 500), so a client that branches on "code" (not_found vs
    no_route vs invalid_request) cannot under podium dev. The bodies should carry the same
    code (and a request id)."""
    cases = ["/runs/nope", "/runs?status=NOPE", "/runs/x/y/z"]
    for view in cases:
        (dev_status, _, dev_body), (api_status, _, api_body) = both(dev, view)
        assert dev_status == api_status, view
        assert dev_body.get("code") == api_body["code"], (view, dev_body, api_body["code"])
        assert "request_id" in dev_body, (view, dev_body)


def test_a_post_to_a_console_view_names_the_allowed_method(dev: DevServer) -> None:
    """POST /api/console/runs under podium dev answers 405 {"message": "GET only"} with no
    Allow header (dev_server.py _serve). RFC 9110 requires a 405 to send Allow, and the
    deployed route answers 405 method_not_allowed with "Allow: GET" and a message naming
    the fix (handlers/api.py _no_route; docs/operations.md: "named in the Allow header").
    podium dev should send the same."""
    (dev_status, dev_headers, dev_body), (api_status, api_headers, _) = both(dev, "/runs", "POST")
    assert (api_status, api_headers.get("Allow")) == (405, "GET")  # control
    assert dev_status == 405
    assert dev_headers.get("Allow") == "GET", (dev_headers, dev_body)


def test_a_repeated_status_filter_is_read_as_deployed(dev: DevServer) -> None:
    """?status=SUCCEEDED&status=FAILED: API Gateway (payload v2) joins a repeated query
    parameter with commas, so the deployed run list filters on SUCCEEDED,FAILED and lists
    the succeeded run (podium dev's own api_event does the same for /console/...). podium
    dev's /api/console view keeps only the last value (dev_server.py _serve:
    ``{k: v[-1] ...}``), filters on FAILED alone and lists nothing. Both should read the
    parameter the same way (join with commas, as api_event does)."""
    run_id = dev.runtime.run(WF).run.run_id
    view = "/runs?status=SUCCEEDED&status=FAILED"
    (dev_status, _, dev_body), (api_status, _, api_body) = both(dev, view)
    assert api_status == 200 and [r["run_id"] for r in api_body["runs"]] == [run_id]  # control
    assert dev_status == 200
    assert [r["run_id"] for r in dev_body["runs"]] == [run_id]

"""The run, loop and console views of the deployed API (handlers/api.py) on moto: page
tokens in other scripts' digits (a 500, or read as a number) and big run params shown
as their stored reference on the console's pages. Found by a review; each test failed
before its fix and says what the right answer is."""

from __future__ import annotations

from podium.local.runtime import LocalRuntime
from tests.integration.test_api import call

LOOP = {
    "name": "rv_loop",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"n": [1, 2, 3]},
            "steps": [{"id": "a", "type": "noop"}],
        }
    ],
}
BIG_PARAMS = {
    "name": "rv_big",
    "params": {"blob": {"type": "string", "default": ""}},
    "steps": [{"id": "a", "type": "noop"}],
}


def _loop_run(runtime: LocalRuntime) -> str:
    assert call("POST", "/workflows", LOOP)[0] == 201
    assert call("POST", "/workflows/rv_loop/runs", {"run_id": "rv-loop-1"})[0] == 202
    runtime.pump()
    return "rv-loop-1"


def test_iterations_page_token_of_a_superscript_digit_is_a_400_not_a_500(
    runtime: LocalRuntime,
) -> None:
    """GET /runs/{id}/iterations?step=each&next=² answers 500 internal_error: the page
    token is checked with str.isdigit() (loop_views._start_of), which takes "²", and then
    int("²") raises ValueError. The same 500 comes from the console's step detail
    (GET /console/runs/{id}/step?name=each&next=²). A token the caller sends must be a 400
    naming query.next, as "-1" or "abc" already are (nothing a caller sends gives a 500)."""
    run_id = _loop_run(runtime)
    status, body = call("GET", f"/runs/{run_id}/iterations", query={"step": "each", "next": "²"})
    assert status == 400, body
    assert body["errors"][0]["path"] == "query.next"
    status, body = call("GET", f"/console/runs/{run_id}/step", query={"name": "each", "next": "²"})
    assert status == 400, body


def test_iterations_page_token_in_another_script_is_refused_not_read_as_a_number(
    runtime: LocalRuntime,
) -> None:
    """next=٣ (ARABIC-INDIC DIGIT THREE) passes str.isdigit() and int() reads it as 3,
    so the page silently starts at iteration 3: here an empty page with no next, as if
    the loop had no iterations left, although iterations 0-2 were never listed. Page
    tokens are the ASCII digits this view gave (str(index)): anything else must be a 400
    at query.next (loop_views._start_of should use an ASCII-only check, as
    api_requests.bounded_int does)."""
    run_id = _loop_run(runtime)
    status, body = call("GET", f"/runs/{run_id}/iterations", query={"step": "each", "next": "٣"})
    assert status == 400, body
    assert body["errors"][0]["path"] == "query.next"


def _big_run(runtime: LocalRuntime) -> tuple[str, str]:
    blob = "x" * 6000  # over INLINE_PARAMS_BYTES (4 KiB): stored apart by reference
    assert call("POST", "/workflows", BIG_PARAMS)[0] == 201
    status, _ = call(
        "POST", "/workflows/rv_big/runs", {"run_id": "rv-big-1", "params": {"blob": blob}}
    )
    assert status == 202
    runtime.pump()
    status, described = call("GET", "/runs/rv-big-1")
    assert status == 200 and described["run"]["params"] == {"blob": blob}  # control
    return "rv-big-1", blob


def test_console_run_page_shows_big_run_params_as_their_values(runtime: LocalRuntime) -> None:
    """A run whose params are over 4 KiB keeps them in Payloads by reference. GET
    /runs/{id} reads them back (runs.describe_run -> run_params), but the console's run
    page (GET /console/runs/{id}, console_views.run_page -> _run_row -> run_view) shows
    the stored reference {"$payload": "memory://...", "bytes": n} as the run's params.
    The run page should show the params as the run was started with them, as GET
    /runs/{id} and `podium runs show` do (resolve them with bindings.run_params, or show
    the reference with a preview as step_detail does for a big output)."""
    run_id, blob = _big_run(runtime)
    status, page = call("GET", f"/console/runs/{run_id}")
    assert status == 200, page
    assert page["run"]["params"] == {"blob": blob}


def test_console_step_detail_shows_big_run_params_as_their_values(runtime: LocalRuntime) -> None:
    """The console's step detail has a "Run params" section (app.js renders
    data.run.params), but step_detail builds "run" with run_view(run) on the raw record
    (console_views.step_detail), so a run with params over 4 KiB shows the payload
    reference {"$payload": ..., "bytes": ...} instead of its params. It should show the
    params read back, as GET /runs/{id} does (and as the same view already does for the
    step's own big output and params, via _shown_value)."""
    run_id, blob = _big_run(runtime)
    status, detail = call("GET", f"/console/runs/{run_id}/step", query={"name": "a"})
    assert status == 200, detail
    assert detail["run"]["params"] == {"blob": blob}


def test_iterations_of_a_step_that_is_no_loop_is_a_400(runtime: LocalRuntime) -> None:
    """An empty page with ``counts: null`` answered as if the step were a loop that had
    launched nothing; now the place and the reason."""
    plain = {"name": "rv_plain", "steps": [{"id": "a", "type": "noop"}]}
    assert call("POST", "/workflows", plain)[0] == 201
    assert call("POST", "/workflows/rv_plain/runs", {"run_id": "rv-plain-1"})[0] == 202
    runtime.pump()
    status, body = call("GET", "/runs/rv-plain-1/iterations", query={"step": "a"})
    assert status == 400, body
    assert body["errors"] == [
        {
            "path": "query.step",
            "message": "step 'a' of run rv-plain-1 is a noop step, not a foreach or while:"
            " it has no iterations",
        }
    ]
    run_id = _loop_run(runtime)  # control: a loop's page
    status, body = call("GET", f"/runs/{run_id}/iterations", query={"step": "each"})
    assert status == 200 and len(body["iterations"]) == 3


def test_a_run_pages_step_status_filter_takes_any_case(runtime: LocalRuntime) -> None:
    """``?status=succeeded`` was a 400 on the run page while the run lists take any
    case."""
    run_id = _loop_run(runtime)
    status, body = call("GET", f"/console/runs/{run_id}", query={"status": "succeeded"})
    assert status == 200, body
    assert [s["step"] for s in body["steps"]["items"]] == ["each"]


def test_a_run_id_with_a_trailing_newline_is_refused(runtime: LocalRuntime) -> None:
    """``$`` matched before a final newline: "r1\\n" passed the id check."""
    status, body = call("GET", "/runs/r1%0A")
    assert status == 400 and body["code"] == "invalid_run_id", body
    assert "subworkflow" in body["message"]  # the message names the child ids too

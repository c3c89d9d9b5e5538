"""GET /runs/{id}?limit&next while the run goes on: the token was a position in the
list of step items existing at each read, so a step created between two reads (one
earlier in definition order) shifted the list, and the next page repeated a step. It
is now the last returned step's key (its place in the definition, its id); the remote
CLI also lists a step once whatever pages say."""

from __future__ import annotations

import json
from typing import Any

from podium.cli.remote import ApiClient
from podium.local.runtime import LocalRuntime
from tests.integration.test_api import call

GROWING = {
    "name": "growing",
    "steps": [
        # First in definition order, created last: after ``slow`` ends.
        {"id": "late", "type": "noop", "depends_on": ["slow"]},
        {"id": "a", "type": "noop"},
        {"id": "b", "type": "noop"},
        {"id": "c", "type": "noop"},
        {"id": "slow", "type": "sleep", "seconds": 60},
    ],
}


def _read_all(run_id: str, between: Any = None) -> tuple[list[str], list[dict[str, Any]]]:
    seen: list[str] = []
    pages: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        query = {"limit": "2", **({"next": token} if token else {})}
        status, page = call("GET", f"/runs/{run_id}", query=query)
        assert status == 200, page
        pages.append(page)
        seen += [s["step"] for s in page["steps"]]
        token = page.get("next")
        if token is None:
            return seen, pages
        if between is not None and len(pages) == 1:
            between()


def test_a_step_created_between_two_pages_shifts_nothing(runtime: LocalRuntime) -> None:
    assert call("POST", "/workflows", GROWING)[0] == 201
    assert call("POST", "/workflows/growing/runs", {"run_id": "grow-1"})[0] == 202
    runtime.pump(wait=False)  # a, b, c done; slow sleeps; late has no item yet
    before = [s["step"] for s in call("GET", "/runs/grow-1")[1]["steps"]]
    assert before == ["a", "b", "c", "slow"]

    seen, pages = _read_all("grow-1", between=runtime.pump)  # slow ends, late runs
    assert pages[1]["steps_total"] == 5  # late exists now
    assert seen == ["a", "b", "c", "slow"]  # each once, in order: none repeated or skipped
    # Read again from the start, every step is there.
    again, _ = _read_all("grow-1")
    assert again == ["late", "a", "b", "c", "slow"]


def test_a_token_is_a_key_and_a_bad_one_is_refused(runtime: LocalRuntime) -> None:
    steps = [{"id": f"s{i:02}", "type": "noop"} for i in range(5)]
    assert call("POST", "/workflows", {"name": "five", "steps": steps})[0] == 201
    assert call("POST", "/workflows/five/runs", {"run_id": "five-1"})[0] == 202
    runtime.pump()
    status, first = call("GET", "/runs/five-1", query={"limit": "2"})
    assert status == 200 and [s["step"] for s in first["steps"]] == ["s00", "s01"]
    status, rest = call("GET", "/runs/five-1", query={"limit": "10", "next": first["next"]})
    assert [s["step"] for s in rest["steps"]] == ["s02", "s03", "s04"] and "next" not in rest
    for bad in ("x", "-1", "1" * 12, "10", "W10", "WyJhIiwxXQ"):  # ["a",1]: not (rank, id)
        status, body = call("GET", "/runs/five-1", query={"next": bad})
        assert status == 400 and "query.next" in json.dumps(body), (bad, body)


def test_the_remote_cli_lists_a_step_once_across_pages() -> None:
    pages = [
        {"run": {"run_id": "r"}, "steps": [{"step": "a"}, {"step": "b"}], "next": "p2"},
        {"run": {"run_id": "r"}, "steps": [{"step": "b"}, {"step": "c"}], "next": "p3"},
        {"run": {"run_id": "r"}, "steps": [{"step": "d"}], "steps_total": 4},
    ]
    asked: list[Any] = []

    def get(path: str, query: Any = None) -> Any:
        asked.append(query)
        return pages[len(asked) - 1]

    client = ApiClient("http://127.0.0.1:1", None, "us-east-1")
    client.get = get  # type: ignore[method-assign]
    body = client.get_run("r")
    assert [s["step"] for s in body["steps"]] == ["a", "b", "c", "d"]
    assert asked == [None, {"next": "p2"}, {"next": "p3"}] and "next" not in body

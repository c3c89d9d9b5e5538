"""``podium runs list``'s pages: a ``--next`` token of another workflow's list or naming
a run id no run has exits 2 naming --next (locally it was read as a place in this list,
or crashed the SQLite query); a page past the last run says "no older runs", not that
the workflow has "no runs yet"; a stack's list of exactly --limit runs offers no next
page (service/runs.list_runs reads one run more than it lists)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.cli.main import app
from podium.local.dev_server import DevServer
from podium.local.runtime import LocalRuntime
from tests.integration.dev_support import memory_dev_server
from tests.integration.test_api_refuses_page_tokens_it_did_not_give import WF, forged

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A local home: workflow ``aa`` with two runs, then ``bb`` with two newer ones."""
    clock = ManualClock()
    with LocalRuntime(store="sqlite", clock=clock, home=tmp_path) as rt:
        for name in ("aa", "aa", "bb", "bb"):
            rt.run({"name": name, "steps": [{"id": "a", "type": "noop"}]})
            clock.advance(1000)
    return tmp_path


def _list(home: Path, *args: str) -> Any:
    return runner.invoke(app, ["runs", "list", *args, "--home", str(home)])


def test_the_local_runs_list_refuses_a_token_naming_a_run_id_no_run_has(home: Path) -> None:
    """``podium runs list --next TOKEN`` exits 2 for a token of no runs list
    (cli/local_commands.py runs_page_token: "--next: not a page token of a runs list").
    A token whose run id is a lone surrogate passes views.parse_runs_token and crashes
    the SQLite query instead: exit 1 with an uncaught UnicodeEncodeError ("surrogates not
    allowed"). It should be the usage error (exit 2) naming --next."""
    done = _list(home, "bb", "--next", forged("runs", 1, "\ud800"))
    assert done.exception is None or isinstance(done.exception, SystemExit), repr(done.exception)
    assert done.exit_code == 2, done.output
    assert "--next" in done.output, done.output


def test_the_local_runs_list_refuses_a_token_of_another_workflows_list(home: Path) -> None:
    """A runs list's token names the workflow whose list it pages; another workflow's is
    refused (docs/architecture.md: "another workflow's is a 400 at query.next"; on a
    stack ``podium runs list bb --next TOKEN_OF_AA`` exits 2). The local list writes
    tokens without the workflow (local_commands.list_runs: runs_token(key)) and reads
    them without a scope (runs_page_token), so aa's token given to bb's list is read as a
    place in it: every bb run is newer than aa's, and it says "no runs of bb in HOME yet",
    exit 0, although bb has two runs. It should exit 2 naming --next (or list bb's runs)."""
    first = _list(home, "aa", "--limit", "1", "--json")
    assert first.exit_code == 0, first.output
    token = json.loads(first.output)["next"]
    done = _list(home, "bb", "--next", token)
    if done.exit_code == 2:
        assert "--next" in done.output, done.output
        return
    assert "no runs" not in done.output, done.output


def test_a_page_past_the_last_run_does_not_say_the_workflow_has_no_runs_yet(home: Path) -> None:
    """An empty listing says "yet" only when nothing filtered the runs out
    (local_commands.no_runs): "no runs of bb in HOME yet" means bb never ran. With
    --next (a page past the last run: a stale token, or one whose older runs were pruned
    since) the same words are printed although bb has two runs: no_runs is not told that
    the list started after a run. It should say there are no older runs, not "yet"."""
    done = _list(home, "bb", "--next", forged("runs", 1, "x"))
    assert done.exit_code == 0, done.output
    assert "yet" not in done.output, done.output


@pytest.fixture
def dev() -> Iterator[DevServer]:
    with memory_dev_server() as server:
        yield server


def test_a_stack_list_of_exactly_limit_runs_offers_no_next_page(dev: DevServer) -> None:
    """docs/deploy.md: "podium runs list WORKFLOW [--limit N] lists runs, newest first
    ...; when older ones match, it prints the command for the next page (--next TOKEN)".
    Against a stack (here podium dev's endpoint) with exactly N runs, ``--limit N`` prints
    "more: podium runs list paged --limit 2 ... --next TOKEN" although no older run
    exists: the API gives ``next`` whenever a page is full (service/runs.py list_runs:
    ``len(runs) == limit``) and remote_commands.list_runs prints it as is. Following it
    then prints "no runs of paged yet". The local list reads one more run than it shows
    to know; the stack's should not offer a page that does not exist."""
    for _ in range(2):
        dev.runtime.run(WF)
    url = ["--endpoint", dev.url]
    listed = runner.invoke(app, ["runs", "list", "paged", "--limit", "2", *url])
    assert listed.exit_code == 0, listed.output
    assert "runs of paged" in listed.output, listed.output
    assert "more:" not in listed.output and "--next" not in listed.output, listed.output

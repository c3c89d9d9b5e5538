"""Tags on workflows and runs: a workflow's ``tags:`` go on each run, ``--tag`` / the
API's ``tags`` add a run's own (they win), and runs are found by them: ``podium runs
list --tag``, the console's run list."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.cli.main import app
from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import load_definition
from podium.core.tags import has_tags, parse_tag_pairs
from podium.local.dev_server import DevServer, open_runtime
from podium.service.console_views import list_console_runs

runner = CliRunner()

TAGGED = """\
name: tagged
tags: {team: sales, tier: gold}
steps:
  - {id: a, type: noop}
"""


def podium(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_definition_tags_are_short_strings() -> None:
    assert load_definition(TAGGED).tags == {"team": "sales", "tier": "gold"}
    assert load_definition("name: w\nsteps: [{id: a, type: noop}]").tags == {}
    for bad, words in (
        ("{'bad key': x}", "tag key"),
        ("{n: 3}", "is not text: quote it"),
        ("{k: 'a,b'}", "without commas"),
        ("{k: " + "x" * 300 + "}", "at most 256"),
        ("{" + ", ".join(f"k{i}: v" for i in range(51)) + "}", "at most 50"),
    ):
        with pytest.raises(DefinitionError) as caught:
            load_definition(f"name: w\ntags: {bad}\nsteps: [{{id: a, type: noop}}]")
        text = str(caught.value)
        assert "tags" in text and words in text, text


def test_tag_pairs_and_matching() -> None:
    assert parse_tag_pairs(["team=sales", "note="]) == {"team": "sales", "note": ""}
    with pytest.raises(ValueError, match="use key=value"):
        parse_tag_pairs(["team"])
    with pytest.raises(ValueError, match="tag key"):
        parse_tag_pairs(["bad key=x"])
    assert has_tags({"a": "1", "b": "2"}, {"a": "1"})
    assert not has_tags({"a": "1"}, {"a": "1", "b": "2"})
    assert has_tags(None, None)


def test_podium_run_tags_and_runs_list_filters(tmp_path: Path) -> None:
    wf = tmp_path / "tagged.yaml"
    wf.write_text(TAGGED)
    home = str(tmp_path / "home")
    first = podium("run", str(wf), "--json", "--home", home, "--tag", "tier=silver", "--tag", "x=1")
    assert first.exit_code == 0, first.output
    run = json.loads(first.stdout)["run"]
    assert run["tags"] == {"team": "sales", "tier": "silver", "x": "1"}  # the run's win
    second = podium("run", str(wf), "--json", "--home", home)
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["run"]["tags"] == {"team": "sales", "tier": "gold"}

    def listed(*tags: str) -> list[str]:
        args = [a for t in tags for a in ("--tag", t)]
        result = podium("runs", "list", "--json", "--home", home, *args)
        assert result.exit_code == 0, result.output
        return [r["run_id"] for r in json.loads(result.stdout)["runs"]]

    one, two = run["run_id"], json.loads(second.stdout)["run"]["run_id"]
    assert listed() == [two, one]
    assert listed("team=sales") == [two, one]
    assert listed("tier=gold") == [two]
    assert listed("tier=silver", "x=1") == [one]
    assert listed("tier=silver", "x=2") == []
    assert listed("nope=x") == []
    # An empty filtered listing says what filtered it: the home has runs ("yet" was wrong).
    empty = podium("runs", "list", "--home", home, "--tag", "nope=x", "--status", "failed")
    assert empty.exit_code == 0, empty.output
    assert "match (status FAILED; tags nope=x)" in empty.output
    assert " yet" not in empty.output
    shown = podium("runs", "show", one, "--home", home)
    assert "tags: team=sales tier=silver x=1" in shown.output
    bad = podium("runs", "list", "--home", home, "--tag", "oops")
    assert bad.exit_code == 2 and "use key=value" in bad.output
    bad = podium("run", str(wf), "--home", home, "--tag", "bad key=1")
    assert bad.exit_code == 2 and "tag key" in bad.output


@pytest.fixture
def dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DevServer]:
    monkeypatch.setenv("PODIUM_CONFIG", str(tmp_path / "no-config.toml"))
    runtime = open_runtime(tmp_path / "home")
    runtime.start()
    try:
        with DevServer(runtime, port=0) as server:
            yield server
    finally:
        runtime.stop()


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def test_api_start_with_tags_and_the_console_filter(dev: DevServer, tmp_path: Path) -> None:
    wf = tmp_path / "tagged.yaml"
    wf.write_text(TAGGED)
    assert podium("push", str(wf), "--endpoint", dev.url).exit_code == 0
    started = podium(
        "start",
        "tagged",
        "--tag",
        "team=ops",
        "--tag",
        "ticket=T-1",
        "--json",
        "--endpoint",
        dev.url,
    )
    assert started.exit_code == 0, started.output
    run = json.loads(started.stdout)
    assert run["tags"] == {"team": "ops", "tier": "gold", "ticket": "T-1"}
    plain = json.loads(podium("start", "tagged", "--json", "--endpoint", dev.url).stdout)
    assert plain["tags"] == {"team": "sales", "tier": "gold"}

    # The API refuses bad tags, with their path.
    refused = podium("start", "tagged", "--tag", "k=a,b", "--endpoint", dev.url)
    assert refused.exit_code == 2, refused.output  # found by the CLI before any request
    request = urllib.request.Request(
        f"{dev.url}/workflows/tagged/runs",
        data=json.dumps({"tags": {"bad key": "x"}}).encode(),
        headers={"content-type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 400
    assert "body.tags" in caught.value.read().decode()

    # podium runs list against an endpoint filters the page by tag.
    listed = podium("runs", "list", "tagged", "--json", "--tag", "team=ops", "--endpoint", dev.url)
    assert listed.exit_code == 0, listed.output
    assert [r["run_id"] for r in json.loads(listed.stdout)["runs"]] == [run["run_id"]]

    # The console's run list.
    view = _get(f"{dev.url}/api/console/runs?tag=team%3Dops")
    assert [r["run_id"] for r in view["runs"]] == [run["run_id"]]
    assert view["runs"][0]["tags"]["ticket"] == "T-1"
    view = _get(f"{dev.url}/api/console/runs?tag=tier%3Dgold")
    assert {r["run_id"] for r in view["runs"]} == {run["run_id"], plain["run_id"]}
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{dev.url}/api/console/runs?tag=oops", timeout=30)
    assert caught.value.code == 400


def test_console_view_filters_by_every_tag(tmp_path: Path) -> None:
    from podium.local.runtime import LocalRuntime

    with LocalRuntime(store="sqlite", home=":memory:") as rt:
        rt.push({"name": "w", "tags": {"team": "a"}, "steps": [{"id": "s", "type": "noop"}]})
        one = rt.start_run("w", tags={"env": "prod"})
        rt.start_run("w", tags={"env": "dev"})
        view = list_console_runs(rt.services, ["w"], tag="team=a,env=prod")
        assert [r["run_id"] for r in view["runs"]] == [one.run_id]
        assert view["total"] == 1
        assert len(list_console_runs(rt.services, ["w"], tag="team=a")["runs"]) == 2


def test_the_run_status_event_carries_the_tags() -> None:
    from podium.local.runtime import LocalRuntime

    with LocalRuntime(store="sqlite", home=":memory:") as rt:
        rt.push({"name": "w", "tags": {"team": "a"}, "steps": [{"id": "s", "type": "noop"}]})
        run = rt.start_run("w", tags={"env": "prod"})
        rt.pump(run_id=run.run_id)
        events = rt.services.events.published  # type: ignore[union-attr]
        mine = [e for e in events if e["detail"]["run_id"] == run.run_id]
        assert [e["detail"]["status"] for e in mine] == ["RUNNING", "SUCCEEDED"]
        assert all(e["detail"]["tags"] == {"team": "a", "env": "prod"} for e in mine)

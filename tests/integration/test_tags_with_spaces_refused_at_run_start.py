"""A run's tags with spaces around a key or a value, given at its start."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.tags import check_tags, parse_tag_pairs, tag_issues
from podium.local.dev_server import DevServer, open_runtime
from podium.service.console_views import list_console_runs


def test_check_tags_kept_the_spaces_that_every_filter_trims() -> None:
    """``check_tags`` took ``{"env": " prod "}`` as it was, while the filter
    (``parse_tag_pairs``) trims what it is given: the run could be found by no filter, not
    even its own chip in the console. It is refused, naming the tag and the fix."""
    with pytest.raises(DefinitionError) as caught:
        check_tags({"env": " prod ", " team": "a"})
    said = {i.path: i.message for i in caught.value.issues}
    assert "'prod'" in said["tags.env"] and "whitespace" in said["tags.env"], said
    assert "'team'" in said["tags. team"], said
    assert parse_tag_pairs(["env= prod "]) == {"env": "prod"}  # the filter's, as before
    # A stored version's tags are not given now: they keep loading (core.dsl.stored).
    assert tag_issues({"env": " prod "}) == []


def test_the_api_refused_a_run_tagged_with_spaces(tmp_path: Path) -> None:
    """``POST /workflows/NAME/runs {"tags": {"env": " prod "}}`` started a run whose tag no
    filter found (``?tag=env= prod`` looks for ``prod``). It is a 400 at ``body.tags.env``
    that says what to write, and no run is started."""
    runtime = open_runtime(tmp_path / "home")
    runtime.start()
    try:
        with DevServer(runtime, port=0) as dev:
            runtime.push({"name": "spaced", "steps": [{"id": "a", "type": "noop"}]})
            request = urllib.request.Request(
                f"{dev.url}/workflows/spaced/runs",
                data=json.dumps({"tags": {"env": " prod "}}).encode(),
                headers={"content-type": "application/json"},
                method="POST",
            )
            with pytest.raises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(request, timeout=10)
            assert caught.value.code == 400
            body = json.loads(caught.value.read())
            (issue,) = body["errors"]
            assert issue["path"] == "body.tags.env" and "write 'prod'" in issue["message"], body
            assert list_console_runs(runtime.services, ["spaced"])["total"] == 0
    finally:
        runtime.stop()

"""``podium run wf.yaml --event FILE`` checked the event's contents (a ``time`` that is
no ISO time, an event no trigger takes, trigger params that do not validate from it)
only after it had made the home and pushed the workflow: the refusal left a home and a
new version behind. The event is checked against the workflow's triggers before
anything is written, and the refusal names the file and the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.cli.main import app
from podium.local.runtime import LocalRuntime
from tests.integration.test_trigger_event_errors import INGEST as INGEST_CSV_ONLY
from tests.integration.test_trigger_event_errors import S3_EVENT

NIGHTLY = "name: nightly_checked\nsteps:\n  - {id: a, type: noop}\ntriggers:\n  - {id: nightly, cron: '0 6 * * *'}\n"
UNTRIGGERED = "name: untriggered\nsteps:\n  - {id: a, type: noop}\n"
# An s3 trigger whose params take only a .csv key; S3_EVENT uploads raw/file.json.
INGEST = {**INGEST_CSV_ONLY, "name": "ingest_checked"}


def _run(tmp_path: Path, workflow: str, event: dict[str, Any]) -> tuple[Any, Path]:
    (tmp_path / "wf.yaml").write_text(workflow)
    (tmp_path / "event.json").write_text(json.dumps(event))
    home = tmp_path / "home"
    args = ["run", str(tmp_path / "wf.yaml"), "--event", str(tmp_path / "event.json")]
    return CliRunner().invoke(app, [*args, "--home", str(home)]), home


@pytest.mark.parametrize(
    ("workflow", "event", "field", "said"),
    [
        (NIGHTLY, {"time": "yesterday"}, "event.time", "is not an ISO 8601 time"),
        (UNTRIGGERED, {"time": "2026-01-15T06:00:00Z"}, "event", "no trigger"),
        (json.dumps(INGEST), S3_EVENT, "triggers.upload.params.key", "only csv"),
    ],
    ids=["time-not-iso", "no-trigger-takes-it", "params-do-not-validate"],
)
def test_an_event_the_triggers_refuse_is_said_before_anything_is_written(
    tmp_path: Path, workflow: str, event: dict[str, Any], field: str, said: str
) -> None:
    ran, home = _run(tmp_path, workflow, event)
    text = " ".join(ran.output.split())
    assert ran.exit_code == 1, text
    assert f"{tmp_path / 'event.json'}: 1 problem(s)" in text, text
    assert f"✗ {field}: " in text and said in text, text
    assert not home.exists(), "the home was made (and the workflow pushed) for a bad event"


def test_an_event_a_trigger_takes_still_runs(tmp_path: Path) -> None:
    ran, home = _run(tmp_path, NIGHTLY, {"time": "2026-01-15T06:00:00Z"})
    assert ran.exit_code == 0, ran.output
    with LocalRuntime(store="sqlite", home=home) as rt:
        (run,) = rt.store.list_runs("nightly_checked")  # one run: the real one
    assert run.trigger == "cron:nightly" and run.status.value == "SUCCEEDED"

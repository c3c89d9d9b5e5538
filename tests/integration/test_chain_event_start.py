"""``podium run --event FILE`` and ``podium.testing.fire_trigger`` given a Podium run
status change for a ``bus: podium`` trigger: the run they start is a link of the chain,
as the bus would start it (core/engine/trigger_events.py). They applied no chain at all:
the run started at 0, and past MAX_CHAIN it started still."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.cli.main import app
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.status import RunStatus
from podium.core.engine.trigger_events import MAX_CHAIN
from podium.local.runtime import LocalRuntime
from podium.service.triggers import event_run_id, list_triggers
from podium.testing import fire_trigger

REPORT = {
    "name": "report",
    "params": {"upstream": {"type": "string", "default": "?"}},
    "steps": [{"id": "a", "type": "noop"}],
    "triggers": [
        {
            "id": "after_etl",
            "event": {
                "bus": "podium",
                "pattern": {
                    "source": ["podium"],
                    "detail-type": ["Podium Run Status Change"],
                    "detail": {"workflow": ["etl"], "status": ["SUCCEEDED"]},
                },
            },
            "params": {"upstream": "${event.detail.run_id}"},
        }
    ],
}


def status_change(chain: int | None, run_id: str = "01KDVDNA00AD3DAJ2JEGH4GZTS") -> dict[str, Any]:
    """A run status change of etl as Podium publishes it (``--events`` prints these)."""
    detail: dict[str, Any] = {
        "run_id": run_id,
        "workflow": "etl",
        "version": 1,
        "status": "SUCCEEDED",
        "trigger": "event:after_ingest",
        "created_at": 1_767_225_600_000,
        "started_at": 1_767_225_600_000,
        "ended_at": 1_767_225_660_000,
        "tags": {},
    }
    if chain is not None:
        detail["chain"] = chain
    return {
        "version": "0",
        "id": "a1b2c3",
        "source": "podium",
        "detail-type": "Podium Run Status Change",
        "time": "2026-01-01T00:01:00Z",
        "detail": detail,
    }


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalRuntime]:
    home = tmp_path / ".podium" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, clock=ManualClock(), home=home) as runtime:
        yield runtime


@pytest.mark.parametrize(("given", "chain"), [(0, 1), (4, 5), (MAX_CHAIN - 1, MAX_CHAIN)])
def test_fire_trigger_starts_the_next_link_of_the_chain(
    rt: LocalRuntime, given: int, chain: int
) -> None:
    rt.push(REPORT)
    view = fire_trigger(rt, "report", status_change(given))
    assert view.run.status is RunStatus.SUCCEEDED
    assert view.run.chain == chain
    assert rt.store.get_run(view.run.run_id).chain == chain  # as stored
    assert view.run.params == {"upstream": "01KDVDNA00AD3DAJ2JEGH4GZTS"}
    # The run id the harness predicts is the one started.
    assert event_run_id(rt.services, "report", status_change(given)) == view.run.run_id


def test_a_status_change_from_an_older_release_starts_a_chain(rt: LocalRuntime) -> None:
    rt.push(REPORT)
    assert fire_trigger(rt, "report", status_change(None)).run.chain == 1


def test_fire_trigger_refuses_a_run_past_the_limit(rt: LocalRuntime) -> None:
    rt.push(REPORT)
    with pytest.raises(DefinitionError) as raised:
        fire_trigger(rt, "report", status_change(MAX_CHAIN))
    (issue,) = raised.value.issues
    assert issue.path == "event.detail.chain"
    assert f"whose detail.chain is {MAX_CHAIN}" in issue.message
    assert f"At most {MAX_CHAIN} runs are started in a row" in issue.message
    assert "none was started" in issue.message
    assert rt.store.list_runs("report", 10) == []
    # As the bus would have refused it: kept on the trigger's state.
    (state,) = list_triggers(rt.services, "report")
    assert f"whose detail.chain is {MAX_CHAIN}" in state["last_failure"]["error"]


def test_fire_trigger_refuses_a_change_of_the_triggers_own_run(rt: LocalRuntime) -> None:
    rt.push(
        {
            **REPORT,
            "triggers": [
                {
                    "id": "again",
                    "event": {
                        "bus": "podium",
                        "pattern": {"source": ["podium"], "detail": {"workflow": ["etl"]}},
                    },
                }
            ],
            "name": "etl",
        }
    )
    event = status_change(2)
    event["detail"]["trigger"] = "event:again"
    with pytest.raises(DefinitionError) as raised:
        fire_trigger(rt, "etl", event)
    (issue,) = raised.value.issues
    assert issue.path == "event.detail.trigger" and "a run it started itself" in issue.message


def test_an_event_on_another_bus_is_no_link(rt: LocalRuntime) -> None:
    """The same event given to a trigger on the default bus: what Podium publishes
    reaches it only if a user forwards it, so it is no link of a chain."""
    trigger = REPORT["triggers"][0]  # type: ignore[index]
    rt.push({**REPORT, "triggers": [{**trigger, "event": {**trigger["event"], "bus": "default"}}]})
    assert fire_trigger(rt, "report", status_change(MAX_CHAIN)).run.chain == 0


def write_files(tmp_path: Path, chain: int) -> tuple[Path, Path]:
    wf = tmp_path / "report.json"
    wf.write_text(json.dumps(REPORT))
    event = tmp_path / "change.json"
    event.write_text(json.dumps(status_change(chain)))
    return wf, event


def test_podium_run_event_starts_the_next_link(tmp_path: Path) -> None:
    wf, event = write_files(tmp_path, 3)
    home = str(tmp_path / "home")
    result: Any = CliRunner().invoke(
        app, ["run", str(wf), "--event", str(event), "--json", "--home", home]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["run"]["chain"] == 4 and body["run"]["status"] == "SUCCEEDED"
    # The text views say it too: the end of `podium run`, and `podium runs show`.
    result = CliRunner().invoke(app, ["run", str(wf), "--event", str(event), "--home", home])
    assert result.exit_code == 0, result.output
    assert f"chain 4 of {MAX_CHAIN}" in result.stdout
    shown = CliRunner().invoke(app, ["runs", "show", body["run"]["run_id"], "--home", home])
    assert shown.exit_code == 0, shown.output
    assert f"chain 4 of {MAX_CHAIN}" in shown.stdout


def test_podium_run_event_refuses_a_run_past_the_limit(tmp_path: Path) -> None:
    wf, event = write_files(tmp_path, MAX_CHAIN)
    result: Any = CliRunner().invoke(
        app, ["run", str(wf), "--event", str(event), "--home", str(tmp_path / "home")]
    )
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    err = " ".join(result.stderr.split())  # rich wraps long lines
    assert "Traceback" not in err
    assert "event.detail.chain" in err
    assert f"whose detail.chain is {MAX_CHAIN}" in err
    assert f"At most {MAX_CHAIN} runs are started in a row" in err

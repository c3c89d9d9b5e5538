"""A push means "make this the active definition": pushing a document identical to the
latest version after a rollback made nothing active (v1 stayed, the push answered "v2
unchanged"). It now makes the latest version active again, by the path a push of a new
version takes: its trigger routes, its schedules, admission; and says so (the API's
``reactivated``/``previous``, ``podium push``'s "active again"). On every store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from podium.service import versions
from podium.service.triggers import route_trigger_event, schedule_name
from podium.service.workflows import push_definition
from tests.integration import test_remote_cli as remote
from tests.integration.test_api import call
from tests.integration.test_remote_cli import Deployed, on_stack, write

deployed = remote.deployed
user = remote.user


def on_event(source: str) -> dict[str, Any]:
    return {"id": source.replace(".", "_"), "event": {"pattern": {"source": [source]}}}


V1: dict[str, Any] = {
    "name": "pushed",
    "steps": [{"id": "a", "type": "noop"}],
    "triggers": [on_event("app.one")],
}
V2: dict[str, Any] = {
    **V1,
    "steps": [{"id": "a", "type": "noop"}, {"id": "b", "type": "noop", "depends_on": ["a"]}],
    "triggers": [on_event("app.two"), {"id": "nightly", "cron": "0 6 * * *"}],
}


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store=request.param, clock=clock, home=home) as runtime:
        yield runtime


def event(source: str, n: int) -> dict[str, Any]:
    return {
        "id": f"ev-{source}-{n}",
        "source": source,
        "detail-type": "Thing Happened",
        "time": "2026-01-15T00:00:00Z",
        "detail": {},
    }


def started_by(rt: LocalRuntime, source: str, n: int) -> list[str]:
    routed = route_trigger_event(rt.services, event(source, n))
    return [] if routed is None else list(routed["runs"])


def nightly_scheduled(rt: LocalRuntime) -> bool:
    assert rt.services.schedules is not None
    return rt.services.schedules.get(schedule_name("pushed", "nightly")) is not None


def test_an_identical_push_after_a_rollback_makes_the_latest_version_active_again(
    rt: LocalRuntime,
) -> None:
    ctx = rt.services
    push_definition(ctx, V1)
    assert push_definition(ctx, V2).version.version == 2
    versions.rollback(ctx, "pushed")
    assert ctx.store.active_version("pushed") == 1
    assert not nightly_scheduled(rt) and started_by(rt, "app.two", 1) == []

    again = push_definition(ctx, V2)
    assert (again.created, again.reactivated) == (False, 1)
    assert (again.version.version, again.version.active_version) == (2, 2)
    assert ctx.store.active_version("pushed") == 2
    # As a push of a new version would: v2's routes, v2's schedules; v1's trigger is gone.
    assert nightly_scheduled(rt)
    (run_id,) = started_by(rt, "app.two", 2)
    assert ctx.store.get_run(run_id).version == 2
    assert started_by(rt, "app.one", 3) == []

    # Pushed again while it is active: nothing to do, nothing said.
    same = push_definition(ctx, V2)
    assert (same.created, same.reactivated, same.version.active_version) == (False, None, 2)
    assert [v.version for v in ctx.store.list_workflow_versions("pushed")] == [2, 1]


def test_a_version_pushed_during_an_identical_push_stays_active(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An identical push stores nothing, then makes the latest version active again: a
    version pushed between the two is the latest and active, and stays so (the
    reactivation is conditional on the version still being the latest)."""
    ctx = rt.services
    push_definition(ctx, V1)
    push_definition(ctx, V2)
    versions.rollback(ctx, "pushed")
    v3 = {**V2, "steps": [*V2["steps"], {"id": "c", "type": "noop", "depends_on": ["b"]}]}
    put = ctx.store.put_workflow_version
    raced: list[int] = []

    def put_then_race(*args: Any, **kwargs: Any) -> Any:
        stored = put(*args, **kwargs)
        if not raced:  # another pusher's v3 lands right after this store write
            raced.append(0)
            raced[0] = push_definition(ctx, v3).version.version
        return stored

    monkeypatch.setattr(ctx.store, "put_workflow_version", put_then_race)
    again = push_definition(ctx, V2)
    assert raced == [3]
    assert (again.created, again.reactivated) == (False, None)
    assert (again.version.version, again.version.active_version) == (2, 3)
    assert ctx.store.active_version("pushed") == 3


def test_an_identical_push_without_activate_changes_nothing(rt: LocalRuntime) -> None:
    ctx = rt.services
    push_definition(ctx, V1)
    push_definition(ctx, V2, activate=False)
    kept = push_definition(ctx, V2, activate=False)
    assert (kept.created, kept.reactivated, kept.version.active_version) == (False, None, 1)
    assert ctx.store.active_version("pushed") == 1 and not nightly_scheduled(rt)
    # Pushed to be active: the version stored without it becomes the active one.
    made = push_definition(ctx, V2)
    assert (made.created, made.reactivated, ctx.store.active_version("pushed")) == (False, 1, 2)


def test_the_api_says_the_push_made_the_version_active_again(runtime: LocalRuntime) -> None:
    assert call("POST", "/workflows", V1)[0] == 201
    assert call("POST", "/workflows", V2)[0] == 201
    assert call("POST", "/workflows/pushed/rollback")[1]["active_version"] == 1
    status, body = call("POST", "/workflows", V2)
    assert (status, body) == (
        200,
        {
            "name": "pushed",
            "version": 2,
            "created": False,
            "active_version": 2,
            "reactivated": True,
            "previous": 1,
        },
    )
    status, body = call("POST", "/workflows", V2)
    assert (status, body) == (
        200,
        {"name": "pushed", "version": 2, "created": False, "active_version": 2},
    )


V1_YAML = """\
name: reactivated
steps:
  - {id: a, type: noop}
"""
V2_YAML = """\
name: reactivated
steps:
  - {id: a, type: noop}
  - {id: b, type: noop, depends_on: [a]}
"""


def test_podium_push_says_the_version_is_active_again(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    assert on_stack("push", str(write(tmp_path, "v1.yaml", V1_YAML))).exit_code == 0
    v2 = write(tmp_path, "v2.yaml", V2_YAML)
    assert on_stack("push", str(v2)).exit_code == 0
    assert on_stack("workflows", "rollback", "reactivated").exit_code == 0

    pushed = on_stack("push", str(v2))
    assert pushed.exit_code == 0, pushed.output
    assert "reactivated v2 unchanged, active again (was v1)" in pushed.output
    shown = on_stack("workflows", "show", "reactivated")
    assert "reactivated v2, active" in shown.output
    again = on_stack("push", str(v2))
    assert again.exit_code == 0 and "reactivated v2 unchanged" in again.output
    assert "active again" not in again.output

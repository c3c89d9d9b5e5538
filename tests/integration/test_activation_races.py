"""An operator's activation or rollback racing a push (on every store).

Both read the active version, add the routes of the version they make active, make it
active, then prune the routes only the version they replaced had. A push landing between
the read and the write made a rollback roll back from a version that was no longer
active (v3 pushed, v1 made active: "back from v2" applied to v3), and left the pushed
version's routes behind. The store's activation is now conditional on the active version
read (``only_if_active``): an activation is redone from the new one, a rollback refused."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.engine.errors import ActiveVersionMoved
from podium.local.runtime import LocalRuntime
from podium.service import versions
from podium.service.context import Services
from podium.service.workflows import push_definition
from tests.integration import test_push_reactivates as reactivates
from tests.integration.test_push_reactivates import V1, V2, on_event, started_by

# Its fixture, under its own name: a runtime on every store, the clock at 2026-01-15.
rt = reactivates.rt

V3: dict[str, Any] = {**V2, "triggers": [on_event("app.three")]}


def push_v1_v2_and_race_v3(ctx: Services, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """V1 and V2 are pushed (V2 active); V3 will be pushed (and made active) just before
    the next activation's store write."""
    push_definition(ctx, V1)
    push_definition(ctx, V2)
    activate = ctx.store.activate_workflow_version
    pushed: list[int] = []

    def raced(*args: Any, **kwargs: Any) -> Any:
        if not pushed:
            pushed.append(push_definition(ctx, V3).version.version)
        return activate(*args, **kwargs)

    monkeypatch.setattr(ctx.store, "activate_workflow_version", raced)
    return pushed


def test_a_rollback_raced_by_a_push_changes_nothing_and_says_so(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = rt.services
    pushed = push_v1_v2_and_race_v3(ctx, monkeypatch)
    with pytest.raises(ActiveVersionMoved) as refused:
        versions.rollback(ctx, "pushed")
    assert pushed == [3]
    assert (refused.value.expected, refused.value.active) == (2, 3)
    assert ctx.store.active_version("pushed") == 3  # the push stands
    assert len(started_by(rt, "app.three", 1)) == 1  # with its routes


def test_an_activation_raced_by_a_push_is_redone_from_the_pushed_version(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = rt.services
    pushed = push_v1_v2_and_race_v3(ctx, monkeypatch)
    done = versions.activate(ctx, "pushed", 1)
    assert pushed == [3]
    assert (done.version, done.previous) == (1, 3)  # what it replaced, really
    assert ctx.store.active_version("pushed") == 1
    assert len(started_by(rt, "app.one", 1)) == 1
    assert started_by(rt, "app.three", 1) == []  # the replaced version's routes pruned

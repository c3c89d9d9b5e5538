"""A version a stack's workflow does not have: ``podium workflows activate w 9`` (and
show --version, diff, restart --version) answered 404 "workflow 'w' version 9 not found;
push it first (podium push FILE)", though a push never makes a given number. It points
at the workflow's versions now (``WorkflowNotFound.no_such_version``), as the local
home does."""

from __future__ import annotations

import pytest

from podium.core.engine.errors import WorkflowNotFound
from podium.local.runtime import LocalRuntime
from podium.service import versions
from podium.service.workflows import push_definition


def test_a_missing_version_of_a_pushed_workflow_points_at_its_versions(
    runtime: LocalRuntime,
) -> None:
    ctx = runtime.services
    push_definition(ctx, {"name": "hinted", "steps": [{"id": "a", "type": "noop"}]})
    with pytest.raises(WorkflowNotFound) as caught:
        versions.activate(ctx, "hinted", 9)
    message = str(caught.value)
    assert "push it first" not in message
    assert "podium workflows versions hinted" in message

"""A workflow name the local home does not have (a typo, or a workflow never run here).

On the local home a workflow gets there by ``podium run FILE`` (or a push to ``podium
dev``'s endpoint); a bare ``podium push FILE`` talks to a deployed stack (its default
target is the stack 'Podium'). The home's own "no local home" message already says
``podium run FILE``.

Was: every store's WorkflowNotFound said "push it first (podium push FILE)", so a local
user was sent to a deployed stack. Now the SQLite store (the local home) gives its own
hint: "run it here first (podium run FILE)", with the workflows the home has; the
deployed stack's store (and the API over it) still says ``podium push FILE``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_cli_local import podium

WORKFLOW = """
name: nightly
steps:
  - {id: a, type: noop}
triggers:
  - {id: nightly, cron: "0 6 * * *"}
"""


@pytest.mark.parametrize(
    "command",
    [
        ("triggers", "list", "nightlly"),
        ("workflows", "show", "nightlly"),
        ("backfill", "nightlly", "--from", "2026-03-01", "--to", "2026-03-02", "--dry-run"),
    ],
    ids=["triggers-list", "workflows-show", "backfill"],
)
def test_an_unknown_workflow_on_the_local_home_points_to_a_local_way(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    home = tmp_path / "home"
    (tmp_path / "wf.yaml").write_text(WORKFLOW)
    ran = podium(home, "run", str(tmp_path / "wf.yaml"))
    assert ran.returncode == 0, ran.stderr

    refused = podium(home, *command)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    said = " ".join((refused.stdout + refused.stderr).split())
    assert "'nightlly' not found" in said, said
    # Not "push it first (podium push FILE)": that pushes to a deployed stack.
    assert "(podium push FILE)" not in said, said
    assert "podium run" in said, said
    assert "this home has nightly" in said, said  # the names it does have


def test_the_local_consoles_run_list_gives_the_homes_hint(tmp_path: Path) -> None:
    """The console's run list filtered by an unknown workflow answered 404 with "push it
    first (podium push FILE)" on ``podium dev`` too: it gives the store's own hint."""
    from podium.core.engine.errors import WorkflowNotFound
    from podium.local.runtime import LocalRuntime
    from podium.service.console_views import list_console_runs

    with LocalRuntime(store="sqlite", home=tmp_path / "home") as rt:
        rt.push({"name": "nightly", "steps": [{"id": "a", "type": "noop"}]})
        with pytest.raises(WorkflowNotFound) as unknown:
            list_console_runs(rt.services, ["nightly"], workflow="nightlly")
    assert "run it here first (podium run FILE); this home has nightly" in str(unknown.value)

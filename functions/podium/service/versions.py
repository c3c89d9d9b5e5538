"""Workflow versions: list them, compare two, activate one, roll back.

Versions are immutable; which one is active is one attribute of the workflow's head.
New runs (the API, the CLI, triggers) start the active version; a run keeps the version
it started with, and a restart keeps it too unless asked for another.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import yaml

from podium.core.engine.errors import ActiveVersionMoved
from podium.core.engine.records import WorkflowVersion
from podium.core.errors import PodiumError
from podium.service.context import Services

MAX_VERSIONS = 100


class NothingToRollBack(PodiumError):
    """The active version is the oldest: there is no previous one (HTTP 409)."""

    def __init__(self, name: str, active: int) -> None:
        self.name, self.active = name, active
        super().__init__(
            f"cannot roll back workflow '{name}': version {active} is active and there is"
            " no older version; activate a version by number (podium workflows activate)"
        )


@dataclass(frozen=True)
class Activation:
    name: str
    version: int
    previous: int  # the version that was active before

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "active_version": self.version, "previous": self.previous}


def list_versions(ctx: Services, name: str, limit: int = MAX_VERSIONS) -> list[WorkflowVersion]:
    return ctx.store.list_workflow_versions(name, limit)


# Activations a concurrent push (or activation) may make this one redo: each redo
# follows a change that landed in between, so a few are plenty.
MAX_ACTIVATION_TRIES = 5


def activate(ctx: Services, name: str, version: int) -> Activation:
    """Make ``version`` active (idempotent: activating the active one changes nothing).
    Against a push or an activation landing in between, the activation is conditional
    on the active version it read (whose routes it prunes after), and redone from the
    new one if another became active."""
    for _ in range(MAX_ACTIVATION_TRIES - 1):
        try:
            return _activate(ctx, name, version, ctx.store.active_version(name))
        except ActiveVersionMoved:
            continue
    return _activate(ctx, name, version, ctx.store.active_version(name))


def rollback(ctx: Services, name: str) -> Activation:
    """Activate the version just below the active one. Decided from the active version
    it read: if another became active meanwhile (a push), nothing changes and it is
    refused (409, ActiveVersionMoved), not applied to a version it did not see."""
    active = ctx.store.active_version(name)
    if active <= 1:
        raise NothingToRollBack(name, active)
    return _activate(ctx, name, active - 1, active)


def _activate(ctx: Services, name: str, version: int, previous: int) -> Activation:
    """Make ``version`` active in place of ``previous``, only while ``previous`` is the
    active version (raises ActiveVersionMoved, changing nothing, otherwise)."""
    from podium.service.triggers import activating, sync_triggers  # they start runs

    # Its triggers' routes before it is active (an event that sees it active finds it);
    # once it is, the keys only the version it replaced had are pruned.
    with activating(
        ctx,
        name,
        ctx.definitions.get(name, version).definition,
        ctx.definitions.get(name, previous).definition,
    ):
        wv = ctx.store.activate_workflow_version(name, version, only_if_active=previous)

    sync_triggers(ctx, name)  # cron/rate schedules follow the active version (redone if cut)
    from podium.service.admission import on_activated

    on_activated(ctx, name)  # its limit may let queued runs start (idempotent)
    return Activation(name, wv.version, previous)


def document_text(wv: WorkflowVersion) -> str:
    """A version as YAML, keys in the definition's own order (what diffs compare)."""
    return str(yaml.safe_dump(wv.document, sort_keys=False, allow_unicode=True, width=100))


def diff_versions(ctx: Services, name: str, a: int, b: int) -> str:
    """A unified diff of two versions' definitions ("" when they are the same)."""
    old = ctx.store.get_workflow_version(name, a)
    new = ctx.store.get_workflow_version(name, b)
    return diff_documents(old, new)


def diff_documents(old: WorkflowVersion, new: WorkflowVersion) -> str:
    lines = difflib.unified_diff(
        document_text(old).splitlines(keepends=True),
        document_text(new).splitlines(keepends=True),
        fromfile=f"{old.name} v{old.version}",
        tofile=f"{new.name} v{new.version}",
    )
    return "".join(lines)

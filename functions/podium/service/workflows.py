"""Use cases: push a workflow definition (a new immutable version) and read one back.

A push means "make this the active definition" (unless ``--no-activate``): a changed
definition becomes a new version, made active; one identical to the latest version
creates none, and makes that version active again when it is not (after a rollback or
an activation of an older one, or a ``--no-activate`` push of it), by the same path as
a push of a new version (its trigger routes first, then schedules and admission).
"""

from __future__ import annotations

import json
import zlib
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from podium.core.dsl.errors import DefinitionError, DefinitionTooLarge, Issue
from podium.core.dsl.load import parse_document, validate_definition
from podium.core.dsl.models import WorkflowDefinition
from podium.core.dsl.triggers import ignored_field_issues, keep_trigger_ids
from podium.core.engine.errors import VersionSuperseded, WorkflowNotFound
from podium.core.engine.records import WorkflowVersion
from podium.service.context import Services, digest_of
from podium.service.subworkflows import call_issues

MAX_STORED_DEFINITION_BYTES = 300 * 1024
# A version is read back whole (GET /workflows/{name}, podium workflows show and diff,
# podium start typing its params): its JSON must fit in Lambda's 6 MB response with its
# envelope. A repetitive definition compresses far under the stored limit above.
MAX_DEFINITION_JSON_BYTES = 5 * 1024 * 1024
"""Bytes of a definition once compressed, as stored in one version item (DynamoDB's
limit is 400 KB per item; the rest is headroom for the item's other attributes)."""


@dataclass(frozen=True)
class Pushed:
    """What a push did. ``version``: the version stored (or the latest, identical one),
    with the active version after the push. ``reactivated``: the version active before,
    when the push created nothing but made the latest version active again; else None."""

    version: WorkflowVersion
    created: bool
    reactivated: int | None = None


def push_workflow(
    ctx: Services,
    source: str | dict[str, Any],
    origin: str = "<definition>",
    *,
    activate: bool = True,
) -> tuple[WorkflowVersion, bool]:
    """Validate and store; returns (version, created). Raises DefinitionError
    (``push_definition``, which also says whether an identical push re-activated)."""
    pushed = push_definition(ctx, source, origin, activate=activate)
    return pushed.version, pushed.created


def push_definition(
    ctx: Services,
    source: str | dict[str, Any],
    origin: str = "<definition>",
    *,
    activate: bool = True,
) -> Pushed:
    """Validate and store, and make active. Raises DefinitionError.

    ``activate=False`` (``podium push --no-activate``) stores the version without making
    it the one new runs start with (a workflow's first version is active anyway). A
    definition identical to the latest version stores nothing; pushed to be active, it
    makes that version active again when another one is (``Pushed.reactivated``)."""
    data = parse_document(source, origin) if isinstance(source, str) else source
    defn = _keeping_trigger_ids(ctx, validate_definition(data))
    # Subworkflows already pushed (their params), and fields that would be ignored: push
    # checks only, so a version stored before them keeps loading.
    calls = call_issues(ctx, defn) + ignored_field_issues(defn.triggers)
    if calls:
        raise DefinitionError(calls)
    if not ctx.local_functions:
        # The deployed runner invokes Lambda functions; module:function is local only.
        from podium.core.functions import python_ref_issues

        issues = python_ref_issues(defn.steps)
        if issues:
            raise DefinitionError(issues)
    document = defn.model_dump(mode="json", exclude_defaults=True)
    document["name"] = defn.name
    check_stored_size(document)
    from podium.service.triggers import activating

    previous = _active_definition(ctx, defn.name)  # None: this is its first version
    # When it becomes active (a first version is active at once): its routes are added
    # before the version is stored, so an event that sees it active finds it in the
    # routing index; once active, the keys only the replaced version had are pruned. A
    # push that fails after the routes are added leaves spare ones (extra candidates).
    around: AbstractContextManager[None] = nullcontext()
    if activate or previous is None:
        around = activating(ctx, defn.name, defn, previous)
    reactivated: int | None = None
    with around:
        stored, created = ctx.store.put_workflow_version(
            defn.name, document, digest_of(document), ctx.now(), activate=activate
        )
        if activate and not created and stored.active_version != stored.version:
            # The latest version, identical, is not the active one (a rollback since):
            # made active again inside the same activation (its routes are in), unless
            # a version pushed since is the latest: that push's activation stands.
            was_active = stored.active_version
            try:
                stored = ctx.store.activate_workflow_version(
                    defn.name, stored.version, only_if_latest=True
                )
                reactivated = was_active
            except VersionSuperseded:
                stored = ctx.store.get_workflow_version(defn.name, stored.version)
    # A first version is active however it was pushed (--no-activate included): its
    # schedules are made as any active version's.
    became_active = activate or previous is None
    if became_active and (defn.triggers or stored.version > 1):  # a version may drop them
        from podium.service.triggers import sync_triggers  # it starts runs: imports runs

        sync_triggers(ctx, defn.name)  # also when unchanged: a sync cut short is redone
    if activate and stored.version > 1:
        from podium.service.admission import on_activated

        # A new limit (parallel: 0 raised, a higher N) lets queued runs start now, not
        # at the sweeper's next look at them (up to 30 minutes); idempotent.
        on_activated(ctx, defn.name)
    return Pushed(stored, created, reactivated)


def _active_definition(ctx: Services, name: str) -> WorkflowDefinition | None:
    """The workflow's active definition, None when it has no version yet."""
    try:
        return ctx.definitions.get(name, ctx.store.active_version(name)).definition
    except WorkflowNotFound:
        return None


def _keeping_trigger_ids(ctx: Services, defn: WorkflowDefinition) -> WorkflowDefinition:
    """A moved trigger keeps its id, and with it its state; a new one never takes a
    removed trigger's id, whose state is still stored (``keep_trigger_ids``). Ids are
    given against the active version; after a rollback, a push of the latest version's
    file again gets the latest version's ids (so it is that version, made active again,
    its triggers' states with it: one disabled stays off), else the active one's."""
    if not defn.triggers:
        return defn
    active = _active_definition(ctx, defn.name)
    if active is None:
        return defn
    stateful = ctx.store.trigger_states().states(defn.name)
    latest = ctx.store.list_workflow_versions(defn.name, 1)
    if latest and latest[0].version != latest[0].active_version:  # a rollback since
        newest = ctx.definitions.get(defn.name, latest[0].version).definition
        again = _with_ids(defn, keep_trigger_ids(defn.triggers, newest.trigger_map, stateful))
        document = again.model_dump(mode="json", exclude_defaults=True)
        document["name"] = again.name
        if digest_of(document) == latest[0].digest:
            return again
    return _with_ids(defn, keep_trigger_ids(defn.triggers, active.trigger_map, stateful))


def _with_ids(defn: WorkflowDefinition, triggers: Any) -> WorkflowDefinition:
    return defn if triggers == defn.triggers else defn.model_copy(update={"triggers": triggers})


def check_stored_size(document: dict[str, Any]) -> int:
    """The compressed size of a document; DefinitionTooLarge when a version item cannot
    hold it (compressed the way the stores compress it), or when it could not be read
    back whole through the API (its JSON past ``MAX_DEFINITION_JSON_BYTES``)."""
    text = json.dumps(document, separators=(",", ":")).encode()
    if len(text) > MAX_DEFINITION_JSON_BYTES:
        raise DefinitionTooLarge(
            [
                Issue(
                    "",
                    f"the definition is {len(text):,} bytes of JSON, over the"
                    f" {MAX_DEFINITION_JSON_BYTES:,}-byte limit of one version (it is read"
                    " back whole, within Lambda's 6 MB response); split it into smaller"
                    " workflows, or shorten descriptions and payloads",
                )
            ]
        )
    size = len(zlib.compress(text, 6))
    if size > MAX_STORED_DEFINITION_BYTES:
        steps = len(document.get("steps", []))
        raise DefinitionTooLarge(
            [
                Issue(
                    "",
                    f"the definition ({steps:,} steps, {len(text):,} bytes) compresses to"
                    f" {size:,} bytes, over the {MAX_STORED_DEFINITION_BYTES:,}-byte limit of"
                    " one stored version; split it into smaller workflows, shorten"
                    " descriptions and payloads, or pass big values as params or S3 keys",
                )
            ]
        )
    return size


def get_workflow(ctx: Services, name: str, version: int | None = None) -> WorkflowVersion:
    return ctx.store.get_workflow_version(name, version)

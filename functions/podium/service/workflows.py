"""Use cases: push a workflow definition (a new immutable version) and read one back."""

from __future__ import annotations

from typing import Any

from podium.core.dsl.load import parse_document, validate_definition
from podium.core.engine.records import WorkflowVersion
from podium.service.context import Services, digest_of


def push_workflow(
    ctx: Services, source: str | dict[str, Any], origin: str = "<definition>"
) -> tuple[WorkflowVersion, bool]:
    """Validate and store; returns (version, created). Raises DefinitionError."""
    data = parse_document(source, origin) if isinstance(source, str) else source
    defn = validate_definition(data)
    document = defn.model_dump(mode="json", exclude_defaults=True)
    document["name"] = defn.name
    return ctx.store.put_workflow_version(defn.name, document, digest_of(document), ctx.now())


def get_workflow(ctx: Services, name: str, version: int | None = None) -> WorkflowVersion:
    return ctx.store.get_workflow_version(name, version)

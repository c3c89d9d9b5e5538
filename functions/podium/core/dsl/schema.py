"""The JSON Schema of the workflow language, for editors (``podium schema``)."""

from __future__ import annotations

from typing import Any

from podium.core.dsl.models import WorkflowDefinition


def workflow_json_schema() -> dict[str, Any]:
    schema = WorkflowDefinition.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Podium workflow definition"
    return schema

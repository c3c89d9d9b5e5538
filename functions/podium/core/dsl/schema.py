"""The JSON Schema of the workflow language, for editors (``podium schema``)."""

from __future__ import annotations

from typing import Any

from podium.core.dsl.models import WorkflowDefinition

# A whole number written as a string (``retries: "3"``) is read as the number
# (docs/workflow-language.md, Params): pydantic's int takes it, but the schema it
# generates says "integer" only, so an editor marked what validate and push accept.
# The forms pydantic's lax int reads ("3", " 3", "+3", "3.0", "1_000"). A string's
# range is not checked here (JSON Schema compares numbers only): push says it.
WHOLE_NUMBER_TEXT: dict[str, Any] = {
    "type": "string",
    "pattern": r"^\s*\+?[0-9]+(_[0-9]+)*(\.0+)?\s*$",
}
# What an integer's schema says of the number (the rest, its title, description and
# default, stays on the field).
_NUMBER_KEYWORDS = frozenset(
    {"type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
)


def workflow_json_schema() -> dict[str, Any]:
    schema: dict[str, Any] = with_whole_number_text(WorkflowDefinition.model_json_schema())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Podium workflow definition"
    return schema


def with_whole_number_text(node: Any) -> Any:
    """``node`` with every integer also taking a string of digits: an integer member of
    an ``anyOf`` gets the string beside it, a lone integer becomes ``anyOf`` both. A
    union that takes any string already (a duration, a payload) is left as it is."""
    if isinstance(node, list):
        return [with_whole_number_text(item) for item in node]
    if not isinstance(node, dict):
        return node
    members = node.get("anyOf")
    if isinstance(members, list):
        # Its integer members as they are (the string goes beside them, once); the others
        # may hold integers of their own.
        out = {k: v if k == "anyOf" else with_whole_number_text(v) for k, v in node.items()}
        wider = [m if _is_integer(m) else with_whole_number_text(m) for m in members]
        if any(_is_integer(m) for m in members) and not any(_any_text(m) for m in members):
            wider.append(WHOLE_NUMBER_TEXT)
        out["anyOf"] = wider
        return out
    out = {key: with_whole_number_text(value) for key, value in node.items()}
    if _is_integer(out):
        number = {key: value for key, value in out.items() if key in _NUMBER_KEYWORDS}
        rest = {key: value for key, value in out.items() if key not in _NUMBER_KEYWORDS}
        return {**rest, "anyOf": [number, WHOLE_NUMBER_TEXT]}
    return out


def _is_integer(node: Any) -> bool:
    return isinstance(node, dict) and node.get("type") == "integer"


def _any_text(node: Any) -> bool:
    """A string schema that takes digits whatever they are (no pattern, enum or const)."""
    return (
        isinstance(node, dict)
        and node.get("type") == "string"
        and not {"pattern", "enum", "const"} & node.keys()
    )

"""The workflow definition language: models, loading with path-precise errors, schema."""

from podium.core.dsl.errors import DefinitionError, Issue
from podium.core.dsl.load import load_definition, parse_document, validate_definition
from podium.core.dsl.models import (
    FailStep,
    LambdaStep,
    NoopStep,
    ParamSpec,
    ParamType,
    SleepStep,
    Step,
    WorkflowDefinition,
)
from podium.core.dsl.params import parse_cli_value, resolve_params
from podium.core.dsl.schema import workflow_json_schema

__all__ = [
    "DefinitionError",
    "FailStep",
    "Issue",
    "LambdaStep",
    "NoopStep",
    "ParamSpec",
    "ParamType",
    "SleepStep",
    "Step",
    "WorkflowDefinition",
    "load_definition",
    "parse_cli_value",
    "parse_document",
    "resolve_params",
    "validate_definition",
    "workflow_json_schema",
]

"""A ``-c podium:<key>`` value that parsed but that PodiumProps refused was reported in
the props' words (``run_retention_days must be >= 1 (or None to keep runs)``), naming
neither the key the operator typed nor the context's spelling (``none``): only a value
the parser itself refused was named by its key."""

from __future__ import annotations

import pytest
from aws_cdk import App

from podium_cdk import props_from_context


def _refusal(context: dict[str, object]) -> str:
    with pytest.raises(ValueError) as refused:
        props_from_context(App(context=context))
    return str(refused.value)


def test_a_retention_the_props_refuse_is_named_by_its_context_key() -> None:
    """`-c podium:runRetentionDays=0` said "run_retention_days must be >= 1 (or None
    to keep runs)"; it now says which key, and `none` as the context writes it."""
    said = _refusal({"podium:runRetentionDays": "0"})
    assert said.startswith("-c podium:runRetentionDays: "), said
    assert "none" in said and "None" not in said, said
    assert "run_retention_days" not in said, said


def test_a_refusal_naming_two_props_names_their_keys() -> None:
    """A cross-field refusal ("ecs_task_definition_arns needs ecs_cluster_arns") names
    the key given and the key it needs, in context spelling."""
    said = _refusal(
        {"podium:ecsTaskDefinitionArns": "arn:aws:ecs:eu-west-1:123456789012:task-definition/t:*"}
    )
    assert said.startswith("-c podium:ecsTaskDefinitionArns: "), said
    assert "podium:ecsClusterArns" in said, said

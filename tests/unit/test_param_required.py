"""``required`` on a param: once read nowhere (a param said `required: true` with a
default ran with the default; `required: false` without one was still required)."""

from __future__ import annotations

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition
from podium.core.dsl.params import resolve_params
from podium.core.engine.compiled import CompiledWorkflow

STEPS = [{"id": "a", "type": "noop"}]


def test_required_with_a_default_is_refused_at_push_naming_the_fix() -> None:
    doc = {"name": "w", "params": {"day": {"type": "string", "required": True, "default": "x"}}}
    with pytest.raises(DefinitionError) as exc:
        validate_definition({**doc, "steps": STEPS})
    (issue,) = exc.value.issues
    assert issue.path == "params.day"
    assert issue.message.startswith("a required param takes no default: drop 'default'")


def test_a_stored_version_saying_both_still_runs_with_its_default() -> None:
    doc = {"name": "w", "params": {"day": {"type": "string", "required": True, "default": "x"}}}
    compiled = CompiledWorkflow.of({**doc, "steps": STEPS})
    assert resolve_params(compiled.definition, {}) == {"day": "x"}


def test_required_false_without_a_default_is_null_when_not_given() -> None:
    defn = validate_definition(
        {"name": "w", "params": {"since": {"type": "string", "required": False}}, "steps": STEPS}
    )
    assert resolve_params(defn, {}) == {"since": None}
    assert resolve_params(defn, {"since": "2024"}) == {"since": "2024"}


def test_a_stored_optional_param_stays_optional() -> None:
    """Versions are stored without their defaults (exclude_defaults): `required: false`
    must survive that, or the stored version would require the param again."""
    defn = validate_definition(
        {"name": "w", "params": {"since": {"type": "string", "required": False}}, "steps": STEPS}
    )
    stored = defn.model_dump(mode="json", exclude_defaults=True)
    assert resolve_params(validate_definition(stored, stored=True), {}) == {"since": None}


@pytest.mark.parametrize("spec", [{"type": "string"}, {"type": "string", "required": True}])
def test_a_param_without_a_default_is_required_unless_it_says_otherwise(spec: dict) -> None:
    defn = validate_definition({"name": "w", "params": {"day": spec}, "steps": STEPS})
    with pytest.raises(DefinitionError, match="required param has no value"):
        resolve_params(defn, {})


def test_validator_messages_carry_no_pydantic_prefix() -> None:
    with pytest.raises(DefinitionError) as exc:
        validate_definition({"name": "w", "steps": [{"id": "a", "type": "noop", "retries": True}]})
    assert "Value error" not in str(exc.value)
    assert "retries: the value must be a whole number" in str(exc.value)

"""The construct granted an external step type only when its props named resources,
but told the functions nothing, so bootstrap wired all four backends and a step of a
type with empty props failed with AccessDeniedException instead of the ConfigError
naming the prop that step_targets.py promised. Every function now gets
PODIUM_EXTERNAL_STEP_TYPES: the types granted, comma-separated (bootstrap wires only
those; tests/integration/test_unconfigured_external_step_fails_naming_its_props.py).

Uses the session's default and custom syntheses."""

from __future__ import annotations

from infra_support import Synth, functions_by_handler

from podium_cdk import PodiumProps


def _setting(synth: Synth) -> set[str]:
    values = {
        name: f["Properties"]["Environment"]["Variables"].get("PODIUM_EXTERNAL_STEP_TYPES")
        for name, f in functions_by_handler(synth).items()
    }
    assert len(set(values.values())) == 1, values  # the same for every function
    (value,) = set(values.values())
    assert isinstance(value, str), values
    return {k for k in value.split(",") if k}


def test_no_type_is_wired_by_default(default: Synth) -> None:
    assert _setting(default) == set()


def test_the_types_whose_props_are_set_are_wired(custom: Synth) -> None:
    assert _setting(custom) == {"ecs_task", "batch_job", "glue_job", "sfn_execution"}


def test_a_type_is_listed_when_its_grants_are_made() -> None:
    from podium_cdk.step_targets import external_step_types

    props = PodiumProps(glue_job_names=["nightly-etl"])
    assert external_step_types(props) == ["glue_job"]

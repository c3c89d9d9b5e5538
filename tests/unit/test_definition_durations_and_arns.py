"""Refused at push, with the fix in the message: a YAML boolean as a timeout (it would
be 1 second), a quoted number of seconds, and a state machine named other than by its
own ARN (a plain name fails only at run time; a version or alias ARN starts an
execution that Podium does not find again)."""

from __future__ import annotations

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:reconcile"


def one(step: dict[str, object]) -> object:
    return validate_definition({"name": "w", "steps": [{"id": "a", **step}]}).steps[0]


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_timeout_is_refused(value: bool) -> None:
    with pytest.raises(DefinitionError) as err:
        one({"type": "glue_job", "job_name": "x", "timeout": value})
    assert "steps[0].timeout" in str(err.value) and "boolean" in str(err.value)


def test_a_boolean_retry_interval_and_run_timeout_are_refused() -> None:
    with pytest.raises(DefinitionError, match="boolean"):
        one({"type": "noop", "retry": [{"interval": True}]})
    with pytest.raises(DefinitionError, match="boolean"):
        validate_definition({"name": "w", "timeout": True, "steps": [{"id": "a", "type": "noop"}]})


def test_a_quoted_number_of_seconds_says_how_to_write_it() -> None:
    with pytest.raises(DefinitionError) as err:
        one({"type": "glue_job", "job_name": "x", "timeout": "3600"})
    assert "without quotes (3600)" in str(err.value) and "'1h'" in str(err.value)


def test_durations_still_read() -> None:
    assert one({"type": "glue_job", "job_name": "x", "timeout": 3600}).timeout == 3600  # type: ignore[attr-defined]
    assert one({"type": "glue_job", "job_name": "x", "timeout": "1h"}).timeout == 3600  # type: ignore[attr-defined]


def test_a_state_machine_arn_is_taken() -> None:
    assert one({"type": "sfn_execution", "state_machine": ARN}).state_machine == ARN  # type: ignore[attr-defined]
    china = "arn:aws-cn:states:cn-north-1:123456789012:stateMachine:recon_1"
    assert one({"type": "sfn_execution", "state_machine": china}).state_machine == china  # type: ignore[attr-defined]


def test_a_state_machine_name_is_refused_naming_the_arn_to_write() -> None:
    with pytest.raises(DefinitionError) as err:
        one({"type": "sfn_execution", "state_machine": "reconcile"})
    text = str(err.value)
    assert "steps[0].state_machine" in text
    assert "arn:aws:states:<region>:<account>:stateMachine:reconcile" in text


@pytest.mark.parametrize("qualifier", [":PROD", ":7"])
def test_a_version_or_alias_arn_is_refused_naming_the_unqualified_arn(qualifier: str) -> None:
    with pytest.raises(DefinitionError) as err:
        one({"type": "sfn_execution", "state_machine": ARN + qualifier})
    assert "version or alias" in str(err.value) and f": {ARN}" in str(err.value)

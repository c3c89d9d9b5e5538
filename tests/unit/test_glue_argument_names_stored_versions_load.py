"""The Glue argument-name rule (names need ``--``; ``--podium-attempt`` is Podium's) is a
push rule, but it was first written as a validator that ignored the stored context: a
version pushed by the release before it, with ``arguments: {day: ...}``, no longer
loaded, and with it every run in flight of that version (core/dsl/stored.py: an upgrade
never stops a version from loading). Read back, such a version loads as before."""

from __future__ import annotations

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition
from podium.core.engine.compiled import CompiledWorkflow


def _doc(arguments: dict[str, str]) -> dict[str, object]:
    return {
        "name": "glue_wf",
        "steps": [
            {"id": "load", "type": "glue_job", "job_name": "nightly", "arguments": arguments}
        ],
    }


@pytest.mark.parametrize("arguments", [{"day": "x"}, {"--podium-attempt": "x"}])
def test_a_stored_version_with_an_old_glue_argument_name_still_loads(
    arguments: dict[str, str],
) -> None:
    with pytest.raises(DefinitionError):  # at push: refused, as intended
        validate_definition(_doc(arguments))
    compiled = CompiledWorkflow.of(_doc(arguments))  # read back: must load as before
    assert compiled.step("load").arguments == arguments

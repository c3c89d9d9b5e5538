"""A glue_job's ``arguments`` were accepted at push whatever their names, though Glue
hands a job only ``--name`` arguments its script can read.

AWS Glue's job arguments are named with two leading hyphens (``--day``) and read in the
script without them (``getResolvedOptions(sys.argv, ['day'])``: "each of the arguments
are defined as beginning with two hyphens ... Your arguments need to follow this
convention to be resolved", Glue's developer guide). core/dsl/models.GlueJobStep typed
``arguments`` as ``dict[str, str]`` and checked no name, so ``arguments: {day: ...}`` was
pushed, the run started a Glue job run (billed), and the script failed with "the
following arguments are required: --day". Likewise ``--podium-attempt`` (the key Podium
routes the run's events and finds a lost start by, adapters/jobs/glue.py
ATTEMPT_ARGUMENT) was accepted and then silently overwritten.

Expected: refused at push, naming the field and the fix: ``steps[0].arguments.day``:
write it ``--day``; ``--podium-attempt`` is Podium's own.
"""

from __future__ import annotations

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition


def glue(arguments: dict[str, str]) -> dict[str, object]:
    return {
        "name": "glue_names",
        "steps": [{"id": "etl", "type": "glue_job", "job_name": "nightly", "arguments": arguments}],
    }


def test_an_argument_without_its_two_hyphens_is_refused_at_push() -> None:
    with pytest.raises(DefinitionError, match="--day"):  # was: accepted
        validate_definition(glue({"day": "${run.logical_date}"}))


def test_podiums_own_attempt_argument_is_refused_at_push() -> None:
    with pytest.raises(DefinitionError, match="--podium-attempt"):  # was: accepted
        validate_definition(glue({"--podium-attempt": "mine"}))


def test_ordinary_glue_arguments_still_pass() -> None:
    validate_definition(glue({"--day": "${run.logical_date}", "--enable-metrics": "true"}))

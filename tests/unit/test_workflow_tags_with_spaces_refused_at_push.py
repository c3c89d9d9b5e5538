"""A run's tags with spaces around a key or a value are refused at its start (a filter
trims what it is given, so such a run was found by no filter); a workflow's own tags,
which every run of it carries, were still taken at push. They are refused there too,
and a version stored before the rule still loads."""

from __future__ import annotations

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition

WF = {"name": "tagged", "steps": [{"id": "a", "type": "noop"}], "tags": {"env": " prod "}}


def test_a_workflow_tag_with_spaces_around_it_is_refused_at_push() -> None:
    with pytest.raises(DefinitionError) as caught:
        validate_definition(WF)
    said = " ".join(str(i) for i in caught.value.issues)
    assert "tags" in said and "'prod'" in said, said


def test_a_stored_version_with_such_a_tag_still_loads() -> None:
    assert validate_definition(WF, stored=True).tags == {"env": " prod "}

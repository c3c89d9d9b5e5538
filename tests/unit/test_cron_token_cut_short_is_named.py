"""A 5-field cron with a stray space after '/' ("*/ 6" for "*/6") has six tokens: it
was answered as EventBridge's 6-field cron with "leave out the year: '*/ 6 * * *'", a
fix that is itself refused. docs/workflow-language.md (Triggers): a step missing after
`/` (`*/ 6`) is refused at push, and the push says so."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition


def push_issues(cron: str) -> str:
    trigger: dict[str, Any] = {"id": "often", "cron": cron}
    defn = {"name": "t", "steps": [{"id": "a", "type": "noop"}], "triggers": [trigger]}
    with pytest.raises(DefinitionError) as caught:
        validate_definition(defn)
    return " ".join(str(i) for i in caught.value.issues)


@pytest.mark.parametrize(
    "cron",
    [
        "*/ 6 * * * *",  # every 6 minutes, a space typed after the '/'
        "0 */ 2 * * *",  # every 2 hours, likewise
    ],
)
def test_a_step_missing_after_slash_is_named_not_a_year(cron: str) -> None:
    """The answer named a year to leave out, not the missing step after '/'."""
    said = push_issues(cron)
    assert "has no step after '/'" in said, said

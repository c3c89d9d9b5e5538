"""A 5-field cron with a stray space after '/' ("*/ 6" for "*/6") has six tokens: it
was answered as EventBridge's 6-field cron with "leave out the year: '*/ 6 * * *'", a
fix that is itself refused. docs/workflow-language.md (Triggers): a step missing after
`/` (`*/ 6`) is refused at push, and the push says so."""

from __future__ import annotations

import pytest

from tests.unit.test_aws_cron_syntax_named_at_push import push_issues


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

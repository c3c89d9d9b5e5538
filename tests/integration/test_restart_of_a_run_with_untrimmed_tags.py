"""Tags with spaces around them have been refused at a run's start since this session
(core/tags.py: a filter trims what it is given, so such a run was found by no filter).
A run started before that rule still carries them: its restart, which passes the old
run's tags to the start, was refused for them. It is restarted with them trimmed."""

from __future__ import annotations

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.actions import RunAction
from podium.core.tags import tag_issues
from podium.local.runtime import LocalRuntime
from podium.service import runs
from podium.service.actions import Actor, run_action

WF = {"name": "tagged_before", "steps": [{"id": "a", "type": "fail"}]}


def _old_check_tags(tags: object, path: str = "tags") -> dict[str, str]:
    """check_tags as it was before the rule: spaces around a key or value passed."""
    if tags is None:
        return {}
    issues = tag_issues(tags, path)
    if issues:
        raise DefinitionError(issues)
    return dict(tags)  # type: ignore[call-overload]


def test_a_run_started_with_untrimmed_tags_before_the_rule_is_restarted_trimmed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.push(WF)
        with monkeypatch.context() as before_the_rule:
            before_the_rule.setattr(runs, "check_tags", _old_check_tags)
            old = rt.start_run("tagged_before", tags={"env": " prod "})
        rt.pump()
        assert rt.describe(old.run_id).run.tags == {"env": " prod "}
        with pytest.raises(DefinitionError):  # the rule holds for a new start
            rt.start_run("tagged_before", tags={"env": " prod "})

        result = run_action(rt.services, old.run_id, RunAction.RESTART, Actor("alice"))
        assert result.new_run is not None
        assert rt.describe(result.new_run).run.tags == {"env": "prod"}

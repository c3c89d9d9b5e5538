"""Messages that named a value's type in Python's words (``str``, ``dict``, ``float``)
where the definition language says ``string``, ``map``, ``double``: an http step's
``success`` that gave no boolean, a loop space over a value that is not a list, and a
signal's param that is neither a string nor an int."""

from __future__ import annotations

import pytest

from podium.core.engine.http_rules import judge
from podium.core.engine.loops import LoopError, Space
from podium.core.engine.signals import written_params_issues


def test_an_http_success_that_is_no_boolean_names_its_cel_type() -> None:
    error = judge(200, {"ok": "yes"}, {}, "response.body.ok")
    assert error is not None and error.message.endswith("got string"), error


def test_a_loop_space_over_a_map_names_its_cel_type() -> None:
    with pytest.raises(LoopError) as refused:
        Space.of({"day": {"a": 1}})
    assert str(refused.value).endswith("not map"), refused.value


def test_a_signal_param_of_the_wrong_type_names_its_cel_type() -> None:
    [issue] = written_params_issues({"ratio": 0.5}, "signal")
    assert issue.message.endswith("not double"), issue.message

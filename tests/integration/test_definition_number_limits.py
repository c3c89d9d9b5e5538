"""Numbers in a definition that broke the push, each now a definition error naming its field.

* A duration written as an integer too big for a float (``timeout: 1e400`` written out
  as 401 digits: valid JSON, valid YAML) raised OverflowError from
  core/engine/durations.py parse_duration (``float(value)``): ``podium validate`` got a
  traceback and ``POST /workflows`` a 500. The same for a workflow's ``timeout``, an http
  step's ``connect_timeout``/``read_timeout``, a callback's ``timeout`` and a trigger's
  ``jitter``.
* A duration in another script's digits (``"\\u0663s"``, Arabic-Indic 3) was accepted
  (``\\d`` in durations.py _PART), where every other number Podium reads is ASCII.
* A cron step of 5,000 digits was refused with Python's own words ("use
  sys.set_int_max_str_digits() to increase the limit") instead of the field and the fix
  (core/engine/schedule.py int(step_text)).
"""

from __future__ import annotations

import json

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import load_definition
from podium.local.runtime import LocalRuntime

from .test_api import call

BIG = "1" + "0" * 400  # a JSON integer; float() of it overflows
NOOP = '{"id": "a", "type": "noop"}'

DEFINITIONS = {
    "step-timeout": '{"name": "w", "steps": [{"id": "a", "type": "noop", "timeout": %s}]}',
    "workflow-timeout": '{"name": "w", "timeout": %s, "steps": [' + NOOP + "]}",
    "http-connect-timeout": '{"name": "w", "steps": [{"id": "h", "type": "http",'
    ' "url": "https://x.example.com", "connect_timeout": %s}]}',
    "callback-timeout": '{"name": "w", "steps": [{"id": "c", "type": "wait_for_callback",'
    ' "timeout": %s}]}',
    "trigger-jitter": '{"name": "w", "steps": [' + NOOP + '], "triggers":'
    ' [{"cron": "0 0 * * *", "jitter": %s}]}',
}


@pytest.mark.parametrize("template", DEFINITIONS.values(), ids=DEFINITIONS.keys())
def test_a_duration_too_big_for_a_float_is_a_definition_error(template: str) -> None:
    # Was: OverflowError: int too large to convert to float.
    with pytest.raises(DefinitionError) as caught:
        load_definition(template % BIG)
    assert caught.value.issues and caught.value.issues[0].path, caught.value.issues


def test_pushing_a_duration_too_big_for_a_float_is_400_not_500(runtime: LocalRuntime) -> None:
    # Was: 500 internal_error.
    status, body = call("POST", "/workflows", DEFINITIONS["step-timeout"] % BIG)
    assert status == 400, body
    assert body["errors"][0]["path"] == "steps[0].timeout", body


def test_a_duration_in_another_scripts_digits_is_refused() -> None:
    # Was: accepted as a 3-second timeout.
    with pytest.raises(DefinitionError) as caught:
        load_definition(
            json.dumps({"name": "w", "steps": [{"id": "a", "type": "noop", "timeout": "\u0663s"}]})
        )
    assert caught.value.issues[0].path == "steps[0].timeout", caught.value.issues


def test_a_cron_number_of_5000_digits_is_refused_in_podiums_words() -> None:
    # Was: "Exceeds the limit (4300 digits) for integer string conversion: value has
    # 5000 digits; use sys.set_int_max_str_digits() to increase the limit".
    cron = "*/" + "9" * 5000 + " * * * *"
    with pytest.raises(DefinitionError) as caught:
        load_definition(
            json.dumps(
                {"name": "w", "steps": [{"id": "a", "type": "noop"}], "triggers": [{"cron": cron}]}
            )
        )
    said = " ".join(i.message for i in caught.value.issues)
    assert "set_int_max_str_digits" not in said, said
    assert "minute" in said, said

"""Rendered values in a service's text fields: a Glue job's arguments, a Batch job's
parameters, environment and command, an ECS container's environment and command, a
local command's environment, an http step's headers.

Such a field takes a string. A template that is exactly one ``${expr}`` renders to the
expression's value (a bool, a number, a list, a map), and that value is sent in the form
a template prints it inside text: a string as it is, anything else as compact JSON
(``true``, ``3``, ``["eu","us"]``, ``{"a":1}``), never Python's ``str()`` (``True``,
``['eu', 'us']``), which no script can parse as JSON.
"""

from __future__ import annotations

import json
from typing import Any


def as_text(value: Any) -> str:
    """``value`` (JSON data, as service/runtimes/external.render_request gives it) as the
    text of a service's field: a string as is, anything else compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)

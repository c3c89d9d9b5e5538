"""A version stored by the previous release (pushed when map keys were sent as written)
whose payload has a ``${...}`` key that compiles but does not render."""

from __future__ import annotations

from podium.core.dsl.expressions import WorkflowExpressions
from podium.core.dsl.load import validate_definition


def test_a_stored_versions_key_that_cannot_render_is_still_sent_as_written() -> None:
    """Pushed before keys were rendered, ``payload: {"${params.regoin}": 1}`` ran and
    sent its key as written. After the upgrade the key was rendered (a stored version's
    references are not checked) and every run's step failed with "no such key". A stored
    key that the push checks would refuse now is sent as written, as it was then."""
    defn = validate_definition(
        {
            "name": "keys",
            "params": {"region": {"type": "string", "default": "emea"}},
            "steps": [
                {
                    "id": "b",
                    "type": "lambda",
                    "function": "f",
                    "payload": {"${params.regoin}": 1, "r": "${params.region}"},
                },
            ],
        },
        stored=True,
    )
    payload = WorkflowExpressions.of(defn, stored=True).payloads["b"]
    bindings = {"params": {"region": "emea"}, "run": {}, "steps": {}}
    try:
        rendered = payload.render(bindings)
    except Exception as exc:
        raise AssertionError(f"the stored version's payload fails to render: {exc}") from None
    assert rendered == {"${params.regoin}": 1, "r": "emea"}

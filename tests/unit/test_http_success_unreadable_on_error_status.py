"""An http step's ``success:`` expression that could not be evaluated on an error response
turned a transient 5xx into a permanent, non-retryable Podium.UserError.

docs/workflow-language.md (HTTP) gives ``success: 'response.status == 202 ||
response.body.state == "DONE"'`` as its example, and says that when it is false the step
fails with Podium.HttpError, retryable as the status says. But a 503 whose body was an
error document (``{"error": "busy"}``), plain text ("Service Unavailable") or empty made
``response.body.state`` an evaluation error, and core/engine/http_rules.judge returned
``Podium.UserError`` "success: no such key: 'state'", retryable=False, without even
naming the status: the step failed for good on the first passing outage of the service,
and the message pointed at the expression instead of the 503.

Expected: a success expression that cannot be evaluated on an error response (not a
2xx) is that response's failure: ``Podium.HttpError`` naming the status and the
expression's problem, retryable as the status says (5xx, 408, 429: yes; another 4xx or a
3xx: no). On a 2xx it stays the expression's fault (Podium.UserError, naming the status).
"""

from __future__ import annotations

import pytest

from podium.core.engine.http_rules import HTTP_ERROR, judge

DOCS_EXAMPLE = 'response.status == 202 || response.body.state == "DONE"'


@pytest.mark.parametrize(
    "body",
    [{"error": "busy"}, "Service Unavailable", None],
    ids=["json-error-body", "text-body", "empty-body"],
)
def test_a_5xx_under_the_docs_success_example_is_a_retryable_http_error(body: object) -> None:
    error = judge(503, body, {"content-type": "application/json"}, DOCS_EXAMPLE)
    assert error is not None
    # Was: Podium.UserError "success: no such key: 'state'" (or "type 'string' does not
    # support field selection"), retryable=False: one blip of the service ends the step.
    assert error.type == HTTP_ERROR, error
    assert error.retryable is True, error
    assert "503" in error.message, error


def test_a_429_under_the_docs_success_example_is_retried_too() -> None:
    error = judge(429, {"message": "slow down"}, {}, DOCS_EXAMPLE)
    assert error is not None
    assert error.type == HTTP_ERROR and error.retryable is True, error


def test_a_4xx_under_the_docs_success_example_is_not_retried() -> None:
    error = judge(404, {"error": "no such table"}, {}, DOCS_EXAMPLE)
    assert error is not None
    assert error.type == HTTP_ERROR and error.retryable is False, error
    assert "404" in error.message and "no such key" in error.message, error


def test_a_2xx_the_expression_cannot_read_stays_the_expressions_fault() -> None:
    error = judge(200, {"progress": 10}, {}, DOCS_EXAMPLE)
    assert error is not None
    assert error.type == "Podium.UserError" and error.retryable is False, error
    assert "200" in error.message, error


def test_a_3xx_is_not_retried() -> None:
    error = judge(302, None, {"location": "https://login.example.com/"}, None)
    assert error is not None
    assert error.type == HTTP_ERROR and error.retryable is False, error
    assert "https://login.example.com/" in error.message, error

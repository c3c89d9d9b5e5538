"""A reused request id's refusal (the API's 409 ``request_id_conflict``, the CLI's
message) took any one field ending in "s" for a plural: "ttl_days differ"
(core/engine/request_ids.py ``_differ``). One field is singular unless its name is a
plural noun (params)."""

from __future__ import annotations

from podium.core.engine.request_ids import RequestIdReused


def test_one_field_ending_in_s_was_said_singular() -> None:
    assert "(ttl_days differs)" in RequestIdReused("r1", ["ttl_days"]).message


def test_plural_names_and_several_fields_stayed_plural() -> None:
    assert "(params differ)" in RequestIdReused("r1", ["params"]).message
    assert "(payload, ttl_days differ)" in RequestIdReused("r1", ["payload", "ttl_days"]).message
    assert "(action differs)" in RequestIdReused("q1", ["action"]).message


def test_the_cli_names_read_alike() -> None:
    from podium.core.engine.request_ids import reused_message  # new with the fix

    text = reused_message("--request-id", "r1", ["-p params"], noun="--request-id")
    assert "(-p params differ); use a new --request-id for a new request" in text

"""bootstrap.from_environment documents PODIUM_PAYLOAD_BUCKET as part of the Lambda
environment contract (unlike the event bus, the allow-lists and the Scheduler settings,
it is not marked optional), but when it was unset or blank it wired ``MemoryPayloads``
without a word. On Lambda every big value (run params over 4 KiB, outputs over 8 KiB,
loop spaces, matched signals) is then kept in one container's memory: the run item
stores ``memory://...`` and the next step, on another container or after a cold start,
failed with "payload ... not found (deleted by the bucket's retention?)". A function
missing its bucket refuses to start with a clear error now, as it does for the table
and the queues ("Podium is not configured: set ...")."""

from __future__ import annotations

import pytest

from podium import bootstrap
from podium.adapters.payloads import PayloadNotFound

LAMBDA_ENV = {
    "PODIUM_TABLE_NAME": "t",
    "PODIUM_WORK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/w",
    "PODIUM_EVENT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/e",
    "AWS_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "podium-work",  # set by Lambda in every function
}


@pytest.mark.parametrize("bucket", [None, "", "  "], ids=["unset", "empty", "blank"])
def test_a_lambda_without_its_payload_bucket_refuses_to_start(bucket: str | None) -> None:
    env = dict(LAMBDA_ENV)
    if bucket is not None:
        env["PODIUM_PAYLOAD_BUCKET"] = bucket
    try:
        one = bootstrap.from_environment(env)
    except RuntimeError as error:
        assert "PODIUM_PAYLOAD_BUCKET" in str(error)
        return
    # Was: wired, with payloads that one container writes and the next cannot read.
    ref = one.payloads.put("run1/step/1/output.json", b'{"rows": 1}')
    other = bootstrap.from_environment(env)  # another container of the same function
    with pytest.raises(PayloadNotFound):
        other.payloads.get(ref)
    pytest.fail(f"no payload bucket, yet wired: {ref} is readable only in this container")

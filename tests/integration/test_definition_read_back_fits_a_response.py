"""A definition the API accepted could not be read back through the API.

A push takes a gzip body of up to 16 MiB once decompressed, and the store took any
definition that compresses to 300 KiB; a repetitive one (long, alike step descriptions)
compresses far better than 10x. ``GET /workflows/{name}`` answers the whole definition
uncompressed: past Lambda's 6 MB response, API Gateway answered 502, and so did
``podium workflows show|diff --stack`` and ``podium start WF -p key=value`` (which reads
the definition to type the params). A push is now refused (413) past 5 MiB of JSON
(``workflows.MAX_DEFINITION_JSON_BYTES``)."""

from __future__ import annotations

import base64
import gzip
import json

from podium.handlers import api
from podium.local.runtime import LocalRuntime
from tests.property.test_api_never_500 import _event  # an HTTP API event

LAMBDA_RESPONSE_BYTES = 6 * 1024 * 1024  # a synchronous invocation's response payload


def test_a_pushed_definition_is_read_back_within_lambdas_response_limit(
    runtime: LocalRuntime,
) -> None:
    words = "the nightly load of the sales ledger, described at length " * 120  # ~7 KB
    definition = {
        "name": "big_doc",
        "steps": [{"id": f"s{i}", "type": "noop", "description": words} for i in range(1000)],
    }
    raw = gzip.compress(json.dumps(definition).encode())
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    body = base64.b64encode(raw).decode()
    pushed = api.handler(_event("POST", "/workflows", body, True, headers), None)
    # Refused at push (413), naming the limit: what is stored can be read back. Before
    # the fix: 201, and GET /workflows/big_doc answered about 7 MB (API Gateway: 502).
    assert pushed["statusCode"] == 413, pushed["body"][:300]
    refusal = json.loads(pushed["body"])
    assert refusal["code"] == "definition_too_large", refusal
    assert "5,242,880-byte limit of one version" in json.dumps(refusal), refusal
    got = api.handler(_event("GET", "/workflows/big_doc", None, False, {}), None)
    assert got["statusCode"] == 404  # nothing stored
    assert len(got["body"].encode()) <= LAMBDA_RESPONSE_BYTES

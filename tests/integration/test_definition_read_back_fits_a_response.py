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
from typing import Any

from podium.handlers import api
from podium.local.runtime import LocalRuntime

LAMBDA_RESPONSE_BYTES = 6 * 1024 * 1024  # a synchronous invocation's response payload


def _event(method: str, path: str, body: str | None, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "test",
            },
            "requestId": "req-big",
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": body is not None,
    }


def test_a_pushed_definition_is_read_back_within_lambdas_response_limit(
    runtime: LocalRuntime,
) -> None:
    words = "the nightly load of the sales ledger, described at length " * 120  # ~7 KB
    definition = {
        "name": "big_doc",
        "steps": [{"id": f"s{i}", "type": "noop", "description": words} for i in range(1000)],
    }
    raw = gzip.compress(json.dumps(definition).encode())
    pushed = api.handler(
        _event(
            "POST",
            "/workflows",
            base64.b64encode(raw).decode(),
            {"content-type": "application/json", "content-encoding": "gzip"},
        ),
        None,
    )
    if pushed["statusCode"] >= 400:
        return  # refused at push: what is stored can be read back (the fix may be this)
    assert pushed["statusCode"] == 201

    got = api.handler(_event("GET", "/workflows/big_doc", None, {}), None)
    size = len(got["body"].encode())
    assert size <= LAMBDA_RESPONSE_BYTES, (
        f"GET /workflows/big_doc answers {size:,} bytes: over Lambda's 6 MB response limit,"
        " API Gateway would answer 502"
    )

"""A stand-in for a deployed stack on moto: API Gateway's IAM auth in front of the real
api handler (as a local HTTP server), the stack's resources, and an SQS pump.

``ApiGateway`` plays API Gateway's part: it rejects requests without a valid SigV4
signature for ``execute-api`` (verified with the known test credentials), and turns every
accepted request into an HTTP API payload v2 event for ``podium.handlers.api.handler``.
The console's page and assets (``console_files.PUBLIC_PATHS``) pass unsigned, as the
stack deploys them without an authorizer.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from podium.handlers import advance, api, work
from podium.service.console_files import PUBLIC_PATHS

REGION = "us-east-1"
ACCOUNT = "123456789012"
ACCESS_KEY = "AKIDPODIUMTEST"
SECRET_KEY = "podium-test-secret"
MAX_CLOCK_SKEW = timedelta(minutes=5)
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<scope>[^,]+), "
    r"SignedHeaders=(?P<signed>[^,]+), Signature=(?P<signature>[0-9a-f]{64})$"
)
_GATEWAY_MESSAGES = {
    "missing": "Forbidden",
    "key": "The security token included in the request is invalid.",
    "signature": (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method."
    ),
}


def double(event: dict[str, Any]) -> dict[str, Any]:
    """A lambda step (``module:function`` on the local runner)."""
    return {"doubled": event["params"]["n"] * 2}


def check_sigv4(
    method: str, url: str, headers: dict[str, str], body: bytes
) -> tuple[str | None, str]:
    """``(None, scope)`` when the signature is valid, else ``(reason, "")``.

    Recomputes the signature from the signed headers only, as API Gateway does."""
    lower = {k.lower(): v for k, v in headers.items()}
    match = _AUTH.match(lower.get("authorization", ""))
    if not match:
        return "missing", ""
    if match["key"] != ACCESS_KEY:
        return "key", ""
    stamp = lower.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "signature", ""
    if abs(datetime.now(UTC) - signed_at) > MAX_CLOCK_SKEW:
        return "signature", ""
    date, region, service, terminator = match["scope"].split("/")
    if (date, region, service, terminator) != (stamp[:8], REGION, "execute-api", "aws4_request"):
        return "signature", ""
    names = match["signed"].split(";")
    if "host" not in names or any(n not in lower for n in names):
        return "signature", ""
    request = AWSRequest(method=method, url=url, data=body, headers={n: lower[n] for n in names})
    request.context["timestamp"] = stamp
    auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), service, region)
    expected = auth.signature(
        auth.string_to_sign(request, auth.canonical_request(request)), request
    )
    if not hmac.compare_digest(expected, match["signature"]):
        return "signature", ""
    return None, match["scope"]


def to_event(method: str, target: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """An API Gateway HTTP API (payload v2) event, as the IAM-authorized route sends it."""
    path, _, query = target.partition("?")
    params = urllib.parse.parse_qs(query, keep_blank_values=True)
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": urllib.parse.unquote(path),
        "rawQueryString": query,
        # v2 joins repeated query parameters and headers with commas, names lowercased.
        "queryStringParameters": {k: ",".join(v) for k, v in params.items()} or None,
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "local",
            "authorizer": {
                "iam": {
                    "accessKey": ACCESS_KEY,
                    "accountId": ACCOUNT,
                    "userArn": f"arn:aws:iam::{ACCOUNT}:user/tester",
                }
            },
            "http": {
                "method": method,
                "path": urllib.parse.unquote(path),
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("User-Agent", ""),
            },
            "requestId": "local",
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": text or None,
        "isBase64Encoded": encoded,
    }


@dataclass
class Seen:
    method: str
    path: str
    scope: str  # the signature's credential scope, "" when rejected
    status: int


@dataclass
class ApiGateway:
    """The local API endpoint; ``url`` is what the stack's ApiUrl output points at."""

    seen: list[Seen] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)

    def __post_init__(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = dict(self.headers.items())
                url = f"http://{self.headers['Host']}{self.path}"
                public = self.command == "GET" and (
                    urllib.parse.unquote(self.path.partition("?")[0]) in PUBLIC_PATHS
                )
                problem, scope = (
                    (None, "") if public else check_sigv4(self.command, url, headers, body)
                )
                if problem:
                    status = 403
                    payload = json.dumps({"message": _GATEWAY_MESSAGES[problem]}).encode()
                    out_headers = {"content-type": "application/json"}
                else:
                    try:
                        event = to_event(self.command, self.path, headers, body)
                        response = api.handler(event, None)
                    except Exception as exc:  # as Lambda's failure reaches API Gateway
                        gateway.failures.append(exc)
                        response = {
                            "statusCode": 500,
                            "body": '{"message": "Internal Server Error"}',
                        }
                    status = response["statusCode"]
                    raw = response.get("body") or ""
                    payload = (
                        base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
                    )
                    out_headers = response.get("headers") or {}
                gateway.seen.append(Seen(self.command, self.path, scope, status))
                self.send_response(status)
                for name, value in out_headers.items():
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep pytest's output clean

        # One thread serves requests one at a time, so moto never sees concurrent calls.
        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ApiGateway:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def stack_template(api_url: str, table_name: str) -> dict[str, Any]:
    """The resources of a Podium stack that the API reaches, with its outputs' keys."""
    return {
        "Resources": {
            "WorkQueue": {"Type": "AWS::SQS::Queue"},
            "EventQueue": {"Type": "AWS::SQS::Queue"},
            "WorkDlq": {"Type": "AWS::SQS::Queue"},
            "EventDlq": {"Type": "AWS::SQS::Queue"},
            "TriggerDlq": {"Type": "AWS::SQS::Queue"},
            "PayloadBucket": {"Type": "AWS::S3::Bucket"},
        },
        "Outputs": {
            "ApiUrl": {"Value": api_url},
            # The table is made with create_table (its indexes come from one place).
            "TableName": {"Value": table_name},
            "WorkQueueUrl": {"Value": {"Ref": "WorkQueue"}},
            "EventQueueUrl": {"Value": {"Ref": "EventQueue"}},
            "EventBusName": {"Value": "default"},
            "PayloadBucketName": {"Value": {"Ref": "PayloadBucket"}},
            "WorkDlqUrl": {"Value": {"Ref": "WorkDlq"}},
            "EventDlqUrl": {"Value": {"Ref": "EventDlq"}},
            "TriggerDlqUrl": {"Value": {"Ref": "TriggerDlq"}},
        },
    }


def pump(sqs: Any, event_queue_url: str, work_queue_url: str, rounds: int = 200) -> int:
    """Deliver queue messages to advance and work, as the event source mappings do."""
    delivered = 0
    for _ in range(rounds):
        moved = 0
        for url, handler in ((event_queue_url, advance.handler), (work_queue_url, work.handler)):
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                continue
            records = [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": {},
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q",
                    "awsRegion": REGION,
                }
                for m in messages
            ]
            failed = {
                f["itemIdentifier"]
                for f in handler({"Records": records}, None)["batchItemFailures"]
            }
            for m in messages:
                if m["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            moved += len(messages)
        delivered += moved
        if not moved:
            break
    return delivered

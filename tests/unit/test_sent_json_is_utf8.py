"""What Podium sends (a Lambda event, an http step's JSON body, an EventBridge entry's
detail) is UTF-8 JSON, the form its size limits measure. It was ASCII-escaped JSON, in
which a CJK character takes 6 bytes: a payload within the 256 KiB limit by the measure
could be several times that on the wire."""

from __future__ import annotations

import json
from typing import Any

from podium.adapters.events import EventBridgeEvents
from podium.adapters.runners import event_json
from podium.service.runtimes.http import _body

TEXT = "日本語のテキスト" * 10


def test_a_lambda_event_is_sent_as_utf8() -> None:
    sent = event_json({"text": TEXT})
    assert isinstance(sent, bytes)
    assert sent == json.dumps({"text": TEXT}, ensure_ascii=False).replace(" ", "").encode()
    assert json.loads(sent) == {"text": TEXT}


def test_a_lone_surrogate_is_still_sent_as_its_escape() -> None:
    sent = event_json({"odd": "a\ud800b"})
    assert isinstance(sent, bytes)
    assert b"\\ud800" in sent and json.loads(sent) == {"odd": "a\ud800b"}


def test_an_http_json_body_is_utf8() -> None:
    headers: dict[str, str] = {}
    body = _body({"text": TEXT}, headers)
    assert body is not None and len(body) < 3 * len(TEXT) + 20
    assert json.loads(body) == {"text": TEXT}


def test_an_eventbridge_detail_is_utf8() -> None:
    sent: list[dict[str, Any]] = []

    class Client:
        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
            sent.extend(Entries)
            return {"FailedEntryCount": 0, "Entries": [{} for _ in Entries]}

    EventBridgeEvents(Client(), "bus").publish([{"detail-type": "x", "detail": {"t": TEXT}}])
    assert TEXT in sent[0]["Detail"] and json.loads(sent[0]["Detail"]) == {"t": TEXT}

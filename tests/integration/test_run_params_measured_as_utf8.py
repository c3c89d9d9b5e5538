"""A run's params were measured (``service/runs.py`` ``with_stored_params``) as Python's
ASCII-escaped JSON: a Japanese character counted 6 bytes (``\\uXXXX``), not its 3 in
UTF-8, so params of ~700 KB of Japanese text (1.4 MB escaped) were refused as over the
1 MiB limit, and everything non-ASCII was offloaded to Payloads ~2-3x sooner than its
size. They are measured and stored as UTF-8 JSON now, and read back whole, on the memory
store, the local home's SQLite and DynamoDB/S3 (moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.outputs import INLINE_PARAMS_BYTES, MAX_PARAMS_BYTES, REF_KEY, is_ref
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.bindings import resolve_output, run_params


def measure(event: dict[str, Any]) -> dict[str, Any]:
    return dict(event["payload"])


WF = {
    "name": "big_params",
    "params": {"text": {"type": "string"}},
    "steps": [
        # A step's templates read the params back, whole (a lambda's payload is 256 KiB
        # at most: what it says of them is passed).
        {
            "id": "a",
            "type": "lambda",
            "function": f"{__name__}:measure",
            "payload": {
                "chars": "${size(params.text)}",
                "japanese": "${params.text.startsWith('日本語') && params.text.endsWith('ト')}",
            },
        },
    ],
}
JAPANESE = "日本語のテキスト"  # 8 characters, 24 bytes in UTF-8, 48 escaped


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalRuntime]:
    """The memory store, the local home's SQLite, and DynamoDB with S3 Payloads on moto."""
    if request.param == "moto":
        with LocalRuntime(clock=ManualClock()) as runtime:
            yield runtime
    else:
        home = {"home": tmp_path} if request.param == "sqlite" else {}
        with LocalRuntime(store=request.param, clock=ManualClock(), **home) as runtime:
            yield runtime


def _stored(rt: LocalRuntime, run_id: str) -> Any:
    return rt.services.store.get_run(run_id).params


def test_700_kb_of_japanese_text_starts_and_reads_back_whole(rt: LocalRuntime) -> None:
    text = JAPANESE * (700_000 // 24)  # 700 KB in UTF-8, 1.4 MB as escaped JSON
    params = {"text": text}
    utf8 = len(json.dumps(params, separators=(",", ":"), ensure_ascii=False).encode())
    assert utf8 < MAX_PARAMS_BYTES < len(json.dumps(params, separators=(",", ":")))
    rt.push(WF)
    run = rt.start_run("big_params", params)  # refused before: "over the limit"
    stored = _stored(rt, run.run_id)
    assert is_ref(stored) and stored["bytes"] == utf8  # stored as its UTF-8 bytes
    assert rt.services.payloads is not None
    raw = rt.services.payloads.get(stored[REF_KEY])
    assert len(raw) == utf8 and JAPANESE.encode() in raw
    rt.pump()
    ended = rt.services.store.get_run(run.run_id)
    assert ended.status is RunStatus.SUCCEEDED, ended.error
    step = rt.describe(run.run_id).steps[0]
    assert resolve_output(rt.services, step.output) == {"chars": len(text), "japanese": True}
    assert run_params(rt.services, ended) == params
    assert rt.describe(run.run_id).run.params == params


def test_params_stay_inline_up_to_their_utf8_size(rt: LocalRuntime) -> None:
    """3 KB of Japanese text (6 KB escaped) stays on the run item, under 4 KiB."""
    text = JAPANESE * (3_000 // 24)
    rt.push(WF)
    run = rt.start_run("big_params", {"text": text})
    assert len(text.encode()) < INLINE_PARAMS_BYTES < len(json.dumps(text))
    assert _stored(rt, run.run_id) == {"text": text}


def test_over_1_mib_in_utf8_is_still_refused(rt: LocalRuntime) -> None:
    rt.push(WF)
    with pytest.raises(DefinitionError, match="over the limit of 1,048,576"):
        rt.start_run("big_params", {"text": JAPANESE * (1_100_000 // 24)})

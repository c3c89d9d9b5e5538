"""Size limits measured JSON with json.dumps' default ASCII escaping: a CJK character
counted as 6 bytes (``\\uXXXX``), an emoji as 12, so non-ASCII data was refused or
offloaded to Payloads two to three times sooner than its real size. A lambda step's
rendered payload (core/dsl/expressions.py, vs MAX_PAYLOAD_BYTES), a loop iteration's
values (service/loops.py ``stored_iteration``, vs INLINE_PARAMS_BYTES), a foreach's
iteration space (``stored_space``, vs INLINE_SPACE_BYTES) and a step's output
(service/attempt_records.py ``stored``, vs INLINE_OUTPUT_BYTES) are now measured in
UTF-8 (core/engine/text_fields.utf8_json), and what goes to Payloads is those very
UTF-8 bytes, on every store; the values read back unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.identity import child_run_id
from podium.core.engine.outputs import is_ref
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime


def utf8_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


CJK = "日本語のテキスト"  # 8 characters, 24 bytes of UTF-8, 48 as ASCII escapes
EMOJI = "🎉"  # 4 bytes of UTF-8, 12 as escapes (a surrogate pair)


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    options: dict[str, Any] = {"home": ":memory:"} if request.param == "sqlite" else {}
    if request.param != "moto":  # the default: DynamoDB and S3 on moto
        options["store"] = request.param
    with LocalRuntime(clock=ManualClock(), **options) as runtime:
        yield runtime


def echo_length(event: dict[str, Any]) -> dict[str, Any]:
    text = event["payload"]["text"]
    return {"chars": len(text), "same": text == CJK * 7_000 + EMOJI * 2_000}


def give(event: dict[str, Any]) -> Any:
    return event["payload"]


def test_a_rendered_payload_is_measured_in_utf8(rt: LocalRuntime) -> None:
    """176 KB of UTF-8 (CJK and emoji), 360 KB as escapes: refused before ("the rendered
    payload is 360,000 bytes, over the limit of 262,144"), under the limit now."""
    text = CJK * 7_000 + EMOJI * 2_000
    assert len(utf8_json(text)) < 256 * 1024 < len(json.dumps(text))
    rt.push(
        {
            "name": "big_payload",
            "params": {"text": {"type": "string"}},
            "steps": [
                {
                    "id": "echo",
                    "type": "lambda",
                    "function": f"{__name__}:echo_length",
                    "payload": {"text": "${params.text}"},
                }
            ],
        }
    )
    run = rt.start_run("big_payload", {"text": text}).run_id
    rt.pump()
    view = rt.describe(run)
    [echo] = view.steps
    assert echo.error is None, echo.error
    assert view.run.status is RunStatus.SUCCEEDED
    assert _output(rt, echo.output) == {"chars": len(text), "same": True}


def _output(rt: LocalRuntime, output: Any) -> Any:
    from podium.service.bindings import resolve_output

    return resolve_output(rt.services, output, "output")


def test_outputs_iteration_values_and_spaces_stay_inline_to_their_real_size(
    rt: LocalRuntime,
) -> None:
    """An output of 6 KB of UTF-8 (12 KB as escapes) stays in the step item (limit
    8 KiB); an iteration's values of 3.9 KB (7.8 KB as escapes) on its child run (4 KiB);
    a foreach's space of about 400 bytes (800 as escapes) on the loop step (512)."""
    output = {"text": CJK * 250}  # 6,000 bytes
    item = CJK * 20  # 480 bytes: 8 of them as one iteration's values, below
    rt.push(
        {
            "name": "inline",
            "steps": [
                {
                    "id": "out",
                    "type": "lambda",
                    "function": f"{__name__}:give",
                    "payload": output,
                },
                {
                    "id": "fan",
                    "type": "foreach",
                    "over": {"v": [[item] * 8]},
                    "steps": [
                        {
                            "id": "got",
                            "type": "lambda",
                            "function": f"{__name__}:give",
                            "payload": "${iteration.v}",
                        }
                    ],
                },
                {
                    "id": "small",
                    "type": "foreach",
                    "over": {"s": [CJK * 5, CJK * 5, EMOJI * 20]},
                    "steps": [{"id": "x", "type": "noop"}],
                },
            ],
        }
    )
    run = rt.start_run("inline").run_id
    rt.pump()
    view = rt.describe(run)
    assert view.run.status is RunStatus.SUCCEEDED, [(s.step, s.error) for s in view.steps]
    out = rt.store.get_step(run, "out")
    assert out is not None and out.output == output  # inline: no reference
    child = rt.store.get_run(child_run_id(run, "fan", 0))
    assert child.iteration is not None and not is_ref(child.iteration), child.iteration
    assert child.iteration["v"] == [item] * 8
    got = rt.store.get_step(child.run_id, "got")
    assert got is not None and _output(rt, got.output) == [item] * 8  # read back as it was
    small = rt.store.get_step(run, "small")
    assert small is not None and small.loop is not None and "ref" not in small.loop


def test_a_big_output_goes_to_payloads_as_its_utf8_bytes(rt: LocalRuntime) -> None:
    """Over the inline limit, the output is written to Payloads as UTF-8 (its
    reference says its real size) and reads back as it was, emoji and all."""
    output = {"text": CJK * 1_000 + EMOJI * 100}  # 24,400 bytes (60,000 as escapes)
    rt.push(
        {
            "name": "offloaded",
            "steps": [
                {"id": "out", "type": "lambda", "function": f"{__name__}:give", "payload": output}
            ],
        }
    )
    run = rt.start_run("offloaded").run_id
    rt.pump()
    out = rt.store.get_step(run, "out")
    assert out is not None and is_ref(out.output), out
    assert out.output["bytes"] == len(utf8_json(output)) == 24_000 + 400 + len('{"text":""}')
    assert rt.services.payloads is not None
    assert rt.services.payloads.get(out.output["$payload"]) == utf8_json(output)
    assert _output(rt, out.output) == output

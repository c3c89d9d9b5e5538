"""A Payloads contract case the suite was missing, run
on every adapter (S3 on moto, files in a home, memory) as tests/contract/test_payloads.py."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from podium.adapters.payloads import S3Payloads
from tests.contract.test_payloads import payloads  # noqa: F401  (the fixture)


def test_puts_of_one_key_racing_each_other_all_succeed_and_read_whole(payloads: Any) -> None:  # noqa: F811
    """Keys name what they hold, so a replayed write puts the same bytes under the same
    key (adapters/payloads.py), and replays race: at-least-once delivery hands one
    message to two of ``podium dev``'s worker threads, two callbacks of one attempt
    arrive together. On S3 each put is atomic. ``FilePayloads.put`` writes every put
    of a key through the same ``<key>.tmp`` file: one writer renames it away while
    another still writes it (the other's ``replace`` then raises FileNotFoundError, and
    a reader can see the file short), so a replay fails with a raw OSError."""
    if isinstance(payloads, S3Payloads):
        pytest.skip("moto's in-process S3 is not thread-safe; S3's puts are atomic")
    data = bytes(range(256)) * 2048  # 512 KiB
    errors: list[str] = []

    def replay() -> None:
        for _ in range(25):
            try:
                ref = payloads.put("r1/s/1/output.json", data)
                if payloads.get(ref) != data:
                    errors.append("read a partial payload")
            except Exception as exc:  # any failure is the finding
                errors.append(repr(exc)[:160])

    threads = [threading.Thread(target=replay) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []

"""The racing tests' moto server: a port the OS hands out again to a later test must not
make that test's table collide with an earlier one's (moto's backend is process-wide;
a clean-clone CI failed so, "Table already exists: race-32803")."""

from __future__ import annotations

import pytest

from tests.integration import racing_support


def test_a_port_given_out_again_gets_a_table_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    port = racing_support._free_port()
    monkeypatch.setattr(racing_support, "_free_port", lambda: port)
    endpoints = []
    for _ in range(2):  # before, the second CreateTable raised ResourceInUseException
        with racing_support.racing_services() as (_ctx, endpoint):
            endpoints.append(endpoint)
    assert endpoints == [f"http://127.0.0.1:{port}"] * 2

"""A hang fails the property tests instead of stalling the suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.property.watchdog import hang_watchdog

# A budget for a hang, not for speed: the slowest property test (about 150 API requests on
# moto) takes 35-70 s on CI's 2-core machine; hypothesis's own `deadline` bounds examples.
TEST_TIMEOUT_SECONDS = 180


@pytest.fixture(autouse=True)
def _fail_on_hang() -> Iterator[None]:
    with hang_watchdog(TEST_TIMEOUT_SECONDS):
        yield

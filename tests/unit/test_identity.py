from __future__ import annotations

import pytest

from podium.core.engine.identity import child_run_id


def test_child_ids_are_deterministic() -> None:
    assert child_run_id("01KDV", "per_day", 3) == "01KDV.per_day.3"
    assert child_run_id("01KDV.per_day.3", "train", 0) == "01KDV.per_day.3.train.0"
    assert child_run_id("r", "a/b", 7) == "r.a.b.7"
    with pytest.raises(ValueError):
        child_run_id("r", "s", -1)

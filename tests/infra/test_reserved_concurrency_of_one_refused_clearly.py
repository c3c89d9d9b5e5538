"""reserved_concurrency for a queue consumer (infra/podium_cdk/props.py): a reservation
of 1 got an error asking for a setting that the next check refused."""

from __future__ import annotations

import re

import pytest

from podium_cdk import PodiumProps


@pytest.mark.parametrize("handler", ["advance", "work"])
def test_a_reserved_concurrency_of_one_gets_an_error_that_can_be_followed(handler: str) -> None:
    """reserved_concurrency={"work": 1} was refused with "needs queue_max_concurrency of
    at most 1"; giving that was then refused with "must be within 2..1000 (SQS limit)":
    no setting satisfied both, and neither message said so. The first refusal now says
    that a queue consumer needs a reserved concurrency of at least 2 (SQS's smallest
    maximum concurrency), or none."""
    with pytest.raises(ValueError) as first:
        PodiumProps(reserved_concurrency={handler: 1})  # type: ignore[dict-item]
    said = str(first.value)
    assert not re.search(r"queue_max_concurrency\['\w+'\] of at most", said), said
    assert "at least 2" in said, said
    assert "leave it unset" in said, said


def test_a_reservation_of_two_with_its_cap_is_taken() -> None:
    """What the message asks for deploys."""
    props = PodiumProps(reserved_concurrency={"work": 2}, queue_max_concurrency={"work": 2})
    assert props.reserved_concurrency == {"work": 2}

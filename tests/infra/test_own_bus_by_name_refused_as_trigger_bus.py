"""trigger_event_buses (infra/podium_cdk/props.py) against Podium's own bus."""

from __future__ import annotations

import pytest

from podium_cdk import PodiumProps


def test_podiums_own_bus_by_its_name_is_not_taken_as_another_trigger_bus() -> None:
    """trigger_event_buses refused "podium" (Podium's own bus, always listened to) but
    took "podium-bus", the real name of that same bus (`<name_prefix>-bus`): the
    construct then added a second rule on Podium's bus, so every event on it (each run
    and step status change, each signal) reached the events function twice, the second
    time tagged as coming from "podium-bus". It is refused as "podium" is."""
    with pytest.raises(ValueError, match="trigger_event_buses: 'podium-bus' names Podium's"):
        PodiumProps(trigger_event_buses=["podium-bus"])
    with pytest.raises(ValueError, match="trigger_event_buses: 'acme-bus' names Podium's"):
        PodiumProps(name_prefix="acme", trigger_event_buses=["acme-bus"])


def test_another_prefixs_bus_is_still_taken() -> None:
    """Another Podium's bus in the same account is a bus like any other."""
    props = PodiumProps(name_prefix="acme", trigger_event_buses=["podium-bus"])
    assert props.trigger_event_buses == ["podium-bus"]

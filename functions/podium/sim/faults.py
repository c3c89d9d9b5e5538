"""Fault-injecting proxies around the ports the service layer calls.

A proxy forwards every attribute of the object it wraps (``__getattr__``), so a method
the ports gain later is wrapped too. Each call is a *fault point*: the world may let
another process run first (an interleaving), kill the process before the call (a crash:
the call did not happen), throttle it (an exception, the call did not happen), or let the
call happen and then kill the process (a crash after it) or lose its reply (an exception
after it happened). The store's sub-views (``run_slots()``, ``permits()``) are wrapped
the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from podium.sim.harness import World


class SimCrash(BaseException):
    """The simulated process died here. A BaseException: nothing in the service may
    catch it, as nothing can catch a Lambda being killed."""


class Throttled(Exception):
    """DynamoDB-style throttling: the call did not happen."""


class LostReply(Exception):
    """The call happened, but its reply was lost (a timeout on the client side)."""


class Livelock(BaseException):
    """One process made far more calls than any real handler would: a hot loop."""


INJECTED: tuple[type[BaseException], ...] = (SimCrash, Throttled, LostReply)
INJECTED_NAMES = tuple(cls.__name__ for cls in INJECTED)

# Sub-views of the store: wrapped, and their creation is no fault point.
VIEWS = frozenset({"run_slots", "permits", "signals", "trigger_states"})
# Calls that never change state (reads); everything else counts as a write.
READS = frozenset(
    {
        "get_workflow_version",
        "active_version",
        "get_run",
        "list_runs",
        "list_active_run_ids",
        "list_due_run_ids",
        "get_step",
        "get_steps",
        "list_steps",
        "list_events",
        "queued",
        "state",
        "queue",
        "head",
        "head_place",  # permits: the queue head with its place
        "find",  # signals
        "waiters",
        "consumed",
        "states",  # trigger states
        "list_workflows",
        "breakpoints",  # a workflow's breakpoints (the store's, read by every claim)
    }
)


def is_read(name: str) -> bool:
    return name in READS or name.startswith(("get_", "list_", "describe_"))


@dataclass(frozen=True)
class FaultRates:
    """Per-call probabilities, drawn once per seed (some seeds are calm, some stormy)."""

    crash_before: float = 0.0
    crash_after: float = 0.0
    throttle: float = 0.0  # store calls only
    lost_reply: float = 0.0  # store writes, queue sends and runner calls
    duplicate: float = 0.0  # a sent message is stored twice
    shuffle: float = 0.0  # a delivery picks any visible message, not the oldest
    concurrent: float = 0.0  # a new process runs interleaved with others
    switch: float = 0.0  # at a fault point, a concurrent process hands over
    sweep: float = 0.0  # the sweeper starts at a random moment (per tick)
    jump: float = 0.0  # the clock jumps ahead (per tick)
    not_inline: float = 0.0  # the in-process continuation is refused (no time left)

    @staticmethod
    def none() -> FaultRates:
        return FaultRates()

    @staticmethod
    def draw(rng: Any, intensity: float = 1.0) -> FaultRates:
        """``intensity`` scales the rates of crashes, throttling, lost replies and
        duplicates (the draws stay the same, so seeds keep their meaning at 1.0)."""
        storm = rng.random() < 0.2
        scale = (3.0 if storm else 1.0) * intensity
        return FaultRates(
            crash_before=rng.uniform(0.0, 0.02) * scale,
            crash_after=rng.uniform(0.0, 0.02) * scale,
            throttle=rng.uniform(0.0, 0.01) * scale,
            lost_reply=rng.uniform(0.0, 0.01) * scale,
            duplicate=min(0.5, rng.uniform(0.0, 0.15) * intensity),
            shuffle=rng.choice((0.0, 0.5, 1.0)),
            concurrent=rng.choice((0.0, 0.3, 0.6)),
            switch=rng.uniform(0.3, 0.9),
            sweep=rng.uniform(0.0, 0.03),
            jump=rng.uniform(0.0, 0.02),
            not_inline=rng.choice((0.0, 0.2)),
        )


class FaultProxy:
    """Wraps one port object; every method call goes through ``World.call``."""

    def __init__(self, inner: Any, world: World, port: str) -> None:
        self._inner = inner
        self._world = world
        self._port = port

    @property
    def unwrapped(self) -> Any:
        return self._inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr) or name.startswith("_"):
            return attr
        if self._port == "store" and name in VIEWS:

            def view(*args: Any, **kwargs: Any) -> Any:
                return FaultProxy(attr(*args, **kwargs), self._world, f"{self._port}.{name}")

            return view
        world, port = self._world, self._port

        def call(*args: Any, **kwargs: Any) -> Any:
            return world.call(port, name, attr, args, kwargs)

        return call


CallFn = Callable[..., Any]

"""A boto3 client per region for a function named by ARN: Lambda invokes, and CloudWatch
reads the logs of, a function of its own region only ("Functions from 'eu-west-1' are
not reachable in this region"), so a function of another region is reached through a
client of that region, made once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class RegionalClients:
    """The deployment's ``client``, or one of the function's region made (once) by
    ``client_for_region``; without it, the deployment's client for every function."""

    def __init__(self, client: Any, client_for_region: Callable[[str], Any] | None) -> None:
        self.home = client
        self._make = client_for_region
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()

    def for_function(self, function: str) -> Any:
        """The client of the function's region (its ARN's; else the deployment's)."""
        pieces = function.split(":")
        region = pieces[3] if function.startswith("arn:") and len(pieces) >= 7 else ""
        own = getattr(getattr(self.home, "meta", None), "region_name", None)
        if not region or region == own or self._make is None:
            return self.home
        with self._lock:
            client = self._made.get(region)
            if client is None:
                client = self._made[region] = self._make(region)
        return client

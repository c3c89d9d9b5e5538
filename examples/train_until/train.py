"""The training loop's step functions (a stand-in for real training: the loss halves
every epoch)."""

from __future__ import annotations

from typing import Any


def train_epoch(event: dict[str, Any]) -> dict[str, Any]:
    epoch = int(event["payload"]["epoch"])
    return {"epoch": epoch, "loss": round(0.8 * 0.5**epoch, 6)}


def report(event: dict[str, Any]) -> str:
    payload = event["payload"]
    return f"converged after {payload['epochs']} epochs, loss {payload['loss']}"

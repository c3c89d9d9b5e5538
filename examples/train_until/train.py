"""The training loop's step functions (a stand-in for real training: the loss halves
every epoch)."""

from __future__ import annotations

from typing import Any


def train_epoch(event: dict[str, Any]) -> dict[str, Any]:
    epoch = int(event["payload"]["epoch"])
    # Six significant digits (not decimals, which would round a small loss to 0.0).
    return {"epoch": epoch, "loss": float(f"{0.8 * 0.5**epoch:.6g}")}


def report(event: dict[str, Any]) -> str:
    payload = event["payload"]
    return f"converged after {payload['epochs']} epochs, loss {payload['loss']}"

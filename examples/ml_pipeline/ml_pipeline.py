"""Step functions of the ML pipeline example (stand-ins for real training jobs)."""

from __future__ import annotations

import hashlib


def train_task(event: dict) -> int:
    """Plays the training container locally: the task's command line, parsed as the
    container's train.py would. Returns the exit code (0: trained)."""
    args = event["command"]
    options = dict(zip(args[2::2], args[3::2], strict=False))
    if int(options["--epochs"]) < 1:
        print("epochs must be at least 1")
        return 2
    print(
        f"trained on {options['--dataset']} for {options['--epochs']} epochs ->"
        f" {options['--out']} (run {event['environment']['RUN_ID']})"
    )
    return 0


def evaluate(event: dict) -> dict:
    # Deterministic "accuracy" for a model: 0.90 to 0.98.
    digest = hashlib.sha256(event["payload"]["model_uri"].encode()).digest()
    return {"accuracy": round(0.90 + digest[0] / 255 * 0.08, 4)}


def deploy(event: dict) -> dict:
    payload = event["payload"]
    return {
        "endpoint": "churn-prod",
        "model_uri": payload["model_uri"],
        "accuracy": payload["accuracy"],
    }


def notify(event: dict) -> dict:
    return {"sent": event["payload"]["message"]}

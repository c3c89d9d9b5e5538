"""Step functions of the ML pipeline example (stand-ins for real training jobs)."""

from __future__ import annotations

import hashlib


def train(event: dict) -> dict:
    payload = event["payload"]
    return {
        "model_uri": f"s3://podium-demo/models/{payload['model']}.bin",
        "epochs": payload["epochs"],
        "dataset": payload["dataset"],
    }


def evaluate(event: dict) -> dict:
    # Deterministic "accuracy" for a model: 0.90 to 0.98.
    digest = hashlib.sha256(event["payload"]["model_uri"].encode()).digest()
    return {"accuracy": round(0.90 + digest[0] / 255 * 0.08, 4)}


def deploy(event: dict) -> dict:
    payload = event["payload"]
    return {"endpoint": "churn-prod", "model_uri": payload["model_uri"], "accuracy": payload["accuracy"]}


def notify(event: dict) -> dict:
    return {"sent": event["payload"]["message"]}

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
    """The deployment record: release.yaml also passes who approved it (kept with it, for
    the audit); workflow.yaml deploys on accuracy alone, without an approver."""
    payload = event["payload"]
    deployed = {
        "endpoint": "churn-prod",
        "model_uri": payload["model_uri"],
        "accuracy": payload["accuracy"],
    }
    if payload.get("approved_by"):
        deployed["approved_by"] = payload["approved_by"]
        print(f"deploying {payload['model_uri']}, approved by {payload['approved_by']}")
    return deployed


def notify(event: dict) -> dict:
    return {"sent": event["payload"]["message"]}

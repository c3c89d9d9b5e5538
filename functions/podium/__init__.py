"""Podium: a serverless workflow orchestrator for AWS.

Step functions may raise ``podium.NonRetryable`` to fail an attempt without retries.
"""

from podium.core.errors import NonRetryable, PodiumError

__all__ = ["NonRetryable", "PodiumError"]

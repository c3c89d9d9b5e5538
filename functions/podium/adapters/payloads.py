"""Payloads: values too big for a step item, stored once and referenced.

``S3Payloads`` writes to the deployment's payload bucket (``s3://bucket/key``);
``FilePayloads`` to the local home (``file://...``); ``MemoryPayloads`` keeps them in the
process (unit tests). A key is derived from what it holds (run/step/attempt), so a
replayed write overwrites the same object with the same bytes.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from podium.core.engine.errors import NotFound


class PayloadNotFound(NotFound):
    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"payload {ref} not found (deleted by the bucket's retention?)")


class S3Payloads:
    def __init__(self, client: Any, bucket: str, prefix: str = "payloads/") -> None:
        self._s3 = client
        self._bucket = bucket
        self._prefix = prefix

    def put(self, key: str, data: bytes) -> str:
        full = f"{self._prefix}{key}"
        self._s3.put_object(
            Bucket=self._bucket, Key=full, Body=data, ContentType="application/json"
        )
        return f"s3://{self._bucket}/{full}"

    def get(self, ref: str) -> bytes:
        bucket, _, key = ref.removeprefix("s3://").partition("/")
        try:
            body = self._s3.get_object(Bucket=bucket, Key=key)["Body"]
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in (
                "NoSuchKey",
                "404",
            ):
                raise PayloadNotFound(ref) from None
            raise
        data: bytes = body.read()
        return data


class FilePayloads:
    def __init__(self, root: Path) -> None:
        self._root = Path(root)

    def put(self, key: str, data: bytes) -> str:
        path = self._root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        # A temp file of this writer's own: puts of one key race (a message delivered
        # twice to two `podium dev` workers) and a shared one was renamed from under one.
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: a reader never sees half a payload
        return path.resolve().as_uri()

    def get(self, ref: str) -> bytes:
        path = Path(unquote(urlparse(ref).path))  # put's URI percent-encodes the path
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise PayloadNotFound(ref) from None


class MemoryPayloads:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> str:
        ref = f"memory://{key}"
        with self._lock:
            self._objects[ref] = bytes(data)
        return ref

    def get(self, ref: str) -> bytes:
        with self._lock:
            try:
                return self._objects[ref]
            except KeyError:
                raise PayloadNotFound(ref) from None

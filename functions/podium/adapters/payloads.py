"""Payloads: values too big for a step item, stored once and referenced.

``S3Payloads`` writes to the deployment's payload bucket (``s3://bucket/key``);
``FilePayloads`` to the local home (``file:<path under payloads/>``); ``MemoryPayloads``
keeps them in the process (unit tests). A key is derived from what it holds
(run/step/attempt), so a replayed write overwrites the same object with the same bytes.

``get`` reads only what its own store could have written (its bucket and prefix, its
directory): a reference is data read back from a record, and must never let the engine
read an object or a file elsewhere for whoever wrote that record.
"""

from __future__ import annotations

import errno
import hashlib
import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

from podium.adapters.sqlite.db import HomeError
from podium.core.engine.errors import NotFound


class PayloadNotFound(NotFound):
    def __init__(self, ref: str, why: str) -> None:
        self.ref = ref
        super().__init__(f"payload {ref} not found ({why})")


# Why a reference's payload is gone, per store: what took it there.
GONE_FROM_BUCKET = (
    "expired by the payload bucket's lifecycle, payload_expiration_days after it was"
    " written, or deleted"
)
GONE_FROM_HOME = (
    "its file is gone: the run that wrote it was pruned (podium runs prune), or it was deleted"
)
GONE_FROM_MEMORY = "not kept by this process"


# Why ``get`` reads nothing of a reference to somewhere its store never writes.
FOREIGN = "not a payload of this store"


class PayloadsUnwritable(HomeError):
    """The home's ``payloads/`` cannot be written (a file in its place, permissions, a
    full disk): the message names the path and the fix, in a line. Nothing retried
    writes it (a step's output is lost again each time its function runs), so the local
    runtime stops with it (local/runtime.py)."""


def _unwritable(root: Path, exc: OSError) -> PayloadsUnwritable:
    where = exc.filename or root
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        blocker = root if root.exists() and not root.is_dir() else where
        fix = f"a file stands where a directory goes: move {blocker} away"
    elif exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = f"free some space on the disk {root} is on"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = f"make {root} and what is in it writable by this user"
    else:
        fix = f"check {root} and the disk it is on"
    return PayloadsUnwritable(
        f"cannot write the home's payloads under {root} ({exc.strerror or exc}: {where}):"
        f" {fix}, or give another home (--home or PODIUM_HOME)"
    )


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
        if not ref.startswith(f"s3://{self._bucket}/{self._prefix}"):
            raise PayloadNotFound(ref, FOREIGN)
        bucket, _, key = ref.removeprefix("s3://").partition("/")
        try:
            body = self._s3.get_object(Bucket=bucket, Key=key)["Body"]
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in (
                "NoSuchKey",
                "404",
            ):
                raise PayloadNotFound(ref, GONE_FROM_BUCKET) from None
            raise
        data: bytes = body.read()
        return data


# A file name is at most 255 bytes (ext4, APFS, NTFS). A key's parts are a run id, a step
# id and a file name, and a nested loop iteration's run id grows by its step's id (up to 80
# characters) at each level: a longer part is named by its start and a digest instead.
MAX_NAME_BYTES = 255
_KEPT_NAME_BYTES = 150
FILE_REF = "file:"  # + the file's path relative to the payloads directory
_LEGACY_REF = "file://"  # an absolute file URI, as references were before they were relative


def file_name(part: str) -> str:
    """The name of the file or directory that holds a key's ``part`` (a run id's
    directory: local/prune.py deletes it): the part itself, or, past MAX_NAME_BYTES, its
    first bytes and a digest of the whole (``~`` never appears in an id)."""
    data = part.encode()
    if len(data) <= MAX_NAME_BYTES:
        return part
    head = data[:_KEPT_NAME_BYTES].decode(errors="ignore")
    return f"{head}~{hashlib.sha256(data).hexdigest()[:40]}"


def file_path(key: str) -> str:
    """Where a key's payload is, relative to the payloads directory."""
    return "/".join(file_name(part) for part in key.split("/"))


class FilePayloads:
    """Files under the local home's ``payloads/``. A reference names its file relative to
    that directory, so a home moved or renamed with its project (another checkout, a
    container's mount, a CI cache) still reads every payload its runs refer to."""

    def __init__(self, root: Path) -> None:
        self._root = Path(root)

    def put(self, key: str, data: bytes) -> str:
        relative = file_path(key)
        path = self._root / relative
        # A temp file of this writer's own: puts of one key race (a message delivered
        # twice to two `podium dev` workers) and a shared one was renamed from under one.
        # Named by the writer only (a thread writes one file at a time): a long name plus
        # a suffix would be over MAX_NAME_BYTES.
        tmp = path.with_name(f".{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            tmp.replace(path)  # atomic: a reader never sees half a payload
        except OSError as exc:
            # The home's directory, not the step: said as the home's other errors are.
            raise _unwritable(self._root, exc) from exc
        return FILE_REF + quote(relative)

    def get(self, ref: str) -> bytes:
        path = self._path_of(ref)
        if path is None:
            raise PayloadNotFound(ref, FOREIGN)
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise PayloadNotFound(ref, GONE_FROM_HOME) from None

    def _path_of(self, ref: str) -> Path | None:
        """The file a reference names, under the payloads directory; None for one that
        names a file anywhere else."""
        if ref.startswith(_LEGACY_REF):
            return self._legacy_path_of(Path(unquote(urlparse(ref).path)))
        if not ref.startswith(FILE_REF):
            return None
        return self._inside(self._root / unquote(ref.removeprefix(FILE_REF)))

    def _legacy_path_of(self, path: Path) -> Path | None:
        """An absolute reference, written before references were relative: the file it
        names when that is under this directory, else the part of it after a
        ``/payloads/`` (where its home was then), looked up under this directory."""
        own = self._inside(path)
        if own is not None:
            return own
        text = path.as_posix()
        start = text.find("/payloads/")
        while start >= 0:  # the home's own path may hold a /payloads/ too: each is tried
            found = self._inside(self._root / text[start + len("/payloads/") :])
            if found is not None and found.is_file():
                return found
            start = text.find("/payloads/", start + 1)
        return None

    def _inside(self, path: Path) -> Path | None:
        # Resolved: neither ``..`` nor a link leads out of the directory.
        resolved = path.resolve()
        return resolved if resolved.is_relative_to(self._root.resolve()) else None


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
                raise PayloadNotFound(ref, GONE_FROM_MEMORY) from None

"""What the emulated S3 holds: buckets of objects whose bytes are blobs on disk.

Objects are written a chunk at a time as their request bodies arrive, and a multipart upload is
completed by copying its parts' files into one, so no object is ever held in memory whole.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field

from waconnect.sandbox.blobs import Blob, BlobStore, BlobWriter


class S3Error(Exception):
    """An S3 error response: its code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True, kw_only=True)
class S3Object:
    key: str
    blob: Blob
    etag: str  # quoted, as S3 sends it
    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    last_modified: float = 0.0


@dataclass(slots=True, kw_only=True)
class _Upload:
    key: str
    content_type: str
    metadata: dict[str, str]
    parts: dict[int, tuple[Blob, str]] = field(default_factory=dict)  # number -> (blob, etag)


def no_such_key(key: str) -> S3Error:
    return S3Error("NoSuchKey", f"The specified key does not exist: {key}", 404)


class S3Store:
    """Buckets, objects and multipart uploads behind one lock; bytes live in ``blobs``."""

    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs
        self._lock = threading.Lock()
        self._buckets: dict[str, dict[str, S3Object]] = {}
        self._uploads: dict[str, _Upload] = {}
        self._upload_count = 0

    def create_bucket(self, bucket: str) -> None:
        with self._lock:
            self._buckets.setdefault(bucket, {})

    def has_bucket(self, bucket: str) -> bool:
        with self._lock:
            return bucket in self._buckets

    def _objects(self, bucket: str) -> dict[str, S3Object]:
        objects = self._buckets.get(bucket)
        if objects is None:
            raise S3Error("NoSuchBucket", f"The specified bucket does not exist: {bucket}", 404)
        return objects

    def writer(self) -> BlobWriter:
        """Where an arriving body is written, a chunk at a time."""
        return self._blobs.writer()

    def put(self, bucket: str, obj: S3Object) -> None:
        with self._lock:
            self._objects(bucket)[obj.key] = obj

    def get(self, bucket: str, key: str) -> S3Object:
        with self._lock:
            obj = self._objects(bucket).get(key)
        if obj is None:
            raise no_such_key(key)
        return obj

    def delete(self, bucket: str, key: str) -> None:
        with self._lock:
            self._objects(bucket).pop(key, None)

    def listing(self, bucket: str, prefix: str) -> list[S3Object]:
        with self._lock:
            objects = self._objects(bucket)
            return [objects[key] for key in sorted(objects) if key.startswith(prefix)]

    def set_tags(self, bucket: str, key: str, tags: dict[str, str]) -> None:
        with self._lock:
            objects = self._objects(bucket)
            obj = objects.get(key)
            if obj is None:
                raise no_such_key(key)
            objects[key] = S3Object(
                key=obj.key,
                blob=obj.blob,
                etag=obj.etag,
                content_type=obj.content_type,
                metadata=obj.metadata,
                tags=dict(tags),
                last_modified=obj.last_modified,
            )

    # --- multipart uploads -------------------------------------------------------------------

    def create_upload(
        self, bucket: str, key: str, *, content_type: str, metadata: dict[str, str]
    ) -> str:
        with self._lock:
            self._objects(bucket)
            self._upload_count += 1
            upload_id = f"upload-{self._upload_count:08d}"
            self._uploads[upload_id] = _Upload(
                key=key, content_type=content_type, metadata=metadata
            )
            return upload_id

    def _upload(self, upload_id: str, key: str) -> _Upload:
        upload = self._uploads.get(upload_id)
        if upload is None or upload.key != key:
            raise S3Error("NoSuchUpload", "The specified upload does not exist.", 404)
        return upload

    def put_part(self, upload_id: str, key: str, number: int, blob: Blob, etag: str) -> None:
        if not 1 <= number <= 10_000:
            raise S3Error("InvalidArgument", "Part number must be between 1 and 10000.", 400)
        with self._lock:
            self._upload(upload_id, key).parts[number] = (blob, etag)

    def complete(
        self, bucket: str, upload_id: str, key: str, parts: list[tuple[int, str]]
    ) -> S3Object:
        """The upload's listed parts, in order, as one object (their files copied into one)."""
        with self._lock:
            upload = self._upload(upload_id, key)
            chosen: list[Blob] = []
            digests = b""
            for number, etag in parts:
                part = upload.parts.get(number)
                if part is None or part[1].strip('"') != etag.strip('"'):
                    raise S3Error("InvalidPart", f"Part {number} was not uploaded as listed.", 400)
                chosen.append(part[0])
                digests += bytes.fromhex(part[1].strip('"'))
            if [number for number, _ in parts] != sorted({number for number, _ in parts}):
                raise S3Error("InvalidPartOrder", "Parts must be listed in ascending order.", 400)
            del self._uploads[upload_id]
        blob = self._blobs.put(chunk for piece in chosen for chunk in piece.chunks())
        for piece in chosen:
            piece.path.unlink(missing_ok=True)
        etag = f'"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(parts)}"'
        obj = S3Object(
            key=key,
            blob=blob,
            etag=etag,
            content_type=upload.content_type,
            metadata=upload.metadata,
            last_modified=time.time(),
        )
        self.put(bucket, obj)
        return obj

    def abort(self, upload_id: str, key: str) -> None:
        with self._lock:
            upload = self._upload(upload_id, key)
            del self._uploads[upload_id]
        for blob, _etag in upload.parts.values():
            blob.path.unlink(missing_ok=True)

"""MediaStore over an S3 bucket (boto3 ``s3`` client, injected).

Objects live under ``prefix`` + key; ``StoredMedia.key`` is the key *relative to the prefix*, so a
bridge's keys do not change when its prefix does. Content type is the object's ``Content-Type``;
the original file name (percent-encoded, since user metadata travels as ASCII headers) and the
SHA-256 are user metadata. A large file goes up as a multipart upload, one part in memory at a
time; its digest is only known at the end, so it is stored as an object tag instead.

Presigned links are signed with the client's credentials and expire after ``expires_in`` seconds
(SigV4 allows at most 7 days).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from botocore.exceptions import BotoCoreError, ClientError

from waconnect.adapters.aws.errors import translate_errors
from waconnect.domain.media import StoredMedia
from waconnect.errors import PermanentError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from waconnect.ports import Clock

logger = logging.getLogger(__name__)

# S3 refuses parts under 5 MiB (except the last); 8 MiB keeps the bridge's memory flat.
DEFAULT_PART_SIZE = 8 * 1024 * 1024
MIN_PART_SIZE = 5 * 1024 * 1024
READ_CHUNK_SIZE = 64 * 1024
MAX_LINK_SECONDS = 7 * 24 * 3600

_META_FILENAME = "filename"
_META_SHA256 = "sha256"


def _joined(pending: list[bytes]) -> bytes:
    """The chunks as one bytes object; the list is emptied so the chunks can be freed."""
    joined = b"".join(pending)
    pending.clear()
    return joined


def _check_key(key: str) -> None:
    if not key or "\x00" in key:
        raise PermanentError(f"invalid media key {key!r}", operation="put")


class S3MediaStore:
    """Files in ``bucket`` under ``prefix``, streamed both ways."""

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        *,
        prefix: str = "",
        clock: Clock | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum)")
        self._client = client
        self._bucket = bucket
        self._prefix = prefix
        # S3 signs links with botocore's own clock; the clock is accepted so that every media
        # store is built alike, even if S3 has no use for it.
        self._clock = clock
        self._part_size = part_size

    @property
    def bucket(self) -> str:
        return self._bucket

    def object_key(self, key: str) -> str:
        """The S3 key of a store key (the prefix added)."""
        return self._prefix + key

    def put(
        self, key: str, chunks: Iterable[bytes], *, content_type: str, filename: str = ""
    ) -> StoredMedia:
        _check_key(key)
        digest = hashlib.sha256()
        pending: list[bytes] = []
        pending_size = 0
        iterator = iter(chunks)
        for chunk in iterator:
            digest.update(chunk)
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size >= self._part_size:
                return self._put_multipart(
                    key,
                    _joined(pending),
                    iterator,
                    digest,
                    content_type=content_type,
                    filename=filename,
                )
        body = _joined(pending)
        sha256 = digest.hexdigest()
        metadata = {_META_SHA256: sha256}
        if filename:
            metadata[_META_FILENAME] = quote(filename, safe="")
        with translate_errors("PutObject", service="s3"):
            self._client.put_object(
                Bucket=self._bucket,
                Key=self.object_key(key),
                Body=body,
                ContentType=content_type,
                Metadata=metadata,
            )
        return StoredMedia(
            key=key, size=len(body), content_type=content_type, sha256=sha256, filename=filename
        )

    def _put_multipart(
        self,
        key: str,
        first_part: bytes,
        rest: Iterator[bytes],
        digest: Any,
        *,
        content_type: str,
        filename: str,
    ) -> StoredMedia:
        object_key = self.object_key(key)
        metadata = {_META_FILENAME: quote(filename, safe="")} if filename else {}
        with translate_errors("CreateMultipartUpload", service="s3"):
            upload_id = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=object_key, ContentType=content_type, Metadata=metadata
            )["UploadId"]
        parts: list[dict[str, Any]] = []
        size = len(first_part)
        try:
            parts.append(self._upload_part(object_key, upload_id, 1, first_part))
            del first_part
            # Parts may differ in size (all but the last at least 5 MiB): a part is whatever the
            # chunks add up to once past part_size, joined once, so only one part is in memory.
            pending: list[bytes] = []
            pending_size = 0
            for chunk in rest:
                digest.update(chunk)
                pending.append(chunk)
                pending_size += len(chunk)
                if pending_size >= self._part_size:
                    size += pending_size
                    pending_size = 0
                    part = _joined(pending)
                    parts.append(self._upload_part(object_key, upload_id, len(parts) + 1, part))
                    del part
            if pending:
                size += pending_size
                part = _joined(pending)
                parts.append(self._upload_part(object_key, upload_id, len(parts) + 1, part))
            with translate_errors("CompleteMultipartUpload", service="s3"):
                self._client.complete_multipart_upload(
                    Bucket=self._bucket,
                    Key=object_key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
                )
        except BaseException:
            self._abort(object_key, upload_id)
            raise
        sha256: str = digest.hexdigest()
        with translate_errors("PutObjectTagging", service="s3"):
            self._client.put_object_tagging(
                Bucket=self._bucket,
                Key=object_key,
                Tagging={"TagSet": [{"Key": _META_SHA256, "Value": sha256}]},
            )
        return StoredMedia(
            key=key, size=size, content_type=content_type, sha256=sha256, filename=filename
        )

    def _upload_part(
        self, object_key: str, upload_id: str, number: int, data: bytes
    ) -> dict[str, Any]:
        with translate_errors("UploadPart", service="s3"):
            etag = self._client.upload_part(
                Bucket=self._bucket,
                Key=object_key,
                UploadId=upload_id,
                PartNumber=number,
                Body=data,
            )["ETag"]
        return {"ETag": etag, "PartNumber": number}

    def _abort(self, object_key: str, upload_id: str) -> None:
        try:
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=object_key, UploadId=upload_id
            )
        except (ClientError, BotoCoreError) as exc:
            # The original failure matters more; a lifecycle rule reaps what is left. A handled
            # failure is one line: its kind, no traceback.
            logger.warning("could not abort multipart upload %s: %s", upload_id, _kind(exc))

    @contextmanager
    def open(self, media: StoredMedia) -> Iterator[Iterator[bytes]]:
        with translate_errors("GetObject", service="s3"):
            body = self._client.get_object(Bucket=self._bucket, Key=self.object_key(media.key))[
                "Body"
            ]
        try:
            yield self._chunks(body)
        finally:
            body.close()

    @staticmethod
    def _chunks(body: Any) -> Iterator[bytes]:
        with translate_errors("GetObject", service="s3"):
            yield from body.iter_chunks(READ_CHUNK_SIZE)

    def find(self, prefix: str) -> StoredMedia | None:
        # S3 lists keys in UTF-8 byte order, so the first key listed is the first sorted.
        with translate_errors("ListObjectsV2", service="s3"):
            listing = self._client.list_objects_v2(
                Bucket=self._bucket, Prefix=self.object_key(prefix), MaxKeys=1
            )
        contents = listing.get("Contents", [])
        if not contents:
            return None
        object_key = contents[0]["Key"]
        with translate_errors("HeadObject", service="s3"):
            head = self._client.head_object(Bucket=self._bucket, Key=object_key)
        metadata = head.get("Metadata", {})
        sha256 = metadata.get(_META_SHA256, "")
        if not sha256 and "-" in head.get("ETag", ""):
            sha256 = self._tagged_sha256(object_key)
        return StoredMedia(
            key=object_key[len(self._prefix) :],
            size=head["ContentLength"],
            content_type=head.get("ContentType", "application/octet-stream"),
            sha256=sha256,
            filename=unquote(metadata.get(_META_FILENAME, "")),
        )

    def _tagged_sha256(self, object_key: str) -> str:
        with translate_errors("GetObjectTagging", service="s3"):
            tags = self._client.get_object_tagging(Bucket=self._bucket, Key=object_key)["TagSet"]
        return next((tag["Value"] for tag in tags if tag["Key"] == _META_SHA256), "")

    def link(self, media: StoredMedia, *, expires_in: int) -> str:
        if not 1 <= expires_in <= MAX_LINK_SECONDS:
            raise ValueError(f"expires_in must be 1..{MAX_LINK_SECONDS} seconds")
        params: dict[str, str] = {"Bucket": self._bucket, "Key": self.object_key(media.key)}
        if media.filename:
            params["ResponseContentDisposition"] = (
                f"attachment; filename*=UTF-8''{quote(media.filename, safe='')}"
            )
        with translate_errors("GeneratePresignedUrl", service="s3"):
            return self._client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires_in
            )


def _kind(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "ClientError"))
    return type(error).__name__

"""The emulated S3's REST API (path-style), enough for the bridge's media store and the emulators.

Bodies stream to and from blobs on disk; ``aws-chunked`` request bodies (botocore's streaming
checksums) are decoded as they arrive. Requests are not authenticated (the sandbox's keys are
fake). Operations: buckets (create, head, list objects), objects (put, get with a range, head,
delete, tagging) and multipart uploads (create, upload part, complete, abort).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import re
import time
from collections.abc import AsyncIterator, Iterator
from email.utils import formatdate
from urllib.parse import quote, unquote, unquote_plus
from xml.etree import ElementTree

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from waconnect.sandbox.blobs import Blob
from waconnect.sandbox.s3_store import S3Error, S3Object, S3Store

_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
_CHUNK = 1024 * 1024
_META = "x-amz-meta-"
_METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD"]


def build_s3_app(store: S3Store) -> Starlette:
    api = S3Api(store)
    return Starlette(
        routes=[
            Route("/{bucket}", api.bucket, methods=_METHODS),
            Route("/{bucket}/{key:path}", api.object, methods=_METHODS),
        ]
    )


def _xml(root: ElementTree.Element, status: int = 200) -> Response:
    body = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(body, status_code=status, media_type="application/xml")


def _element(tag: str, **children: str) -> ElementTree.Element:
    root = ElementTree.Element(tag, xmlns=_NS)
    for name, value in children.items():
        ElementTree.SubElement(root, name).text = value
    return root


def _error(error: S3Error, method: str) -> Response:
    if method == "HEAD":  # S3 answers HEAD errors with the status alone
        return Response(status_code=error.status)
    root = ElementTree.Element("Error")
    ElementTree.SubElement(root, "Code").text = error.code
    ElementTree.SubElement(root, "Message").text = error.message
    return _xml(root, error.status)


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(moment))


async def _payload(request: Request) -> AsyncIterator[bytes]:
    """The request's payload, any ``aws-chunked`` framing (and its trailers) taken off."""
    chunked = "aws-chunked" in request.headers.get("content-encoding", "") or request.headers.get(
        "x-amz-content-sha256", ""
    ).startswith("STREAMING-")
    stream = request.stream()
    if not chunked:
        async for chunk in stream:
            if chunk:
                yield chunk
        return
    buffer = b""

    async def more() -> bytes:
        async for chunk in stream:
            if chunk:
                return chunk
        raise S3Error("IncompleteBody", "The request body ended before its last chunk.", 400)

    while True:
        while b"\r\n" not in buffer:
            buffer += await more()
        line, buffer = buffer.split(b"\r\n", 1)
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            async for _trailer in stream:
                pass
            return
        while len(buffer) < size + 2:
            buffer += await more()
        yield buffer[:size]
        buffer = buffer[size + 2 :]


def _ranged(blob: Blob, header: str) -> tuple[int, int] | None:
    """(first, last) byte of a ``bytes=a-b`` range, or None for the whole object."""
    if not header.startswith("bytes="):
        return None
    first_text, _, last_text = header.removeprefix("bytes=").partition("-")
    if not first_text:  # the last N bytes
        first, last = max(0, blob.size - int(last_text)), blob.size - 1
    else:
        first = int(first_text)
        last = min(int(last_text), blob.size - 1) if last_text else blob.size - 1
    if first >= blob.size or first > last:
        raise S3Error("InvalidRange", "The requested range is not satisfiable", 416)
    return first, last


def _read(blob: Blob, first: int, last: int) -> Iterator[bytes]:
    with blob.path.open("rb") as file:
        file.seek(first)
        left = last - first + 1
        while left > 0 and (chunk := file.read(min(_CHUNK, left))):
            left -= len(chunk)
            yield chunk


def _object_headers(obj: S3Object) -> dict[str, str]:
    headers = {
        "ETag": obj.etag,
        "Last-Modified": formatdate(obj.last_modified, usegmt=True),
        "Content-Type": obj.content_type,
        "Accept-Ranges": "bytes",
    }
    headers.update({_META + name: value for name, value in obj.metadata.items()})
    return headers


def _tags_of(header: str) -> dict[str, str]:
    pairs = (part.partition("=") for part in header.split("&") if part)
    return {unquote_plus(name): unquote_plus(value) for name, _, value in pairs}


class S3Api:
    def __init__(self, store: S3Store) -> None:
        self._store = store

    async def _receive(self, request: Request) -> tuple[Blob, str]:
        """The body as a blob (written as it arrives) and its quoted MD5, S3's single ETag."""
        writer = self._store.writer()
        md5 = hashlib.md5(usedforsecurity=False)
        try:
            async for chunk in _payload(request):
                md5.update(chunk)
                writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        return writer.finish(), f'"{md5.hexdigest()}"'

    async def bucket(self, request: Request) -> Response:
        bucket = request.path_params["bucket"]
        try:
            match request.method:
                case "PUT":
                    self._store.create_bucket(bucket)
                    return Response(headers={"Location": f"/{bucket}"})
                case "HEAD":
                    if not self._store.has_bucket(bucket):
                        raise S3Error("NoSuchBucket", "The specified bucket does not exist", 404)
                    return Response()
                case "GET":
                    return self._list(bucket, request)
            raise S3Error("NotImplemented", f"{request.method} on a bucket is not emulated", 501)
        except S3Error as error:
            await _drain(request)
            return _error(error, request.method)

    def _list(self, bucket: str, request: Request) -> Response:
        query = request.query_params
        prefix = query.get("prefix", "")
        limit = int(query.get("max-keys", "1000"))
        after = query.get("continuation-token") or query.get("start-after") or ""
        found = [obj for obj in self._store.listing(bucket, prefix) if obj.key > after]
        page, more = found[:limit], len(found) > limit
        # botocore asks for url-encoded keys (and decodes them): a key may hold any character.
        encode = quote if query.get("encoding-type") == "url" else (lambda key, safe="": key)
        root = _element(
            "ListBucketResult",
            Name=bucket,
            Prefix=encode(prefix, safe="/"),
            KeyCount=str(len(page)),
            MaxKeys=str(limit),
            IsTruncated="true" if more else "false",
        )
        if query.get("encoding-type") == "url":
            ElementTree.SubElement(root, "EncodingType").text = "url"
        if more:
            ElementTree.SubElement(root, "NextContinuationToken").text = page[-1].key
        for obj in page:
            item = ElementTree.SubElement(root, "Contents")
            for name, value in (
                ("Key", encode(obj.key, safe="/")),
                ("LastModified", _iso(obj.last_modified)),
                ("ETag", obj.etag),
                ("Size", str(obj.blob.size)),
                ("StorageClass", "STANDARD"),
            ):
                ElementTree.SubElement(item, name).text = value
        return _xml(root)

    async def object(self, request: Request) -> Response:
        bucket, key = _bucket_and_key(request)
        query = request.query_params
        try:
            match request.method:
                case "PUT" if "uploadId" in query:
                    blob, etag = await self._receive(request)
                    number = int(query.get("partNumber", "0"))
                    self._store.put_part(query["uploadId"], key, number, blob, etag)
                    return Response(headers={"ETag": etag})
                case "PUT" if "tagging" in query:
                    body = (await request.body()).decode("utf-8")
                    tags = {
                        _field(tag, "Key"): _field(tag, "Value") for tag in _elements(body, "Tag")
                    }
                    self._store.set_tags(bucket, key, tags)
                    return Response()
                case "PUT":
                    return await self._put(bucket, key, request)
                case "GET" if "tagging" in query:
                    return self._tagging(self._store.get(bucket, key))
                case "GET" | "HEAD":
                    return self._get(self._store.get(bucket, key), request)
                case "DELETE" if "uploadId" in query:
                    self._store.abort(query["uploadId"], key)
                    return Response(status_code=204)
                case "DELETE":
                    self._store.delete(bucket, key)
                    return Response(status_code=204)
                case "POST" if "uploads" in query:
                    upload_id = self._store.create_upload(
                        bucket,
                        key,
                        content_type=request.headers.get("content-type", "binary/octet-stream"),
                        metadata=_metadata(request),
                    )
                    return _xml(
                        _element(
                            "InitiateMultipartUploadResult", Bucket=bucket, Key=key,
                            UploadId=upload_id,
                        )
                    )  # fmt: skip
                case "POST" if "uploadId" in query:
                    return await self._complete(bucket, key, query["uploadId"], request)
            raise S3Error("NotImplemented", f"{request.method} on an object is not emulated", 501)
        except S3Error as error:
            await _drain(request)
            return _error(error, request.method)

    async def _put(self, bucket: str, key: str, request: Request) -> Response:
        if "x-amz-copy-source" in request.headers:
            raise S3Error("NotImplemented", "CopyObject is not emulated", 501)
        if not self._store.has_bucket(bucket):
            raise S3Error("NoSuchBucket", "The specified bucket does not exist", 404)
        blob, etag = await self._receive(request)
        obj = S3Object(
            key=key,
            blob=blob,
            etag=etag,
            content_type=request.headers.get("content-type", "binary/octet-stream"),
            metadata=_metadata(request),
            tags=_tags_of(request.headers.get("x-amz-tagging", "")),
            last_modified=time.time(),
        )
        self._store.put(bucket, obj)
        return Response(headers={"ETag": etag})

    def _get(self, obj: S3Object, request: Request) -> Response:
        headers = _object_headers(obj)
        query = request.query_params
        # A presigned link may name the download's type and file name.
        for name in ("content-type", "content-disposition"):
            override = query.get(f"response-{name}")
            if override:
                headers[name.title()] = override
        if request.method == "HEAD":
            headers["Content-Length"] = str(obj.blob.size)
            return Response(headers=headers)
        span = _ranged(obj.blob, request.headers.get("range", ""))
        first, last = span if span is not None else (0, obj.blob.size - 1)
        headers["Content-Length"] = str(max(0, last - first + 1))
        status = 200
        if span is not None:
            headers["Content-Range"] = f"bytes {first}-{last}/{obj.blob.size}"
            status = 206
        media_type = headers.pop("Content-Type")
        return StreamingResponse(
            _read(obj.blob, first, last), status_code=status, headers=headers, media_type=media_type
        )

    def _tagging(self, obj: S3Object) -> Response:
        root = _element("Tagging")
        tag_set = ElementTree.SubElement(root, "TagSet")
        for name, value in obj.tags.items():
            tag = ElementTree.SubElement(tag_set, "Tag")
            ElementTree.SubElement(tag, "Key").text = name
            ElementTree.SubElement(tag, "Value").text = value
        return _xml(root)

    async def _complete(self, bucket: str, key: str, upload_id: str, request: Request) -> Response:
        body = (await request.body()).decode("utf-8")
        parts = [
            (int(_field(part, "PartNumber") or "0"), _field(part, "ETag"))
            for part in _elements(body, "Part")
        ]
        obj = self._store.complete(bucket, upload_id, key, parts)
        return _xml(
            _element("CompleteMultipartUploadResult", Bucket=bucket, Key=key, ETag=obj.etag)
        )


def _metadata(request: Request) -> dict[str, str]:
    return {
        name.removeprefix(_META): value
        for name, value in request.headers.items()
        if name.startswith(_META)
    }


# The request bodies S3 takes here (tagging, a multipart upload's part list) are flat lists of
# simple elements: read by pattern, with no XML parser (and none of its entity expansion).
def _elements(body: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}>(.*?)</{tag}>", body, re.DOTALL)


def _field(element: str, tag: str) -> str:
    found = re.search(rf"<{tag}>(.*?)</{tag}>", element, re.DOTALL)
    return html.unescape(found.group(1)) if found else ""


def _bucket_and_key(request: Request) -> tuple[str, str]:
    """From the path as sent, decoded once: a key may hold any character, ``%`` included."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    bucket, _, key = unquote(raw.decode("latin-1"), encoding="utf-8").lstrip("/").partition("/")
    return bucket, key


async def _drain(request: Request) -> None:
    """Read what is left of a refused request's body: the connection is kept for the next
    request, which must not start with this one's unread bytes."""
    with contextlib.suppress(RuntimeError, ClientDisconnect):
        async for _chunk in request.stream():
            pass

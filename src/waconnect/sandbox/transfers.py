"""The signed-URL endpoints of emulated Connect attachments: the upload PUT and download GET."""

from __future__ import annotations

import logging
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from waconnect.sandbox.blobs import BlobStore
from waconnect.sandbox.chats import Attachment, ChatState
from waconnect.sandbox.participant_api import DOWNLOAD_PATH, UPLOAD_PATH
from waconnect.sandbox.signing import SignatureRefused, UrlSigner

logger = logging.getLogger(__name__)

# Headers any HTTP client sends on its own; every other x-amz-* header must have been signed.
_AMZ_PREFIX = "x-amz-"
# Connect's upload URL is good for the upload before CompleteAttachmentUpload, never after: the
# bucket policy then denies the write, which S3 answers with 403 AccessDenied.
_UPLOADABLE = frozenset({"PENDING_UPLOAD", "UPLOADED"})


class AttachmentTransfers:
    def __init__(self, *, chats: ChatState, blobs: BlobStore, signer: UrlSigner) -> None:
        self._chats = chats
        self._blobs = blobs
        self._signer = signer

    async def upload(self, request: Request) -> Response:
        try:
            attachment = self._authorise(request, "PUT", UPLOAD_PATH)
            _check_uploadable(attachment)
            _check_upload_headers(request, attachment)
        except SignatureRefused as refused:
            return _refusal(refused)
        writer = self._blobs.writer(content_type=attachment.content_type)
        try:
            async for chunk in request.stream():
                if writer.size + len(chunk) > attachment.size:
                    raise SignatureRefused(400, "IncompleteBody", "more bytes than Content-Length")
                writer.write(chunk)
            if writer.size != attachment.size:
                raise SignatureRefused(400, "IncompleteBody", "fewer bytes than Content-Length")
        except SignatureRefused as refused:
            writer.abort()
            return _refusal(refused)
        blob = writer.finish()
        with self._chats.lock:
            # Checked again: the upload may have been completed while the body was streaming.
            if attachment.status not in _UPLOADABLE:
                blob.path.unlink(missing_ok=True)
                return _refusal(_completed())
            attachment.blob = blob
            attachment.status = "UPLOADED"
        return Response(status_code=200, headers={"ETag": f'"{blob.sha256[:32]}"'})

    async def download(self, request: Request) -> Response:
        try:
            attachment = self._authorise(request, "GET", DOWNLOAD_PATH)
        except SignatureRefused as refused:
            return _refusal(refused)
        blob = attachment.blob
        if blob is None or attachment.status != "APPROVED":
            return _refusal(SignatureRefused(404, "NoSuchKey", "The object does not exist"))
        return FileResponse(
            blob.path,
            media_type=attachment.content_type,
            headers={"Content-Disposition": content_disposition(attachment.name)},
        )

    def _authorise(self, request: Request, method: str, prefix: str) -> Attachment:
        path = request.url.path
        self._signer.verify(method, path, dict(request.query_params))
        attachment = self._chats.attachments.get(path.removeprefix(prefix))
        if attachment is None:
            raise SignatureRefused(404, "NoSuchKey", "The object does not exist")
        return attachment


def _completed() -> SignatureRefused:
    return SignatureRefused(403, "AccessDenied", "the attachment upload was already completed")


def _check_uploadable(attachment: Attachment) -> None:
    if attachment.status not in _UPLOADABLE:
        raise _completed()


def _check_upload_headers(request: Request, attachment: Attachment) -> None:
    length = request.headers.get("content-length")
    if length is None or "chunked" in request.headers.get("transfer-encoding", "").lower():
        raise SignatureRefused(411, "MissingContentLength", "Content-Length is required")
    if int(length) != attachment.size:
        raise SignatureRefused(
            400, "InvalidRequest", "Content-Length does not equal AttachmentSizeInBytes"
        )
    required = {name.lower(): value for name, value in attachment.upload_headers.items()}
    for name, value in required.items():
        if request.headers.get(name) != value:
            raise SignatureRefused(
                403, "SignatureDoesNotMatch", f"header {name} is missing or differs from signed"
            )
    extra = [n for n in request.headers if n.startswith(_AMZ_PREFIX) and n not in required]
    if extra:
        raise SignatureRefused(403, "AccessDenied", f"unsigned headers {sorted(extra)}")


def _refusal(refused: SignatureRefused) -> Response:
    logger.info("signed URL refused: %s", refused.code)
    return Response(refused.xml(), status_code=refused.status, media_type="application/xml")


def content_disposition(name: str) -> str:
    """``attachment`` with the file's name as S3 sends it: an ASCII fallback, and the exact name
    UTF-8 percent-encoded (RFC 6266), since a header carries Latin-1 at most."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"

"""Streamed transfers to and from pre-signed URLs (Connect attachments), over httpx.

A signed URL comes from a service response, so it is checked before anything is sent: HTTPS on
port 443 to an Amazon S3 host, or plain HTTP to loopback when the configuration allows it (the
sandbox). Connect's StartAttachmentUpload and GetAttachment hand out pre-signed S3 URLs to the
instance's attachment bucket, so S3's own host shapes are the allowlist, not all of
``amazonaws.com`` (API Gateway, load balancers and every other service live there too):

- virtual-hosted, regional: ``bucket.s3.eu-west-2.amazonaws.com``
- virtual-hosted, legacy global and dash-region: ``bucket.s3.amazonaws.com``,
  ``bucket.s3-eu-west-1.amazonaws.com``
- dual-stack and FIPS: ``bucket.s3.dualstack.us-east-1.amazonaws.com``,
  ``bucket.s3-fips.us-gov-west-1.amazonaws.com``
- path-style, any of the above without the bucket: ``s3.eu-west-2.amazonaws.com``
- China regions, the same under ``amazonaws.com.cn``

Redirects are never followed. Bodies stream both ways; an upload goes out
with an explicit ``Content-Length`` (a generator body would otherwise be sent chunked, which the
signature of ``AttachmentSizeInBytes`` does not allow).
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import SplitResult, urlsplit

import httpx

from waconnect.errors import PermanentError, TransientError, UnsafeUrl

logger = logging.getLogger(__name__)

_REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}"
_BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
S3_HOST = re.compile(
    rf"(?:{_BUCKET}\.)?s3(?:-fips)?(?:\.dualstack)?(?:[.-]{_REGION})?\.amazonaws\.com(?:\.cn)?"
)
_DEFAULT_PORTS = {"https": 443, "http": 80}
_LOOPBACK_NAMES = frozenset({"localhost"})
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")


class SignedUrlTransfers:
    """PUT and GET against pre-signed URLs, refusing any URL outside the allowlist."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        allow_http_loopback: bool = False,
        allowed_suffixes: tuple[str, ...] = (),
    ) -> None:
        """``allowed_suffixes``, when given, replace the S3 host shapes (a private endpoint)."""
        self._http = http
        self._allow_loopback = allow_http_loopback
        self._suffixes = tuple(
            s.lower() if s.startswith(".") else f".{s.lower()}" for s in allowed_suffixes
        )

    def check(self, url: str) -> httpx.URL:
        """The URL as httpx will send it, or UnsafeUrl naming why it is refused."""
        if any(c == "\\" or c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
            raise UnsafeUrl("signed URL contains a backslash, space or control character")
        if not url.isascii():
            raise UnsafeUrl("signed URL contains non-ASCII characters")
        if "#" in url:
            # A signed URL never has a fragment; one is a way to hide the real host.
            raise UnsafeUrl("signed URL carries a fragment")
        parts = urlsplit(url)
        host = self._check_parts(parts)
        parsed = httpx.URL(url)
        # Two parsers must agree on where the request goes, or one of them is being tricked.
        default_port = _DEFAULT_PORTS[parsed.scheme]
        theirs = (parsed.scheme, parsed.host, parsed.port or default_port)
        if theirs != (parts.scheme.lower(), host, parts.port or default_port):
            raise UnsafeUrl("signed URL is read differently by the HTTP client")
        return parsed

    def _check_parts(self, parts: SplitResult) -> str:
        scheme = parts.scheme.lower()
        if scheme not in ("https", "http"):
            raise UnsafeUrl(f"signed URL scheme {scheme!r} is not allowed")
        if "@" in parts.netloc or parts.username is not None or parts.password is not None:
            raise UnsafeUrl("signed URL carries user information")
        host = (parts.hostname or "").lower()
        if not host:
            raise UnsafeUrl("signed URL has no host")
        try:
            port = parts.port
        except ValueError as exc:
            raise UnsafeUrl("signed URL has an invalid port") from exc
        if self._is_loopback(host):
            if not self._allow_loopback:
                raise UnsafeUrl("signed URL points to loopback, which is not allowed here")
            return host
        if scheme != "https":
            raise UnsafeUrl(f"signed URL to {host} is not HTTPS")
        if port not in (None, 443):
            raise UnsafeUrl(f"signed URL to {host} uses port {port}")
        if _is_ip_literal(host):
            raise UnsafeUrl("signed URL names an IP address")
        if not set(host) <= _HOST_CHARS or host.endswith(".") or ".." in host:
            raise UnsafeUrl("signed URL host is not a plain DNS name")
        if not self._allowed(host):
            raise UnsafeUrl(f"signed URL host {host} is not on the allowlist")
        return host

    def _allowed(self, host: str) -> bool:
        if self._suffixes:
            return any(host.endswith(suffix) for suffix in self._suffixes)
        return S3_HOST.fullmatch(host) is not None

    def _is_loopback(self, host: str) -> bool:
        if host in _LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def put(self, url: str, headers: Mapping[str, str], chunks: Iterable[bytes], size: int) -> None:
        """Stream exactly ``size`` bytes to ``url`` with exactly ``headers`` (plus its length)."""
        target = self.check(url)
        if size < 0:
            raise PermanentError("upload size is negative", operation="PUT")
        sent_headers = dict(headers)
        for name, value in headers.items():
            if name.lower() == "content-length":
                if value.strip() != str(size):
                    raise PermanentError(
                        f"signed URL expects {value} bytes, the file has {size}", operation="PUT"
                    )
                del sent_headers[name]
        sent_headers["Content-Length"] = str(size)
        request = self._http.build_request(
            "PUT", target, headers=sent_headers, content=_exactly(chunks, size)
        )
        with _translate("PUT", target.host):
            response = self._http.send(request, follow_redirects=False)
            response.close()
        _check_status(response, "PUT")

    @contextmanager
    def get(self, url: str, *, expected_size: int | None = None) -> Iterator[Iterator[bytes]]:
        """Stream the body at ``url``; with ``expected_size``, a different length is refused."""
        target = self.check(url)
        # Ask for the stored bytes as they are: no transfer compression to undo.
        request = self._http.build_request("GET", target, headers={"Accept-Encoding": "identity"})
        with _translate("GET", target.host):
            response = self._http.send(request, stream=True, follow_redirects=False)
            try:
                _check_status(response, "GET")
                # A transport that hands back an already-read body (a test double, a cache) has
                # nothing left to stream; its bytes are the body.
                body = (
                    iter([response.content]) if response.is_stream_consumed else response.iter_raw()
                )
                if expected_size is not None:
                    body = _exactly(body, expected_size)
                yield body
            finally:
                response.close()


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _exactly(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Pass ``chunks`` through, refusing a stream that is longer or shorter than ``size``."""
    seen = 0
    for chunk in chunks:
        seen += len(chunk)
        if seen > size:
            raise PermanentError(
                f"stream is longer than the declared {size} bytes", operation="transfer"
            )
        if chunk:
            yield chunk
    if seen != size:
        raise PermanentError(
            f"stream ended after {seen} of the declared {size} bytes", operation="transfer"
        )


def _check_status(response: httpx.Response, operation: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    code = f"HTTP {status}"
    if status in (408, 429) or status >= 500:
        raise TransientError(f"{operation} to signed URL: {code}", operation=operation, code=code)
    if 300 <= status < 400:
        raise PermanentError(
            f"{operation} to signed URL was redirected; redirects are not followed",
            operation=operation,
            code=code,
        )
    # 403 is what an expired or mis-signed URL returns: a new URL is needed, not a retry.
    raise PermanentError(f"{operation} to signed URL: {code}", operation=operation, code=code)


@contextmanager
def _translate(operation: str, host: str) -> Iterator[None]:
    try:
        yield
    except httpx.TransportError as exc:
        code = type(exc).__name__
        logger.info("%s to %s failed: %s", operation, host, code)
        raise TransientError(
            f"{operation} to signed URL: {code}", operation=operation, code=code
        ) from exc

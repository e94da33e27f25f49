"""Pre-signed URLs on the emulator itself, refused once expired or tampered with (like S3's)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit


class SignatureRefused(Exception):
    """A signed-URL request S3 would refuse: ``status`` and S3 error ``code``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def xml(self) -> bytes:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{self.message}</Message></Error>"
        ).encode()


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y%m%dT%H%M%SZ")


def _parse_stamp(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()


class UrlSigner:
    def __init__(self, *, secret: bytes, base_url: Callable[[], str], now: Callable[[], float]):
        self._secret = secret
        self._base_url = base_url
        self._now = now

    def _signature(self, method: str, path: str, stamp: str, expires: str, signed: str) -> str:
        text = "\n".join((method, path, stamp, expires, signed))
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def sign(self, method: str, path: str, *, seconds: int, headers: Mapping[str, str]) -> str:
        stamp = _stamp(self._now())
        signed = ";".join(sorted(name.lower() for name in (*headers, "host")))
        query = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Date": stamp,
            "X-Amz-Expires": str(seconds),
            "X-Amz-SignedHeaders": signed,
            "X-Amz-Signature": self._signature(method, path, stamp, str(seconds), signed),
        }
        return f"{self._base_url()}{path}?{urlencode(query)}"

    def expiry(self, url: str) -> float:
        """When a URL this signer made stops working (epoch seconds)."""
        query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
        return _parse_stamp(query["X-Amz-Date"]) + int(query["X-Amz-Expires"])

    def verify(self, method: str, path: str, query: Mapping[str, str]) -> None:
        try:
            stamp = query["X-Amz-Date"]
            expires = query["X-Amz-Expires"]
            signed = query["X-Amz-SignedHeaders"]
            signature = query["X-Amz-Signature"]
        except KeyError as exc:
            raise SignatureRefused(
                403, "AccessDenied", "Query-string authentication required"
            ) from exc
        expected = self._signature(method, path, stamp, expires, signed)
        if not hmac.compare_digest(expected, signature):
            raise SignatureRefused(
                403, "SignatureDoesNotMatch", "The request signature we calculated does not match"
            )
        if self._now() >= _parse_stamp(stamp) + int(expires):
            raise SignatureRefused(403, "AccessDenied", "Request has expired")

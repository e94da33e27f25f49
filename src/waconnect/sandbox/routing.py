"""Signed URLs of the shapes AWS hands out, answered by the emulators: the sandbox's HTTP transport.

Connect's StartAttachmentUpload and GetAttachment answer with pre-signed HTTPS URLs on an S3 host.
The emulators do the same (``ATTACHMENT_HOST``), so the bridge checks them exactly as it checks
AWS's. Only the connection differs: a client built with :func:`emulator_transport` sends requests
for the emulators' hosts to 127.0.0.1 over plain HTTP, lets plain HTTP to 127.0.0.1 through (the
sandbox's own S3), and refuses every other host: nothing the sandbox runs reaches the internet.
Production never builds this transport.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx

from waconnect.sandbox import defaults

# Connect keeps chat attachments in an S3 bucket of its own, reached by virtual-hosted URLs.
ATTACHMENT_BUCKET = "amazon-connect-sandbox-attachments"
ATTACHMENT_HOST = f"{ATTACHMENT_BUCKET}.s3.{defaults.REGION}.amazonaws.com"
ATTACHMENT_ORIGIN = f"https://{ATTACHMENT_HOST}"


_LOOPBACK = frozenset({"127.0.0.1", "localhost"})


class UnroutedHost(httpx.ConnectError):
    """A request for a host the sandbox does not emulate."""


class EmulatorTransport(httpx.BaseTransport):
    """Sends each request for an emulated host to its local origin (``http://127.0.0.1:port``).

    ``routes`` maps a host to a callable returning the local origin at the time of the request
    (a restarted emulator may listen elsewhere).
    """

    def __init__(self, routes: Mapping[str, Callable[[], str]]) -> None:
        self._routes = dict(routes)
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host in _LOOPBACK and request.url.scheme == "http":
            return self._inner.handle_request(request)  # the sandbox's own local servers
        origin = self._routes.get(request.url.host)
        if origin is None or request.url.scheme != "https":
            raise UnroutedHost(
                f"the sandbox reaches only its emulators, not {request.url.scheme}://"
                f"{request.url.host}",
                request=request,
            )
        local = httpx.URL(origin())
        request.url = request.url.copy_with(scheme="http", host=local.host, port=local.port)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def emulator_transport(endpoint_url: Callable[[], str]) -> EmulatorTransport:
    """The transport for a client of the cloud whose emulators listen at ``endpoint_url()``."""
    return EmulatorTransport({ATTACHMENT_HOST: endpoint_url})

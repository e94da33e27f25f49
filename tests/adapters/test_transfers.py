"""SignedUrlTransfers: streamed PUT/GET to pre-signed URLs, and the URLs it refuses to touch."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from waconnect.adapters.transfers import SignedUrlTransfers
from waconnect.errors import PermanentError, TransientError, UnsafeUrl

AWS_URL = (
    "https://example-bucket.s3.us-east-1.amazonaws.com/attachments/file.pdf?X-Amz-Signature=ab"
)


@dataclass
class Recorder:
    """An httpx transport that remembers every request and answers with ``respond``."""

    respond: Callable[[httpx.Request], httpx.Response] = lambda _: httpx.Response(200)
    requests: list[httpx.Request] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.bodies.append(request.read())
        return self.respond(request)


class Streamed(httpx.SyncByteStream):
    """A response body that arrives in pieces, as from a socket (not already read)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def __iter__(self) -> Iterator[bytes]:
        yield from pieces(self._data, 1000)


def transfers_over(recorder: Recorder, **kwargs: object) -> SignedUrlTransfers:
    client = httpx.Client(transport=httpx.MockTransport(recorder), follow_redirects=True)
    return SignedUrlTransfers(client, **kwargs)  # type: ignore[arg-type]


def pieces(data: bytes, size: int = 7) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


# ---- the wire: a real socket sees Content-Length, never chunked ----------------------------


@dataclass
class RawCapture:
    head: bytes = b""
    body: bytes = b""


@pytest.fixture
def raw_server() -> Iterator[tuple[str, RawCapture]]:
    """A one-request HTTP server on loopback that records the bytes it receives."""
    capture = RawCapture()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            capture.head = head
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(rest) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                rest += chunk
            capture.body = rest
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/upload?sig=1", capture
    thread.join(timeout=60)
    listener.close()


def test_put_of_a_generator_goes_out_with_content_length_and_not_chunked(
    raw_server: tuple[str, RawCapture],
) -> None:
    url, capture = raw_server
    data = bytes(range(256)) * 1000
    with httpx.Client(timeout=60) as client:
        transfers = SignedUrlTransfers(client, allow_http_loopback=True)
        transfers.put(
            url,
            {"Content-Type": "application/pdf", "x-amz-meta-a": "1"},
            pieces(data, 4096),
            len(data),
        )
    head = capture.head.decode().lower()
    assert head.startswith("put /upload?sig=1 http/1.1")
    assert f"content-length: {len(data)}" in head
    assert "transfer-encoding" not in head
    assert "content-type: application/pdf" in head
    assert "x-amz-meta-a: 1" in head
    assert hashlib.sha256(capture.body).digest() == hashlib.sha256(data).digest()


# ---- PUT ------------------------------------------------------------------------------------


def test_put_sends_exactly_the_signed_headers_and_the_bytes() -> None:
    recorder = Recorder()
    transfers_over(recorder).put(AWS_URL, {"Content-Type": "image/png"}, pieces(b"0123456789"), 10)
    (request,) = recorder.requests
    assert request.method == "PUT"
    assert str(request.url) == AWS_URL
    assert request.headers["Content-Type"] == "image/png"
    assert request.headers["Content-Length"] == "10"
    assert "Transfer-Encoding" not in request.headers
    assert recorder.bodies == [b"0123456789"]


def test_put_refuses_a_stream_longer_than_the_declared_size() -> None:
    with pytest.raises(PermanentError, match="longer"):
        transfers_over(Recorder()).put(AWS_URL, {}, pieces(b"0123456789"), 9)


def test_put_refuses_a_stream_shorter_than_the_declared_size() -> None:
    with pytest.raises(PermanentError, match="ended after 10"):
        transfers_over(Recorder()).put(AWS_URL, {}, pieces(b"0123456789"), 11)


def test_put_refuses_signed_headers_that_declare_another_length() -> None:
    recorder = Recorder()
    with pytest.raises(PermanentError, match="expects 5 bytes"):
        transfers_over(recorder).put(AWS_URL, {"Content-Length": "5"}, [b"abc"], 3)
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (403, PermanentError),
        (400, PermanentError),
        (404, PermanentError),
        (408, TransientError),
        (429, TransientError),
        (500, TransientError),
        (503, TransientError),
    ],
)
def test_put_maps_http_status_to_the_error_tree(status: int, error: type[Exception]) -> None:
    recorder = Recorder(respond=lambda _: httpx.Response(status))
    with pytest.raises(error) as raised:
        transfers_over(recorder).put(AWS_URL, {}, [b"abc"], 3)
    assert raised.type is error
    assert getattr(raised.value, "code", "") == f"HTTP {status}"


def test_put_does_not_follow_a_redirect_even_when_the_client_would() -> None:
    recorder = Recorder(
        respond=lambda _: httpx.Response(307, headers={"Location": "https://evil.example/x"})
    )
    with pytest.raises(PermanentError, match="redirect"):
        transfers_over(recorder).put(AWS_URL, {}, [b"abc"], 3)
    assert [r.url.host for r in recorder.requests] == ["example-bucket.s3.us-east-1.amazonaws.com"]


def test_connection_failure_is_transient() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(TransientError) as raised:
        transfers_over(Recorder(respond=refuse)).put(AWS_URL, {}, [b"abc"], 3)
    assert isinstance(raised.value.__cause__, httpx.ConnectError)


# ---- GET ------------------------------------------------------------------------------------


def test_get_streams_the_stored_bytes_unchanged() -> None:
    data = b"%PDF-1.7 " + bytes(range(256)) * 50
    recorder = Recorder(respond=lambda _: httpx.Response(200, stream=Streamed(data)))
    with transfers_over(recorder).get(AWS_URL, expected_size=len(data)) as chunks:
        received = b"".join(chunks)
    assert received == data
    assert recorder.requests[0].headers["Accept-Encoding"] == "identity"


def test_get_refuses_a_body_of_another_length_than_expected() -> None:
    recorder = Recorder(respond=lambda _: httpx.Response(200, stream=Streamed(b"short")))
    with (
        pytest.raises(PermanentError, match="ended after 5"),
        transfers_over(recorder).get(AWS_URL, expected_size=6) as chunks,
    ):
        b"".join(chunks)


def test_get_of_an_expired_url_is_permanent() -> None:
    recorder = Recorder(respond=lambda _: httpx.Response(403, content=b"<Error>expired</Error>"))
    with pytest.raises(PermanentError, match="403"), transfers_over(recorder).get(AWS_URL):
        pytest.fail("the body of a refused download must not be handed out")


def test_get_does_not_follow_redirects() -> None:
    recorder = Recorder(
        respond=lambda _: httpx.Response(302, headers={"Location": "https://evil.example/"})
    )
    with pytest.raises(PermanentError, match="redirect"), transfers_over(recorder).get(AWS_URL):
        pytest.fail("a redirect must not be followed")
    assert len(recorder.requests) == 1


# ---- the allowlist --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example-bucket.s3.amazonaws.com/x",  # plain HTTP to AWS
        "https://example-bucket.s3.amazonaws.com:8443/x",  # odd port
        "https://example-bucket.s3.amazonaws.com./x",  # trailing dot
        "https://s3.amazonaws.com@evil.example/x",  # userinfo hides the real host
        "https://user:pw@example-bucket.s3.amazonaws.com/x",  # userinfo at all
        "https://amazonaws.com.evil.example/x",  # suffix used as a prefix
        "https://evilamazonaws.com/x",  # suffix without its dot
        "https://evil.example#.amazonaws.com/x",  # fragment hides the host
        "https://evil.example/#@example-bucket.s3.amazonaws.com",
        "https://evil.example\\.amazonaws.com/x",  # backslash read as a slash by some parsers
        "https://evil.example%2f.amazonaws.com/x",  # percent-encoded slash in the host
        "https://example-bucket.s3.amazonaws.com\t.evil.example/x",
        "https://exаmple.s3.amazonaws.com/x",  # Cyrillic а
        "https://93.184.216.34/x",  # IP literal
        "https://[2001:db8::1]/x",
        "https://169.254.169.254/latest/meta-data",
        "https://127.0.0.1/x",  # loopback, not allowed by default
        "http://127.0.0.1:9000/x",
        "http://localhost:9000/x",
        "ftp://example-bucket.s3.amazonaws.com/x",
        "file:///etc/passwd",
        "//example-bucket.s3.amazonaws.com/x",
        "",
    ],
)
def test_unsafe_urls_are_refused_before_any_request(url: str) -> None:
    recorder = Recorder()
    transfers = transfers_over(recorder)
    with pytest.raises(UnsafeUrl):
        transfers.put(url, {}, [b"abc"], 3)
    with pytest.raises(UnsafeUrl), transfers.get(url):
        pytest.fail("an unsafe URL must not be fetched")
    assert recorder.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://[::ffff:127.0.0.1]:9000/x",  # loopback in disguise is still not 127/8 or ::1
        "http://10.0.0.1:9000/x",
        "http://example-bucket.s3.amazonaws.com/x",
        "http://127.0.0.1.evil.example/x",
    ],
)
def test_loopback_mode_allows_plain_http_only_to_loopback(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        transfers_over(Recorder(), allow_http_loopback=True).check(url)


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        (AWS_URL, False),
        ("https://example-bucket.s3.amazonaws.com:443/x?X-Amz-Expires=60", False),
        ("https://bucket.s3.cn-north-1.amazonaws.com.cn/x", False),
        ("https://bucket.s3-eu-west-1.amazonaws.com/x", False),
        ("https://bucket.s3.dualstack.us-east-1.amazonaws.com/x", False),
        ("https://bucket.s3-fips.us-gov-west-1.amazonaws.com/x", False),
        ("https://s3.eu-west-2.amazonaws.com/bucket/x", False),
        ("https://s3.amazonaws.com/bucket/x", False),
        ("https://amazon-connect-0a1b2c.s3.ap-southeast-4.amazonaws.com/connect/x", False),
        ("http://127.0.0.1:9000/upload/abc?sig=1", True),
        ("http://127.9.9.9:9000/x", True),
        ("http://[::1]:9000/x", True),
        ("http://localhost:9000/x", True),
    ],
)
def test_allowed_urls_are_sent(url: str, loopback: bool) -> None:
    recorder = Recorder()
    transfers_over(recorder, allow_http_loopback=loopback).put(url, {}, [b"abc"], 3)
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "url",
    [
        "https://abc123.execute-api.us-east-1.amazonaws.com/prod/x",  # API Gateway
        "https://my-lb-123.eu-west-1.elb.amazonaws.com/x",  # a load balancer
        "https://participant.connect.eu-west-2.amazonaws.com/x",  # not where files live
        "https://ec2-1-2-3-4.compute-1.amazonaws.com/x",  # anyone's server
        "https://bucket.s3-website-us-east-1.amazonaws.com/x",  # a public website, not S3's API
        "https://bucket.s3.evil.amazonaws.com/x",  # no such region
        "https://s3.dualstack.us-east-1.api.aws/x",  # not an S3 shape
        "https://s3.amazonaws.com.evil.example/x",
    ],
)
def test_other_amazonaws_hosts_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl, match="not on the allowlist"):
        transfers_over(Recorder()).check(url)


def test_custom_suffixes_replace_the_default_allowlist() -> None:
    transfers = transfers_over(Recorder(), allowed_suffixes=("files.example.test",))
    assert transfers.check("https://eu.files.example.test/x").host == "eu.files.example.test"
    with pytest.raises(UnsafeUrl):
        transfers.check(AWS_URL)

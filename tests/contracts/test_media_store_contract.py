"""The MediaStore contract, run over the in-memory fake, the folder store and S3.

S3 runs three times: in-process (moto's ``mock_aws``), over real HTTP against moto's server on
127.0.0.1, so the streaming body and presigned links are exercised on a socket, and against the
sandbox's own S3 emulator (files on disk), which must agree with moto and the real client.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from tests.fakes import FakeClock, InMemoryMediaStore
from tests.moto_isolation import isolated_mock_aws, unique
from waconnect.adapters.aws.s3 import S3MediaStore
from waconnect.adapters.local.files import FileMediaStore
from waconnect.domain.media import StoredMedia
from waconnect.ports import MediaStore
from waconnect.sandbox.blobs import BlobStore
from waconnect.sandbox.s3_api import build_s3_app
from waconnect.sandbox.s3_store import S3Store
from waconnect.sandbox.server import ServerThread

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BUCKET = "waconnect-contract-media"
ONE_MB = os.urandom(1024 * 1024 + 123)


def chunked(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def read_all(store: MediaStore, media: StoredMedia) -> bytes:
    with store.open(media) as chunks:
        return b"".join(chunks)


def s3_client(endpoint_url: str | None = None) -> S3Client:
    return boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4"),
    )


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def sandbox_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = S3Store(BlobStore(tmp_path_factory.mktemp("sandbox-s3")))
    server = ServerThread(build_s3_app(store))
    port = server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(params=["in-memory", "folder", "s3-mock", "s3-server", "sandbox-s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MediaStore]:
    if request.param == "in-memory":
        yield InMemoryMediaStore()
    elif request.param == "folder":
        yield FileMediaStore(
            tmp_path / "media",
            link_base_url="http://127.0.0.1:8080/media",
            link_secret=b"contract-secret",
            clock=FakeClock(),
        )
    elif request.param == "s3-mock":
        with isolated_mock_aws():
            client = s3_client()
            bucket = unique(BUCKET)
            client.create_bucket(Bucket=bucket)
            yield S3MediaStore(client, bucket, prefix="bridge/")
    else:
        name = "moto_server" if request.param == "s3-server" else "sandbox_s3"
        endpoint = request.getfixturevalue(name)
        client = s3_client(endpoint)
        # Each test gets its own bucket: the server outlives the test.
        bucket = f"{BUCKET}-{abs(hash(request.node.nodeid)) % 10**8}"
        client.create_bucket(Bucket=bucket)
        yield S3MediaStore(client, bucket, prefix="bridge/")


def test_put_then_open_returns_the_same_bytes_and_description(store: MediaStore) -> None:
    stored = store.put(
        "inbound/wamid.1/photo.jpg",
        chunked(ONE_MB),
        content_type="image/jpeg",
        filename="Foto von Zoë.jpg",
    )
    assert stored.key == "inbound/wamid.1/photo.jpg"
    assert stored.size == len(ONE_MB)
    assert stored.sha256 == hashlib.sha256(ONE_MB).hexdigest()
    assert stored.content_type == "image/jpeg"
    assert stored.filename == "Foto von Zoë.jpg"
    assert read_all(store, stored) == ONE_MB


def test_open_streams_in_several_bounded_chunks(store: MediaStore) -> None:
    stored = store.put("big.bin", chunked(ONE_MB), content_type="application/octet-stream")
    with store.open(stored) as chunks:
        sizes = [len(chunk) for chunk in chunks]
    assert len(sizes) > 1
    assert max(sizes) <= 1024 * 1024
    assert sum(sizes) == len(ONE_MB)


def test_empty_file_round_trips(store: MediaStore) -> None:
    stored = store.put("empty.txt", iter(()), content_type="text/plain")
    assert stored.size == 0
    assert stored.sha256 == hashlib.sha256(b"").hexdigest()
    assert read_all(store, stored) == b""


def test_put_replaces_the_file_under_the_same_key(store: MediaStore) -> None:
    store.put("doc.pdf", [b"old version"], content_type="application/pdf", filename="a.pdf")
    newer = store.put("doc.pdf", [b"new"], content_type="application/pdf", filename="b.pdf")
    assert read_all(store, newer) == b"new"
    assert store.find("doc.pdf") == newer


def test_find_returns_what_put_returned_for_a_key_prefix(store: MediaStore) -> None:
    # EUM writes the customer's file at <key><mediaId>, perhaps with an extension added.
    stored = store.put(
        "inbound/wamid.2/1234567890.ogg", [b"OggS", b"..."], content_type="audio/ogg"
    )
    assert store.find("inbound/wamid.2/1234567890") == stored
    assert store.find("inbound/wamid.2/") == stored


def test_find_picks_the_first_key_in_sorted_order(store: MediaStore) -> None:
    store.put("out/b.png", [b"b"], content_type="image/png")
    first = store.put("out/a.png", [b"a"], content_type="image/png")
    store.put("out/c.png", [b"c"], content_type="image/png")
    assert store.find("out/") == first


def test_find_gives_none_when_nothing_starts_with_the_prefix(store: MediaStore) -> None:
    store.put("inbound/wamid.3/file.pdf", [b"%PDF"], content_type="application/pdf")
    assert store.find("inbound/wamid.4/") is None
    assert store.find("nothing-here/") is None


def test_link_is_a_url_that_names_the_file(store: MediaStore) -> None:
    stored = store.put("links/report.pdf", [b"%PDF-1.7"], content_type="application/pdf")
    url = store.link(stored, expires_in=300)
    parts = urlsplit(url)
    assert parts.scheme in {"http", "https", "file"}
    assert "report.pdf" in parts.path

"""S3MediaStore beyond the contract: multipart uploads, aborts, links fetched over HTTP."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import httpx
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer
from tests.moto_isolation import isolated_mock_aws

from waconnect.adapters.aws.s3 import MIN_PART_SIZE, S3MediaStore
from waconnect.domain.media import StoredMedia
from waconnect.errors import PermanentError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BUCKET = "waconnect-s3-tests"


def make_client(endpoint_url: str | None = None) -> S3Client:
    return boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4", retries={"total_max_attempts": 1}),
    )


def chunked(data: bytes, size: int = 256 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.fixture
def client() -> Iterator[S3Client]:
    with isolated_mock_aws():
        s3 = make_client()
        s3.create_bucket(Bucket=BUCKET)
        yield s3
        # The mock keeps its state (see tests/moto_isolation.py): leave nothing behind.
        for upload in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
        for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])
        s3.delete_bucket(Bucket=BUCKET)


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_large_file_goes_up_in_parts_and_reads_back_whole(client: S3Client) -> None:
    data = os.urandom(2 * MIN_PART_SIZE + 12345)
    store = S3MediaStore(client, BUCKET, prefix="bridge/", part_size=MIN_PART_SIZE)
    stored = store.put("in/video.mp4", chunked(data), content_type="video/mp4", filename="v.mp4")
    head = client.head_object(Bucket=BUCKET, Key="bridge/in/video.mp4")
    assert head["ETag"].strip('"').endswith("-3")  # three parts: two full, one remainder
    assert head["ContentType"] == "video/mp4"
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    with store.open(stored) as chunks:
        assert hashlib.sha256(b"".join(chunks)).hexdigest() == stored.sha256
    assert store.find("in/video") == stored


def test_failed_stream_aborts_the_multipart_upload(client: S3Client) -> None:
    store = S3MediaStore(client, BUCKET, part_size=MIN_PART_SIZE)

    def broken() -> Iterator[bytes]:
        yield os.urandom(MIN_PART_SIZE + 1)
        raise ConnectionResetError("source went away")

    with pytest.raises(ConnectionResetError):
        store.put("in/broken.bin", broken(), content_type="application/octet-stream")
    assert client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert store.find("in/broken") is None


def test_keys_are_relative_to_the_prefix(client: S3Client) -> None:
    ours = S3MediaStore(client, BUCKET, prefix="tenant-a/")
    theirs = S3MediaStore(client, BUCKET, prefix="tenant-b/")
    theirs.put("in/x.txt", [b"not ours"], content_type="text/plain")
    assert ours.find("in/") is None
    stored = ours.put("in/x.txt", [b"ours"], content_type="text/plain")
    assert stored.key == "in/x.txt"
    assert client.get_object(Bucket=BUCKET, Key="tenant-a/in/x.txt")["Body"].read() == b"ours"


def test_object_written_by_someone_else_is_found_with_its_type(client: S3Client) -> None:
    # What End User Messaging leaves behind: no metadata of ours, an extension it chose.
    client.put_object(
        Bucket=BUCKET,
        Key="media/wamid.7/987654321.jpeg",
        Body=b"\xff\xd8\xff",
        ContentType="image/jpeg",
    )
    store = S3MediaStore(client, BUCKET, prefix="media/")
    found = store.find("wamid.7/987654321")
    assert found == StoredMedia(key="wamid.7/987654321.jpeg", size=3, content_type="image/jpeg")


def test_opening_a_missing_object_is_a_permanent_error(client: S3Client) -> None:
    store = S3MediaStore(client, BUCKET)
    missing = StoredMedia(key="nothing.bin", size=1, content_type="application/octet-stream")
    with pytest.raises(PermanentError), store.open(missing):
        pass


def test_part_size_under_s3s_minimum_is_refused(client: S3Client) -> None:
    with pytest.raises(ValueError, match="part_size"):
        S3MediaStore(client, BUCKET, part_size=1024)


def test_link_downloads_the_file_over_http_with_its_name(server_url: str) -> None:
    client = make_client(server_url)
    client.create_bucket(Bucket="link-bucket")
    store = S3MediaStore(client, "link-bucket", prefix="bridge/")
    data = os.urandom(300_000)
    stored = store.put(
        "out/report.pdf", chunked(data, 4096), content_type="application/pdf", filename="Zoë.pdf"
    )
    url = store.link(stored, expires_in=120)
    assert url.startswith(server_url)
    with httpx.Client(timeout=60) as http:
        response = http.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert "UTF-8''Zo%C3%AB.pdf" in response.headers["content-disposition"]


def test_link_expiry_outside_sigv4_limits_is_refused(client: S3Client) -> None:
    store = S3MediaStore(client, BUCKET)
    stored = store.put("a.txt", [b"a"], content_type="text/plain")
    with pytest.raises(ValueError, match="expires_in"):
        store.link(stored, expires_in=8 * 24 * 3600)

"""The sandbox's S3 (objects as files on disk) answers boto3 as S3 does, for what the bridge uses.

The media store contract (tests/contracts/test_media_store_contract.py) runs the bridge's S3
store against it beside moto; these tests pin the edges that contract does not reach.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from waconnect.sandbox import defaults
from waconnect.sandbox.cloud import Cloud

BUCKET = defaults.MEDIA_BUCKET
ODD_KEYS = ["we ird/%41+b=c&d?.txt", "ünï/çødé.ogg", "inbound/wamid.FQIAERgA==/media.ogg"]


@pytest.fixture(scope="module")
def s3(cloud: Cloud) -> Any:
    return cloud.client("s3")


@pytest.mark.parametrize("key", ODD_KEYS)
def test_any_key_is_stored_listed_and_read_back_as_written(s3: Any, key: str) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"payload", ContentType="audio/ogg")

    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=key[:4])["Contents"]
    head = s3.head_object(Bucket=BUCKET, Key=key)
    got = s3.get_object(Bucket=BUCKET, Key=key)

    assert key in [item["Key"] for item in listed]
    assert (head["ContentLength"], head["ContentType"]) == (7, "audio/ogg")
    assert got["Body"].read() == b"payload"
    assert head["ETag"] == f'"{hashlib.md5(b"payload").hexdigest()}"'


def test_a_range_reads_only_those_bytes(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="ranged", Body=bytes(range(256)) * 4)

    got = s3.get_object(Bucket=BUCKET, Key="ranged", Range="bytes=10-19")

    assert got["Body"].read() == bytes(range(10, 20))
    assert got["ContentRange"] == "bytes 10-19/1024"


def test_missing_keys_and_buckets_answer_as_s3_does(s3: Any) -> None:
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket=BUCKET, Key="never-written")
    with pytest.raises(ClientError) as head:
        s3.head_object(Bucket=BUCKET, Key="never-written")
    with pytest.raises(ClientError) as bucket:
        s3.put_object(Bucket="no-such-bucket", Key="k", Body=b"x")

    assert missing.value.response["Error"]["Code"] == "NoSuchKey"
    assert head.value.response["Error"]["Code"] == "404"
    assert bucket.value.response["Error"]["Code"] == "NoSuchBucket"


def test_a_multipart_upload_joins_its_listed_parts_and_refuses_a_wrong_etag(s3: Any) -> None:
    first, last = b"a" * (5 * 1024 * 1024), b"tail"
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="joined", ContentType="audio/wav")
    upload_id = upload["UploadId"]
    etags = [
        s3.upload_part(
            Bucket=BUCKET, Key="joined", UploadId=upload_id, PartNumber=number, Body=body
        )["ETag"]
        for number, body in ((1, first), (2, last))
    ]

    with pytest.raises(ClientError) as wrong:
        s3.complete_multipart_upload(
            Bucket=BUCKET,
            Key="joined",
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"ETag": '"00"', "PartNumber": 1}]},
        )
    s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key="joined",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"ETag": e, "PartNumber": n} for n, e in enumerate(etags, 1)]},
    )

    assert wrong.value.response["Error"]["Code"] == "InvalidPart"
    got = s3.get_object(Bucket=BUCKET, Key="joined")
    assert got["ContentType"] == "audio/wav"
    assert hashlib.sha256(got["Body"].read()).digest() == hashlib.sha256(first + last).digest()
    assert got["ETag"].endswith('-2"')


def test_an_aborted_upload_is_gone(s3: Any) -> None:
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key="aborted")["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key="aborted", UploadId=upload_id, PartNumber=1, Body=b"x")
    s3.abort_multipart_upload(Bucket=BUCKET, Key="aborted", UploadId=upload_id)

    with pytest.raises(ClientError) as gone:
        s3.upload_part(Bucket=BUCKET, Key="aborted", UploadId=upload_id, PartNumber=2, Body=b"y")

    assert gone.value.response["Error"]["Code"] == "NoSuchUpload"


def test_tags_and_metadata_come_back(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="tagged", Body=b"x", Metadata={"filename": "Zo%C3%AB.pdf"})
    s3.put_object_tagging(
        Bucket=BUCKET, Key="tagged", Tagging={"TagSet": [{"Key": "sha256", "Value": "ab<&>"}]}
    )

    assert s3.head_object(Bucket=BUCKET, Key="tagged")["Metadata"] == {"filename": "Zo%C3%AB.pdf"}
    assert s3.get_object_tagging(Bucket=BUCKET, Key="tagged")["TagSet"] == [
        {"Key": "sha256", "Value": "ab<&>"}
    ]


def test_a_presigned_link_downloads_under_the_name_it_sets(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="linked", Body=b"file")
    url = s3.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": BUCKET,
            "Key": "linked",
            "ResponseContentDisposition": 'attachment; filename="setup.pdf"',
        },
    )

    response = httpx.get(url, timeout=60)

    assert response.status_code == 200
    assert response.content == b"file"
    assert response.headers["content-disposition"] == 'attachment; filename="setup.pdf"'


def test_an_aws_chunked_body_is_stored_without_its_framing(cloud: Cloud, s3: Any) -> None:
    # What botocore sends for a streaming checksum: signed chunks, a zero chunk, trailers.
    body = b"5;chunk-signature=aa\r\nhello\r\n6;chunk-signature=bb\r\n world\r\n0\r\n"
    body += b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n"
    response = httpx.put(
        f"{cloud.s3_endpoint_url}/{BUCKET}/chunked",
        content=body,
        headers={
            "Content-Encoding": "aws-chunked",
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "x-amz-decoded-content-length": "11",
        },
    )

    assert response.status_code == 200
    assert s3.get_object(Bucket=BUCKET, Key="chunked")["Body"].read() == b"hello world"

"""moto's in-process mock without wiping the state of moto servers running in this process.

``mock_aws()`` resets every moto backend when it starts and stops. The sandbox's S3 is moto's
server running in-process (sharing those backends), so a plain ``mock_aws()`` in one test would
delete the buckets of a Cloud another test still uses. Tests that use this mock name their
buckets and tables uniquely instead of relying on a reset.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3
from moto import mock_aws

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@contextmanager
def isolated_mock_aws() -> Iterator[None]:
    mock = mock_aws()
    mock.start(reset=False)
    try:
        yield
    finally:
        mock.stop(remove_data=False)


def unique(name: str) -> str:
    """A resource name no other test in this process uses."""
    return f"{name}-{uuid.uuid4().hex[:10]}"


@contextmanager
def mocked_dynamodb_table(
    name: str, definition: Callable[[str], dict[str, Any]]
) -> Iterator[tuple[DynamoDBClient, str]]:
    """A client of the in-process mock and a fresh table in it, named uniquely after ``name``."""
    with isolated_mock_aws():
        client = boto3.client(
            "dynamodb",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        table = unique(name)
        client.create_table(**definition(table))
        yield client, table

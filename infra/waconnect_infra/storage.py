"""Where the bridge keeps state and files: three DynamoDB tables and the media bucket.

The tables are made from the same ``CreateTable`` definitions the DynamoDB adapter and its tests
use (``waconnect.adapters.aws.dynamodb``), so the code and the stack cannot drift apart: a key, an
attribute or an index added there appears here at the next synth.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from waconnect.adapters.aws.dynamodb import (
    TTL_ATTRIBUTE,
    ledger_table_definition,
    message_log_table_definition,
    session_table_definition,
)

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
_PROJECTIONS = {
    "ALL": dynamodb.ProjectionType.ALL,
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
    "INCLUDE": dynamodb.ProjectionType.INCLUDE,
}


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One table of the bridge: its definition and whether its items expire by TTL."""

    name: str
    definition: Callable[[str], dict[str, Any]]
    expires: bool

    @property
    def index_names(self) -> tuple[str, ...]:
        indexes = self.definition("unused").get("GlobalSecondaryIndexes", [])
        return tuple(index["IndexName"] for index in indexes)


TABLES = (
    TableSpec("Sessions", session_table_definition, expires=False),
    TableSpec("Ledger", ledger_table_definition, expires=True),
    TableSpec("MessageLog", message_log_table_definition, expires=True),
)


def _key(
    definition: Mapping[str, Any], key_schema: list[Mapping[str, str]], key_type: str
) -> dynamodb.Attribute | None:
    types = {a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]}
    for element in key_schema:
        if element["KeyType"] == key_type:
            name = element["AttributeName"]
            return dynamodb.Attribute(name=name, type=_ATTRIBUTE_TYPES[types[name]])
    return None


def table_from_definition(
    scope: Construct, spec: TableSpec, *, removal_policy: RemovalPolicy
) -> dynamodb.Table:
    """An on-demand, encrypted, point-in-time-recoverable table shaped like ``spec.definition``."""
    definition = spec.definition("unused")
    if definition.get("BillingMode", "PAY_PER_REQUEST") != "PAY_PER_REQUEST":
        raise ValueError(f"{spec.name}: the stack makes on-demand tables only")
    table = dynamodb.Table(
        scope,
        spec.name,
        partition_key=_key(definition, definition["KeySchema"], "HASH"),
        sort_key=_key(definition, definition["KeySchema"], "RANGE"),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        time_to_live_attribute=TTL_ATTRIBUTE if spec.expires else None,
        removal_policy=removal_policy,
    )
    for index in definition.get("GlobalSecondaryIndexes", []):
        projection = index.get("Projection", {"ProjectionType": "ALL"})
        table.add_global_secondary_index(
            index_name=index["IndexName"],
            partition_key=_key(definition, index["KeySchema"], "HASH"),
            sort_key=_key(definition, index["KeySchema"], "RANGE"),
            projection_type=_PROJECTIONS[projection["ProjectionType"]],
            non_key_attributes=projection.get("NonKeyAttributes"),
        )
    return table


@dataclass(frozen=True, slots=True)
class Tables:
    sessions: dynamodb.Table
    ledger: dynamodb.Table
    message_log: dynamodb.Table

    @property
    def all(self) -> tuple[dynamodb.Table, ...]:
        return (self.sessions, self.ledger, self.message_log)

    @property
    def state_setting(self) -> str:
        """``WACONNECT_STATE`` for these tables."""
        names = ",".join(table.table_name for table in self.all)
        return f"dynamodb:{names}"


def make_tables(scope: Construct) -> Tables:
    sessions, ledger, log = (
        table_from_definition(scope, spec, removal_policy=RemovalPolicy.RETAIN) for spec in TABLES
    )
    return Tables(sessions=sessions, ledger=ledger, message_log=log)


def make_media_bucket(scope: Construct, *, expiry_days: int) -> s3.Bucket:
    """The media bucket: private, TLS only, encrypted, files expire; kept when the stack goes."""
    access_logs = s3.Bucket(
        scope,
        "MediaAccessLogs",
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
        removal_policy=RemovalPolicy.RETAIN,
        auto_delete_objects=False,
    )
    return s3.Bucket(
        scope,
        "Media",
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        versioned=False,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix="media/",
        lifecycle_rules=[
            s3.LifecycleRule(
                id="expire-media",
                expiration=Duration.days(expiry_days),
                abort_incomplete_multipart_upload_after=Duration.days(1),
            )
        ],
        removal_policy=RemovalPolicy.RETAIN,
        auto_delete_objects=False,
    )

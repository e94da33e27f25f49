"""The roles grant every AWS call the code makes: a new call without its permission fails here.

Each adapter's SDK calls are read from its source and turned into IAM actions with botocore's own
operation names, then looked up in the synthesized roles of the functions that run that code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "waconnect"
# IAM authorizes these S3 operations under another action.
S3_ACTIONS = {
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "HeadObject": "GetObject",
    "ListObjectsV2": "ListBucket",
}
# (IAM prefix, boto3 service, source files, client attribute, functions running that code)
CALLERS = [
    (
        "dynamodb",
        "dynamodb",
        [
            "adapters/aws/dynamodb.py",
            "adapters/aws/dynamodb_ledger.py",
            "adapters/aws/dynamodb_transcripts.py",
        ],
        "_client",
        ["Inbound", "Outbound", "Transcribed"],
    ),
    ("s3", "s3", ["adapters/aws/s3.py"], "_client", ["Inbound", "Outbound", "Transcribed"]),
    # The transcript file Transcribe wrote, read back.
    ("s3", "s3", ["adapters/aws/transcribe.py"], "_s3", ["Transcribed"]),
    ("connect", "connect", ["adapters/aws/connect.py"], "_connect", ["Inbound"]),
    (
        "sqs",
        "sqs",
        [
            "entrypoints/lambda_handlers/consuming.py",
            "entrypoints/lambda_handlers/runtime.py",
            "entrypoints/lambda_handlers/job_changes.py",
        ],
        "sqs",
        ["Inbound", "Outbound", "Transcribed"],
    ),
    ("sqs", "sqs", ["entrypoints/lambda_handlers/functions.py"], "sqs", ["Ingest", "AgentIngest"]),
    # Each started transcription job's delayed check, onto the queue of ``transcribed``.
    ("sqs", "sqs", ["adapters/aws/sqs_follow_ups.py"], "_sqs", ["Inbound"]),
]


def iam_actions(prefix: str, service: str, files: list[str], attribute: str) -> set[str]:
    client = boto3.session.Session().client(
        service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    mapping = client.meta.method_to_api_mapping
    actions = set()
    for name in files:
        source = (SRC / name).read_text()
        for method in re.findall(rf"\b{attribute}\.(\w+)\(", source):
            if method == "generate_presigned_url":
                # A presigned URL carries the role's permission for the operation it names.
                for operation in re.findall(r'generate_presigned_url\(\s*"(\w+)"', source):
                    actions.add(S3_ACTIONS.get(mapping[operation], mapping[operation]))
                continue
            api = mapping[method]
            if prefix == "sqs" and api == "SendMessageBatch":
                api = "SendMessage"  # SQS authorizes a batch as its single operation
            actions.add(S3_ACTIONS.get(api, api) if prefix == "s3" else api)
    assert actions, f"no {service} calls found in {files}: has the client attribute moved?"
    return {f"{prefix}:{action}" for action in actions}


def granted_by_function(template: Any) -> dict[str, set[str]]:
    grants: dict[str, set[str]] = {}
    for name, policy in template.find_resources("AWS::IAM::Policy").items():
        function = name.split("Role")[0]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            grants.setdefault(function, set()).update(
                [actions] if isinstance(actions, str) else actions
            )
    return grants


@pytest.mark.parametrize("caller", CALLERS, ids=[f"{c[0]}-{'-'.join(c[4])}" for c in CALLERS])
def test_every_call_is_granted_to_the_functions_that_make_it(
    template: Any, caller: tuple[str, str, list[str], str, list[str]]
) -> None:
    prefix, service, files, attribute, functions = caller
    needed = iam_actions(prefix, service, files, attribute)
    grants = granted_by_function(template)
    for function in functions:
        # The event source mapping's own grant (receive, delete) is on the same role.
        missing = needed - grants.get(function, set())
        assert not missing, f"{function} lacks {sorted(missing)}"


def test_the_calls_are_read_as_iam_actions() -> None:
    assert iam_actions("dynamodb", "dynamodb", ["adapters/aws/dynamodb.py"], "_client") >= {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
    }
    s3 = iam_actions("s3", "s3", ["adapters/aws/s3.py"], "_client")
    assert "s3:PutObject" in s3
    assert "s3:GetObject" in s3  # presigned GET and HeadObject
    assert not any("Multipart" in action and "Abort" not in action for action in s3)


def test_whatsapp_calls_are_granted_between_the_two_consumers(template: Any) -> None:
    needed = iam_actions("social-messaging", "socialmessaging", ["adapters/aws/eum.py"], "_client")
    grants = granted_by_function(template)
    assert needed <= grants["Inbound"] | grants["Outbound"]


def test_agent_ingest_touches_no_state(template: Any) -> None:
    grants = granted_by_function(template)
    assert not {a for a in grants["AgentIngest"] if a.startswith(("dynamodb:", "s3:", "connect:"))}


def test_ingest_reads_and_links_sessions_and_reads_the_ledger_and_nothing_more(
    template: Any,
) -> None:
    grants: dict[str, set[str]] = {}
    for name, policy in template.find_resources("AWS::IAM::Policy").items():
        if not name.startswith("IngestRole"):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                if action.startswith(("dynamodb:", "s3:", "connect:")):
                    grants[action] = {json.dumps(r) for r in _listed(statement["Resource"])}
    tables = {
        # Logical ids are the construct's name and a hash: "Sessions1A2B3C4D".
        name.rstrip("0123456789ABCDEF"): json.dumps({"Fn::GetAtt": [name, "Arn"]})
        for name in template.find_resources("AWS::DynamoDB::Table")
    }
    assert grants == {
        "dynamodb:GetItem": {tables["Sessions"]},
        "dynamodb:PutItem": {tables["Sessions"]},
        "dynamodb:BatchGetItem": {tables["Ledger"]},
    }


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_transcribe_calls_are_granted_to_the_function_that_makes_each(template: Any) -> None:
    needed = iam_actions("transcribe", "transcribe", ["adapters/aws/transcribe.py"], "_transcribe")
    assert needed == {"transcribe:StartTranscriptionJob", "transcribe:GetTranscriptionJob"}
    grants = granted_by_function(template)
    # inbound starts a voice note's job; transcribed reads it when its state change comes.
    assert "transcribe:StartTranscriptionJob" in grants["Inbound"]
    assert "transcribe:GetTranscriptionJob" in grants["Transcribed"]
    assert not {a for a in grants["Outbound"] if a.startswith("transcribe:")}

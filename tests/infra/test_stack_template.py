"""The synthesized stack has the topology, durability and security the deployment relies on."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match

from tests.infra.conftest import EUM_HEX, FLOW_ID, INSTANCE_ID


def resources(template: Any, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = template.find_resources(kind)
    return found


def test_two_fifo_queues_each_redrive_to_a_fifo_dead_letter_queue(template: Any) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    work = {
        k: v["Properties"]
        for k, v in queues.items()
        if "RedrivePolicy" in v["Properties"] and v["Properties"].get("FifoQueue")
    }
    assert len(work) == 2
    for props in work.values():
        assert props["FifoQueue"] is True
        assert props["ContentBasedDeduplication"] is False
        target = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert queues[target]["Properties"]["FifoQueue"] is True
        # Sized so a record waiting out the whole retry schedule is never dead-lettered early.
        assert props["RedrivePolicy"]["maxReceiveCount"] == 107
        assert props["MessageRetentionPeriod"] == 14 * 24 * 3600
    timeouts = sorted(props["VisibilityTimeout"] for props in work.values())
    assert timeouts == [6 * 120, 6 * 180]  # six times the outbound and inbound function timeouts


def test_every_queue_is_encrypted_and_refuses_plain_http(template: Any) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    # 3 work queues (2 FIFO, the transcription queue), their 3 dead-letter queues, and the
    # failure queues of the 2 SNS-invoked functions
    assert len(queues) == 8
    for props in (q["Properties"] for q in queues.values()):
        assert props["SqsManagedSseEnabled"] is True
    policies = resources(template, "AWS::SQS::QueuePolicy")
    covered = set()
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        if any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ):
            covered.update(q["Ref"] for q in policy["Properties"]["Queues"])
    assert covered == set(queues)


def test_event_source_mappings_report_partial_failures_and_cap_concurrency(template: Any) -> None:
    mappings = resources(template, "AWS::Lambda::EventSourceMapping")
    assert len(mappings) == 3
    concurrency = sorted(
        m["Properties"]["ScalingConfig"]["MaximumConcurrency"] for m in mappings.values()
    )
    # outbound by default; inbound from context, and transcribed paced like inbound
    assert concurrency == [2, 3, 3]
    for mapping in mappings.values():
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["Properties"]["BatchSize"] <= 10


def test_alarms_watch_every_dead_letter_queue_and_the_oldest_record(template: Any) -> None:
    alarms = [a["Properties"] for a in resources(template, "AWS::CloudWatch::Alarm").values()]
    depth = [a for a in alarms if a["MetricName"] == "ApproximateNumberOfMessagesVisible"]
    age = [a for a in alarms if a["MetricName"] == "ApproximateAgeOfOldestMessage"]
    # three dead-letter queues (two FIFO, the transcription queue's), two failure queues
    assert len(depth) == 5
    assert len(age) == 3
    assert all(a["Threshold"] == 1 for a in depth)
    assert all(a["Threshold"] == 30 * 60 for a in age)
    assert all(len(a["AlarmActions"]) == 1 for a in alarms)
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )


def test_tables_are_on_demand_encrypted_recoverable_and_expire_by_a_number(template: Any) -> None:
    tables = resources(template, "AWS::DynamoDB::Table")
    assert len(tables) == 3
    ttl = []
    for table in tables.values():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["SSESpecification"] == {"SSEEnabled": True}
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert table["DeletionPolicy"] == "Retain"
        if "TimeToLiveSpecification" in props:
            ttl.append(props["TimeToLiveSpecification"]["AttributeName"])
    assert ttl == ["expires_at", "expires_at"]  # ledger and message log; sessions do not expire


def test_tables_match_the_adapters_create_table_definitions(template: Any) -> None:
    from waconnect.adapters.aws.dynamodb import (
        ledger_table_definition,
        message_log_table_definition,
        session_table_definition,
    )

    synthesized = sorted(
        (
            json.dumps(t["Properties"]["KeySchema"], sort_keys=True),
            json.dumps(sorted(t["Properties"]["AttributeDefinitions"], key=str), sort_keys=True),
            json.dumps(t["Properties"].get("GlobalSecondaryIndexes", []), sort_keys=True),
        )
        for t in resources(template, "AWS::DynamoDB::Table").values()
    )
    expected = sorted(
        (
            json.dumps(d["KeySchema"], sort_keys=True),
            json.dumps(sorted(d["AttributeDefinitions"], key=str), sort_keys=True),
            json.dumps(d.get("GlobalSecondaryIndexes", []), sort_keys=True),
        )
        for d in (
            session_table_definition("x"),
            ledger_table_definition("x"),
            message_log_table_definition("x"),
        )
    )
    assert synthesized == expected


def test_media_bucket_is_private_tls_only_encrypted_and_expires_files(template: Any) -> None:
    template.has_resource(
        "AWS::S3::Bucket",
        {
            "Properties": Match.object_like(
                {
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "BucketEncryption": Match.any_value(),
                    "LifecycleConfiguration": {
                        "Rules": Match.array_with(
                            [Match.object_like({"ExpirationInDays": 30, "Status": "Enabled"})]
                        )
                    },
                    "LoggingConfiguration": Match.any_value(),
                }
            ),
            "DeletionPolicy": "Retain",
        },
    )
    # autoDeleteObjects off: no custom resource empties the bucket.
    assert resources(template, "Custom::S3AutoDeleteObjects") == {}
    for policy in resources(template, "AWS::S3::BucketPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )


def _statements(template: Any) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, policy in resources(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            found.append((name, statement))
    return found


def test_no_iam_statement_grants_a_wildcard_action(template: Any) -> None:
    statements = _statements(template)
    assert statements
    for name, statement in statements:
        actions = statement["Action"]
        for action in [actions] if isinstance(actions, str) else actions:
            assert "*" not in action, (name, action)
        assert statement["Resource"] != "*", name


def _granted(template: Any, action: str) -> list[str]:
    """Every resource (rendered as JSON) an IAM statement grants ``action`` on."""
    result = []
    for _, statement in _statements(template):
        actions = statement["Action"]
        if action in ([actions] if isinstance(actions, str) else actions):
            res = statement["Resource"]
            result.extend(json.dumps(r) for r in (res if isinstance(res, list) else [res]))
    return result


def test_connect_is_scoped_to_the_instance_its_flow_and_contacts(template: Any) -> None:
    starts = _granted(template, "connect:StartChatContact")
    assert len(starts) == 2
    assert any(f"instance/{INSTANCE_ID}/contact-flow/{FLOW_ID}" in r for r in starts)
    assert any(f"instance/{INSTANCE_ID}/contact/*" in r for r in starts)
    streaming = _granted(template, "connect:StartContactStreaming")
    assert streaming
    assert all(f"instance/{INSTANCE_ID}/contact/*" in r for r in streaming)


def test_whatsapp_calls_are_scoped_to_the_configured_phone_numbers(template: Any) -> None:
    for action in (
        "social-messaging:SendWhatsAppMessage",
        "social-messaging:GetWhatsAppMessageMedia",
        "social-messaging:PostWhatsAppMessageMedia",
    ):
        granted = _granted(template, action)
        assert granted, action
        assert all(f"phone-number-id/{EUM_HEX}" in r for r in granted), action


def test_consumers_may_dead_letter_only_into_their_own_dead_letter_queue(template: Any) -> None:
    sends = _granted(template, "sqs:SendMessage")
    # ingest → Inbound, agent_ingest → Outbound, inbound and outbound → their dead-letter queues,
    # plus the failure queues Lambda and EventBridge write to.
    assert any("InboundDeadLetters" in r for r in sends)
    assert any("OutboundDeadLetters" in r for r in sends)
    for name, statement in _statements(template):
        actions = statement["Action"]
        if "sqs:SendMessage" in actions and "DeadLetters" in json.dumps(statement["Resource"]):
            assert ("Inbound" in name) == (
                "InboundDeadLetters" in json.dumps(statement["Resource"])
            )


def test_s3_and_transcribe_are_scoped_to_the_prefixes(template: Any) -> None:
    objects = _granted(template, "s3:PutObject")
    assert objects
    assert all("/media/*" in r for r in objects)
    jobs = _granted(template, "transcribe:StartTranscriptionJob")
    assert jobs
    assert all("transcription-job/waconnect-*" in r for r in jobs)


def test_topics_are_encrypted_and_publishable_only_by_their_source(template: Any) -> None:
    topics = resources(template, "AWS::SNS::Topic")
    assert len(topics) == 3
    assert all("KmsMasterKeyId" in t["Properties"] for t in topics.values())
    publishers = {}
    for policy in resources(template, "AWS::SNS::TopicPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Allow":
                condition = statement["Condition"]
                assert "aws:SourceAccount" in condition["StringEquals"]
                publishers[statement["Principal"]["Service"]] = json.dumps(
                    condition["ArnLike"]["aws:SourceArn"]
                )
    assert set(publishers) == {
        "social-messaging.amazonaws.com",
        "connect.amazonaws.com",
        "cloudwatch.amazonaws.com",
    }
    assert f"instance/{INSTANCE_ID}" in publishers["connect.amazonaws.com"]
    assert ":social-messaging:" in publishers["social-messaging.amazonaws.com"]


def test_functions_run_the_agreed_handlers_on_arm64(template: Any) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    handlers = {
        f["Properties"]["Handler"]
        for f in functions.values()
        if f["Properties"]["Handler"].startswith("waconnect.")
    }
    assert handlers == {
        f"waconnect.entrypoints.lambda_handlers.{name}"
        for name in ("ingest", "inbound", "agent_ingest", "outbound", "transcribed")
    }
    for f in functions.values():
        if f["Properties"]["Handler"].startswith("waconnect."):
            assert f["Properties"]["Architectures"] == ["arm64"]
            env = f["Properties"]["Environment"]["Variables"]
            assert env["WACONNECT_CONNECT_INSTANCE_ID"] == INSTANCE_ID
            assert env["WACONNECT_TRANSCRIPTION"] == "transcribe"
            assert (
                env["WACONNECT_EUM_PHONE_NUMBERS"] == f"107000000000001=phone-number-id-{EUM_HEX}"
            )
            assert "Fn::Join" in env["WACONNECT_STATE"]
            assert {"WACONNECT_INBOUND_QUEUE_URL", "WACONNECT_OUTBOUND_QUEUE_URL"} <= set(env)


def test_transcribe_job_state_changes_reach_the_transcribed_function_through_a_queue(
    template: Any,
) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    (queue_id,) = (k for k in queues if k.startswith("TranscriptionQueue"))
    (dead_id,) = (k for k in queues if k.startswith("TranscriptionDeadLetters"))
    props = queues[queue_id]["Properties"]
    assert "FifoQueue" not in props  # a standard queue: jobs end in any order
    assert props["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dead_id, "Arn"]},
        "maxReceiveCount": 107,  # the same schedule as the other consumers
    }
    assert props["VisibilityTimeout"] == 6 * 60  # six times the function's timeout
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.transcribe"],
                "detail-type": ["Transcribe Job State Change"],
                "detail": {
                    "TranscriptionJobStatus": ["COMPLETED", "FAILED"],
                    "TranscriptionJobName": [{"prefix": "waconnect-"}],
                },
            },
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Fn::GetAtt": [queue_id, "Arn"]},
                        "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [dead_id, "Arn"]}},
                    }
                )
            ],
        },
    )
    # Only this rule may put events on the queue.
    sends = [
        statement
        for policy in resources(template, "AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in policy["Properties"]["Queues"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    assert len(sends) == 1
    assert "aws:SourceArn" in json.dumps(sends[0]["Condition"])
    (mapping,) = (
        m["Properties"]
        for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    )
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["FunctionName"]["Ref"].startswith("TranscribedFunction")
    # What ``waconnect dlq list|redrive transcribed`` needs: the queue (its dead-letter queue is
    # found from its RedrivePolicy) and, for a look by hand, the dead-letter queue itself.
    outputs = template.find_outputs("*")
    assert outputs["TranscriptionQueueUrl"]["Value"] == {"Ref": queue_id}
    assert outputs["TranscriptionDeadLetterQueueUrl"]["Value"] == {"Ref": dead_id}


def test_transcribed_may_read_its_jobs_and_hide_or_dead_letter_its_records_only(
    template: Any,
) -> None:
    granted = {
        action
        for name, statement in _statements(template)
        if name.startswith("TranscribedRole")
        for action in _listed(statement["Action"])
    }
    assert {
        "transcribe:GetTranscriptionJob",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
        "sqs:SendMessage",
        "social-messaging:SendWhatsAppMessage",
        "s3:GetObject",
        "dynamodb:GetItem",
    } <= granted
    assert "transcribe:StartTranscriptionJob" not in granted
    assert not {action for action in granted if action.startswith("connect:")}
    assert _granted(template, "transcribe:GetTranscriptionJob")
    assert all(
        "transcription-job/waconnect-*" in r
        for r in _granted(template, "transcribe:GetTranscriptionJob")
    )


def test_inbound_may_post_the_checks_of_its_jobs_to_the_transcription_queue_only(
    template: Any,
) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    (queue_id,) = (k for k in queues if k.startswith("TranscriptionQueue"))
    sends = [
        statement
        for name, statement in _statements(template)
        if name.startswith("InboundRole") and "sqs:SendMessage" in _listed(statement["Action"])
    ]
    (dead_id,) = (k for k in queues if k.startswith("InboundDeadLetters"))
    # Its own dead letters, and the transcription queue: no other queue.
    assert sorted(s["Resource"]["Fn::GetAtt"][0] for s in sends) == sorted([dead_id, queue_id])
    (inbound,) = (
        f["Properties"]
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "waconnect.entrypoints.lambda_handlers.inbound"
    )
    assert inbound["Environment"]["Variables"]["WACONNECT_TRANSCRIBED_QUEUE_URL"] == {
        "Ref": queue_id
    }


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_event_destination_is_wired_through_the_end_user_messaging_api(template: Any) -> None:
    resource = next(iter(resources(template, "Custom::AWS").values()))
    create = json.dumps(resource["Properties"]["Create"])
    assert "PutWhatsAppBusinessAccountEventDestinations" in create
    assert "waba-9a8b7c6d5e4f" in create
    granted = _granted(template, "social-messaging:PutWhatsAppBusinessAccountEventDestinations")
    assert granted
    assert all("waba/9a8b7c6d5e4f" in r for r in granted)

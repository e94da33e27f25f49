"""The serverless bridge: topics → ingest → FIFO queues → delivery functions, and their state.

    End User Messaging ─SNS─▶ ingest ─▶ Inbound.fifo ─▶ inbound ─▶ Connect
    Connect streaming ─SNS─▶ agent_ingest ─▶ Outbound.fifo ─▶ outbound ─▶ WhatsApp
    Transcribe job state change ─EventBridge─▶ transcribed ─▶ Connect and WhatsApp

Each FIFO queue has a FIFO dead-letter queue; each asynchronously invoked function a failure
queue; every one of them an alarm. The event-source mappings report partial batch failures and
cap their concurrency, which paces calls at Connect's per-instance quotas.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, CfnOutput, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from waconnect_infra.config import StackConfig, encode_phone_numbers
from waconnect_infra.event_destination import EventDestination
from waconnect_infra.functions import BridgeFunction
from waconnect_infra.messaging import (
    Alarms,
    FifoPath,
    StandardPath,
    make_failure_queue,
    make_fifo_path,
    make_standard_path,
    make_topic,
    make_topic_key,
)
from waconnect_infra.storage import TABLES, Tables, make_media_bucket, make_tables

# Transcription jobs the bridge starts are named with this prefix: its permissions and the
# EventBridge rule cover those jobs only.
TRANSCRIPTION_JOB_PREFIX = "waconnect-"
TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
)


class WaconnectStack(Stack):
    def __init__(
        self, scope: Construct, name: str, *, config: StackConfig, code: lambda_.Code
    ) -> None:
        super().__init__(scope, name, description="waconnect: WhatsApp to Amazon Connect Chat")
        self.config = config
        instance_arn = self.format_arn(
            service="connect", resource="instance", resource_name=config.connect_instance_id
        )
        # End User Messaging of this account and region: any of its resources (the WhatsApp
        # Business Account or one of its numbers, whichever the service names as the source).
        waba_source = self.format_arn(service="social-messaging", resource="*")
        key = make_topic_key(
            self,
            {
                "social-messaging.amazonaws.com": waba_source,
                "connect.amazonaws.com": instance_arn,
                "cloudwatch.amazonaws.com": self.format_arn(
                    service="cloudwatch", resource="alarm", resource_name="*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                ),
            },
        )  # fmt: skip
        self.whatsapp_topic = make_topic(
            self,
            "WhatsAppEvents",
            key=key,
            publisher="social-messaging.amazonaws.com",
            source_arn=waba_source,
        )
        self.streaming_topic = make_topic(
            self,
            "ConnectStreaming",
            key=key,
            publisher="connect.amazonaws.com",
            source_arn=instance_arn,
        )
        self.tables = make_tables(self)
        self.bucket = make_media_bucket(self, expiry_days=config.media_expiry_days)
        self.inbound_path = make_fifo_path(
            self, "InboundQueue", config.retry_budget(config.inbound)
        )
        self.outbound_path = make_fifo_path(
            self, "OutboundQueue", config.retry_budget(config.outbound)
        )
        alarms = Alarms(self, "Alarms", key=key, email=config.alarm_email)
        self.alarm_topic = alarms.topic

        environment = self._environment()

        def function(handler: str, sizing_name: str, *, asynchronous: bool) -> BridgeFunction:
            failure_queue = None
            name = "".join(part.title() for part in handler.split("_"))
            if asynchronous:
                failure_queue = make_failure_queue(self, f"{name}Failures")
                alarms.on_dead_letters(f"{name}FailuresAlarm", failure_queue)
            return BridgeFunction(
                self,
                name,
                handler=handler,
                code=code,
                sizing=getattr(config, sizing_name),
                environment=environment,
                log_retention_days=config.log_retention_days,
                failure_queue=failure_queue,
            )

        self.ingest = function("ingest", "ingest", asynchronous=True)
        self.agent_ingest = function("agent_ingest", "ingest", asynchronous=True)
        self.inbound = function("inbound", "inbound", asynchronous=False)
        self.outbound = function("outbound", "outbound", asynchronous=False)
        self.whatsapp_topic.add_subscription(subscriptions.LambdaSubscription(self.ingest.function))
        self.streaming_topic.add_subscription(
            subscriptions.LambdaSubscription(self.agent_ingest.function)
        )
        for path, consumer, concurrency in (
            (self.inbound_path, self.inbound, config.inbound_max_concurrency),
            (self.outbound_path, self.outbound, config.outbound_max_concurrency),
        ):
            self._consume(path, consumer, concurrency)
            label = path.queue.node.id
            alarms.on_dead_letters(f"{label}DeadLettersAlarm", path.dead_letters)
            alarms.on_oldest_age(
                f"{label}OldestAlarm", path.queue, config.oldest_message_alarm_minutes
            )

        self._grant_ingest(self.ingest, self.inbound_path)
        self._grant_ingest(self.agent_ingest, self.outbound_path)
        self._grant_identities(self.ingest)
        self._grant_state(self.inbound, self.outbound)
        self._grant_media(self.inbound, self.outbound)
        self.inbound.allow(
            ["connect:StartChatContact"],
            [
                f"{instance_arn}/contact-flow/{config.contact_flow_id}",
                f"{instance_arn}/contact/*",
            ],
        )
        self.inbound.allow(["connect:StartContactStreaming"], [f"{instance_arn}/contact/*"])
        self.inbound.allow(
            ["social-messaging:SendWhatsAppMessage", "social-messaging:GetWhatsAppMessageMedia"],
            self._phone_number_arns(),
        )
        self.outbound.allow(
            ["social-messaging:SendWhatsAppMessage", "social-messaging:PostWhatsAppMessageMedia"],
            self._phone_number_arns(),
        )

        self.transcribed: BridgeFunction | None = None
        self.transcription_path: StandardPath | None = None
        if config.transcription == "transcribe":
            self._transcription(function("transcribed", "transcribed", asynchronous=False), alarms)

        if config.wire_event_destination:
            EventDestination(
                self, "EventDestination", waba_id=config.waba_id, topic=self.whatsapp_topic
            )
        self._outputs()

    # ---- wiring ----------------------------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        config = self.config
        environment = {
            "WACONNECT_REGION": Aws.REGION,
            "WACONNECT_CONNECT_INSTANCE_ID": config.connect_instance_id,
            "WACONNECT_CONTACT_FLOW_ID": config.contact_flow_id,
            "WACONNECT_STREAMING_TOPIC_ARN": self.streaming_topic.topic_arn,
            "WACONNECT_MEDIA_BUCKET": self.bucket.bucket_name,
            "WACONNECT_MEDIA_PREFIX": config.media_prefix,
            "WACONNECT_STATE": self.tables.state_setting,
            "WACONNECT_EUM_PHONE_NUMBERS": encode_phone_numbers(config.phone_numbers),
            "WACONNECT_LANGUAGE": config.language,
            "WACONNECT_TRANSCRIPTION": config.transcription,
            "WACONNECT_LOG_LEVEL": config.log_level,
            "WACONNECT_LOG_FORMAT": "json",
            "WACONNECT_RETRY_BASE_DELAY_SECONDS": str(config.retry_base_delay_seconds),
            "WACONNECT_RETRY_MAX_DELAY_SECONDS": str(config.retry_max_delay_seconds),
            "WACONNECT_RETRY_MAX_AGE_SECONDS": str(config.max_age_hours * 3600),
            "WACONNECT_INBOUND_QUEUE_URL": self.inbound_path.queue.queue_url,
            "WACONNECT_OUTBOUND_QUEUE_URL": self.outbound_path.queue.queue_url,
            "POWERTOOLS_SERVICE_NAME": "waconnect",
            "POWERTOOLS_METRICS_NAMESPACE": "waconnect",
            "POWERTOOLS_LOG_LEVEL": config.log_level,
        }
        for name, value in config.bridge_settings.items():
            environment[f"WACONNECT_{name.upper()}"] = value
        return environment

    def _consume(
        self, path: FifoPath | StandardPath, consumer: BridgeFunction, max_concurrency: int
    ) -> None:
        consumer.function.add_event_source(
            sources.SqsEventSource(
                path.queue,
                batch_size=self.config.batch_size,
                report_batch_item_failures=True,
                max_concurrency=max_concurrency,
            )
        )
        # The handler backs off by hiding a record again (ChangeMessageVisibility) and reads the
        # queue's redrive policy; the event source's own grant covers receiving and deleting.
        consumer.allow(
            ["sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"], [path.queue.queue_arn]
        )
        # A record the handler gives up on goes to the dead-letter queue with its reason.
        consumer.allow(["sqs:GetQueueUrl", "sqs:SendMessage"], [path.dead_letters.queue_arn])

    def _grant_ingest(self, ingest: BridgeFunction, path: FifoPath) -> None:
        ingest.allow(["sqs:SendMessage"], [path.queue.queue_arn])

    def _grant_identities(self, ingest: BridgeFunction) -> None:
        # ingest groups a customer's messages by their session key: it reads the session under
        # either id and links the other id (an alias item). It drops a message the ledger
        # records as done with one batch read. Nothing else of the state.
        ingest.allow(["dynamodb:GetItem", "dynamodb:PutItem"], [self.tables.sessions.table_arn])
        ingest.allow(["dynamodb:BatchGetItem"], [self.tables.ledger.table_arn])

    def _grant_state(self, *functions: BridgeFunction) -> None:
        tables: Tables = self.tables
        resources = [table.table_arn for table in tables.all]
        resources.extend(
            f"{table.table_arn}/index/{index}"
            for table, spec in zip(tables.all, TABLES, strict=True)
            for index in spec.index_names
        )
        for fn in functions:
            fn.allow(TABLE_ACTIONS, resources)

    def _grant_media(self, *functions: BridgeFunction) -> None:
        prefix = self.config.media_prefix
        objects = self.bucket.arn_for_objects(f"{prefix}*")
        for fn in functions:
            fn.allow(
                [
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:GetObjectTagging",
                    "s3:PutObjectTagging",
                    "s3:AbortMultipartUpload",
                ],
                [objects],
            )
            fn.role.add_to_policy(_list_prefix(self.bucket, prefix))

    def _phone_number_arns(self) -> list[str]:
        return [
            self.format_arn(
                service="social-messaging", resource="phone-number-id", resource_name=suffix
            )
            for suffix in self.config.eum_phone_number_suffixes
        ]

    def _transcription(self, transcribed: BridgeFunction, alarms: Alarms) -> None:
        """Amazon Transcribe: ``inbound`` starts a job per voice note; the job's state change
        goes EventBridge rule → standard queue (with its dead-letter queue) → ``transcribed``,
        which sends the transcript to the chat and quotes it to the customer. ``inbound`` also
        puts each job's delayed check on that queue, so a lost event loses no transcript."""
        config = self.config
        self.transcribed = transcribed
        jobs = self.format_arn(
            service="transcribe",
            resource="transcription-job",
            resource_name=f"{TRANSCRIPTION_JOB_PREFIX}*",
        )
        # Transcribe reads the note and writes the transcript with the caller's permissions:
        # inbound's media grant (get and put under the prefix) covers both.
        self.inbound.allow(["transcribe:StartTranscriptionJob"], [jobs])
        transcribed.allow(["transcribe:GetTranscriptionJob"], [jobs])
        self._grant_state(transcribed)
        self._grant_media(transcribed)
        transcribed.allow(["social-messaging:SendWhatsAppMessage"], self._phone_number_arns())

        path = make_standard_path(
            self, "TranscriptionQueue", config.retry_budget(config.transcribed)
        )
        self.transcription_path = path
        # The transcript goes to Connect (SendMessage): paced like the inbound queue.
        self._consume(path, transcribed, config.inbound_max_concurrency)
        # inbound posts each started job's check there, delayed, in case its event is lost.
        self.inbound.allow(["sqs:SendMessage"], [path.queue.queue_arn])
        self.inbound.function.add_environment(
            "WACONNECT_TRANSCRIBED_QUEUE_URL", path.queue.queue_url
        )
        alarms.on_dead_letters("TranscriptionQueueDeadLettersAlarm", path.dead_letters)
        alarms.on_oldest_age(
            "TranscriptionQueueOldestAlarm", path.queue, config.oldest_message_alarm_minutes
        )
        rule = events.Rule(
            self,
            "TranscriptionDone",
            description="Transcription jobs of the bridge that completed or failed",
            event_pattern=events.EventPattern(
                source=["aws.transcribe"],
                detail_type=["Transcribe Job State Change"],
                detail={
                    "TranscriptionJobStatus": ["COMPLETED", "FAILED"],
                    "TranscriptionJobName": [{"prefix": TRANSCRIPTION_JOB_PREFIX}],
                },
            ),
        )
        # An event EventBridge cannot put on the queue goes to the same dead-letter queue.
        rule.add_target(
            targets.SqsQueue(
                path.queue,
                retry_attempts=8,
                max_event_age=Duration.hours(2),
                dead_letter_queue=path.dead_letters,
            )
        )

    def _outputs(self) -> None:
        CfnOutput(self, "WhatsAppEventsTopicArn", value=self.whatsapp_topic.topic_arn)
        CfnOutput(self, "StreamingTopicArn", value=self.streaming_topic.topic_arn)
        CfnOutput(self, "InboundQueueUrl", value=self.inbound_path.queue.queue_url)
        CfnOutput(self, "OutboundQueueUrl", value=self.outbound_path.queue.queue_url)
        CfnOutput(self, "InboundDeadLetterQueueUrl", value=self.inbound_path.dead_letters.queue_url)
        CfnOutput(
            self, "OutboundDeadLetterQueueUrl", value=self.outbound_path.dead_letters.queue_url
        )
        if self.transcription_path is not None:
            CfnOutput(self, "TranscriptionQueueUrl", value=self.transcription_path.queue.queue_url)
            CfnOutput(
                self,
                "TranscriptionDeadLetterQueueUrl",
                value=self.transcription_path.dead_letters.queue_url,
            )
        CfnOutput(self, "MediaBucketName", value=self.bucket.bucket_name)
        CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic_arn)


def _list_prefix(bucket: s3.IBucket, prefix: str) -> iam.PolicyStatement:
    # Media is found by key prefix (End User Messaging names the object it writes); listing is
    # limited to the bridge's prefix.
    return iam.PolicyStatement(
        actions=["s3:ListBucket"],
        resources=[bucket.bucket_arn],
        conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}},
    )

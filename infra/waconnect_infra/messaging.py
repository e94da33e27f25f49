"""Topics in, FIFO queues between, alarms beside: the bridge's message paths on AWS.

End User Messaging and Connect publish to standard SNS topics (neither can publish to FIFO
topics), encrypted with the stack's key. Each topic's policy lets exactly one service of this
account publish, from exactly its source (the WhatsApp Business Accounts of this account, the
configured Connect instance), and refuses requests without TLS. The ingest functions turn the
notifications into FIFO records (one message group per customer or per chat), so work for one
customer is ordered and a failure holds only that customer's group.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from waconnect_infra.sizing import SQS_MAX_RETENTION_SECONDS, RetryBudget


def make_topic_key(scope: Construct, publishers: dict[str, str]) -> kms.Key:
    """A rotating key for the topics, usable by each publishing service only from its source.

    ``publishers`` maps a service principal to the ARN pattern of the sources it publishes from.
    """
    key = kms.Key(
        scope,
        "TopicKey",
        description="Encrypts the waconnect SNS topics",
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    for principal, source_arn in publishers.items():
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"Publish{principal.split('.')[0].replace('-', '').title()}",
                principals=[iam.ServicePrincipal(principal)],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": source_arn},
                },
            )
        )
    return key


def make_topic(
    scope: Construct, name: str, *, key: kms.IKey, publisher: str, source_arn: str
) -> sns.Topic:
    """A standard topic that ``publisher`` may publish to from ``source_arn`` only, over TLS."""
    topic = sns.Topic(scope, name, master_key=key, enforce_ssl=True)
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="PublishFromSource",
            principals=[iam.ServicePrincipal(publisher)],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={
                "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                "ArnLike": {"aws:SourceArn": source_arn},
            },
        )
    )
    return topic


@dataclass(frozen=True, slots=True)
class FifoPath:
    """A FIFO work queue and its dead-letter queue."""

    queue: sqs.Queue
    dead_letters: sqs.Queue
    budget: RetryBudget


def make_fifo_path(scope: Construct, name: str, budget: RetryBudget) -> FifoPath:
    """A FIFO queue whose records wait out their backoff, then move to a FIFO dead-letter queue."""
    dead_letters = sqs.Queue(
        scope,
        f"{name.removesuffix('Queue')}DeadLetters",
        fifo=True,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.seconds(SQS_MAX_RETENTION_SECONDS),
        removal_policy=RemovalPolicy.RETAIN,
    )
    queue = sqs.Queue(
        scope,
        name,
        fifo=True,
        # The ingest functions set the deduplication id (the wamid, or the Connect message id).
        content_based_deduplication=False,
        # High-throughput FIFO: limits apply per customer, not per queue.
        deduplication_scope=sqs.DeduplicationScope.MESSAGE_GROUP,
        fifo_throughput_limit=sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=Duration.seconds(budget.visibility_timeout_seconds),
        # A record must outlive its longest wait: keep it as long as SQS allows.
        retention_period=Duration.seconds(SQS_MAX_RETENTION_SECONDS),
        dead_letter_queue=sqs.DeadLetterQueue(
            queue=dead_letters, max_receive_count=budget.max_receive_count
        ),
        removal_policy=RemovalPolicy.RETAIN,
    )
    return FifoPath(queue=queue, dead_letters=dead_letters, budget=budget)


@dataclass(frozen=True, slots=True)
class StandardPath:
    """A standard work queue (records in no particular order) and its dead-letter queue."""

    queue: sqs.Queue
    dead_letters: sqs.Queue
    budget: RetryBudget


def make_standard_path(scope: Construct, name: str, budget: RetryBudget) -> StandardPath:
    """A standard queue whose records wait out their backoff, then move to a dead-letter queue
    (the same redrive sizing as the FIFO queues: the function backs off the same way)."""
    dead_letters = make_failure_queue(scope, f"{name.removesuffix('Queue')}DeadLetters")
    queue = sqs.Queue(
        scope,
        name,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=Duration.seconds(budget.visibility_timeout_seconds),
        retention_period=Duration.seconds(SQS_MAX_RETENTION_SECONDS),
        dead_letter_queue=sqs.DeadLetterQueue(
            queue=dead_letters, max_receive_count=budget.max_receive_count
        ),
        removal_policy=RemovalPolicy.RETAIN,
    )
    return StandardPath(queue=queue, dead_letters=dead_letters, budget=budget)


def make_failure_queue(scope: Construct, name: str) -> sqs.Queue:
    """A standard queue keeping events an asynchronously invoked function failed on, 14 days."""
    return sqs.Queue(
        scope,
        name,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.seconds(SQS_MAX_RETENTION_SECONDS),
        removal_policy=RemovalPolicy.RETAIN,
    )


class Alarms(Construct):
    """Alarms on every dead-letter queue and on records waiting too long, to one topic."""

    def __init__(self, scope: Construct, name: str, *, key: kms.IKey, email: str) -> None:
        super().__init__(scope, name)
        stack = Stack.of(self)
        self.topic = make_topic(
            self,
            "Topic",
            key=key,
            publisher="cloudwatch.amazonaws.com",
            source_arn=stack.format_arn(
                service="cloudwatch",
                resource="alarm",
                resource_name="*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            ),
        )
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self._action = cw_actions.SnsAction(self.topic)

    def on_dead_letters(self, name: str, queue: sqs.IQueue) -> cloudwatch.Alarm:
        """Alarm as soon as one record is dead-lettered (and until the queue is emptied)."""
        metric = queue.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(1), statistic="Maximum"
        )
        return self._alarm(
            name,
            metric,
            threshold=1,
            description=f"Records are waiting in {name}: run 'waconnect dlq list'",
        )

    def on_oldest_age(self, name: str, queue: sqs.IQueue, minutes: int) -> cloudwatch.Alarm:
        """Alarm when the oldest waiting record is older than ``minutes``."""
        metric = queue.metric_approximate_age_of_oldest_message(
            period=Duration.minutes(1), statistic="Maximum"
        )
        return self._alarm(
            name,
            metric,
            threshold=minutes * 60,
            description=f"A record in {name} has waited over {minutes} minutes",
            evaluation_periods=5,
        )

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.Metric,
        *,
        threshold: int,
        description: str,
        evaluation_periods: int = 1,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            name,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        return alarm

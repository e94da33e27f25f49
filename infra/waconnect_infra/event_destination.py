"""Point a WhatsApp Business Account's event destination at the bridge (opt-in).

A WhatsApp Business Account has one event destination. Pointing it at the bridge's topic replaces
whatever received its events before, Connect's native WhatsApp channel included: so the stack does
it only when ``wire_event_destination`` is true, through End User Messaging's
``PutWhatsAppBusinessAccountEventDestinations``. Deleting the stack (or turning the option off)
clears the destination again; the previous destination is not remembered, so docs/deploy.md says
how to restore it.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import custom_resources as cr
from constructs import Construct

ACTION = "PutWhatsAppBusinessAccountEventDestinations"


class EventDestination(Construct):
    def __init__(self, scope: Construct, name: str, *, waba_id: str, topic: sns.ITopic) -> None:
        super().__init__(scope, name)
        waba_arn = Stack.of(self).format_arn(
            service="social-messaging", resource="waba", resource_name=waba_id.removeprefix("waba-")
        )

        def call(destinations: list[dict[str, str]]) -> cr.AwsSdkCall:
            return cr.AwsSdkCall(
                service="SocialMessaging",
                action=ACTION,
                parameters={"id": waba_id, "eventDestinations": destinations},
                physical_resource_id=cr.PhysicalResourceId.of(f"{waba_id}-event-destination"),
            )

        self.resource = cr.AwsCustomResource(
            self,
            "Resource",
            on_create=call([{"eventDestinationArn": topic.topic_arn}]),
            on_update=call([{"eventDestinationArn": topic.topic_arn}]),
            on_delete=call([]),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    iam.PolicyStatement(
                        actions=[f"social-messaging:{ACTION}"],
                        resources=[waba_arn],
                    )
                ]
            ),
            # The runtime's own SDK has End User Messaging Social: no download at deploy time.
            install_latest_aws_sdk=False,
        )

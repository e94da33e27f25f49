"""The sandbox's fixed identities: obviously fake numbers and ids, the same on every run."""

from __future__ import annotations

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
ACCESS_KEY_ID = "AKIDSANDBOXEXAMPLE"
SECRET_ACCESS_KEY = "sandbox-secret-not-a-real-key"  # noqa: S105 - a fixed fake

WABA_ID = "200000000000001"
META_PHONE_NUMBER_ID = "100000000000001"
DISPLAY_PHONE_NUMBER = "15550000000"
AWS_PHONE_NUMBER_ID = "phone-number-id-0123456789abcdef0123456789abcdef"
PHONE_NUMBER_ARN = (
    f"arn:aws:social-messaging:{REGION}:{ACCOUNT_ID}:phone-number-id/"
    "0123456789abcdef0123456789abcdef"
)
WABA_ARN = f"arn:aws:social-messaging:{REGION}:{ACCOUNT_ID}:waba/fedcba9876543210fedcba9876543210"

INSTANCE_ID = "11111111-2222-4333-8444-555555555555"
CONTACT_FLOW_ID = "66666666-7777-4888-8999-aaaaaaaaaaaa"
STREAMING_TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:waconnect-connect-streaming"
INBOUND_TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:waconnect-eum-inbound"
MEDIA_BUCKET = "waconnect-sandbox-media"

SEED = 20261124
# Replay's clock starts here and moves only when a scenario advances it (2026-01-15 09:30 UTC).
REPLAY_EPOCH = 1_768_469_400.0
# Names the bridge process a request came from, when replay runs bridges in child processes.
CALLER_HEADER = "x-waconnect-sandbox-caller"

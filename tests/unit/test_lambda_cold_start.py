"""What a Lambda container loads before its first text: boto3 and Powertools, never the media
code, httpx (attachments) or the local stores."""

from __future__ import annotations

import json
import subprocess
import sys

# A container's cold start, up to the point where the first record is handed to the bridge:
# the handlers' modules imported and the runtime (bridge, clients) built from the environment.
PROBE = """
import json, sys
import waconnect.entrypoints.lambda_handlers.functions
from waconnect.entrypoints.lambda_handlers.runtime import current
current()
print(json.dumps(sorted(sys.modules)))
"""
ENVIRONMENT = {
    "WACONNECT_REGION": "eu-west-2",
    "WACONNECT_CONNECT_INSTANCE_ID": "11111111-2222-3333-4444-555555555555",
    "WACONNECT_CONTACT_FLOW_ID": "11111111-2222-3333-4444-666666666666",
    "WACONNECT_STREAMING_TOPIC_ARN": "arn:aws:sns:eu-west-2:123456789012:streaming",
    "WACONNECT_MEDIA_BUCKET": "media",
    "WACONNECT_STATE": "dynamodb:sessions,ledger,log",
    "WACONNECT_TRANSCRIPTION": "none",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}
HEAVY = ("av", "PIL", "httpx", "sqlite3", "moto", "waconnect.adapters.local")


def test_a_cold_container_builds_its_runtime_without_media_code_httpx_or_local_stores() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=ENVIRONMENT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])

    assert "boto3" in loaded
    assert "aws_lambda_powertools" in loaded
    # Powertools' batch utilities (every event class it knows) come with the first queue
    # record: the ingest functions never load them.
    assert "aws_lambda_powertools.utilities.batch" not in loaded
    heavy = [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == []
    # The sandbox's default names only (settings read them), none of its emulators.
    assert [m for m in loaded if m.startswith("waconnect.sandbox.")] == [
        "waconnect.sandbox.defaults"
    ]
    media = sorted(m for m in loaded if m.startswith("waconnect.media."))
    # The capabilities table (limits, accepted types) is configuration; the code that examines
    # and converts files comes with the first file.
    assert media == ["waconnect.media.naming", "waconnect.media.policy"]

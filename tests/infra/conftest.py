"""One synthesized stack per test process: synthesis takes seconds, the assertions milliseconds."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

# jsii warns on every start under Node 20; the synth works the same.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

INSTANCE_ID = "11111111-2222-3333-4444-555555555555"
FLOW_ID = "11111111-2222-3333-4444-666666666666"
EUM_HEX = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
CONTEXT: dict[str, Any] = {
    "asset": "placeholder",
    "connect_instance_id": INSTANCE_ID,
    "contact_flow_id": FLOW_ID,
    "phone_numbers": f"107000000000001=phone-number-id-{EUM_HEX}",
    "transcription": "transcribe",
    "wire_event_destination": "true",
    "waba_id": "waba-9a8b7c6d5e4f",
    "alarm_email": "ops@example.com",
    "inbound_max_concurrency": "3",
}


def synthesize(context: dict[str, Any], outdir: Path) -> Any:
    """Synthesize the app as ``app.py`` does (nag included); return (stack, assembly)."""
    import aws_cdk as cdk

    from waconnect_infra.application import build_app

    app = cdk.App(context=context, outdir=str(outdir))
    stack = build_app(app)
    assembly = app.synth()
    return stack, assembly


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return synthesize(CONTEXT, tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def template(synthesized: Any) -> Any:
    from aws_cdk.assertions import Template

    stack, _ = synthesized
    return Template.from_stack(stack)

"""cdk-nag's AwsSolutions checks gate every synth; each accepted finding carries its reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import CONTEXT


def test_the_stack_synthesizes_with_the_checks_on(synthesized: Any) -> None:
    import aws_cdk as cdk

    stack, assembly = synthesized
    # The checks are attached to the app; an unacknowledged finding would have failed the synth.
    assert assembly.get_stack_by_name(stack.stack_name).template["Resources"]
    assert cdk.Stack.of(stack) is stack


def test_every_acknowledged_finding_is_specific_and_explained(synthesized: Any) -> None:
    from waconnect_infra.nag import acknowledgements

    stack, _ = synthesized
    items = acknowledgements(stack)
    assert items
    paths = {construct.node.path for construct in stack.node.find_all()}
    for item in items:
        assert item.path in paths
        # A finding names the rule and the exact resource, never a whole rule.
        assert item.finding.startswith(
            ("AwsSolutions-IAM5[Resource::", "AwsSolutions-IAM4[Policy::")
        )
        assert "Resource::*]" not in item.finding
        assert len(item.reason.split()) >= 12


def test_an_unexplained_wildcard_fails_the_synth(tmp_path: Path) -> None:
    import aws_cdk as cdk

    from waconnect_infra.application import build_app

    app = cdk.App(context=CONTEXT, outdir=str(tmp_path))
    stack = build_app(app)
    stack.outbound.allow(["s3:GetObject"], ["*"])
    with pytest.raises(RuntimeError, match=r"AwsSolutions-IAM5\[Resource::\*\]"):
        app.synth()


def test_a_wildcard_action_is_never_granted(synthesized: Any) -> None:
    stack, _ = synthesized
    with pytest.raises(ValueError, match="wildcard action"):
        stack.inbound.allow(["connect:*"], ["arn:aws:connect:eu-west-1:123456789012:instance/x"])

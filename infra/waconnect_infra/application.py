"""Build the CDK app: configuration from context, the asset, the stack, and cdk-nag's checks."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from cdk_nag import AwsSolutionsChecks

from waconnect_infra.asset import DEFAULT_ASSET_DIR, PLACEHOLDER_DIR, ensure_built
from waconnect_infra.config import config_from_context
from waconnect_infra.nag import suppress_justified
from waconnect_infra.stack import WaconnectStack

STACK_NAME = "Waconnect"


def lambda_code(asset: str | None) -> lambda_.Code:
    """The functions' code: ``placeholder``, a built directory, or (unset) the default build."""
    if asset == "placeholder":
        return lambda_.Code.from_asset(str(PLACEHOLDER_DIR))
    if asset:
        directory = Path(asset).resolve()
        if not directory.is_dir():
            raise FileNotFoundError(
                f"asset directory {directory} does not exist: build it with "
                f"'python infra/build_asset.py --out {asset}'"
            )
        return lambda_.Code.from_asset(str(directory))
    return lambda_.Code.from_asset(str(ensure_built(DEFAULT_ASSET_DIR)))


def build_app(app: cdk.App) -> WaconnectStack:
    """Add the stack (and the checks) to ``app``, configured by ``app``'s context."""
    node = app.node
    # Server access logs are granted by bucket policy, not by the deprecated LogDeliveryWrite ACL.
    node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
    config = config_from_context(node.try_get_context)
    name = node.try_get_context("stack_name") or STACK_NAME
    stack = WaconnectStack(
        app, name, config=config, code=lambda_code(node.try_get_context("asset"))
    )
    suppress_justified(stack)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack

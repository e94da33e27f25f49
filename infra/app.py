"""The waconnect CDK app: ``python app.py`` (or ``npx cdk synth|deploy``) from this directory.

Configuration comes from CDK context (``cdk.json`` or ``-c key=value``); the output directory
from ``CDK_OUTDIR`` when set (the CDK CLI sets it), else ``cdk.out``. See docs/deploy.md.
"""

from __future__ import annotations

import sys

import aws_cdk as cdk

from waconnect_infra.application import build_app
from waconnect_infra.config import ConfigError


def main() -> int:
    app = cdk.App()
    try:
        build_app(app)
    except ConfigError as exc:
        print(f"app.py: {exc}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())

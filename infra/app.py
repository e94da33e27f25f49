"""The waconnect CDK app: ``npx aws-cdk synth|deploy`` or ``python app.py`` from this directory.

Configuration is CDK context: the CDK CLI passes ``cdk.json`` and its ``-c key=value`` options.
Run directly, the app reads the same two itself, so ``python app.py -c key=value ...`` checks a
configuration offline exactly as the CLI would. The output directory is ``CDK_OUTDIR`` when set
(the CLI sets it), else ``cdk.out``. See docs/deploy.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from waconnect_infra.application import build_app
from waconnect_infra.config import ConfigError

# Where a direct run writes the templates when CDK_OUTDIR names no other place: the CLI's own
# default. Left to itself, the CDK library would pick a temporary directory no one can find.
DEFAULT_OUTDIR = Path(__file__).with_name("cdk.out")


def direct_context(argv: list[str]) -> dict[str, Any] | None:
    """Context for a direct run: ``cdk.json``'s, then ``-c key=value``; None under the CLI."""
    parser = argparse.ArgumentParser(description="Synthesize the waconnect stack.")
    parser.add_argument(
        "-c", "--context", action="append", default=[], metavar="KEY=VALUE",
        help="a context value, as with the CDK CLI (repeatable)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if "CDK_CONTEXT_JSON" in os.environ:
        if args.context:
            parser.error("-c is for direct runs; under the CDK CLI pass -c to the CLI")
        return None
    settings = Path(__file__).with_name("cdk.json")
    context: dict[str, Any] = dict(json.loads(settings.read_text()).get("context", {}))
    for item in args.context:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"expected -c KEY=VALUE, got {item!r}")
        context[key] = value
    return context


def main(argv: list[str] | None = None) -> int:
    context = direct_context(sys.argv[1:] if argv is None else argv)
    if context is None:
        app = cdk.App()
    else:
        outdir = os.environ.get("CDK_OUTDIR") or str(DEFAULT_OUTDIR)
        app = cdk.App(context=context, outdir=outdir)
    try:
        build_app(app)
    except ConfigError as exc:
        print(f"app.py: {exc}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Build the Lambda asset for arm64 without Docker: ``python infra/build_asset.py [--out DIR]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from waconnect_infra.asset import DEFAULT_ASSET_DIR, AssetError, build, size_bytes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_ASSET_DIR,
        help="where to put the asset (default: infra/build/lambda, where the app looks)",
    )
    args = parser.parse_args(argv)
    try:
        asset_dir = build(args.out.resolve())
    except AssetError as exc:
        print(f"build_asset: {exc}", file=sys.stderr)
        return 1
    print(f"built {asset_dir}: {size_bytes(asset_dir) / 1e6:.1f} MB unzipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

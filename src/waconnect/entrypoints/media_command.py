"""``waconnect media inspect|convert``: what the media policy does with a file, and doing it.

For an operator checking a file a customer or an agent sent: the type its bytes show, whether it
is refused (a program in disguise, a bomb), and the plan for each direction — attach or send as
is, convert (to what, within which limit), or tell the agent why not. ``convert`` runs the same
converter the bridge runs and writes the results to a folder.

This path loads neither boto3 nor the emulators: it starts as fast as the conversion allows.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from waconnect.media.examine import Examination, examine_file
from waconnect.media.naming import content_type_for_name
from waconnect.media.policy import ConnectLimits, InboundPlan, OutboundPlan
from waconnect.media.policy import inbound_plan as plan_inbound
from waconnect.media.policy import outbound_plan as plan_outbound

DIRECTIONS = ("connect", "whatsapp")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="media_action", required=True, metavar="ACTION")
    inspect = actions.add_parser("inspect", help="what the bridge would do with FILE, and why")
    inspect.add_argument("file", type=Path, metavar="FILE")
    inspect.add_argument("--declared", default="", help="the content type the sender declared")
    convert = actions.add_parser("convert", help="convert FILE as the bridge would")
    convert.add_argument("file", type=Path, metavar="FILE")
    convert.add_argument(
        "--for",
        dest="direction",
        choices=DIRECTIONS,
        required=True,
        help="connect: a customer's file for the agent; whatsapp: an agent's for the customer",
    )
    convert.add_argument("--out", type=Path, default=Path("."), help="folder for the results")
    convert.add_argument("--declared", default="", help="the content type the sender declared")


def run(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        print(f"waconnect media: no such file: {path}", file=sys.stderr)
        return 2
    declared = args.declared or content_type_for_name(path.name) or ""
    found = examine_file(path, declared=declared, filename=path.name)
    size = path.stat().st_size
    inbound = plan_inbound(
        found.content_type, size, filename=path.name, refusal=found.refusal, limits=ConnectLimits()
    )
    outbound = plan_outbound(found.content_type, size, name=path.name, refusal=found.refusal)
    if args.media_action == "inspect":
        _print_inspection(path, size, found, inbound, outbound)
        return 0
    if args.direction == "connect":
        return _convert_for_connect(path, inbound, args.out)
    return _convert_for_whatsapp(path, outbound, args.out)


def _print_inspection(
    path: Path, size: int, found: Examination, inbound: InboundPlan, outbound: OutboundPlan
) -> None:
    print(f"file:      {path.name} ({size} bytes)")
    print(f"sniffed:   {found.sniffed or 'nothing known (application/octet-stream)'}")
    print(f"trusted:   {found.content_type}")
    if found.refused:
        print(f"refused:   {found.refusal}")
    if inbound.action == "notice":
        link = "with a download link" if inbound.link else "without a link"
        connect = f"notice to the agent {link}: {inbound.reason}"
    elif inbound.action == "convert":
        connect = f"convert to {inbound.target} ({inbound.content_type}), attach as {inbound.name}"
    else:
        connect = f"attach as is, as {inbound.name} ({inbound.content_type})"
    print(f"connect:   {connect}")
    if outbound.action == "notice":
        whatsapp = f"notice to the agent: {outbound.reason}"
    elif outbound.action == "convert":
        limit = f", within {outbound.max_bytes} bytes" if outbound.max_bytes else ""
        voice = " voice note" if outbound.voice else ""
        whatsapp = f"convert to {outbound.target}{limit}, send as {outbound.kind.value}{voice}"
    else:
        whatsapp = f"send as is as {outbound.kind.value}, as {outbound.filename}"
    print(f"whatsapp:  {whatsapp}")


def _convert_for_connect(path: Path, plan: InboundPlan, out: Path) -> int:
    if plan.action == "notice":
        print(f"not for Connect: {plan.reason}", file=sys.stderr)
        return 1
    if plan.action == "attach":
        return _copy(path, out / plan.name)
    return _converted(path, plan.target, plan.name, max_bytes=0, out=out)


def _convert_for_whatsapp(path: Path, plan: OutboundPlan, out: Path) -> int:
    if plan.action == "notice":
        print(f"not for WhatsApp: {plan.reason}", file=sys.stderr)
        return 1
    if plan.action == "send":
        return _copy(path, out / plan.filename)
    return _converted(path, plan.target, plan.filename, max_bytes=plan.max_bytes, out=out)


def _copy(path: Path, target: Path) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)
    print(f"{target} ({target.stat().st_size} bytes, unchanged)")
    return 0


def _converted(path: Path, target: str, name: str, *, max_bytes: int, out: Path) -> int:
    # The conversions load PyAV and Pillow: only a conversion pays for them. The files are
    # written next to where they end, then renamed: no store, no copy.
    from waconnect.errors import PermanentError  # noqa: PLC0415
    from waconnect.media.conversions import (  # noqa: PLC0415
        ConversionLimits,
        convert_file,
        part_name,
    )

    limits = ConversionLimits()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".waconnect-media-", dir=out) as tmp:
        try:
            conversion = convert_file(
                path, Path(tmp), target=target, max_bytes=max_bytes or limits.max_part_bytes,
                limits=limits, what=path.name,
            )  # fmt: skip
        except PermanentError as exc:
            print(f"could not convert {path.name}: {exc}", file=sys.stderr)
            return 1
        count = len(conversion.paths)
        for index, written_path in enumerate(conversion.paths, start=1):
            written = out / (name if count == 1 else part_name(name, index, count))
            size = written_path.stat().st_size
            written_path.replace(written)
            print(f"{written} ({size} bytes, {conversion.content_type})")
    if conversion.duration_seconds:
        print(f"duration:  {conversion.duration_seconds:.2f} s")
    if conversion.caption:
        print(f"caption:   {conversion.caption}")
    if conversion.note:
        print(f"note:      {conversion.note}")
    return 0

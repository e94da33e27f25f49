"""The ``waconnect`` command. Each subcommand's module is imported only when it runs."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# subcommand -> (module with ``add_arguments(parser)`` and ``run(args) -> int``, help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "explain": ("waconnect.entrypoints.explain", "show what captured payloads hold and would do"),
    "replay": ("waconnect.sandbox.replay", "run scenarios against fresh emulators"),
    "dlq": ("waconnect.entrypoints.dlq", "list or redrive the Lambda deployment's dead letters"),
    "sandbox": (
        "waconnect.sandbox.command",
        "the emulated cloud with the bridge on it, and a page to play both sides",
    ),
    "media": (
        "waconnect.entrypoints.media_command",
        "inspect or convert a file as the media policy would",
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="waconnect", description="A bridge between WhatsApp and Amazon Connect Chat."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    arguments = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in arguments if not a.startswith("-")), "")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=help_text)
        sub.set_defaults(module=module_name)
        # argparse needs a subcommand's arguments before parsing; only the one that runs (or
        # every one, when none is named) is imported, so `waconnect media` loads no boto3.
        if chosen in {name, ""} or chosen not in SUBCOMMANDS:
            importlib.import_module(module_name).add_arguments(sub)
    args = parser.parse_args(arguments)
    # Logging is set up before any subcommand runs, from the environment (log_settings reads
    # its two variables without loading the bridge's settings).
    from waconnect.errors import ConfigurationError  # noqa: PLC0415
    from waconnect.log_settings import LogSettings  # noqa: PLC0415
    from waconnect.log_setup import configure_logging  # noqa: PLC0415

    try:
        log = LogSettings.from_env(os.environ)
    except ConfigurationError as exc:
        print(f"waconnect: {exc}", file=sys.stderr)
        return 2
    configure_logging(log.level, log.format)
    try:
        code: int = importlib.import_module(args.module).run(args)
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as command-line tools do.
        _drop_stdout()
        return 1
    return code


def _drop_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is not a real file (a test's capture): nothing left to flush
    finally:
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())

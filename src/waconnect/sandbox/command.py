"""``waconnect sandbox``: the emulated cloud, the bridge on it, and the page on 127.0.0.1.

Prints one URL. Ctrl-C stops the page, the bridge and the emulators in that order; what was done
is already on disk (each step is written whole once it ran), so nothing is left half-written.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
from pathlib import Path
from types import FrameType

from waconnect.sandbox import defaults

DEFAULT_PORT = 8765


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port of the page on 127.0.0.1 (default: %(default)s; 0 picks a free one)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="keep what is done here, and restore it when started again on the same directory "
        "(default: a temporary directory, removed on exit)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=defaults.SEED,
        help="seed of the ids the emulators mint (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        sock = _listen(args.port)
    except OSError as exc:
        print(
            f"waconnect sandbox: cannot listen on 127.0.0.1:{args.port} ({exc.strerror}); "
            "pass another --port",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="waconnect-sandbox-") as scratch:
        data_dir = args.data_dir or Path(scratch)
        return _serve(sock, data_dir, seed=args.seed)


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A sandbox started again at once on its port finds the last run's connections in
    # TIME_WAIT; without this it would refuse to start. Two listeners still cannot share it.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        # Listening before the URL is printed: a browser opened at once queues, not refused.
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _serve(sock: socket.socket, data_dir: Path, *, seed: int) -> int:
    # The emulators, the bridge and the web server are heavy: only this command needs them.
    import uvicorn  # noqa: PLC0415

    from waconnect.sandbox.live import LiveSandbox  # noqa: PLC0415
    from waconnect.sandbox.page_app import build_page_app  # noqa: PLC0415

    data_dir.mkdir(parents=True, exist_ok=True)
    sandbox = LiveSandbox(data_dir=data_dir, seed=seed)
    try:
        sandbox.start()
    except BaseException:
        sock.close()
        raise

    class _Server(uvicorn.Server):  # type: ignore[misc,unused-ignore]
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            # Open pages keep an event stream: end them, or shutdown would wait for them.
            sandbox.feed.close()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        build_page_app(sandbox),
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    port = sock.getsockname()[1]
    print(f"http://127.0.0.1:{port}/", flush=True)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn hands Ctrl-C back once it has shut the page down: ours to finish
    finally:
        sandbox.close()
        sock.close()
    print("waconnect sandbox: stopped", file=sys.stderr)
    return 0

"""One cold Lambda container for ``bench/lambda_handlers.py``: time what it does, print JSON.

    python bench/lambda_cold_child.py MODE [EVENT_FILE]

It imports nothing of waconnect, boto3 or PyAV before its clock starts: every such import is
inside ``child``.
"""

# ruff: noqa: PLC0415

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HANDLERS = "waconnect.entrypoints.lambda_handlers"


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def child(mode: str, event_path: str) -> None:
    """Time what a cold container does for ``mode``; print one JSON line."""
    event = json.loads(Path(event_path).read_text()) if event_path else {}
    result: dict[str, Any] = {"mode": mode}
    started = time.perf_counter()
    if mode == "boto3":
        import boto3  # noqa: F401

        result["import_ms"] = (time.perf_counter() - started) * 1000
    elif mode == "textpath":
        # Everything a text's first call loads, without calling: the handlers, Powertools
        # (its batch utilities come with the first queue record), boto3 and botocore, the
        # bridge and its adapters.

        import waconnect.bootstrap
        import waconnect.entrypoints.lambda_handlers.functions
        import waconnect.entrypoints.lambda_handlers.runtime  # noqa: F401

        result["import_ms"] = (time.perf_counter() - started) * 1000
    elif mode == "direct":
        from waconnect.bootstrap import build_bridge
        from waconnect.settings import Settings

        result["import_ms"] = (time.perf_counter() - started) * 1000
        called = time.perf_counter()
        bridge = build_bridge(Settings.from_env(os.environ))
        outcomes = bridge.handle_document(event)
        result["first_call_ms"] = (time.perf_counter() - called) * 1000
        result["outcome"] = [o.kind for o in outcomes]
    else:
        import importlib

        handlers = importlib.import_module(HANDLERS)
        result["import_ms"] = (time.perf_counter() - started) * 1000
        function = mode.removesuffix("-voice")
        handler = getattr(handlers, function)
        if mode.endswith("-voice"):
            import httpx

            from waconnect.entrypoints.lambda_handlers.runtime import build_runtime, install
            from waconnect.sandbox.routing import emulator_transport
            from waconnect.settings import Settings

            # The container's runtime, built before the measured call; the emulators' signed
            # URLs have AWS's HTTPS shapes, which only the sandbox's transport reaches.
            settings = Settings.from_env(os.environ)
            transport = emulator_transport(lambda: settings.endpoint_url)
            install(build_runtime(settings, http=httpx.Client(transport=transport)))
            Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
            result["rss_before_kb"] = _status_kb("VmRSS")
        called = time.perf_counter()
        with io.StringIO() as printed:
            sys.stdout, real = printed, sys.stdout
            try:
                response = handler(event, None)
            finally:
                sys.stdout = real
        result["first_call_ms"] = (time.perf_counter() - called) * 1000
        result["response"] = response
        if mode.endswith("-voice"):
            result["peak_growth_kb"] = _status_kb("VmHWM") - result["rss_before_kb"]
    result["loaded_ms"] = (time.perf_counter() - started) * 1000
    result["pyav_loaded"] = "av" in sys.modules
    # What a text never needs: the media code beyond its capabilities table, and httpx.
    result["media_loaded"] = sorted(
        name
        for name in sys.modules
        if name == "httpx"
        or (
            name.startswith("waconnect.media.")
            and name not in ("waconnect.media.policy", "waconnect.media.naming")
        )
    )
    result["sandbox_loaded"] = sorted(
        name
        for name in sys.modules
        if name.split(".")[0] in ("moto", "starlette", "uvicorn")
        or (name.startswith("waconnect.sandbox.") and name != "waconnect.sandbox.defaults")
    )
    print(json.dumps(result))


if __name__ == "__main__":
    child(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")

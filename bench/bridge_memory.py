"""Peak memory of the bridge process forwarding a long voice note or a large document.

The emulators (End User Messaging, Connect, S3) run in a process of their own, so their copies
of the files do not count. Each case runs in a fresh bridge process, built by the composition
root as the sandbox builds it (boto3 to the emulators, SQLite state, transcripts off): a warm-up
delivery of a short note and a small document first (imports, clients, PyAV), then the kernel's
peak-RSS mark is reset and one customer message carrying the case's file is delivered, as End
User Messaging's notification. The figure is the peak RSS above the resident size before it.

What the bridge does with each: a voice note is fetched into S3, converted to 16 kHz WAV parts
under 20 MB and each part attached to the Connect chat; a document up to 20 MB is attached as
it is; a larger one is fetched into S3 and reaches the agent as a notice with a link.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from peak_memory import reset_peak, status_kb
from voice_notes import write_voice_note

MB = 1_000_000
TARGET_MB = 64
PDF = "application/pdf"
VOICE = "audio/ogg; codecs=opus"
WARM_UP_SECONDS = 20
WARM_UP_BYTES = 256 * 1024


def document_file(path: Path, size: int) -> Path:
    """A PDF-looking file of exactly ``size`` bytes, written a megabyte at a time."""
    block = random.Random(size).randbytes(MB)
    with path.open("wb") as out:
        out.write(b"%PDF-1.7\n")
        left = size - 9
        while left > 0:
            out.write(block[: min(left, MB)])
            left -= MB
    return path


# ---- emulator process ------------------------------------------------------------------------


def serve_cloud(conn: Connection, folder: str) -> None:
    """Run the emulators; make and register customer files on request; stop when told."""
    from waconnect.sandbox.cloud import Cloud  # noqa: PLC0415

    with Cloud() as cloud:
        conn.send({"endpoint_url": cloud.endpoint_url, "s3_endpoint_url": cloud.s3_endpoint_url})
        while True:
            request = conn.recv()
            if request[0] == "stop":
                break
            _, kind, amount = request
            if kind == "voice":
                path = write_voice_note(Path(folder) / f"note-{amount}.ogg", amount)
                media_id = cloud.register_media(None, path, "audio/ogg")
            else:
                path = document_file(Path(folder) / f"document-{amount}.pdf", amount)
                media_id = cloud.register_media(None, path, PDF)
            conn.send((media_id, path.stat().st_size))
            path.unlink()


# ---- bridge process --------------------------------------------------------------------------


def notification(customer: str, kind: str, media_id: str) -> dict[str, Any]:
    """End User Messaging's notification of one customer message carrying a file."""
    from waconnect.sandbox import defaults, envelopes  # noqa: PLC0415

    if kind == "voice":
        body: dict[str, Any] = {"audio": {"id": media_id, "mime_type": VOICE, "voice": True}}
    else:
        body = {"document": {"id": media_id, "mime_type": PDF, "filename": "statement.pdf"}}
    now = time.time()
    message = {
        "from": customer,
        "id": f"wamid.bench-{customer}-{media_id}",
        "timestamp": str(int(now)),
        "type": next(iter(body)),
        **body,
    }
    entry = envelopes.meta_entry(
        waba_id=defaults.WABA_ID,
        display_phone_number=defaults.DISPLAY_PHONE_NUMBER,
        meta_phone_number_id=defaults.META_PHONE_NUMBER_ID,
        contacts=[{"profile": {"name": "Bench"}, "wa_id": customer}],
        messages=[message],
    )
    return envelopes.eum_notification(
        entry=entry,
        waba_id=defaults.WABA_ID,
        waba_arn=defaults.WABA_ARN,
        meta_phone_number_id=defaults.META_PHONE_NUMBER_ID,
        phone_number_arn=defaults.PHONE_NUMBER_ARN,
        account_id=defaults.ACCOUNT_ID,
        timestamp=now,
    )


def measure(
    endpoints: dict[str, str], warm_up: list[tuple[str, str]], case: tuple[str, str], out: Any
) -> None:
    """In a fresh process: build the bridge, warm it up, then forward the case's file."""
    from waconnect.bootstrap import SystemClock  # noqa: PLC0415
    from waconnect.sandbox.bridge_host import InProcessBridge, sandbox_settings  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="waconnect-bench-state-") as state:
        settings = sandbox_settings(
            endpoint_url=endpoints["endpoint_url"],
            s3_endpoint_url=endpoints["s3_endpoint_url"],
            state_path=str(Path(state) / "state.sqlite3"),
            media_prefix="bridge/",
            environ={"WACONNECT_TRANSCRIPTION": "none"},
        )
        bridge = InProcessBridge(settings, clock=SystemClock())
        try:
            for index, (kind, media_id) in enumerate(warm_up):
                bridge.handle("document", notification(f"1555099{index:04d}", kind, media_id))
            baseline_kb = status_kb("VmRSS")
            exact = reset_peak()
            started = time.perf_counter()
            seen = bridge.handle("document", notification("15550990100", *case))
            seconds = time.perf_counter() - started
            peak_kb = status_kb("VmHWM")
        finally:
            bridge.close()
    out.send(
        {
            "baseline_rss_mb": round(baseline_kb / 1024, 1),
            "peak_rss_growth_mb": round((peak_kb - baseline_kb) / 1024, 1),
            "peak_reset": exact,
            "seconds": round(seconds, 1),
            "outcomes": [s.kind for s in seen],
        }
    )


# ---- driver ----------------------------------------------------------------------------------


def run(minutes: list[float], sizes_mb: list[int], *, timeout: float = 900) -> list[dict[str, Any]]:
    """One row per note length and document size; each in a fresh bridge process."""
    cases = [("voice", round(m * 60), f"{m:g}-minute voice note") for m in minutes]
    cases += [("document", size * MB, f"{size} MB document") for size in sizes_mb]
    rows = []
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="waconnect-bench-files-") as folder:
        parent, child = context.Pipe()
        cloud = context.Process(target=serve_cloud, args=(child, folder), daemon=True)
        cloud.start()
        try:
            endpoints = _answer(parent, timeout)
            for kind, amount, label in cases:
                warm_up = []
                for warm_kind, warm_amount in (("voice", WARM_UP_SECONDS), ("pdf", WARM_UP_BYTES)):
                    parent.send(("make", warm_kind, warm_amount))
                    warm_up.append((warm_kind, _answer(parent, timeout)[0]))
                parent.send(("make", kind, amount))
                media_id, size = _answer(parent, timeout)
                receiver, sender = context.Pipe(duplex=False)
                bridge = context.Process(
                    target=measure, args=(endpoints, warm_up, (kind, media_id), sender)
                )
                bridge.start()
                figure = _answer(receiver, timeout)
                bridge.join(timeout)
                row = {"case": label, "file_bytes": size, **figure}
                rows.append(row)
                print(json.dumps(row), flush=True)
        finally:
            parent.send(("stop",))
            cloud.join(60)
            if cloud.is_alive():
                cloud.terminate()
    return rows


def _answer(conn: Connection, timeout: float) -> Any:
    if not conn.poll(timeout):
        raise TimeoutError(f"no answer within {timeout:.0f} s")
    return conn.recv()


def section(rows: list[dict[str, Any]]) -> list[str]:
    """The rows as a Markdown table, with the verdict against the target."""
    lines = [
        f"Peak memory the bridge process gains forwarding one file (target: under {TARGET_MB} MB",
        "whatever the size). The emulators run in their own process; each case is a fresh",
        "bridge, warmed up with a short note and a small document before the peak is reset.",
        "",
        "| file | what reaches the agent | peak RSS growth | bridge RSS before | time |",
        "|---|---|---:|---:|---:|",
    ]
    for row in rows:
        what = (
            "WAV parts"
            if "voice" in row["case"]
            else ("the document" if row["file_bytes"] <= 20 * MB else "a notice with a link")
        )
        lines.append(
            f"| {row['case']} ({row['file_bytes'] / MB:.1f} MB) | {what} | "
            f"{row['peak_rss_growth_mb']:.1f} MB | {row['baseline_rss_mb']:.0f} MB | "
            f"{row['seconds']:.1f} s |"
        )
    worst = max(rows, key=lambda row: row["peak_rss_growth_mb"])
    verdict = "met" if worst["peak_rss_growth_mb"] < TARGET_MB else "NOT met"
    lines += [
        "",
        f"Target {verdict}: at most {worst['peak_rss_growth_mb']:.1f} MB ({worst['case']}).",
    ]
    return lines

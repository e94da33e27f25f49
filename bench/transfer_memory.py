"""Peak memory of the bridge while files of 1 MB, 20 MB and 100 MB move through the emulators.

Legs, with the bridge's real adapters over real HTTP:

    customer file --GetWhatsAppMessageMedia--> S3 --S3MediaStore.open--> signed-URL PUT to
    Connect (AwsConnectChat.send_attachment) --GetAttachment download--> media store (S3)

Connect refuses attachments over 20 MB, so for 100 MB only the S3 legs run (media fetch, find,
link, a streamed read, a streamed copy through the bridge); the report says which legs ran.

The emulators run in their own process, so their copies of the files do not count. Each size is
measured in a fresh bridge process: a small warm-up transfer first (imports, clients, connection
pools), then the kernel's peak-RSS mark is reset and the real transfer runs; the figure is the
peak RSS above the resident size before the transfer.

    python bench/transfer_memory.py [--sizes 1,20,100]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import platform
import random
import sys
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.config import Config
from doc_section import write_section
from peak_memory import reset_peak, status_kb

from waconnect.adapters.aws.connect import AwsConnectChat
from waconnect.adapters.aws.eum import EumWhatsApp
from waconnect.adapters.aws.s3 import S3MediaStore
from waconnect.adapters.transfers import SignedUrlTransfers
from waconnect.domain.whatsapp import BusinessNumber, Customer, Media
from waconnect.sandbox import defaults
from waconnect.sandbox.cloud import Cloud
from waconnect.sandbox.routing import emulator_transport

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "transfer_memory.json"
DOC = ROOT / "docs" / "benchmarks.md"
MB = 1_000_000
CONNECT_LIMIT = 20 * MB
TARGET_MB = 64
WARM_UP_SIZE = 256 * 1024
CONTENT_TYPE = "application/pdf"
START_MARK = "<!-- transfer_memory:start -->"
END_MARK = "<!-- transfer_memory:end -->"


def file_bytes(size: int) -> bytes:
    """A PDF-looking file of exactly ``size`` bytes (emulator side only)."""
    header = b"%PDF-1.7\n"
    block = random.Random(size).randbytes(MB)
    body = (block * (size // MB + 1))[: max(size - len(header), 0)]
    return (header + body)[:size]


# ---- emulator process ------------------------------------------------------------------------


def serve_cloud(conn: Connection) -> None:
    """Run the emulators; register customer media on request; stop when told."""
    with Cloud() as cloud:
        conn.send({"endpoint_url": cloud.endpoint_url, "s3_endpoint_url": cloud.s3_endpoint_url})
        while True:
            request = conn.recv()
            if request[0] == "stop":
                break
            _, size = request
            data = file_bytes(size)
            media_id = cloud.register_media(None, data, CONTENT_TYPE)
            conn.send((media_id, hashlib.sha256(data).hexdigest()))


# ---- bridge process --------------------------------------------------------------------------


class WallClock:
    def now(self) -> float:
        return time.time()


class Bridge:
    """The bridge's adapters, wired to the emulators' endpoints."""

    def __init__(self, endpoints: dict[str, str]) -> None:
        def client(service: str, endpoint: str) -> Any:
            return boto3.client(
                service,  # type: ignore[call-overload]
                endpoint_url=endpoint,
                region_name=defaults.REGION,
                aws_access_key_id=defaults.ACCESS_KEY_ID,
                aws_secret_access_key=defaults.SECRET_ACCESS_KEY,
                config=Config(signature_version="s3v4", retries={"mode": "standard"})
                if service == "s3"
                else Config(retries={"mode": "standard"}),
            )

        url = endpoints["endpoint_url"]
        self.http = httpx.Client(transport=emulator_transport(lambda: url), timeout=120)
        self.store = S3MediaStore(
            client("s3", endpoints["s3_endpoint_url"]), defaults.MEDIA_BUCKET, prefix="bridge/"
        )
        self.whatsapp = EumWhatsApp(
            client("socialmessaging", url),
            self.store,
            s3_bucket=defaults.MEDIA_BUCKET,
            s3_prefix="bridge/",
        )
        self.connect = AwsConnectChat(
            client("connect", url),
            client("connectparticipant", url),
            SignedUrlTransfers(self.http),
            self.store,
            instance_id=defaults.INSTANCE_ID,
            contact_flow_id=defaults.CONTACT_FLOW_ID,
            streaming_topic_arn=defaults.STREAMING_TOPIC_ARN,
            clock=WallClock(),
        )
        self.business = BusinessNumber(
            meta_phone_number_id=defaults.META_PHONE_NUMBER_ID,
            display_phone_number=defaults.DISPLAY_PHONE_NUMBER,
            waba_id=defaults.WABA_ID,
            aws_phone_number_id=defaults.AWS_PHONE_NUMBER_ID,
        )

    def run(self, label: str, media_id: str, size: int, sha256: str) -> dict[str, Any]:
        """Every leg the size allows; returns what ran and whether bytes arrived intact."""
        legs: dict[str, float] = {}
        started = time.perf_counter()
        stored = self.whatsapp.fetch_media(
            self.business, Media(media_id=media_id, mime_type=CONTENT_TYPE), key=f"{label}/in/"
        )
        self.store.link(stored, expires_in=300)
        legs["fetch_media_to_s3_and_link"] = time.perf_counter() - started
        started = time.perf_counter()
        digest = hashlib.sha256()
        with self.store.open(stored) as chunks:
            for chunk in chunks:
                digest.update(chunk)
        legs["s3_read"] = time.perf_counter() - started
        started = time.perf_counter()
        with self.store.open(stored) as chunks:
            copy = self.store.put(f"{label}/copy.pdf", chunks, content_type=CONTENT_TYPE)
        legs["s3_to_s3_through_bridge"] = time.perf_counter() - started
        intact = stored.size == size and digest.hexdigest() == sha256 == copy.sha256
        if size <= CONNECT_LIMIT:
            started = time.perf_counter()
            customer = Customer(wa_id=f"1555010{size % 10_000:04d}", name="Bench")
            chat = self.connect.start_chat(
                business=self.business, customer=customer, client_token=f"{label}-chat"
            )
            connection = self.connect.connect(chat.participant_token)
            attachment_id = self.connect.send_attachment(
                connection.token, stored, name=f"{label}.pdf", client_token=f"{label}-attach"
            )
            legs["s3_to_connect_attachment"] = time.perf_counter() - started
            started = time.perf_counter()
            back = self.connect.get_attachment(
                connection.token,
                attachment_id,
                name=f"{label}.pdf",
                content_type=CONTENT_TYPE,
                key=f"{label}/back/{label}.pdf",
            )
            legs["connect_attachment_to_s3"] = time.perf_counter() - started
            intact = intact and back.stored.size == size and back.stored.sha256 == sha256
        return {"legs": {leg: round(t, 3) for leg, t in legs.items()}, "intact": intact}


def measure(
    endpoints: dict[str, str],
    warm_up: tuple[str, str],
    media: tuple[str, str],
    size: int,
    out: Any,
) -> None:
    bridge = Bridge(endpoints)
    # Labels become keys and ClientTokens: unique per run, or Connect replays an earlier upload.
    run_id = uuid.uuid4().hex[:8]
    bridge.run(f"warm-up-{run_id}", warm_up[0], WARM_UP_SIZE, warm_up[1])
    baseline_kb = status_kb("VmRSS")
    exact = reset_peak()
    result = bridge.run(f"size-{size}-{run_id}", media[0], size, media[1])
    peak_kb = status_kb("VmHWM")
    bridge.http.close()
    out.send(
        {
            "size_bytes": size,
            "baseline_rss_mb": round(baseline_kb / 1024, 1),
            "peak_rss_growth_mb": round((peak_kb - baseline_kb) / 1024, 1),
            "peak_reset": exact,
            **result,
        }
    )


# ---- driver ----------------------------------------------------------------------------------


def write_report(figures: list[dict[str, Any]]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "transfer_memory",
                "target_peak_rss_growth_mb": TARGET_MB,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "figures": figures,
            },
            indent=2,
        )
        + "\n"
    )
    rows = [
        "| file | legs | peak RSS growth | time | bytes intact |",
        "|---:|---|---:|---:|---|",
    ]
    for figure in figures:
        legs = figure["legs"]
        rows.append(
            f"| {figure['size_bytes'] / MB:g} MB | {', '.join(legs)} | "
            f"{figure['peak_rss_growth_mb']:.1f} MB | {sum(legs.values()):.1f} s | "
            f"{'yes' if figure['intact'] else 'NO'} |"
        )
    section = "\n".join(
        [
            START_MARK,
            "## Transfer memory (`bench/transfer_memory.py`)",
            "",
            "Peak resident memory the bridge process gains while one file moves through the",
            "emulators (which run in their own process): End User Messaging media fetch into S3,",
            "S3 to a Connect attachment through the signed upload URL, and the attachment back",
            "into S3 through GetAttachment; every size also streams the fetched file out of S3",
            "and copies it back through the bridge (the multipart upload path). Connect refuses",
            "attachments over 20 MB, so the 100 MB file runs the S3 legs only.",
            f"Target: under {TARGET_MB} MB whatever the size. What remains is one S3 multipart",
            "part (8 MiB) held while it is joined and sent. Raw figures:",
            "`bench/results/transfer_memory.json`.",
            "",
            *rows,
            END_MARK,
        ]
    )
    write_section(DOC, START_MARK, END_MARK, section)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,20,100", help="file sizes in MB, comma-separated")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    sizes = [int(float(s) * MB) for s in args.sizes.split(",")]

    spawn = multiprocessing.get_context("spawn")
    cloud_end, cloud_conn = spawn.Pipe()
    cloud = spawn.Process(target=serve_cloud, args=(cloud_conn,), daemon=True)
    cloud.start()
    cloud_conn.close()
    endpoints = cloud_end.recv()
    figures = []
    try:
        for size in sizes:
            cloud_end.send(("media", WARM_UP_SIZE))
            warm_up = cloud_end.recv()
            cloud_end.send(("media", size))
            media = cloud_end.recv()
            result_end, result_conn = spawn.Pipe()
            bridge = spawn.Process(
                target=measure, args=(endpoints, warm_up, media, size, result_conn)
            )
            bridge.start()
            result_conn.close()
            try:
                figure = result_end.recv()
            except EOFError:
                print(f"bridge process for {size / MB:g} MB failed", file=sys.stderr)
                return 2
            finally:
                bridge.join()
            figures.append(figure)
            print(
                f"{size / MB:>6g} MB  peak RSS growth {figure['peak_rss_growth_mb']:6.1f} MB  "
                f"legs: {', '.join(figure['legs'])}  intact: {figure['intact']}",
                flush=True,
            )
    finally:
        cloud_end.send(("stop",))
        cloud.join(timeout=30)
    if not args.no_write:
        write_report(figures)
    over = [f for f in figures if f["peak_rss_growth_mb"] >= TARGET_MB or not f["intact"]]
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())

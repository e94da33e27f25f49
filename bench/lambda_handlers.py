"""Cold starts, calls per message and memory of the Lambda handlers, against the emulators.

Figures, each from a fresh Python interpreter (a cold container) talking over HTTP to the
emulators and moto's SQS and DynamoDB, which run in this process:

- import time of ``waconnect.entrypoints.lambda_handlers`` and of everything the text path loads
  by the end of its first call (whether PyAV was among it), beside ``import boto3`` alone;
- first-invocation time of each handler (building the container's runtime included), beside
  the direct path (``bootstrap.build_bridge`` + ``Bridge.handle_document``) for the same text;
- AWS calls per inbound text, by service (Connect and Participant Service, DynamoDB, End User
  Messaging, SQS), for a customer's first text (which opens the chat) and a later one;
- peak memory the inbound handler gains while a 15-minute voice note is fetched and converted.

    python bench/lambda_handlers.py [--no-write]
"""

# waconnect is imported where each figure needs it, as the cold-start child does.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from doc_section import write_section
from voice_notes import voice_note

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "lambda_handlers.json"
DOC = ROOT / "docs" / "benchmarks.md"
START_MARK = "<!-- lambda_handlers:start -->"
END_MARK = "<!-- lambda_handlers:end -->"
IMPORT_TARGET_MS = 300
VOICE_SECONDS = 15 * 60
REPEAT = 3
# Each figure's cold container: a script that imports nothing before its clock starts.
CHILD = Path(__file__).with_name("lambda_cold_child.py")


# ---- the parent: emulators, queues, and one child per figure -----------------------------


class Rig:
    """The emulators, the queues and tables, and a warm runtime to queue and count with."""

    def __init__(self) -> None:
        from waconnect.sandbox.cloud import Cloud
        from waconnect.sandbox.lambda_local import HarnessOptions, LocalLambda

        self.cloud = Cloud().start()
        # The harness makes the resources and settings; its event sources stay idle because
        # the bench takes every record off the queues itself.
        self.harness = LocalLambda(self.cloud, options=HarnessOptions())
        self.harness.start()
        self.harness._stopping.set()
        for thread in self.harness._threads:
            thread.join()
        self.envelopes: list[dict[str, Any]] = []
        self.cloud.inbound_topic.unsubscribe(self.harness._on_inbound_topic)
        self.cloud.streaming_topic.unsubscribe(self.harness._on_streaming_topic)
        self.cloud.inbound_topic.subscribe(lambda e: self.envelopes.append(json.loads(e)))
        self.cloud.streaming_topic.subscribe(lambda e: self.envelopes.append(json.loads(e)))

    def environment(self) -> dict[str, str]:
        settings = self.harness.settings
        assert settings is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("WACONNECT_")}
        env.update(
            {
                "AWS_ACCESS_KEY_ID": "sandbox",
                "AWS_SECRET_ACCESS_KEY": "sandbox",
                "WACONNECT_REGION": settings.region,
                "WACONNECT_CONNECT_INSTANCE_ID": settings.connect_instance_id,
                "WACONNECT_CONTACT_FLOW_ID": settings.contact_flow_id,
                "WACONNECT_STREAMING_TOPIC_ARN": settings.streaming_topic_arn,
                "WACONNECT_MEDIA_BUCKET": settings.media_bucket,
                "WACONNECT_MEDIA_PREFIX": settings.media_prefix,
                "WACONNECT_STATE": settings.state,
                "WACONNECT_ENDPOINT_URL": settings.endpoint_url,
                "WACONNECT_S3_ENDPOINT_URL": settings.s3_endpoint_url,
                "WACONNECT_DYNAMODB_ENDPOINT_URL": settings.dynamodb_endpoint_url,
                "WACONNECT_SQS_ENDPOINT_URL": settings.sqs_endpoint_url,
                "WACONNECT_INBOUND_QUEUE_URL": settings.inbound_queue_url,
                "WACONNECT_OUTBOUND_QUEUE_URL": settings.outbound_queue_url,
                "WACONNECT_ALLOW_HTTP_LOOPBACK": "true",
                "WACONNECT_EUM_PHONE_NUMBERS": ",".join(
                    f"{k}={v}" for k, v in settings.eum_phone_numbers.items()
                ),
                "POWERTOOLS_METRICS_NAMESPACE": "waconnect",
            }
        )
        return env

    def settle(self) -> None:
        if not self.cloud.settle(timeout=60):
            raise RuntimeError("the emulators did not settle")

    def take_envelope(self) -> dict[str, Any]:
        self.settle()
        return self.envelopes.pop(0)

    def sns_event(self, envelope: dict[str, Any]) -> dict[str, Any]:
        from waconnect.wire.sns import build_lambda_event

        return build_lambda_event([envelope])

    def queue_event(self, which: str) -> tuple[dict[str, Any], list[str]]:
        from waconnect.sandbox.lambda_events import sqs_record

        queue = getattr(self.harness.resources, which)
        messages = self.harness.sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=10,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
            VisibilityTimeout=120,
        ).get("Messages", [])
        if not messages:
            raise RuntimeError(f"nothing on the {which} queue")
        handles = [m["ReceiptHandle"] for m in messages]
        return {"Records": [sqs_record(m, queue) for m in messages]}, handles

    def done(self, which: str, handles: list[str]) -> None:
        queue = getattr(self.harness.resources, which)
        for handle in handles:
            self.harness.sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=handle)

    def stop(self) -> None:
        self.harness.stop()
        self.cloud.stop()


def run_child(mode: str, event: dict[str, Any] | None, env: dict[str, str]) -> dict[str, Any]:
    path = ""
    if event is not None:
        path = str(RESULTS.parent / f"event-{mode}.json")
        Path(path).write_text(json.dumps(event))
    done = subprocess.run(
        [sys.executable, str(CHILD), mode, path],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if path:
        Path(path).unlink()
    if done.returncode != 0:
        raise RuntimeError(f"child {mode} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _import_ms(figure: dict[str, Any]) -> float:
    return float(figure["import_ms"])


def count_calls(rig: Rig, texts: list[str]) -> tuple[list[dict[str, int]], list[dict[str, int]]]:
    """AWS calls by service while ``inbound`` handles each text, in a warm container; and while
    ``ingest`` queued it."""
    from waconnect.entrypoints import lambda_handlers
    from waconnect.entrypoints.lambda_handlers.runtime import build_runtime, install

    counts: Counter[str] = Counter()

    def count(model: Any = None, **_: Any) -> None:
        counts[model.service_model.service_name] += 1

    session = rig.harness._session
    session.events.register("before-call.*.*", count)
    settings = rig.harness.settings
    assert settings is not None
    previous = install(build_runtime(settings, boto_session=session, clock=rig.cloud.clock))
    from waconnect.domain.whatsapp import Customer

    customer = Customer(wa_id="15550100777", name="Counted")
    per_text: list[dict[str, int]] = []
    ingested: list[dict[str, int]] = []
    try:
        for text in texts:
            rig.cloud.customer_sends(customer, {"type": "text", "text": {"body": text}})
            envelope = rig.take_envelope()
            printed = io.StringIO()  # the functions' EMF lines
            sys.stdout, real = printed, sys.stdout
            try:
                counts.clear()
                lambda_handlers.ingest(rig.sns_event(envelope), None)
                ingested.append(dict(counts))
                event, handles = rig.queue_event("inbound")
                counts.clear()
                lambda_handlers.inbound(event, None)
            finally:
                sys.stdout = real
            per_text.append(dict(counts))
            rig.done("inbound", handles)
            rig.settle()
            rig.envelopes.clear()
    finally:
        session.events.unregister("before-call.*.*", count)
        install(previous)
    return per_text, ingested


def measure() -> dict[str, Any]:
    from waconnect.domain.whatsapp import Customer

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    rig = Rig()
    try:
        env = rig.environment()
        ana = Customer(wa_id="15550100001", name="Ana")
        figures: dict[str, Any] = {}
        for mode in ("boto3", "textpath"):
            runs = sorted((run_child(mode, None, env) for _ in range(REPEAT)), key=_import_ms)
            figures[mode] = runs[REPEAT // 2]  # the median run

        rig.cloud.customer_sends(ana, {"type": "text", "text": {"body": "hello"}})
        sns = rig.sns_event(rig.take_envelope())
        figures["ingest"] = run_child("ingest", sns, env)
        event, handles = rig.queue_event("inbound")
        figures["inbound"] = run_child("inbound", event, env)
        rig.done("inbound", handles)
        rig.settle()
        rig.envelopes.clear()

        rig.cloud.customer_sends(ana, {"type": "text", "text": {"body": "direct path"}})
        figures["direct"] = run_child("direct", rig.take_envelope(), env)
        rig.settle()
        rig.envelopes.clear()

        contact = rig.cloud.active_contact(ana.identity)
        assert contact is not None
        rig.cloud.agent_sends_text(contact, "hello Ana")
        streaming = rig.take_envelope()
        figures["agent_ingest"] = run_child("agent_ingest", rig.sns_event(streaming), env)
        event, handles = rig.queue_event("outbound")
        figures["outbound"] = run_child("outbound", event, env)
        rig.done("outbound", handles)
        rig.settle()
        rig.envelopes.clear()

        texts = ["first text", "second text", "third"]
        figures["calls_per_text"], figures["ingest_calls_per_text"] = count_calls(rig, texts)

        voice = voice_note(VOICE_SECONDS)
        media_id = rig.cloud.register_media(None, voice, "audio/ogg")
        rig.cloud.customer_sends(
            ana,
            {
                "type": "audio",
                "audio": {"id": media_id, "mime_type": "audio/ogg; codecs=opus", "voice": True},
            },
        )
        from waconnect.entrypoints.lambda_handlers.queueing import whatsapp_entries

        voice_sns = rig.sns_event(rig.take_envelope())["Records"][0]["Sns"]
        entries, _ = whatsapp_entries(voice_sns)
        rig.harness.sqs.send_message(
            QueueUrl=rig.harness.settings.inbound_queue_url,  # type: ignore[union-attr]
            MessageBody=entries[0].body,
            MessageGroupId=entries[0].group_id,
            MessageDeduplicationId=entries[0].deduplication_id,
        )
        event, handles = rig.queue_event("inbound")
        figures["inbound_voice"] = run_child("inbound-voice", event, env)
        figures["inbound_voice"]["voice_bytes"] = len(voice)
        rig.done("inbound", handles)
        rig.settle()
        return figures
    finally:
        rig.stop()


def write_report(figures: dict[str, Any]) -> None:
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "lambda_handlers",
                "python": platform.python_version(),
                "machine": platform.machine(),
                "figures": figures,
            },
            indent=2,
        )
        + "\n"
    )
    rows = [
        "| handler | import | first call (runtime built) | loaded by the end | PyAV, media code, "
        "httpx or sandbox loaded |",
        "|---|---:|---:|---:|---|",
    ]
    for name in ("ingest", "inbound", "agent_ingest", "outbound", "textpath", "direct", "boto3"):
        f = figures[name]
        label = {
            "textpath": "every module a text's first call loads (median of 3)",
            "direct": "baseline: `build_bridge` + `handle_document`",
            "boto3": "baseline: `import boto3` (median of 3)",
        }.get(name, f"`{name}`")
        first = f"{f['first_call_ms']:.0f} ms" if "first_call_ms" in f else "—"
        rows.append(
            f"| {label} | {f['import_ms']:.0f} ms | {first} | {f['loaded_ms']:.0f} ms | "
            f"{_heavy(f)} |"
        )
    calls = figures["calls_per_text"]
    ingest_calls = figures["ingest_calls_per_text"]
    services = sorted({s for c in calls for s in c})
    call_rows = [
        "| inbound text | " + " | ".join(services) + " |",
        "|---|" + "---:|" * len(services),
    ]
    for index, c in enumerate(calls):
        label = "first (opens the chat)" if index == 0 else f"text {index + 1}"
        call_rows.append(f"| {label} | " + " | ".join(str(c.get(s, 0)) for s in services) + " |")
    voice = figures["inbound_voice"]
    section = "\n".join(
        [
            START_MARK,
            "## Lambda handlers (`bench/lambda_handlers.py`)",
            "",
            "Each row is a fresh Python interpreter (a cold container) calling the emulators and",
            "moto's SQS and DynamoDB over HTTP. *Import* is `import "
            "waconnect.entrypoints.lambda_handlers`",
            "(Powertools, boto3 and the bridge are imported by the first call); *first call*",
            "builds the container's runtime and handles one record (`inbound`: a customer's",
            "first text, which opens the chat); *loaded by the end* is import plus first call.",
            f"Target for the text path: import under {IMPORT_TARGET_MS} ms, and no PyAV. The",
            "machine is shared (two cores, other jobs running): compare rows of one run, not",
            "runs.",
            "",
            *rows,
            "",
            "AWS calls while `inbound` handles one text (warm container; Connect counts",
            "`connect` and `connectparticipant`):",
            "",
            *call_rows,
            "",
            "`ingest` for each of these texts: "
            + ", ".join(" + ".join(f"{n} {s}" for s, n in sorted(c.items())) for c in ingest_calls)
            + " (the DynamoDB calls: the customer's session key, and one BatchGetItem of the",
            "ledger that drops a message already handled). Before the calls were cut, `inbound`",
            "made 11 DynamoDB calls for a customer's first text and 10 for each later one (the",
            "same counting, 2026-12-02); `ingest` made 1.",
            "",
            f"A {VOICE_SECONDS // 60}-minute voice note (OGG/Opus, "
            f"{voice.get('voice_bytes', 0) / 1e6:.1f} MB) through `inbound`: peak RSS growth "
            f"{voice['peak_growth_kb'] / 1024:.1f} MB over the {voice['rss_before_kb'] / 1024:.0f} "
            f"MB of a built container, in {voice['first_call_ms'] / 1000:.1f} s. "
            "Raw figures: `bench/results/lambda_handlers.json`.",
            END_MARK,
        ]
    )
    write_section(DOC, START_MARK, END_MARK, section)


def _heavy(figure: dict[str, Any]) -> str:
    loaded = figure["sandbox_loaded"] + figure.get("media_loaded", [])
    if figure["pyav_loaded"]:
        loaded.insert(0, "av")
    return ", ".join(f"`{name}`" for name in loaded[:4]) + (" …" if len(loaded) > 4 else "") or "no"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    figures = measure()
    for name in ("boto3", "textpath", "ingest", "inbound", "direct", "agent_ingest", "outbound"):
        f = figures[name]
        print(
            f"{name:<13} import {f['import_ms']:7.1f} ms  first call "
            f"{f.get('first_call_ms', 0):7.1f} ms  pyav {f['pyav_loaded']}  "
            f"media {f.get('media_loaded')}  sandbox {f['sandbox_loaded']}"
        )
    for index, calls in enumerate(figures["calls_per_text"]):
        print(f"inbound text {index + 1}: {calls}")
    for index, calls in enumerate(figures["ingest_calls_per_text"]):
        print(f"ingest text {index + 1}: {calls}")
    voice = figures["inbound_voice"]
    print(
        f"voice note {VOICE_SECONDS} s: peak RSS growth {voice['peak_growth_kb'] / 1024:.1f} MB, "
        f"{voice['first_call_ms'] / 1000:.1f} s, response {voice['response']}"
    )
    if not args.no_write:
        write_report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())

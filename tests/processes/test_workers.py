"""Real bridge processes on one SQLite state, talking to the sandbox emulators over HTTP.

Two workers receiving the same new customers' messages at once open exactly one chat per
customer, and every message reaches it once. A worker SIGKILLed in the middle of a message is
replaced: after the lease, a fresh worker finishes only the parts not yet in the chat.
Processes are spawned (not forked: the emulators run threads) and bounded in time.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import pytest

from waconnect.domain.text import CONNECT_TEXT_LIMIT, split_text
from waconnect.sandbox import defaults
from waconnect.sandbox.cloud import Cloud
from waconnect.sandbox.envelopes import eum_notification, meta_entry

CUSTOMERS = 6
# Long enough that a worker spawned after the kill starts within the lease however busy the
# machine is (the worker meant to come after it runs on a clock moved past the lease), and
# shorter than Connect's 5 minutes to connect to a chat, as settings require.
LEASE_SECONDS = 240
JOIN_SECONDS = 120
SPAWN = multiprocessing.get_context("spawn")


class OffsetClock:
    """Wall time moved ``offset`` seconds ahead (a worker that starts after a lease ran out)."""

    def __init__(self, offset: float) -> None:
        self._offset = offset

    def now(self) -> float:
        return time.time() + self._offset


def run_worker(
    endpoints: tuple[str, str, str],
    documents: list[str],
    results: Queue[Any],
    *,
    offset: float = 0.0,
    stall_on_message: int = 0,
    stalled: Event | None = None,
    settle: bool = True,
) -> None:
    """A bridge process: hand in each document, then retry what was deferred until settled.

    With ``stall_on_message`` n, the process stops forever inside its n-th SendMessage call,
    after Connect took it and before the answer is read (the worst moment), for the parent
    to kill it.
    """
    import boto3

    from waconnect.adapters.aws.connect import AwsConnectChat
    from waconnect.bootstrap import build_bridge
    from waconnect.settings import Settings

    endpoint, s3_endpoint, state = endpoints
    settings = Settings.for_sandbox(
        endpoint_url=endpoint, s3_endpoint_url=s3_endpoint, state_path=state
    )
    settings = dataclasses.replace(settings, lease_seconds=LEASE_SECONDS)
    if stall_on_message:
        original = AwsConnectChat.send_message
        calls = [0]

        def stalling(self: AwsConnectChat, *args: Any, **kwargs: Any) -> str:
            result = original(self, *args, **kwargs)
            calls[0] += 1
            if calls[0] == stall_on_message and stalled is not None:
                stalled.set()
                time.sleep(JOIN_SECONDS * 10)
            return result

        AwsConnectChat.send_message = stalling  # type: ignore[method-assign]
    session = boto3.session.Session(
        region_name=defaults.REGION,
        aws_access_key_id=defaults.ACCESS_KEY_ID,
        aws_secret_access_key=defaults.SECRET_ACCESS_KEY,
    )
    kinds: list[str] = []
    with build_bridge(settings, clock=OffsetClock(offset), boto_session=session) as bridge:
        for document in documents:
            kinds.extend(o.kind for o in bridge.handle_document(document))
        deadline = time.monotonic() + JOIN_SECONDS / 2
        pending = [k for k in kinds if k == "deferred" and settle]
        while pending and time.monotonic() < deadline:
            time.sleep(0.2)
            # Far enough ahead that every kept document is due now.
            again = bridge.run_due(time.time() + offset + 3600)
            kinds.extend(o.kind for o in again)
            pending = [o for o in again if not o.settled]
    results.put(kinds)


def customer_document(wa_id: str, wamid: str, body: str) -> str:
    now = time.time()
    message = {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(int(now)),
        "type": "text",
        "text": {"body": body},
    }
    entry = meta_entry(
        waba_id=defaults.WABA_ID,
        display_phone_number=defaults.DISPLAY_PHONE_NUMBER,
        meta_phone_number_id=defaults.META_PHONE_NUMBER_ID,
        contacts=[{"profile": {"name": f"Customer {wa_id[-2:]}"}, "wa_id": wa_id}],
        messages=[message],
    )
    return json.dumps(
        eum_notification(
            entry=entry,
            waba_id=defaults.WABA_ID,
            waba_arn=defaults.WABA_ARN,
            meta_phone_number_id=defaults.META_PHONE_NUMBER_ID,
            phone_number_arn=defaults.PHONE_NUMBER_ARN,
            account_id=defaults.ACCOUNT_ID,
            timestamp=now,
        )
    )


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    with Cloud() as running:
        yield running


def texts_in(cloud: Cloud, contact_id: str) -> list[str]:
    return [
        str(item.get("Content", ""))
        for item in cloud.transcript(contact_id)
        if item.get("Type") == "MESSAGE" and item.get("ParticipantRole") == "CUSTOMER"
    ]


def chats_of(cloud: Cloud, wa_id: str) -> list[str]:
    return [c.contact_id for c in cloud.connect_view.contacts() if c.customer == wa_id]


def start(target_args: tuple[Any, ...], **kwargs: Any) -> multiprocessing.process.BaseProcess:
    process = SPAWN.Process(target=run_worker, args=target_args, kwargs=kwargs)
    process.start()
    return process


def finish(process: multiprocessing.process.BaseProcess) -> None:
    process.join(JOIN_SECONDS)
    if process.is_alive():
        process.kill()
        process.join(JOIN_SECONDS)
        pytest.fail("a worker did not finish in time")


def test_two_workers_open_one_chat_per_new_customer(cloud: Cloud, tmp_path: Path) -> None:
    endpoints = (cloud.endpoint_url, cloud.s3_endpoint_url, str(tmp_path / "state.sqlite3"))
    customers = [f"155501000{n:02d}" for n in range(CUSTOMERS)]
    # Each worker gets one of each customer's first two messages: the races are all first ones.
    first = [customer_document(c, f"wamid.first.{c}", f"first from {c}") for c in customers]
    second = [customer_document(c, f"wamid.second.{c}", f"second from {c}") for c in customers]
    results: Queue[Any] = SPAWN.Queue()

    workers = [start((endpoints, first, results)), start((endpoints, second, results))]
    for worker in workers:
        finish(worker)

    kinds = [kind for _ in workers for kind in results.get(timeout=JOIN_SECONDS)]
    assert "failed" not in kinds
    for customer in customers:
        [contact_id] = chats_of(cloud, customer)
        assert sorted(texts_in(cloud, contact_id)) == sorted(
            [f"first from {customer}", f"second from {customer}"]
        )


def test_a_worker_killed_mid_message_is_replaced_after_the_lease(
    cloud: Cloud, tmp_path: Path
) -> None:
    endpoints = (cloud.endpoint_url, cloud.s3_endpoint_url, str(tmp_path / "state.sqlite3"))
    words = " ".join(f"word{n}" for n in range(CONNECT_TEXT_LIMIT * 3 // 7))
    parts = split_text(words, CONNECT_TEXT_LIMIT)
    assert len(parts) >= 3
    document = customer_document("15550109999", "wamid.killed", words)
    results: Queue[Any] = SPAWN.Queue()
    stalled = SPAWN.Event()

    doomed = start((endpoints, [document], results), stall_on_message=2, stalled=stalled)
    assert stalled.wait(JOIN_SECONDS), "the worker never reached its second part"
    assert doomed.pid is not None
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join(JOIN_SECONDS)
    assert doomed.exitcode == -signal.SIGKILL
    [contact_id] = chats_of(cloud, "15550109999")
    assert texts_in(cloud, contact_id) == parts[:2]

    # Within the lease, a fresh worker leaves the message alone (it is not lost: deferred).
    early = start((endpoints, [document], results), offset=1, settle=False)
    finish(early)
    assert set(results.get(timeout=JOIN_SECONDS)) == {"deferred"}
    # After it, the next worker takes over and sends only what the chat does not have.
    late = start((endpoints, [document], results), offset=LEASE_SECONDS + 1)
    finish(late)

    assert results.get(timeout=JOIN_SECONDS) == ["delivered"]
    assert chats_of(cloud, "15550109999") == [contact_id]
    assert texts_in(cloud, contact_id) == parts

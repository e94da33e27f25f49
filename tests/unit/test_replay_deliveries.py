"""Replay delivers a document the way SNS delivers to an HTTP endpoint: a bridge that died or
answered "try again" (a ``TransientError``) gets it again; only a bug is reported as failed."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future
from types import SimpleNamespace
from typing import Any, cast

import pytest

from waconnect.sandbox import scenario_delivery
from waconnect.sandbox.bridge_host import BridgeFailed, BridgeLost, Seen
from waconnect.sandbox.bridge_workers import _Worker
from waconnect.sandbox.journal import Journal
from waconnect.sandbox.scenario_delivery import DELIVERY_ATTEMPTS, Deliveries
from waconnect.sandbox.step_labels import StepLabels


class Host:
    """A bridge host that answers with the given failures first, then with ``outcomes``."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0

    def handle(self, entry: str, document: Any) -> list[Seen]:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return [Seen(kind="ignored", reason="seen")]


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scenario_delivery, "TRANSIENT_PAUSE_SECONDS", 0.0)


def deliver(host: Host) -> tuple[Journal, list[str]]:
    journal = Journal()
    failed: list[str] = []
    deliveries = Deliveries(
        cloud=cast(Any, SimpleNamespace(journal=journal)),
        labels=StepLabels(),
        failed=lambda: failed.append("failed"),
    )
    deliveries.use_host(host)
    deliveries.on_streaming('{"Type": "Notification"}')
    return journal, failed


def kinds(journal: Journal) -> list[tuple[str, str]]:
    return [(line["kind"], line.get("reason", "")) for line in journal.since(0)]


def test_a_transient_failure_is_delivered_again_and_its_outcome_recorded() -> None:
    host = Host(BridgeFailed("TransientError: SQLITE_BUSY", transient=True), BridgeLost("gone"))

    journal, failed = deliver(host)

    assert host.calls == 3
    assert failed == []
    assert kinds(journal) == [("ignored", "seen")]


def test_a_bridge_that_stays_busy_is_reported_after_the_attempts_sns_would_make() -> None:
    busy = [BridgeFailed("TransientError: busy", transient=True) for _ in range(DELIVERY_ATTEMPTS)]
    host = Host(*busy)

    journal, failed = deliver(host)

    assert host.calls == DELIVERY_ATTEMPTS
    assert failed == ["failed"]
    assert kinds(journal) == [("failed", "bridge error: TransientError: busy")]


def test_a_bug_is_reported_at_once_not_delivered_again() -> None:
    host = Host(BridgeFailed("KeyError: 'x'"))

    journal, failed = deliver(host)

    assert host.calls == 1
    assert failed == ["failed"]
    assert kinds(journal) == [("failed", "bridge error: KeyError: 'x'")]


@pytest.mark.parametrize("transient", [True, False])
def test_a_worker_process_tells_whether_its_failure_was_transient(transient: bool) -> None:
    ours, theirs = multiprocessing.Pipe()
    worker = _Worker("bridge-1", cast(Any, None), ours)
    theirs.send(("ready",))
    worker.wait_ready()

    answer: Future[list[Seen]] = worker.submit("document", {})
    request, _, _ = theirs.recv()
    theirs.send((request, False, "TransientError: busy", transient))

    with pytest.raises(BridgeFailed) as failure:
        answer.result(timeout=30)
    assert failure.value.transient is transient
    theirs.close()

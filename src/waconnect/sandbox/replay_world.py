"""One replay's world: a seeded emulated cloud, a temporary SQLite state and a bridge on both.

The bridge runs in this process, as N worker processes on the same state, or behind the
Lambda harness's functions and queues; whichever it is, it is built as production builds it.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from waconnect.sandbox import defaults
from waconnect.sandbox.bridge_host import (
    BridgeHost,
    InProcessBridge,
    chosen_settings,
    honoured,
    sandbox_settings,
)
from waconnect.sandbox.bridge_workers import Exit, WorkerPool, WorkerSetup
from waconnect.sandbox.clock import SandboxClock
from waconnect.sandbox.cloud import Cloud
from waconnect.sandbox.scenario_delivery import Deliveries, journal_outcomes
from waconnect.sandbox.step_labels import StepLabels

if TYPE_CHECKING:
    from waconnect.sandbox.lambda_local import HarnessOptions, LocalLambda
    from waconnect.settings import Settings


class ReplayWorld:
    """Opened once, closed once; ``deliveries`` hands documents to whichever bridge it built.

    ``workers``: 0 runs the bridge in this process, N runs it in N child processes;
    ``through_lambda``: deliveries go through the Lambda harness instead (no workers);
    ``environ``: where the honoured ``WACONNECT_*`` settings come from (os.environ).
    """

    def __init__(
        self,
        *,
        seed: int,
        labels: StepLabels,
        failed: Callable[[], None],
        clock: SandboxClock | None = None,
        watch: Callable[[str, str], None] | None = None,
        through_lambda: bool = False,
        lambda_options: HarnessOptions | None = None,
        workers: int = 0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._seed = seed
        self._labels = labels
        self._failed = failed
        # Replay's clock moves only when a scenario advances it; the sandbox page's ticks.
        self._clock = clock
        self._watch = watch
        self._through_lambda = through_lambda
        self._lambda_options = lambda_options
        self._workers = workers
        self._environ = os.environ if environ is None else environ
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._cloud: Cloud | None = None
        self._deliveries: Deliveries | None = None
        self.harness: LocalLambda | None = None
        self.host: BridgeHost | None = None
        self.pool: WorkerPool | None = None
        self._setup: WorkerSetup | None = None
        # Told of each crash: the killed process's exit and the caller name of the fresh one.
        self.on_takeover: Callable[[Exit, str], None] | None = None

    def open(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="waconnect-replay-")
        clock = self._clock or SandboxClock(defaults.REPLAY_EPOCH, ticking=False)
        cloud = Cloud(seed=self._seed, clock=clock)
        cloud.start()
        self._cloud = cloud
        try:
            self._build_bridge(cloud, Path(self._tmp.name))
        except BaseException:
            self.close()
            raise

    def _build_bridge(self, cloud: Cloud, folder: Path) -> None:
        setup = WorkerSetup(
            endpoint_url=cloud.endpoint_url,
            s3_endpoint_url=cloud.s3_endpoint_url,
            state_path=str(folder / "state.sqlite"),
            # moto keeps S3 in process-wide memory and media ids repeat with the seed: a
            # prefix of this run's own keeps an earlier run's objects from answering here.
            media_prefix=f"replay-{uuid.uuid4().hex}/",
            environ=honoured(self._environ),
            numbers_path=str(cloud.numbers_path),
        )
        self._setup = setup
        self.settings: Settings = sandbox_settings(
            endpoint_url=setup.endpoint_url,
            s3_endpoint_url=setup.s3_endpoint_url,
            state_path=setup.state_path,
            media_prefix=setup.media_prefix,
            environ=setup.environ,
            numbers_path=setup.numbers_path,
        )
        # The emulated Transcribe reads as much of a note as the bridge's own engine would.
        cloud.transcribe.max_seconds = self.settings.transcribe_max_seconds
        deliveries = Deliveries(
            cloud=cloud, labels=self._labels, failed=self._failed, watch=self._watch
        )
        if self._through_lambda:
            # Only a replay through the Lambda functions pays for their harness's imports.
            from waconnect.sandbox.lambda_local import LocalLambda  # noqa: PLC0415

            self.harness = LocalLambda(
                cloud,
                options=self._lambda_options,
                # The functions run with the settings the replay honours, as its bridge does.
                settings_changes={
                    name: getattr(self.settings, name) for name in chosen_settings(setup.environ)
                },
                observe=lambda outcome: journal_outcomes(cloud.journal, [outcome]),
            ).start()
            deliveries.use_harness(self.harness)
        else:
            if self._workers:
                self.pool = WorkerPool(count=self._workers, setup=setup, clock=cloud.clock)
                self.host = self.pool
                cloud.dispatcher.on_crash = self._crash
            else:
                self.host = InProcessBridge(self.settings, clock=cloud.clock)
            deliveries.use_host(self.host)
            cloud.inbound_topic.subscribe(deliveries.on_inbound)
            cloud.streaming_topic.subscribe(deliveries.on_streaming)
            cloud.events.subscribe(deliveries.on_event_bus)
        self._deliveries = deliveries

    def close(self) -> None:
        harness, self.harness = self.harness, None
        if harness is not None:
            harness.stop()
        host, self.host = self.host, None
        if host is not None:
            host.close()
        cloud, self._cloud = self._cloud, None
        if cloud is not None:
            cloud.stop()
        tmp, self._tmp = self._tmp, None
        if tmp is not None:
            tmp.cleanup()

    @property
    def cloud(self) -> Cloud:
        if self._cloud is None:
            raise RuntimeError("the runner is not started")
        return self._cloud

    @property
    def deliveries(self) -> Deliveries:
        if self._deliveries is None:
            raise RuntimeError("the runner is not started")
        return self._deliveries

    def _crash(self, caller: str) -> None:
        """``bridge.crash``: kill the worker, and move the clock past the lease its claims hold,
        so the fresh worker takes the work over within the step."""
        lease = float(getattr(self.settings, "lease_seconds", 0) or 0)

        def past_lease() -> None:
            if lease:
                self.cloud.clock.advance(lease + 1)

        if self.pool is not None:
            exit_ = self.pool.kill(caller, then=past_lease)
            if self.on_takeover is not None:
                self.on_takeover(exit_, self.pool.callers[0])

    def bridge_pid(self) -> int:
        """The process id of the bridge when it runs in a child process, else 0."""
        return self.pool.pids()[0] if self.pool is not None else 0

    def run_bridge_in_child(self, settle: Callable[[], object]) -> None:
        """From now on the bridge runs in a child process on the same state (a crash kills one).

        The in-process bridge is the fast way and costs no second interpreter; a scenario (or
        the live sandbox) that crashes its bridge moves it to a child once ``settle`` returned
        (nothing in flight).
        """
        if self.pool is not None:
            return
        if self.harness is not None or self._setup is None:
            raise RuntimeError("this replay's bridge cannot move to a child process")
        settle()
        pool = WorkerPool(count=1, setup=self._setup, clock=self.cloud.clock)
        host, self.host, self.pool = self.host, pool, pool
        self.deliveries.use_host(pool)
        self.cloud.dispatcher.on_crash = self._crash
        if host is not None:
            host.close()

"""Bridges in child processes on one shared state: ``replay --workers N`` and ``bridge.crash``.

Each worker is a real OS process (started fresh, not forked from the replay's threads) running
the bridge as production builds it, on the scenario's SQLite state and the emulators' endpoints;
its clock reads the replay clock through shared memory (a ticking clock, the live sandbox's, as
its distance from real time). Deliveries go to the workers round-robin
and each worker handles several at once, as a Lambda function's concurrent invocations would.

``kill`` ends a worker with SIGKILL, the way a Lambda timeout or an out-of-memory kill ends one:
nothing in it runs afterwards. Deliveries it had not answered fail with ``BridgeLost`` and a
fresh worker takes its place before anyone can deliver again.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from waconnect.sandbox.bridge_host import RUN_DUE, BridgeFailed, BridgeLost, Seen
from waconnect.sandbox.clock import SandboxClock

logger = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 60.0
# A clean stop finishes what the worker was handling; a busy machine can make that slow.
STOP_TIMEOUT_SECONDS = 30.0
# Deliveries one worker handles at once (SNS delivers a topic's notifications concurrently).
WORKER_THREADS = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerSetup:
    """What a worker needs to build its bridge: the wiring and the honoured settings."""

    endpoint_url: str
    s3_endpoint_url: str
    state_path: str
    media_prefix: str
    environ: Mapping[str, str]
    numbers_path: str = ""  # the emulated WhatsApp's business numbers (sandbox.number_map)


@dataclass(frozen=True, slots=True)
class Exit:
    """How a worker process ended: its caller name and exit code (-9: killed by SIGKILL)."""

    caller: str
    exitcode: int | None


class _Worker:
    """The replay's side of one worker process: requests out, answers in, by request id."""

    def __init__(self, caller: str, process: BaseProcess, conn: Connection) -> None:
        self.caller = caller
        self.process = process
        self._conn = conn
        self._send_lock = threading.Lock()
        self._lock = threading.Lock()
        self._pending: dict[int, Future[list[Seen]]] = {}
        self._ids = itertools.count(1)
        self._lost = False
        self._reader = threading.Thread(target=self._read, name=f"{caller}-answers", daemon=True)

    def wait_ready(self) -> None:
        try:
            if not self._conn.poll(START_TIMEOUT_SECONDS):
                raise RuntimeError(f"bridge worker {self.caller} did not start")
            message = self._conn.recv()
        except (EOFError, OSError):
            raise RuntimeError(f"bridge worker {self.caller} exited while starting") from None
        if message != ("ready",):
            raise RuntimeError(f"bridge worker {self.caller} failed to start: {message}")
        self._reader.start()

    def submit(self, entry: str, document: Any) -> Future[list[Seen]]:
        future: Future[list[Seen]] = Future()
        with self._lock:
            if self._lost:
                future.set_exception(BridgeLost(f"{self.caller} is gone"))
                return future
            request = next(self._ids)
            self._pending[request] = future
        try:
            with self._send_lock:
                self._conn.send((request, entry, document))
        except (OSError, ValueError):
            self._lose()
        return future

    def _read(self) -> None:
        while True:
            try:
                request, ok, value, transient = self._conn.recv()
            except (EOFError, OSError):
                self._lose()
                return
            with self._lock:
                future = self._pending.pop(request, None)
            if future is None:
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(BridgeFailed(value, transient=transient))

    def _lose(self) -> None:
        with self._lock:
            self._lost = True
            pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_exception(BridgeLost(f"{self.caller} died before it answered"))

    def stop(self) -> int | None:
        try:
            with self._send_lock:
                self._conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(STOP_TIMEOUT_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self._conn.close()
        return self.process.exitcode

    def kill(self) -> int | None:
        pid = self.process.pid
        if pid is not None and self.process.is_alive():
            os.kill(pid, signal.SIGKILL)
        self.process.join()
        if self._reader.ident is not None:
            self._reader.join(STOP_TIMEOUT_SECONDS)
        self._conn.close()
        return self.process.exitcode


class WorkerPool:
    """``count`` bridge worker processes on one state, delivered to round-robin."""

    def __init__(self, *, count: int, setup: WorkerSetup, clock: SandboxClock) -> None:
        if count < 1:
            raise ValueError("at least one worker")
        self._context = multiprocessing.get_context("spawn")
        self._setup = setup
        self._clock = clock
        self._now: Synchronized[float] = self._context.Value("d", self._shared_now())
        clock.on_advance(self._sync_clock)
        self._lock = threading.Lock()
        self._started = itertools.count(1)
        self._turn = itertools.count()
        self._closed = False
        self.exits: list[Exit] = []
        # Deliveries handed to each worker, by caller name (round-robin: within one of each other).
        self.deliveries: Counter[str] = Counter()
        spawned = [self._spawn() for _ in range(count)]
        self._workers: list[_Worker] = []
        try:
            for worker in spawned:
                worker.wait_ready()
                self._workers.append(worker)
        except BaseException:
            for worker in spawned:
                worker.kill()
            raise

    @property
    def callers(self) -> list[str]:
        with self._lock:
            return [worker.caller for worker in self._workers]

    def _shared_now(self) -> float:
        # A ticking clock is shared as its distance from real time, which the worker adds back.
        return self._clock.now() - (time.time() if self._clock.ticking else 0.0)

    def pids(self) -> list[int]:
        with self._lock:
            return [worker.process.pid or 0 for worker in self._workers]

    def _sync_clock(self) -> None:
        self._now.value = self._shared_now()

    def _spawn(self) -> _Worker:
        caller = f"bridge-{next(self._started)}"
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=serve,
            args=(theirs, caller, self._now, self._clock.ticking, self._setup),
            name=caller,
            daemon=True,
        )
        process.start()
        theirs.close()
        return _Worker(caller, process, ours)

    def handle(self, entry: str, document: Any) -> list[Seen]:
        with self._lock:
            if self._closed:
                raise RuntimeError("the bridge workers are stopped")
            worker = self._workers[next(self._turn) % len(self._workers)]
            self.deliveries[worker.caller] += 1
        return worker.submit(entry, document).result()

    def run_due(self, now: float) -> list[Seen]:
        """Kept retries live in the shared state: any one worker hands them in."""
        return self.handle(RUN_DUE, now)

    def kill(self, caller: str, *, then: Callable[[], None] | None = None) -> Exit:
        """SIGKILL the worker named ``caller`` and start a fresh one in its place; ``then``
        runs before anyone can deliver to the fresh one."""
        with self._lock:
            index = next(i for i, w in enumerate(self._workers) if w.caller == caller)
            worker = self._workers[index]
            exit_ = Exit(caller, worker.kill())
            self.exits.append(exit_)
            fresh = self._spawn()
            fresh.wait_ready()
            self._workers[index] = fresh
            if then is not None:
                then()
        logger.info(
            "bridge %s killed (exit %s); %s took over", caller, exit_.exitcode, fresh.caller
        )
        return exit_

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._workers = self._workers, []
        for worker in workers:
            self.exits.append(Exit(worker.caller, worker.stop()))


# ---- the worker process --------------------------------------------------------------------


class _SharedClock:
    """The replay clock, read from shared memory (it moves only when the replay moves it), or
    the live sandbox's ticking clock: real time plus the distance shared."""

    def __init__(self, value: Synchronized[float], *, ticking: bool) -> None:
        self._value = value
        self._ticking = ticking

    def now(self) -> float:
        return float(self._value.value) + (time.time() if self._ticking else 0.0)


def serve(
    conn: Connection,
    caller: str,
    now: Synchronized[float],
    ticking: bool,
    setup: WorkerSetup,
) -> None:
    """A worker's life: build the bridge, answer deliveries until told to stop."""
    from waconnect.log_setup import configure_logging  # noqa: PLC0415 - in the child only
    from waconnect.sandbox.bridge_host import InProcessBridge, sandbox_settings  # noqa: PLC0415
    from waconnect.settings import LogSettings  # noqa: PLC0415

    try:
        log = LogSettings.from_env(setup.environ)
        configure_logging(log.level, log.format)
        settings = sandbox_settings(
            endpoint_url=setup.endpoint_url,
            s3_endpoint_url=setup.s3_endpoint_url,
            state_path=setup.state_path,
            media_prefix=setup.media_prefix,
            environ=setup.environ,
            numbers_path=setup.numbers_path,
        )
        bridge = InProcessBridge(settings, clock=_SharedClock(now, ticking=ticking), caller=caller)
    except Exception as exc:  # noqa: BLE001 - told to the replay, which stops with it
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready",))
    send_lock = threading.Lock()

    def answer(request: int, entry: str, document: Any) -> None:
        try:
            reply: tuple[int, bool, Any, bool] = (
                request,
                True,
                bridge.handle(entry, document),
                False,
            )
        except BridgeFailed as exc:
            reply = (request, False, str(exc), exc.transient)
        with send_lock:
            conn.send(reply)

    with ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix=caller) as pool:
        while True:
            try:
                message = conn.recv()
            except EOFError:
                break
            if message is None:
                break
            pool.submit(answer, *message)
    bridge.close()

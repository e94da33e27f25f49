"""Runs validated scenario steps against one emulated cloud and one bridge (docs/replay.md).

Effects are read back from the emulators' journal after each step has settled; the bridge's own
refusals (ignored, rejected, failed outcomes) are written into that journal as ``system`` lines
at the moment the bridge returns them, so they keep their place in the order.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from waconnect.errors import MalformedPayload, WaconnectError
from waconnect.sandbox import defaults
from waconnect.sandbox.bridge_workers import WorkerPool
from waconnect.sandbox.clock import SandboxClock
from waconnect.sandbox.cloud import Cloud
from waconnect.sandbox.customer_messages import CustomerMessages, replay_wamid
from waconnect.sandbox.kept_files import FileKeeper
from waconnect.sandbox.protocol import ApiError
from waconnect.sandbox.replay import effect_line
from waconnect.sandbox.replay_world import ReplayWorld
from waconnect.sandbox.routing import ATTACHMENT_ORIGIN
from waconnect.sandbox.sandbox_links import stable_links
from waconnect.sandbox.scenario_controls import (
    BridgeCrash,
    ChatQuota,
    EventsLost,
    FaultClear,
    FaultDelay,
    FaultError,
    FaultSlow,
    FaultThrottle,
    ScannerReject,
)
from waconnect.sandbox.scenario_steps import (
    Action,
    AgentEnd,
    AgentFile,
    AgentTarget,
    AgentText,
    ClockAdvance,
    Concurrently,
    ConnectEnd,
    CustomerAction,
    CustomerFile,
    CustomerLocation,
    CustomerMessage,
    CustomerText,
    Invalid,
    Payload,
    Step,
    StepFailed,
    TokenExpire,
)
from waconnect.sandbox.step_labels import StepLabels
from waconnect.sandbox.step_retries import SETTLE_TIMEOUT_SECONDS, StepRetries
from waconnect.wire.inbound import classify
from waconnect.wire.sns import SnsSubscriptionMessage

if TYPE_CHECKING:
    from waconnect.sandbox.lambda_local import HarnessOptions, LocalLambda
    from waconnect.settings import Settings

logger = logging.getLogger(__name__)

# What an agent's text or file becomes on WhatsApp (not a read mark, typing or reaction).
_AGENT_MESSAGE_TYPES = frozenset(
    {"text", "image", "document", "audio", "video", "sticker", "interactive"}
)


class ScenarioRunner:
    """Runs steps in one :class:`ReplayWorld`; a context manager that opens and closes it."""

    def __init__(
        self,
        *,
        seed: int,
        emit: Callable[[dict[str, Any]], None],
        keep: Path | None = None,
        name: str = "scenario",
        through_lambda: bool = False,
        lambda_options: HarnessOptions | None = None,
        clock: SandboxClock | None = None,
        watch: Callable[[str, str], None] | None = None,
        workers: int = 0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """``workers``: 0 runs the bridge in this process, N runs it in N child processes;
        ``through_lambda``: deliveries go through the Lambda harness instead (no workers).
        ``environ``: where the honoured ``WACONNECT_*`` settings come from (os.environ);
        ``watch`` sees each notification (source, SNS envelope) just before the bridge does."""
        self._seed = seed
        self._emit = emit
        self._keeper = FileKeeper(keep / name) if keep is not None else None
        self._lock = threading.Lock()
        self._labels = StepLabels()
        self._world = ReplayWorld(
            seed=seed,
            labels=self._labels,
            failed=self._note_failure,
            clock=clock,
            watch=watch,
            through_lambda=through_lambda,
            lambda_options=lambda_options,
            workers=workers,
            environ=environ,
        )
        self._customers: CustomerMessages | None = None
        self._retries = StepRetries(self._world)
        self.any_step_failed = False

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> ScenarioRunner:
        self._world.open()
        self._customers = CustomerMessages(
            cloud=self._world.cloud, labels=self._labels, keeper=self._keeper
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._world.close()

    @property
    def cloud(self) -> Cloud:
        return self._world.cloud

    @property
    def settings(self) -> Settings:
        """The bridge's settings: the sandbox's wiring and the honoured ``WACONNECT_*``."""
        return self._world.settings

    @property
    def harness(self) -> LocalLambda | None:
        """The Lambda harness deliveries go through, when the runner was made with one."""
        return self._world.harness

    def run_bridge_in_child(self) -> None:
        """Move the bridge to a child process on the same state (once; see ReplayWorld)."""
        self._world.run_bridge_in_child(lambda: self.cloud.settle(timeout=SETTLE_TIMEOUT_SECONDS))

    def bridge_pid(self) -> int:
        """The process id of the bridge when it runs in a child process, else 0."""
        return self._world.bridge_pid()

    @property
    def world(self) -> ReplayWorld:
        return self._world

    @property
    def pool(self) -> WorkerPool:
        """The bridge worker processes (only when the scenario runs bridges in them)."""
        if self._world.pool is None:
            raise RuntimeError("this replay runs its bridge in process")
        return self._world.pool

    @property
    def _customer_messages(self) -> CustomerMessages:
        if self._customers is None:
            raise RuntimeError("the runner is not started")
        return self._customers

    def _note_failure(self) -> None:
        with self._lock:
            self.any_step_failed = True

    def label_of(self, wamid: str) -> str:
        """The label of the step that sent (or made the bridge send) this WhatsApp message."""
        return self._labels.label_of(wamid)

    def kept_files(self) -> tuple[Path, ...]:
        return self._keeper.written if self._keeper is not None else ()

    # -- steps -----------------------------------------------------------------------------

    def run_step(self, step: Step) -> None:
        """Run ``step`` to completion, then emit every effect it caused."""
        journal = self.cloud.journal
        start = journal.seq
        sends_before = self.cloud.whatsapp_view.send_count()
        if isinstance(step.action, Concurrently):
            for _ in range(step.repeat):
                self._run_concurrently(step.action.steps)
        else:
            self._guarded(step, concurrent=False)
        self._settle(step)
        if step.label and _bridge_sends_for(step.action):
            self._label_agent_message(step.label, sends_before)
        for effect in journal.since(start):
            line = self._present(effect, step=step.index, label=step.label)
            if self._keeper is not None:
                self._keeper.keep(line, self.cloud)
            self._emit(line)

    def _settle(self, step: Step) -> None:
        """Wait until nothing is in flight, then hand in once what the bridge kept to retry
        (``step_retries``); a step with ``"retries": "later"`` hands in nothing: its retry time
        has not come yet."""
        settled = self._retries.settle() and (step.retries == "later" or self._retries.hand_in())
        if not settled:
            self._reject(f"{step.where}: effects still in flight after {SETTLE_TIMEOUT_SECONDS}s")

    def _run_concurrently(self, steps: Iterable[Step]) -> None:
        threads = [
            threading.Thread(target=self._guarded, args=(sub,), kwargs={"concurrent": True})
            for sub in steps
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _guarded(self, step: Step, *, concurrent: bool) -> None:
        try:
            self._perform(step, concurrent=concurrent)
        except StepFailed as exc:
            self._reject(str(exc))
        except (WaconnectError, ApiError, OSError, ValueError) as exc:
            self._reject(f"{step.where}: {exc}")

    def _reject(self, reason: str) -> None:
        self._note_failure()
        self.cloud.journal.record(to="system", kind="rejected", reason=reason)

    def _perform(self, step: Step, *, concurrent: bool) -> None:
        action: Action = step.action
        match action:
            case Invalid(reason=reason):
                raise StepFailed(reason)
            case Payload():
                deliveries = self._world.deliveries
                business = deliveries.note_payload(action.document, step)
                self._customer_messages.register(action.media, business=business)
                self._repeat(step, concurrent, lambda: deliveries.payload(action.document, step))
            case CustomerText() | CustomerFile() | CustomerLocation() | CustomerMessage():
                self._customer_sends(step, action, concurrent=concurrent)
            case AgentText(target=target, text=text, content_type=content_type):
                contact_id = self._contact(target, step)
                self._repeat(
                    step,
                    concurrent,
                    lambda: self.cloud.agent_sends_text(contact_id, text, content_type),
                )
            case AgentFile(target=target, path=path, content_type=content_type):
                contact_id = self._contact(target, step)
                data = path.read_bytes()
                self._repeat(
                    step,
                    concurrent,
                    lambda: self.cloud.agent_sends_file(contact_id, data, path.name, content_type),
                )
            case AgentEnd(target=target):
                contact_id = self._contact(target, step)
                self._repeat(step, concurrent, lambda: self.cloud.end_chat(contact_id))
            case TokenExpire(target=target):
                contact_id = self._contact(target, step)
                self._repeat(step, concurrent, lambda: self.cloud.expire_token(contact_id))
            case ConnectEnd(target=target):
                contact_id = self._contact(target, step)
                self._repeat(step, concurrent, lambda: self.cloud.connect_ends_chat(contact_id))
            case ClockAdvance(seconds=seconds):
                self._repeat(step, concurrent, lambda: self.cloud.clock.advance(seconds))
            case FaultDelay(operation=operation, seconds=seconds, count=count):
                self.cloud.faults.delay(operation, seconds, count=count * step.repeat)
            case FaultThrottle(operation=operation, count=count):
                self.cloud.faults.throttle(operation, count=count * step.repeat)
            case FaultError(operation=operation, status=status, count=count):
                self.cloud.faults.error(operation, status, count=count * step.repeat)
            case FaultSlow(operation=operation, seconds=seconds):
                self.cloud.faults.slow_down(operation, seconds)
            case FaultClear():
                self.cloud.faults.clear()
            case ScannerReject(count=count):
                self.cloud.faults.reject_next_scan(count * step.repeat)
            case EventsLost(count=count):
                self.cloud.faults.lose_next_events(count * step.repeat)
            case BridgeCrash(operation=operation, nth=nth) if self.harness is not None:
                # On Lambda the function's container dies; a fresh one takes the record over.
                for _ in range(step.repeat):
                    self.harness.crash_at(operation, nth=nth)
            case BridgeCrash(operation=operation, nth=nth):
                if self._world.pool is None:
                    self.run_bridge_in_child()
                for _ in range(step.repeat):
                    self.cloud.faults.crash(operation, nth=nth)
            case ChatQuota(active_chats=active_chats):
                self.cloud.limit_active_chats(active_chats)
            case Concurrently():
                raise StepFailed(f"{step.where}: 'concurrently' cannot be nested")

    def _repeat(self, step: Step, concurrent: bool, deliver: Callable[[], object]) -> None:
        if not concurrent or step.repeat == 1:
            for _ in range(step.repeat):
                deliver()
            return
        # Inside a concurrent group the copies race each other too, as a retrying sender's would.
        errors: list[BaseException] = []

        def guarded() -> None:
            try:
                deliver()
            except (StepFailed, WaconnectError, ApiError, OSError, ValueError) as exc:
                errors.append(exc)

        threads = [threading.Thread(target=guarded) for _ in range(step.repeat)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise StepFailed(f"{step.where}: {errors[0]}")

    def _label_agent_message(self, label: str, sends_before: int) -> None:
        """Name by ``label`` the first message the bridge sent on WhatsApp for an agent step."""
        for send in self.cloud.whatsapp_view.sends(since=sends_before):
            if send.kind in _AGENT_MESSAGE_TYPES:
                self._labels.name(label, send.wamid, defaults.DISPLAY_PHONE_NUMBER)
                return

    # -- customer actions ------------------------------------------------------------------

    def _customer_sends(self, step: Step, action: CustomerAction, *, concurrent: bool) -> None:
        message = self._customer_messages.message_for(action, step)
        business = action.business or None
        wamid: str | None = None
        if concurrent and step.repeat > 1:
            # Every racing copy must carry the same wamid, so it is fixed before any is sent.
            wamid = replay_wamid(self._seed, step)

            def send_same() -> None:
                self.cloud.customer_sends(action.customer, message, business=business, wamid=wamid)

            self._repeat(step, concurrent, send_same)
        else:
            for _ in range(step.repeat):
                wamid = self.cloud.customer_sends(
                    action.customer, message, business=business, wamid=wamid
                )
        if step.label and wamid:
            self._labels.name(step.label, wamid, action.customer.wa_id)

    # -- agent actions ---------------------------------------------------------------------

    def _contact(self, target: AgentTarget, step: Step) -> str:
        if target.contact_id:
            if self.cloud.connect_view.contact(target.contact_id) is None:
                raise StepFailed(f"{step.where}: field 'contact_id': no such chat")
            return target.contact_id
        if target.customer is None:
            raise StepFailed(f"{step.where}: field 'customer': required")
        contact_id = self.cloud.active_contact(target.customer.identity)
        if contact_id is None:
            raise StepFailed(
                f"{step.where}: field 'customer': {target.customer.identity} has no open chat"
            )
        return contact_id

    # -- output ----------------------------------------------------------------------------

    def _present(self, effect: dict[str, Any], *, step: int, label: str) -> dict[str, Any]:
        reply_to = effect.get("reply_to")
        if isinstance(reply_to, str):
            effect = dict(effect, reply_to=self._labels.label_of(reply_to) or reply_to)
        for key in ("text", "reason"):
            value = effect.get(key)
            if isinstance(value, str):
                effect = dict(effect, **{key: stable_links(value, self._origins())})
        return effect_line(effect, step=step, label=label)

    def _origins(self) -> tuple[str, ...]:
        cloud = self.cloud
        origins = (cloud.endpoint_url, cloud.s3_endpoint_url, ATTACHMENT_ORIGIN)
        return tuple(url.rstrip("/") for url in origins)


def _bridge_sends_for(action: Action) -> bool:
    """Whether the bridge's first WhatsApp message in this step answers the step itself."""
    if isinstance(action, AgentText | AgentFile):
        return True
    if isinstance(action, Payload):
        try:
            return classify(action.document) == "connect"
        except (MalformedPayload, SnsSubscriptionMessage):
            return False
    return False

"""The steps of a replay scenario (docs/replay.md), as the parser hands them to the runner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waconnect.domain.whatsapp import Customer
from waconnect.sandbox.scenario_controls import BridgeCrash, Control


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaFile:
    """A file the WhatsApp emulator serves under ``media_id`` (empty: the emulator mints one)."""

    path: Path
    mime_type: str
    media_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentTarget:
    """The chat an agent action acts on: the customer's current chat, or a given contact."""

    customer: Customer | None = None
    contact_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Payload:
    document: dict[str, Any]
    media: tuple[MediaFile, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerText:
    customer: Customer
    text: str
    business: str = ""
    reply_to: str = ""  # a step label


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerFile:
    customer: Customer
    file: MediaFile
    kind: str
    business: str = ""
    caption: str = ""
    filename: str = ""
    voice: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerLocation:
    customer: Customer
    latitude: float
    longitude: float
    business: str = ""
    name: str = ""
    address: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerMessage:
    customer: Customer
    message: dict[str, Any]
    business: str = ""
    media: tuple[MediaFile, ...] = ()
    reply_to: str = ""  # a step label


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentText:
    target: AgentTarget
    text: str
    content_type: str = "text/plain"


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentFile:
    target: AgentTarget
    path: Path
    content_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentEnd:
    target: AgentTarget


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenExpire:
    target: AgentTarget


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectEnd:
    """Connect ends the chat itself (a flow's disconnect, the chat's duration): no one leaves."""

    target: AgentTarget


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockAdvance:
    seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Concurrently:
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Invalid:
    reason: str


CustomerAction = CustomerText | CustomerFile | CustomerLocation | CustomerMessage
Action = (
    Payload
    | CustomerAction
    | AgentText
    | AgentFile
    | AgentEnd
    | TokenExpire
    | ConnectEnd
    | ClockAdvance
    | Control
    | Concurrently
    | Invalid
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    index: int  # position in the scenario (a concurrent sub-step carries its parent's)
    where: str  # "step 3" or "step 3.concurrently[1]", for reasons
    action: Action
    label: str = ""
    repeat: int = 1
    # "later": what the bridge kept is not handed in as this step settles (docs/replay.md).
    retries: str = "now"


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    path: Path
    steps: tuple[Step, ...]

    @property
    def crashes(self) -> bool:
        """Whether a step crashes the bridge (which then runs in a child process)."""
        return any(
            isinstance(step.action, BridgeCrash)
            or (
                isinstance(step.action, Concurrently)
                and any(isinstance(sub.action, BridgeCrash) for sub in step.action.steps)
            )
            for step in self.steps
        )


class StepFailed(Exception):
    """A step could not be run; the message is the reason printed on its ``rejected`` line."""

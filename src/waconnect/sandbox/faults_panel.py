"""The sandbox page's fault switches: what each one does to the emulators, and its words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from waconnect.sandbox.faults import server_error, throttling_error

if TYPE_CHECKING:
    from waconnect.sandbox.live import LiveSandbox

# The calls the bridge makes, by the service that answers them.
OPERATIONS: dict[str, str] = {
    "SendWhatsAppMessage": "socialmessaging",
    "GetWhatsAppMessageMedia": "socialmessaging",
    "PostWhatsAppMessageMedia": "socialmessaging",
    "StartChatContact": "connect",
    "StartContactStreaming": "connect",
    "CreateParticipantConnection": "connectparticipant",
    "SendMessage": "connectparticipant",
    "SendEvent": "connectparticipant",
    "StartAttachmentUpload": "connectparticipant",
    "CompleteAttachmentUpload": "connectparticipant",
    "GetAttachment": "connectparticipant",
}

# What the page offers: kind -> (label, what it needs: "operation", "contact" or nothing).
FAULTS: dict[str, dict[str, str]] = {
    "throttle": {"label": "Throttle the next call", "needs": "operation"},
    "server_error": {"label": "Answer the next call with a 5xx", "needs": "operation"},
    "slow": {"label": "Slow every call (3 s)", "needs": "operation"},
    "expire_token": {"label": "Expire the participant token", "needs": "contact"},
    "end_from_connect": {"label": "End the chat from Connect's side", "needs": "contact"},
    "reject_attachment": {"label": "Reject the next attachment (scanner)", "needs": ""},
    "lose_event": {"label": "Lose the next transcription event (EventBridge)", "needs": ""},
    "crash": {"label": "Crash the bridge (SIGKILL) at its next call", "needs": "operation"},
    "clear": {"label": "Clear every fault", "needs": ""},
}
SLOW_SECONDS = 3.0


def apply_fault(sandbox: LiveSandbox, form: dict[str, Any]) -> str:
    """Switch one fault on; returns what was done, in words. ValueError for a bad request."""
    kind = str(form.get("kind", ""))
    if kind not in FAULTS:
        raise ValueError(f"unknown fault {kind!r} (known: {', '.join(FAULTS)})")
    if FAULTS[kind]["needs"] == "operation":
        return _operation_fault(sandbox, kind, str(form.get("operation", "")))
    if FAULTS[kind]["needs"] == "contact":
        return _contact_fault(sandbox, kind, str(form.get("contact_id", "")))
    # Each switch is a replay step (docs/replay.md): "Save as scenario" keeps it where it was.
    if kind == "reject_attachment":
        sandbox.act({"action": "scanner.reject"})
        return "the next attachment scan rejects the file"
    if kind == "lose_event":
        sandbox.act({"action": "events.lose"})
        return "the next transcription job's end is never announced: its check finds it"
    sandbox.act({"action": "fault.clear"})
    return "every fault cleared"


def _operation_fault(sandbox: LiveSandbox, kind: str, operation: str) -> str:
    service = OPERATIONS.get(operation)
    if service is None:
        raise ValueError(f"choose an operation ({', '.join(OPERATIONS)})")
    if kind == "crash":
        # The bridge moves to a child process first (once): a crash kills a process.
        sandbox.act({"action": "bridge.crash", "at": operation})
        return (
            f"the bridge process is killed once {operation} has run, before it reads the "
            "answer; a fresh one takes over on the same state"
        )
    if kind == "slow":
        sandbox.act({"action": "fault.slow", "operation": operation, "seconds": SLOW_SECONDS})
        return f"every {operation} now takes {SLOW_SECONDS:g} s more"
    # The error each service's model names for it (ThrottledRequestException for End User
    # Messaging, ThrottlingException for the Participant Service, …).
    if kind == "throttle":
        error = throttling_error(service, operation)
        sandbox.act({"action": "fault.throttle", "operation": operation})
    else:
        error = server_error(service, operation, 500)
        sandbox.act({"action": "fault.error", "operation": operation, "status": 500})
    return f"the next {operation} answers {error.code} ({error.status})"


def _contact_fault(sandbox: LiveSandbox, kind: str, contact_id: str) -> str:
    chat = next(
        (c for c in sandbox.cloud.connect_view.contacts() if c.contact_id == contact_id), None
    )
    if chat is None:
        raise ValueError("choose a chat")
    customer, active = chat.customer, chat.active
    # The chat named by its customer when it is their open one, as the page's other actions
    # do: a replay then finds it anew.
    target = {"customer": customer} if active else {"contact_id": contact_id}
    if kind == "expire_token":
        sandbox.act({"action": "token.expire", **target})
        return f"the participant tokens of chat {contact_id} are refused from now on"
    sandbox.act({"action": "connect.end", **target})
    return f"Connect ended chat {contact_id}"

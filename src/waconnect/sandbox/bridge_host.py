"""Where replay's bridge runs: in the replay process, or in child processes (bridge_workers).

Either way the bridge is built by the composition root exactly as production builds it, from
the sandbox's wiring plus the ``WACONNECT_*`` settings that make sense in the sandbox, and replay
sees only what each delivery returned: one ``Seen`` per outcome.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from waconnect.errors import MalformedPayload, TransientError
from waconnect.sandbox import defaults
from waconnect.sandbox.number_map import NumberFile
from waconnect.settings import PREFIX, Settings

if TYPE_CHECKING:
    import boto3
    import httpx

    from waconnect.entrypoints.bridge import Bridge
    from waconnect.ports import Clock

# The bridge's entry functions replay delivers to, by the name replay gives them.
ENTRIES = {
    "document": "handle_document",
    "whatsapp": "handle_whatsapp_document",
    "connect": "handle_connect_document",
}
# Settings that wire the bridge to the emulators: the sandbox owns them, the environment does not.
SANDBOX_OWNED = frozenset(
    {
        "region",
        "connect_instance_id",
        "contact_flow_id",
        "streaming_topic_arn",
        "media_bucket",
        "media_prefix",
        "state",
        "endpoint_url",
        "s3_endpoint_url",
        "dynamodb_endpoint_url",
        "sqs_endpoint_url",
        "inbound_queue_url",
        "outbound_queue_url",
        "transcribed_queue_url",
        "allow_http_loopback",
        "eum_phone_numbers",
    }
)
LOG_VARIABLES = frozenset({"log_level", "log_format"})
_STUBS = {
    f"{PREFIX}REGION": defaults.REGION,
    f"{PREFIX}CONNECT_INSTANCE_ID": defaults.INSTANCE_ID,
    f"{PREFIX}CONTACT_FLOW_ID": defaults.CONTACT_FLOW_ID,
    f"{PREFIX}STREAMING_TOPIC_ARN": defaults.STREAMING_TOPIC_ARN,
    f"{PREFIX}MEDIA_BUCKET": defaults.MEDIA_BUCKET,
}
HTTP_TIMEOUT_SECONDS = 30.0
RUN_DUE = "run_due"


class BridgeFailed(Exception):
    """The bridge raised instead of returning outcomes.

    ``transient``: it raised a ``TransientError`` (a store or service busy for longer than its
    own retries), which SNS or Lambda would answer by delivering the document again; anything
    else is a bug, which replay reports as failed.
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class BridgeLost(Exception):
    """The bridge process died before it answered a delivery (SNS would deliver it again)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Seen:
    """One outcome of a delivery, as replay prints it."""

    kind: str
    customer: str = ""
    contact_id: str = ""
    reason: str = ""


class BridgeHost(Protocol):
    def handle(self, entry: str, document: Any) -> list[Seen]: ...

    def run_due(self, now: float) -> list[Seen]:
        """Hand in again what the bridge kept to retry and is due at ``now``."""
        ...

    def close(self) -> None: ...


def honoured(environ: Mapping[str, str]) -> dict[str, str]:
    """The ``WACONNECT_*`` variables replay passes on to its bridge: all but the wiring, and the
    log settings (a bridge process logs as the replay does)."""
    names = {field.name for field in dataclasses.fields(Settings)} - SANDBOX_OWNED
    names |= LOG_VARIABLES
    return {
        key: value
        for key, value in environ.items()
        if key.startswith(PREFIX) and key.removeprefix(PREFIX).lower() in names
    }


def sandbox_settings(
    *,
    endpoint_url: str,
    s3_endpoint_url: str,
    state_path: str,
    media_prefix: str,
    environ: Mapping[str, str],
    numbers_path: str = "",
) -> Settings:
    """The sandbox's wiring, with the honoured ``WACONNECT_*`` settings of ``environ`` on top.

    ``numbers_path``: the emulated WhatsApp's file of business numbers, which the bridge's
    ``eum_phone_numbers`` follows (a number learnt from a Meta webhook body can be sent from).
    Bad values raise ``ConfigurationError`` naming every one, as for the bridge in production.
    """
    settings = Settings.for_sandbox(
        endpoint_url=endpoint_url, s3_endpoint_url=s3_endpoint_url, state_path=state_path
    )
    settings = dataclasses.replace(settings, media_prefix=media_prefix)
    if numbers_path:
        settings = dataclasses.replace(settings, eum_phone_numbers=NumberFile(Path(numbers_path)))
    chosen = {
        key: value
        for key, value in honoured(environ).items()
        if key.removeprefix(PREFIX).lower() not in LOG_VARIABLES
    }
    if not chosen:
        return settings
    parsed = Settings.from_env({**chosen, **_STUBS})
    return dataclasses.replace(
        settings, **{name: getattr(parsed, name) for name in chosen_settings(environ)}
    )


def chosen_settings(environ: Mapping[str, str]) -> frozenset[str]:
    """The names of the bridge settings ``environ`` sets (``honoured``, the log settings aside)."""
    names = {key.removeprefix(PREFIX).lower() for key in honoured(environ)}
    return frozenset(names - LOG_VARIABLES)


def seen(outcome: object) -> Seen:
    customer = getattr(outcome, "customer", None)
    identity = getattr(customer, "identity", customer)
    return Seen(
        kind=str(getattr(outcome, "kind", "")),
        customer=identity if isinstance(identity, str) else "",
        contact_id=str(getattr(outcome, "contact_id", "") or ""),
        reason=str(getattr(outcome, "reason", "") or ""),
    )


def tagged_session(caller: str) -> boto3.session.Session:
    """A boto3 session with the sandbox's fake keys whose every request names ``caller``."""
    import boto3  # noqa: PLC0415 - only a running bridge needs it

    from waconnect.sandbox.shared_models import botocore_session  # noqa: PLC0415

    session = boto3.session.Session(
        botocore_session=botocore_session(),
        region_name=defaults.REGION,
        aws_access_key_id=defaults.ACCESS_KEY_ID,
        aws_secret_access_key=defaults.SECRET_ACCESS_KEY,
    )
    if caller:

        def name_caller(request: Any, **_: Any) -> None:
            request.headers[defaults.CALLER_HEADER] = caller

        session.events.register("before-sign", name_caller)
    return session


def deliver(bridge: Bridge, entry: str, document: Any) -> list[Seen]:
    """Hand ``document`` to one of the bridge's entry functions, as SNS or Lambda would
    (``run_due``: the document is the moment retries are due at)."""
    try:
        if entry == RUN_DUE:
            outcomes = bridge.run_due(float(document))
        else:
            outcomes = getattr(bridge, ENTRIES[entry])(document)
    except MalformedPayload as exc:
        # What SNS or Lambda would see: the bridge refused the document outright.
        return [Seen(kind="rejected", reason=str(exc))]
    except TransientError as exc:
        raise BridgeFailed(f"{type(exc).__name__}: {exc}", transient=True) from exc
    except Exception as exc:
        raise BridgeFailed(f"{type(exc).__name__}: {exc}") from exc
    return [seen(outcome) for outcome in outcomes or ()]


class InProcessBridge:
    """The bridge in the replay process itself (no crash, no workers: the fast way)."""

    def __init__(self, settings: Settings, *, clock: Clock, caller: str = "") -> None:
        import httpx  # noqa: PLC0415

        from waconnect.bootstrap import build_bridge  # noqa: PLC0415
        from waconnect.sandbox.routing import emulator_transport  # noqa: PLC0415

        headers = {defaults.CALLER_HEADER: caller} if caller else {}
        # Ours to close when the scenario ends, so no connection outlives its emulators.
        # Signed URLs have AWS's shapes; only their connections go to the emulators.
        self._http: httpx.Client | None = httpx.Client(
            transport=emulator_transport(lambda: settings.endpoint_url),
            timeout=httpx.Timeout(HTTP_TIMEOUT_SECONDS),
            headers=headers,
        )
        try:
            self._bridge = build_bridge(
                settings, clock=clock, boto_session=tagged_session(caller), http=self._http
            )
        except BaseException:
            self._http.close()
            raise

    def handle(self, entry: str, document: Any) -> list[Seen]:
        return deliver(self._bridge, entry, document)

    def run_due(self, now: float) -> list[Seen]:
        return deliver(self._bridge, RUN_DUE, now)

    def close(self) -> None:
        self._bridge.close()
        http, self._http = self._http, None
        if http is not None:
            http.close()

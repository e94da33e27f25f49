"""One ASGI app serving every emulated service on one port, and the thread that runs it."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from waconnect.sandbox import defaults
from waconnect.sandbox.faults import Faults
from waconnect.sandbox.inflight import InFlight
from waconnect.sandbox.protocol import ApiError, Handler, parse_call, service_for
from waconnect.sandbox.rpc_protocols import (
    Wire,
    encode_error,
    encode_result,
    parse_rpc_call,
    wire_of,
)
from waconnect.sandbox.transfers import AttachmentTransfers

logger = logging.getLogger(__name__)

_INTERNAL_ERROR = {
    "socialmessaging": "InternalServiceException",
    "connect": "InternalServiceException",
    "connectparticipant": "InternalServerException",
    "transcribe": "InternalFailureException",
}
_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]


# What a call observer is told: service, operation, HTTP status, request parameters, error code.
CallObserver = Callable[[str, str, int, Mapping[str, Any], str], None]


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One API call the emulators received, with the bridge process that made it (if known)."""

    service: str
    operation: str
    caller: str = ""


class Dispatcher:
    """Routes, parses and validates an API call, applies injected faults, runs its handler.

    Observers (``observe``) see every call once it is answered, refused ones included: the
    sandbox page shows them as the wire traffic of the client that made them.
    ``on_crash`` is told the caller of a call a ``crash`` fault is armed for, after the call ran
    and before its answer is written: it kills that caller, which never reads the answer.
    """

    def __init__(self, *, handlers: Mapping[str, Mapping[str, Handler]], faults: Faults) -> None:
        self._handlers = handlers
        self._faults = faults
        self._observers: list[CallObserver] = []
        self._lock = threading.Lock()
        self._calls: list[CallRecord] = []
        self.on_crash: Callable[[str], None] | None = None

    @property
    def calls(self) -> list[CallRecord]:
        with self._lock:
            return list(self._calls)

    def observe(self, observer: CallObserver) -> None:
        self._observers.append(observer)

    def _tell(
        self, service: str, operation: str, status: int, params: Mapping[str, Any], code: str
    ) -> None:
        for observer in self._observers:
            try:
                observer(service, operation, status, params, code)
            except Exception:
                logger.exception("a call observer failed")

    async def handle(self, request: Request) -> Response:
        service = ""
        operation = ""
        params: Mapping[str, Any] = {}
        wire = wire_of(request.url.path, request.headers)
        try:
            service, region = service_for(
                request.headers.get("authorization", ""), request.url.path
            )
            if wire == "rest-json":
                call = parse_call(
                    service=service,
                    region=region,
                    method=request.method,
                    path=request.url.path,
                    query=dict(request.query_params),
                    headers=dict(request.headers),
                    body=await request.body(),
                )
            else:
                call = parse_rpc_call(
                    service=service,
                    wire=wire,
                    region=region,
                    method=request.method,
                    path=request.url.path,
                    headers=dict(request.headers),
                    body=await request.body(),
                )
            caller = request.headers.get(defaults.CALLER_HEADER, "")
            with self._lock:
                self._calls.append(CallRecord(service, call.operation, caller))
            operation, params = call.operation, call.params
            delay = self._faults.take_delay(call.operation)
            if delay:
                # The call still runs when the client has stopped waiting, as on AWS.
                await asyncio.sleep(delay)
            fault = self._faults.take_error(service, call.operation)
            if fault is not None:
                raise fault
            handler = self._handlers.get(service, {}).get(call.operation)
            if handler is None:
                raise ApiError("UnknownOperationException", f"{call.operation} is not emulated")
            result: dict[str, Any] = await run_in_threadpool(handler, call, request.headers)
            if self._faults.take_crash(call.operation):
                await run_in_threadpool(self._crash, caller, call.operation)
        except ApiError as error:
            logger.info("%s refused: %s", service or "request", error.code)
            self._tell(service, operation, error.status, params, error.code)
            return _error_response(service, wire, error)
        except Exception:
            logger.exception("emulator failure on %s %s", request.method, request.url.path)
            failure = ApiError(
                _INTERNAL_ERROR.get(service, "InternalFailure"), "internal error", 500
            )
            self._tell(service, operation, 500, params, failure.code)
            return _error_response(service, wire, failure)
        self._tell(service, operation, 200, params, "")
        if wire != "rest-json":
            body, headers = encode_result(service, wire, operation, result)
            return Response(body, headers=headers)
        return Response(json.dumps(result), media_type="application/json")

    def _crash(self, caller: str, operation: str) -> None:
        if self.on_crash is None or not caller:
            logger.warning("a crash at %s has no bridge process to kill", operation)
            return
        self.on_crash(caller)


def _error_response(service: str, wire: Wire, error: ApiError) -> Response:
    if wire == "rest-json" or not service:
        return Response(error.body(), status_code=error.status, headers=error.headers())
    body, headers = encode_error(service, wire, error)
    return Response(body, status_code=error.status, headers=headers)


class _Counting:
    def __init__(self, app: ASGIApp, inflight: InFlight) -> None:
        self._app = app
        self._inflight = inflight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        # Counted until the handler returns, even when the client stopped waiting for it.
        with self._inflight.holding():
            await self._app(scope, receive, send)


def build_app(
    *, dispatcher: Dispatcher, transfers: AttachmentTransfers, inflight: InFlight
) -> ASGIApp:
    app = Starlette(
        routes=[
            Route("/connect-attachments/upload/{attachment_id}", transfers.upload, methods=["PUT"]),
            Route(
                "/connect-attachments/download/{attachment_id}",
                transfers.download,
                methods=["GET"],
            ),
            Route("/{path:path}", dispatcher.handle, methods=_METHODS),
        ]
    )
    return _Counting(app, inflight)


class ServerThread:
    """uvicorn on 127.0.0.1 on a free port (bound here, so no race for it), in a thread."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = 0

    def start(self, timeout: float = 60.0) -> int:
        """Serve, once uvicorn says it started; a server not started within ``timeout`` (long
        enough for a busy machine: every replay and test starts two) is an error."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Responses go out as two writes (head, body); without this each waits for an ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app, log_level="warning", lifespan="off", access_log=False, timeout_keep_alive=30
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="sandbox-cloud", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the sandbox cloud server did not start")
            time.sleep(0.01)
        return self.port

    def request_stop(self) -> None:
        """Ask the server to finish its requests and exit, without waiting for it."""
        if self._server is not None:
            self._server.should_exit = True

    def stop(self, timeout: float = 10.0) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

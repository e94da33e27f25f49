"""moto's server on 127.0.0.1: SQS and DynamoDB for the Lambda harness (``--lambda``)."""

from __future__ import annotations

import logging
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

# How often the serving loop looks for a stop request: a replay's teardown waits up to this
# long (moto's own threaded server looks every half second).
_POLL_SECONDS = 0.02


class MotoServer:
    def __init__(self) -> None:
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.endpoint_url = ""

    def start(self) -> str:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server = make_server(
            "127.0.0.1",
            0,
            DomainDispatcherApplication(create_backend_app),
            threaded=True,
            request_handler=MotoRequestHandler,
        )
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": _POLL_SECONDS},
            name="sandbox-moto",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        self.endpoint_url = f"http://127.0.0.1:{server.server_port}"
        return self.endpoint_url

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()

"""moto's S3 server on 127.0.0.1, as the bucket End User Messaging reads and writes media in."""

from __future__ import annotations

import logging

from moto.server import ThreadedMotoServer


class S3Server:
    def __init__(self) -> None:
        self._server: ThreadedMotoServer | None = None
        self.endpoint_url = ""

    def start(self) -> str:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self.endpoint_url = f"http://{host}:{port}"
        return self.endpoint_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

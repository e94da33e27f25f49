"""boto3 clients for the emulated cloud's endpoints, made from one shared session."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from waconnect.sandbox import defaults
from waconnect.sandbox.shared_models import botocore_session


class SessionClients:
    """Clients with the sandbox's region and fake keys (standard retries unless overridden)."""

    def __init__(self) -> None:
        self._session: boto3.session.Session | None = None
        self._lock = threading.Lock()

    def client(self, service_name: str, endpoint_url: str, **config: Any) -> Any:
        options: dict[str, Any] = {"retries": {"mode": "standard"}}
        if service_name == "s3":
            options["signature_version"] = "s3v4"
        options.update(config)
        with self._lock:
            if self._session is None:
                # One session: building a client from it is far cheaper than from a new one.
                self._session = boto3.session.Session(botocore_session=botocore_session())
            session = self._session
        return session.client(
            service_name,  # type: ignore[call-overload]
            endpoint_url=endpoint_url,
            region_name=defaults.REGION,
            aws_access_key_id=defaults.ACCESS_KEY_ID,
            aws_secret_access_key=defaults.SECRET_ACCESS_KEY,
            config=Config(**options),
        )

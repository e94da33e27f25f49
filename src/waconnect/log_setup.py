"""Where log lines go and what they look like: stderr, as text or as one JSON object per line.

Every line passes ``redact_text`` (wamids hashed, signed-URL secrets cut) whatever the code that
wrote it. The correlation ids of the work in hand (hashed wamid, contact id, business number)
are bound with ``log_ids`` by the entry functions and services, and show on each line written
meanwhile: as keys in JSON, as ``[key=value ...]`` after a text line. The HTTP and AWS SDK
libraries log every request URL (signatures included) at INFO and DEBUG: they are held at
WARNING.

The Lambda functions use Powertools' Logger instead of ``configure_logging``; they take the same
masking functions from ``waconnect.services.redact``.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TextIO

from waconnect.services.redact import redact_text

LOG_FORMATS = ("text", "json")
CORRELATION_KEYS = ("wamid", "contact_id", "business_number")
NOISY_LOGGERS = ("httpx", "httpcore", "botocore", "boto3", "s3transfer", "urllib3")

_IDS: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar("waconnect_log_ids")


@contextmanager
def log_ids(**ids: str) -> Iterator[None]:
    """Bind correlation ids to every line logged inside the block (in this thread or task).

    Values must already be safe to log: a wamid through ``mask_wamid``. Empty values are left
    out; inner blocks add to (and may override) the ids of outer ones.
    """
    token = _IDS.set({**_IDS.get({}), **{k: v for k, v in ids.items() if v}})
    try:
        yield
    finally:
        _IDS.reset(token)


def add_log_ids(**ids: str) -> None:
    """Add ids learned midway (the contact id once a chat is open) to the current block.

    Outside any ``log_ids`` block it does nothing: ids set there would stick to every later
    line of the thread."""
    current = _IDS.get(None)
    if current is not None:
        _IDS.set({**current, **{k: v for k, v in ids.items() if v}})


def current_log_ids() -> Mapping[str, str]:
    return dict(_IDS.get({}))


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = _ids_of(record)
        if ids:
            line += " [" + " ".join(f"{k}={v}" for k, v in ids.items()) + "]"
        return _printable(redact_text(line))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the ids, and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_ids_of(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _printable(redact_text(json.dumps(entry, ensure_ascii=False)))


def _printable(line: str) -> str:
    # A lone surrogate that slipped past the edge must not make the stream fail mid-line.
    return line.encode("utf-8", "replace").decode("utf-8")


def _ids_of(record: logging.LogRecord) -> dict[str, str]:
    ids = dict(_IDS.get({}))
    for key in CORRELATION_KEYS:
        # ``extra={"contact_id": ...}`` on one call wins over the bound ones.
        value = record.__dict__.get(key)
        if isinstance(value, str) and value:
            ids[key] = value
    return {k: ids[k] for k in CORRELATION_KEYS if ids.get(k)}


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is when a line is logged, not when it was set up
    (a test's capture, a redirected stream)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


def configure_logging(
    level: str = "WARNING", fmt: str = "text", stream: TextIO | None = None
) -> None:
    """Send waconnect's log lines to ``stream`` (stderr) at ``level``, as ``fmt`` says.

    Replaces handlers this function installed before, so calling it twice (tests, several
    commands in one process) never doubles lines.
    """
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {LOG_FORMATS}, not {fmt!r}")
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.set_name("waconnect")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "waconnect"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)

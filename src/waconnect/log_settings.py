"""How much is logged and in what form: the one setting every command reads.

A module of its own, apart from ``settings``: ``waconnect media convert`` and the other commands
set up logging before they run, and reading two variables must not load what the bridge's
settings need (the media policy, the sandbox's defaults).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from waconnect.errors import ConfigurationError

PREFIX = "WACONNECT_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")


@dataclass(frozen=True, slots=True, kw_only=True)
class LogSettings:
    """How much is logged and in what form; read on its own, since every command logs
    (``explain`` and ``replay`` included) and not every command needs the bridge's settings.

    ``WACONNECT_LOG_LEVEL``: DEBUG, INFO, WARNING (the default), ERROR or CRITICAL.
    ``WACONNECT_LOG_FORMAT``: ``text`` (the default) or ``json``, one object per line.
    """

    level: str = "WARNING"
    format: str = "text"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> LogSettings:
        problems = []
        level = environ.get(f"{PREFIX}LOG_LEVEL", "").strip().upper() or "WARNING"
        if level not in LOG_LEVELS:
            problems.append(
                f"{PREFIX}LOG_LEVEL: must be one of {', '.join(LOG_LEVELS)}, got {level!r}"
            )
        fmt = environ.get(f"{PREFIX}LOG_FORMAT", "").strip().lower() or "text"
        if fmt not in LOG_FORMATS:
            problems.append(f"{PREFIX}LOG_FORMAT: must be text or json, got {fmt!r}")
        if problems:
            raise ConfigurationError("invalid log settings: " + "; ".join(problems))
        return cls(level=level, format=fmt)

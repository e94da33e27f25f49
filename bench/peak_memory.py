"""A process's own resident memory and its peak, from /proc (Linux)."""

from __future__ import annotations

from pathlib import Path


def status_kb(field: str) -> int:
    """A ``/proc/self/status`` figure in kB: ``VmRSS`` (now) or ``VmHWM`` (the peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when the kernel refuses."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True

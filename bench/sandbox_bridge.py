"""Where the sandbox's bridge runs: in the sandbox's process, or in a child after a crash switch.

Each way runs in a fresh process: the sandbox starts (emulators, bridge, seeded from nothing),
a customer sends one text, and the figures are the start time, the time a crash switch takes to
move the bridge to a child process, and the resident memory of the whole process tree (the
sandbox, its bridge child and multiprocessing's resource tracker) once the text was delivered.
Transcription is off (``WACONNECT_TRANSCRIPTION=none``) in both; ``--runs`` runs alternate.

    python bench/sandbox_bridge.py [--runs 3] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from doc_section import write_section

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "sandbox_bridge.json"
DOC = ROOT / "docs" / "benchmarks.md"
START_MARK = "<!-- sandbox_bridge:start -->"
END_MARK = "<!-- sandbox_bridge:end -->"
WAYS = ("in process", "child process")


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _tree_kb(pid: int) -> int:
    """Resident memory of ``pid`` and every process under it."""
    total = _rss_kb(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += _tree_kb(int(child))
    return total


def child(way: str) -> None:
    """One sandbox, one text: prints the figures as JSON."""
    from waconnect.sandbox.live import LiveSandbox  # noqa: PLC0415 - timed

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        sandbox = LiveSandbox(data_dir=Path(folder)).start()
        start_s = time.perf_counter() - started
        try:
            move_s = 0.0
            if way == "child process":
                moving = time.perf_counter()
                sandbox.act({"action": "bridge.crash", "at": "SendMessage", "nth": 100})
                move_s = time.perf_counter() - moving
            text = {"action": "customer.text", "customer": "15550100001", "text": "Hello"}
            lines = sandbox.act(text)
            assert any(line["kind"] == "message" for line in lines), lines
            tree_mb = _tree_kb(os.getpid()) / 1024
        finally:
            sandbox.close()
    print(json.dumps({"start_s": start_s, "move_s": move_s, "tree_mb": tree_mb}))


def measure(runs: int) -> dict[str, dict[str, float]]:
    samples: dict[str, list[dict[str, float]]] = {way: [] for way in WAYS}
    env = {**os.environ, "WACONNECT_TRANSCRIPTION": "none", "PYTHONPATH": str(ROOT / "bench")}
    for _ in range(runs):
        for way in WAYS:
            done = subprocess.run(
                [sys.executable, __file__, "--child", way],
                capture_output=True,
                text=True,
                check=True,
                env=env,
                timeout=300,
            )
            samples[way].append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {
        way: {key: statistics.median(s[key] for s in got) for key in got[0]}
        for way, got in samples.items()
    }


def section(figures: dict[str, dict[str, float]], runs: int) -> str:
    here, there = figures["in process"], figures["child process"]
    rows = [
        "| bridge | sandbox start | crash switch moves it | process tree after one text |",
        "|---|---|---|---|",
        f"| in the sandbox's process (default) | {here['start_s']:.2f} s | — | "
        f"{here['tree_mb']:.0f} MB |",
        f"| in a child process (after the first crash switch) | {there['start_s']:.2f} s | "
        f"{there['move_s']:.2f} s | {there['tree_mb']:.0f} MB |",
    ]
    return "\n".join(
        [
            START_MARK,
            "## The sandbox's bridge: in process, or in a child after a crash switch",
            "",
            f"`python bench/sandbox_bridge.py` ({platform.python_version()}, median of {runs} "
            "runs, each a fresh process). The sandbox keeps its bridge in its own process and "
            "moves it to a child process only when the page's crash switch is first used: a "
            "crash must kill a process and leave the emulators and the page running.",
            "",
            *rows,
            END_MARK,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child", choices=WAYS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    figures = measure(args.runs)
    text = section(figures, args.runs)
    print(text)
    if not args.no_write:
        RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
        write_section(DOC, START_MARK, END_MARK, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

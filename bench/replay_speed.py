"""Wall time of ``waconnect replay`` (the tour, 500 texts): today's code beside a baseline.

The baseline is the code of one commit (``--baseline``, default the last commit before replay
settled by knowing what is in flight), unpacked with ``git archive`` into a temporary folder and
run with the same interpreter and packages. Both replay the very same scenario files: the
baseline's own ``examples/tour.json`` and a generated scenario of 500 texts from 50 customers.
Each command runs ``--runs`` times, alternating baseline and today; the figure is the median.
Outputs are compared byte for byte, so a speed-up that changed the effects would show.

Transcription is off (``WACONNECT_TRANSCRIPTION=none``) in both.

    python bench/replay_speed.py [--runs 3] [--baseline 04e7e44] [--no-write]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from doc_section import write_section

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "replay_speed.json"
DOC = ROOT / "docs" / "benchmarks.md"
BASELINE = "04e7e44"
REPLAY_TIMEOUT_SECONDS = 600
TEXTS = 500
CUSTOMERS = 50
TARGETS = {"tour": 2.0, f"{TEXTS} texts": 3.0}  # times faster than the baseline
START_MARK = "<!-- replay_speed:start -->"
END_MARK = "<!-- replay_speed:end -->"


def unpack(commit: str, into: Path) -> Path:
    """The tree of ``commit`` under ``into`` (no worktree: the repository is left as it is)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def texts_scenario(folder: Path) -> Path:
    steps = [
        {
            "action": "customer.text",
            "customer": f"1555020{index % CUSTOMERS:04d}",
            "text": f"message {index}",
        }
        for index in range(TEXTS)
    ]
    path = folder / "texts.json"
    path.write_text(json.dumps(steps))
    return path


def timed_replay(src: Path, scenario: Path) -> tuple[float, bytes]:
    env = dict(os.environ, PYTHONPATH=str(src), WACONNECT_TRANSCRIPTION="none")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "waconnect.entrypoints.cli", "replay", str(scenario)],
        env=env,
        capture_output=True,
        check=False,
        # Bounded: the slowest (the baseline's 500 texts) takes under a minute when quiet.
        timeout=REPLAY_TIMEOUT_SECONDS,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"replay of {scenario} with {src} failed: {done.stderr.decode()}")
    return elapsed, done.stdout


def measure(baseline_src: Path, scenarios: dict[str, Path], runs: int) -> list[dict[str, Any]]:
    rows = []
    for name, scenario in scenarios.items():
        before: list[float] = []
        after: list[float] = []
        outputs: set[tuple[str, bytes]] = set()
        for _ in range(runs):
            seconds, out = timed_replay(baseline_src, scenario)
            before.append(seconds)
            outputs.add(("baseline", out))
            seconds, out = timed_replay(ROOT / "src", scenario)
            after.append(seconds)
            outputs.add(("today", out))
        same = len({out for _, out in outputs}) == 1
        row = {
            "scenario": name,
            "baseline_seconds": round(statistics.median(before), 2),
            "today_seconds": round(statistics.median(after), 2),
            "speedup": round(statistics.median(before) / statistics.median(after), 1),
            "target": TARGETS[name],
            "same_output": same,
            "runs": runs,
        }
        print(
            f"{name:>10}: baseline {row['baseline_seconds']:.2f} s, today "
            f"{row['today_seconds']:.2f} s, {row['speedup']}x (target {row['target']}x), "
            f"same output: {'yes' if same else 'NO'}",
            flush=True,
        )
        rows.append(row)
    return rows


def write_doc(
    rows: list[dict[str, Any]], baseline: str, runs: int, load: float, took: float
) -> None:
    table = [
        "| scenario | baseline | today | faster | target | same effect lines |",
        "|---|---:|---:|---:|---:|---|",
        *(
            f"| {r['scenario']} | {r['baseline_seconds']:.2f} s | {r['today_seconds']:.2f} s | "
            f"{r['speedup']}× | {r['target']:g}× | {'yes' if r['same_output'] else 'no'} |"
            for r in rows
        ),
    ]
    section = "\n".join(
        [
            START_MARK,
            "## Replay wall time (`bench/replay_speed.py`)",
            "",
            "Wall time of `waconnect replay` (a fresh process each run, imports included) for the",
            f"tour and for {TEXTS} texts from {CUSTOMERS} customers, with",
            "`WACONNECT_TRANSCRIPTION=none`, beside the code of commit",
            f"`{baseline}` (which waited for a quiet spell after each step), run by the same",
            f"interpreter on the same machine, alternating; the median of {runs} runs each.",
            "Steps now settle the moment no emulator request and no notification is in flight;",
            '"today" is the whole checkout, which also does more per message than the baseline',
            "(leased claims, kept retries, file checks).",
            f"Machine: {platform.machine()}, Python {platform.python_version()}, "
            f"{os.cpu_count()} CPUs, load average {load:.1f} when the run started (shared with",
            "other work: under load the CPU both versions spend weighs more than the waiting",
            "one of them did, so the ratio shrinks; figures vary from run to run).",
            f"The whole benchmark took {took:.0f} s.",
            "Raw figures: `bench/results/replay_speed.json`.",
            "",
            *table,
            END_MARK,
        ]
    )
    write_section(DOC, START_MARK, END_MARK, section)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", default=BASELINE, help="commit to compare with")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="waconnect-bench-") as tmp:
        folder = Path(tmp)
        baseline = unpack(args.baseline, folder / "baseline")
        scenarios = {
            "tour": baseline / "examples" / "tour.json",
            f"{TEXTS} texts": texts_scenario(folder),
        }
        rows = measure(baseline / "src", scenarios, args.runs)
    took = time.perf_counter() - started
    print(f"the benchmark took {took:.0f} s (load average {load:.1f} at its start)")
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(
            json.dumps(
                {
                    "baseline": args.baseline,
                    "runs": args.runs,
                    "load": load,
                    "bench_seconds": round(took),
                    "rows": rows,
                },
                indent=2,
            )
            + "\n"
        )
        write_doc(rows, args.baseline, args.runs, load, took)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Peak memory of the whole process tree while ``waconnect replay`` carries a long voice note.

A customer sends one voice note (OGG/Opus, 15 and 60 minutes, made here with PyAV); the bridge
fetches it, converts it to a 16 kHz WAV and attaches it to the Connect chat. The replay runs as a
child process; every 20 ms the resident memory of it and all its descendants is summed from
/proc, and the largest sum is the figure. A replay of one text is measured beside it (the fixed
cost of the emulators and the bridge), and the same scenarios run on a baseline commit unpacked
with ``git archive`` (default: the code before the emulators kept files on disk).

Transcription is off (``WACONNECT_TRANSCRIPTION=none``).

    python bench/voice_note_memory.py [--minutes 15 60] [--baseline 04e7e44] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The baseline is unpacked the same way as for the speed benchmark.
from doc_section import write_section
from replay_speed import unpack
from voice_notes import write_voice_note

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "voice_note_memory.json"
DOC = ROOT / "docs" / "benchmarks.md"
BASELINE = "04e7e44"
TARGET_MB = 200
# Each replay is bounded: a baseline 60-minute note takes about two minutes on a quiet machine.
REPLAY_TIMEOUT_SECONDS = 600
START_MARK = "<!-- voice_note_memory:start -->"
END_MARK = "<!-- voice_note_memory:end -->"
MB = 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE")


def scenario(folder: Path, name: str, steps: list[dict[str, Any]]) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(steps))
    return path


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and every process descended from it."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            statm = (entry / "statm").read_text().split()
        except OSError:
            continue
        pid = int(entry.name)
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(statm[1]) * _PAGE
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, ()))
    return total


def peak_replay(src: Path, path: Path) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(src), WACONNECT_TRANSCRIPTION="none")
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "waconnect.entrypoints.cli", "replay", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(child.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = child.communicate(timeout=REPLAY_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as late:
        child.kill()
        child.communicate()
        raise RuntimeError(f"replay of {path} with {src} took too long") from late
    finally:
        done.set()
    sampler.join()
    if child.returncode != 0:
        raise RuntimeError(f"replay of {path} with {src} failed: {err.decode()[-2000:]}")
    lines = [json.loads(line) for line in out.decode().splitlines()]
    wav = [line for line in lines if line.get("kind") == "attachment" and line["to"] == "agent"]
    return {
        "peak_mb": round(peak / MB, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "wav_bytes": wav[0]["size"] if wav else 0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[15, 60])
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    started, load = time.perf_counter(), os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="waconnect-bench-") as scratch:
        folder = Path(scratch)
        baseline_src = unpack(args.baseline, folder / "baseline") / "src"
        today_src = ROOT / "src"
        scenarios = {"one text": scenario(folder, "text", [_text()])}
        for minutes in args.minutes:
            note = write_voice_note(folder / f"voice-{minutes:g}.ogg", round(minutes * 60))
            step = {"action": "customer.voice", "customer": "15550100001", "path": note.name}
            scenarios[f"{minutes:g}-minute voice note"] = scenario(
                folder, f"voice-{minutes:g}", [step]
            )
        rows = []
        for name, path in scenarios.items():
            today = peak_replay(today_src, path)
            base = peak_replay(baseline_src, path)
            rows.append({"scenario": name, "today": today, "baseline": base})
            print(
                f"{name:>24}: today {today['peak_mb']:7.1f} MB ({today['seconds']} s)   "
                f"baseline {base['peak_mb']:7.1f} MB ({base['seconds']} s)",
                flush=True,
            )
    took = time.perf_counter() - started
    print(f"the benchmark took {took:.0f} s (load average {load:.1f} at its start)")
    if not args.no_write:
        write_doc(rows, args.baseline, load=load, took=took)
    return 0


def _text() -> dict[str, Any]:
    return {"action": "customer.text", "customer": "15550100001", "text": "hello"}


def _verdict(rows: list[dict[str, Any]]) -> str:
    """Whether the target is met, in words, beside what a replay of one text alone takes."""
    longest = next((r for r in rows if r["scenario"].startswith("60-minute")), None)
    fixed = next((r for r in rows if r["scenario"] == "one text"), None)
    if longest is None or fixed is None:
        return "The 60-minute voice note was not measured in this run."
    peak, base = longest["today"]["peak_mb"], fixed["today"]["peak_mb"]
    met = "met" if peak < TARGET_MB else "not met yet"
    return (
        f"Target {met}: {peak:.1f} MB for the 60-minute voice note, of which a replay of one "
        f"text alone (Python, boto3 and the services' models, uvicorn) takes {base:.1f} MB."
    )


def write_doc(rows: list[dict[str, Any]], baseline: str, *, load: float, took: float) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "voice_note_memory",
                "target_peak_mb": TARGET_MB,
                "baseline": baseline,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "load_average": round(load, 1),
                "bench_seconds": round(took),
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    table = [
        "| scenario | peak, process tree | time | baseline peak | baseline time |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        today, base = row["today"], row["baseline"]
        table.append(
            f"| {row['scenario']} | {today['peak_mb']:.1f} MB | {today['seconds']} s | "
            f"{base['peak_mb']:.1f} MB | {base['seconds']} s |"
        )
    section = "\n".join(
        [
            START_MARK,
            "## Replay memory with long voice notes (`bench/voice_note_memory.py`)",
            "",
            "Peak resident memory of `waconnect replay` and every process it starts, summed",
            "from /proc every 20 ms, while one voice note (OGG/Opus) crosses the bridge and",
            "reaches Connect as a 16 kHz WAV. Beside it, the same scenarios on the baseline",
            f"commit `{baseline}`, run in the same session. Target: under {TARGET_MB} MB for a",
            "60-minute voice note. Raw figures: `bench/results/voice_note_memory.json`.",
            "The replay is one process: its emulators (S3 included, files on disk) and the",
            "bridge run in it, and no file crosses it whole in memory.",
            f"Machine: {platform.machine()}, Python {platform.python_version()}, "
            f"{os.cpu_count()} CPUs, load average {load:.1f} when the run started; the whole",
            f"benchmark took {took:.0f} s (times vary with the load, peaks much less).",
            "",
            *table,
            "",
            _verdict(rows),
            END_MARK,
        ]
    )
    write_section(DOC, START_MARK, END_MARK, section)


if __name__ == "__main__":
    sys.exit(main())

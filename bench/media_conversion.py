"""Voice notes to WAV against the ffmpeg command line, the bridge's memory, offline transcripts.

Four measurements, one command:

1. Conversion of an OGG/Opus voice note of 30 s, 5, 15 and 60 minutes to 16 kHz mono 16-bit WAV,
   in the same run: in-process (``waconnect.media.wav``, CPU seconds), the whole
   ``waconnect media convert NOTE --for connect`` process, and
   ``ffmpeg -i in.ogg -ar 16000 -ac 1 -c:a pcm_s16le out.wav`` (both as child-process CPU seconds
   and wall time). ffmpeg is a benchmark-only tool: ``apt-get install ffmpeg`` on Debian. Without
   it the baseline column says so.
2. Peak memory of a converting process, per note length: the RSS growth of a fresh process over
   its size after its imports, while it converts the note in parts under Connect's 20 MB.
3. Peak memory of the bridge process (the emulators in another process) forwarding a 15- and a
   60-minute voice note and documents of 1, 20 and 100 MB (``bridge_memory``).
4. The offline engine (pocketsphinx) on espeak-ng speech: real-time factor and word error rate.

    python bench/media_conversion.py [--minutes 0.5,5,15,60] [--repeat 3]
                                     [--memory-minutes 15,60] [--documents-mb 1,20,100]

Figures go to bench/results/media_conversion.json, docs/benchmarks.md (between markers) and the
plot docs/media_conversion.svg. Every child process is bounded (``CHILD_TIMEOUT``). The run
needs about four minutes of CPU on two cores (most of it converting and making the 60-minute
note); on a shared machine at load average 15 it took eleven minutes of wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bridge_memory
from doc_section import write_section
from pocketsphinx import Decoder
from voice_notes import write_voice_note

from waconnect.media.wav import BYTES_PER_SECOND, HEADER_BYTES, to_wav_parts

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "media_conversion.json"
DOC = ROOT / "docs" / "benchmarks.md"
PLOT = ROOT / "docs" / "media_conversion.svg"
START_MARK = "<!-- media_conversion:start -->"
END_MARK = "<!-- media_conversion:end -->"
CONNECT_LIMIT = 20 * 1024 * 1024
CHILD_TIMEOUT = 600  # seconds: a 60-minute note takes ~6 s of CPU on a quiet machine
SENTENCES = (
    "one two three four five six seven eight nine",
    "hello I need help with my bill please call me back tomorrow",
    "my order number is four five six and it has not arrived",
    "can you send me the invoice for last month",
    "thank you very much have a good day",
)


def child_cpu(command: list[str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one child process run to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, timeout=CHILD_TIMEOUT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def in_process(note: Path, out: Path) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, parts) of the bridge's conversion inside this process."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    cpu, started = time.process_time(), time.perf_counter()
    result = to_wav_parts(note, out, max_part_bytes=CONNECT_LIMIT, max_seconds=7200, what="bench")
    return time.process_time() - cpu, time.perf_counter() - started, len(result.parts)


MEMORY_PROBE = """
import resource, sys, tempfile
from pathlib import Path
from waconnect.media.wav import to_wav_parts
import av, av.filter  # loaded before the baseline, as in a warm bridge
def rss_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
open("/proc/self/clear_refs", "w").write("5")
base = rss_kb()
with tempfile.TemporaryDirectory() as tmp:
    to_wav_parts(Path(sys.argv[1]), Path(tmp), max_part_bytes=20*1024*1024, max_seconds=7200,
                 what="bench")
peak = max(base, int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]))
print(base, peak)
"""


def memory_growth_mb(note: Path) -> float:
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(note)],
        check=True,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )
    base, peak = (int(x) for x in done.stdout.split())
    return (peak - base) / 1024


def word_error_rate(reference: list[str], hypothesis: list[str]) -> float:
    previous = list(range(len(hypothesis) + 1))
    for i, word in enumerate(reference, start=1):
        current = [i]
        for j, heard in enumerate(hypothesis, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != heard))
            )
        previous = current
    return previous[-1] / max(len(reference), 1)


def transcription(tmp: Path) -> dict[str, Any]:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        return {"skipped": "espeak-ng is not installed (scripts/setup.sh installs it)"}
    decoder = Decoder(samprate=16_000, loglevel="FATAL")
    errors = words = 0
    audio_seconds = cpu_seconds = 0.0
    rows = []
    for index, sentence in enumerate(SENTENCES):
        spoken = tmp / f"speech-{index}.wav"
        subprocess.run(
            [espeak, "-s", "140", "-v", "en-us", "-w", str(spoken), sentence], check=True
        )
        parts_dir = tmp / f"speech-{index}"
        parts_dir.mkdir()
        [part] = to_wav_parts(
            spoken, parts_dir, max_part_bytes=CONNECT_LIMIT, max_seconds=600, what="bench"
        ).parts
        samples = part.read_bytes()[HEADER_BYTES:]
        started = time.process_time()
        decoder.start_utt()
        decoder.process_raw(samples, False, True)
        decoder.end_utt()
        cpu_seconds += time.process_time() - started
        audio_seconds += len(samples) / BYTES_PER_SECOND
        heard = decoder.hyp().hypstr.split() if decoder.hyp() is not None else []
        reference = sentence.lower().split()
        wer = word_error_rate(reference, heard)
        errors += round(wer * len(reference))
        words += len(reference)
        rows.append({"said": sentence, "heard": " ".join(heard), "wer": round(wer, 3)})
    return {
        "real_time_factor": round(cpu_seconds / audio_seconds, 3),
        "word_error_rate": round(errors / words, 3),
        "audio_seconds": round(audio_seconds, 1),
        "sentences": rows,
    }


def plot(rows: list[dict[str, Any]]) -> str:
    """A hand-written SVG: CPU seconds against note length, one line per converter."""
    width, height, left, bottom, top, right = 640, 360, 70, 50, 30, 150
    series = [("in-process", "#1f77b4"), ("waconnect media convert", "#2ca02c")]
    if all(row.get("ffmpeg_cpu_s") is not None for row in rows):
        series.append(("ffmpeg CLI", "#d62728"))
    keys = {
        "in-process": "inprocess_cpu_s",
        "waconnect media convert": "command_cpu_s",
        "ffmpeg CLI": "ffmpeg_cpu_s",
    }
    xmax = max(row["minutes"] for row in rows)
    ymax = max(row[keys[name]] for row in rows for name, _ in series) * 1.1 or 1.0

    def x(minutes: float) -> float:
        return left + (width - left - right) * minutes / xmax

    def y(seconds: float) -> float:
        return height - bottom - (height - bottom - top) * seconds / ymax

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="18" font-size="14">Voice note to 16 kHz WAV: CPU seconds</text>',
        f'<line x1="{left}" y1="{y(0)}" x2="{x(xmax)}" y2="{y(0)}" stroke="black"/>',
        f'<line x1="{left}" y1="{y(0)}" x2="{left}" y2="{top}" stroke="black"/>',
        f'<text x="{(left + x(xmax)) / 2}" y="{height - 12}" text-anchor="middle">'
        "note length (minutes)</text>",
    ]
    for row in rows:
        out.append(
            f'<text x="{x(row["minutes"])}" y="{y(0) + 16}" text-anchor="middle">'
            f"{row['minutes']:g}</text>"
        )
    for step in range(5):
        value = ymax * step / 4
        out.append(f'<text x="{left - 6}" y="{y(value) + 4}" text-anchor="end">{value:.1f}</text>')
    for index, (name, colour) in enumerate(series):
        points = " ".join(f"{x(r['minutes']):.1f},{y(r[keys[name]]):.1f}" for r in rows)
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for row in rows:
            out.append(
                f'<circle cx="{x(row["minutes"]):.1f}" cy="{y(row[keys[name]]):.1f}" r="3" '
                f'fill="{colour}"/>'
            )
        legend_y = top + 20 * index
        out.append(
            f'<line x1="{width - right + 10}" y1="{legend_y}" x2="{width - right + 30}" '
            f'y2="{legend_y}" stroke="{colour}" stroke-width="2"/>'
        )
        out.append(f'<text x="{width - right + 36}" y="{legend_y + 4}">{name}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_report(report: dict[str, Any]) -> str:
    rows = report["conversion"]
    lines = [
        START_MARK,
        "## Voice notes to WAV, memory, offline transcripts (`bench/media_conversion.py`)",
        "",
        "An OGG/Opus voice note (mono, 24 kbit/s) to 16 kHz mono 16-bit WAV in parts under",
        "Connect's 20 MB, against `ffmpeg -i in.ogg -ar 16000 -ac 1 -c:a pcm_s16le out.wav` in",
        "the same run (CPU seconds, best of the repeats; the whole `waconnect media convert`",
        "process includes its start). Target: at most 1.0× ffmpeg at 15 and 60 minutes.",
        f"The run took {report['run_seconds']} s; a loaded machine inflates every figure and",
        "its ratios vary: compare columns of one run.",
        "ffmpeg is for this benchmark only: `apt-get install ffmpeg` on Debian.",
        f"Machine: {report['machine']}. Plot: `docs/media_conversion.svg`.",
        "",
        "| note | in-process | `waconnect media convert` | ffmpeg CLI | in-process ÷ ffmpeg "
        "| command ÷ ffmpeg | WAV parts | peak RSS growth |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ffmpeg = row.get("ffmpeg_cpu_s")
        ratio = f"{row['inprocess_cpu_s'] / ffmpeg:.2f}×" if ffmpeg else "n/a"
        command_ratio = f"{row['command_cpu_s'] / ffmpeg:.2f}×" if ffmpeg else "n/a"
        lines.append(
            f"| {row['minutes']:g} min | {row['inprocess_cpu_s']:.2f} s | "
            f"{row['command_cpu_s']:.2f} s | "
            f"{f'{ffmpeg:.2f} s' if ffmpeg else 'not installed'} | {ratio} | {command_ratio} | "
            f"{row['parts']} | {row['memory_growth_mb']:.1f} MB |"
        )
    speech = report["transcription"]
    lines += ["", "Offline transcription (pocketsphinx) of espeak-ng speech:"]
    if "skipped" in speech:
        lines.append(f"skipped: {speech['skipped']}.")
    else:
        lines.append(
            f"real-time factor {speech['real_time_factor']} (CPU seconds per second of "
            f"speech), word error rate {speech['word_error_rate']:.0%} over "
            f"{speech['audio_seconds']} s of speech. Synthetic speech is hard for its model: "
            "the figure is a floor to compare engines on, not what a person's voice gets."
        )
    lines += ["", "### The bridge's memory (`bench/bridge_memory.py`)", ""]
    lines += bridge_memory.section(report["bridge_memory"])
    lines += ["", "Raw figures: `bench/results/media_conversion.json`.", END_MARK]
    section = "\n".join(lines)
    write_section(DOC, START_MARK, END_MARK, section)
    return section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--minutes", default="0.5,5,15,60")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory-minutes", default="15,60")
    parser.add_argument("--documents-mb", default="1,20,100")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    load = os.getloadavg()[0]
    ffmpeg = shutil.which("ffmpeg")
    waconnect = shutil.which("waconnect") or str(Path(sys.executable).parent / "waconnect")
    rows = []
    with tempfile.TemporaryDirectory(prefix="waconnect-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for minutes in (float(m) for m in args.minutes.split(",")):
            note = tmp / f"note-{minutes:g}.ogg"
            write_voice_note(note, round(minutes * 60))
            row: dict[str, Any] = {"minutes": minutes, "note_bytes": note.stat().st_size}
            runs = [in_process(note, tmp / "inprocess") for _ in range(args.repeat)]
            row["inprocess_cpu_s"] = min(r[0] for r in runs)
            row["inprocess_wall_s"] = min(r[1] for r in runs)
            row["parts"] = runs[0][2]
            command = [waconnect, "media", "convert", str(note), "--for", "connect"]
            command += ["--out", str(tmp / "command")]
            row["command_cpu_s"] = min(child_cpu(command)[0] for _ in range(args.repeat))
            if ffmpeg is not None:
                baseline = [ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-i", str(note)]
                baseline += ["-ar", "16000", "-ac", "1", "-c:a", "pcm_s16le"]
                baseline.append(str(tmp / "ffmpeg.wav"))
                row["ffmpeg_cpu_s"] = min(child_cpu(baseline)[0] for _ in range(args.repeat))
            else:
                row["ffmpeg_cpu_s"] = None
            row["memory_growth_mb"] = round(memory_growth_mb(note), 1)
            rows.append(row)
            print(json.dumps(row), flush=True)
        speech = transcription(tmp)
    print(json.dumps({k: v for k, v in speech.items() if k != "sentences"}))
    memory = bridge_memory.run(
        [float(m) for m in args.memory_minutes.split(",")],
        [int(mb) for mb in args.documents_mb.split(",")],
        timeout=CHILD_TIMEOUT,
    )
    report = {
        "machine": f"{platform.machine()}, {platform.python_version()}, "
        f"{len(os.sched_getaffinity(0))} CPUs, load average {load:.1f} when the run started",
        "conversion": rows,
        "transcription": speech,
        "bridge_memory": memory,
        "run_seconds": round(time.perf_counter() - started),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    PLOT.write_text(plot(rows), encoding="utf-8")
    print(write_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

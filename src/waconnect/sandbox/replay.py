"""``waconnect replay SCENARIO...``: run scenarios against fresh emulators, print effect lines.

The format of scenarios and of the output is docs/replay.md. Each scenario gets its own emulated
cloud (seeded, so ids repeat run after run), its own SQLite state and its own bridge, wired to
the emulators through boto3 exactly as production is wired to AWS.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from waconnect.errors import ConfigurationError
from waconnect.sandbox import defaults
from waconnect.sandbox.journal import EFFECT_KEY_ORDER
from waconnect.sandbox.scenario import ScenarioFileError, load_scenario
from waconnect.sandbox.scenario_steps import Scenario

logger = logging.getLogger(__name__)

Emit = Callable[[dict[str, Any]], None]
MAX_WORKERS = 16


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayResult:
    """The effect lines of one scenario, in order, and its exit code (docs/replay.md)."""

    path: Path
    lines: tuple[dict[str, Any], ...] = ()
    exit_code: int = 0
    problem: str = ""  # why the file could not be replayed at all (exit code 2)
    kept: tuple[Path, ...] = field(default=())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO", type=Path)
    parser.add_argument(
        "--keep",
        metavar="DIR",
        type=Path,
        help="also write every file that crossed the bridge into DIR",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=defaults.SEED,
        help="seed of the ids the emulators mint (default: %(default)s)",
    )
    parser.add_argument(
        "--lambda",
        dest="through_lambda",
        action="store_true",
        help="deliver through the Lambda functions and SQS FIFO queues (local harness, moto)",
    )
    parser.add_argument(
        "--workers",
        type=_workers,
        default=0,
        metavar="N",
        help="run the bridge as N processes on one shared state, delivered to round-robin "
        "(default: in this process; a scenario with bridge.crash uses at least one)",
    )
    parser.add_argument(
        "--pretty",
        action="store_true",
        help="aligned text for people instead of JSON lines",
    )


def run(args: argparse.Namespace) -> int:
    out = sys.stdout
    emit: Emit = _pretty_printer(out) if args.pretty else _json_printer(out)
    worst = 0
    for path in args.scenarios:
        if args.pretty and len(args.scenarios) > 1:
            print(f"== {path}", file=out, flush=True)
        result = replay(
            path,
            seed=args.seed,
            keep=args.keep,
            emit=emit,
            through_lambda=args.through_lambda,
            workers=args.workers,
        )
        if result.problem:
            print(f"waconnect replay: {result.problem}", file=sys.stderr)
        worst = max(worst, result.exit_code)
    return worst


def replay(
    path: Path,
    *,
    seed: int = defaults.SEED,
    keep: Path | None = None,
    emit: Emit | None = None,
    through_lambda: bool = False,
    workers: int = 0,
    environ: Mapping[str, str] | None = None,
) -> ReplayResult:
    """Replay one scenario file against fresh emulators; ``emit`` sees each line as it happens."""
    try:
        scenario = load_scenario(Path(path))
    except ScenarioFileError as exc:
        return ReplayResult(path=Path(path), exit_code=2, problem=str(exc))
    return replay_scenario(
        scenario,
        seed=seed,
        keep=keep,
        emit=emit,
        through_lambda=through_lambda,
        workers=workers,
        environ=environ,
    )


def replay_scenario(
    scenario: Scenario,
    *,
    seed: int = defaults.SEED,
    keep: Path | None = None,
    emit: Emit | None = None,
    through_lambda: bool = False,
    workers: int = 0,
    environ: Mapping[str, str] | None = None,
) -> ReplayResult:
    """``workers``: bridge processes (0: the bridge runs in this process, unless the scenario
    crashes it); ``through_lambda``: through the Lambda harness instead; ``environ``: where
    ``WACONNECT_*`` settings are read (``os.environ``)."""
    # The emulators and the bridge are heavy (boto3, uvicorn, moto, PyAV): only a replay needs them.
    from waconnect.sandbox.scenario_runner import ScenarioRunner  # noqa: PLC0415

    lines: list[dict[str, Any]] = []

    def collect(line: dict[str, Any]) -> None:
        lines.append(line)
        if emit is not None:
            emit(line)

    if through_lambda and workers:
        return ReplayResult(
            path=scenario.path, exit_code=2, problem="--lambda and --workers do not combine"
        )
    if workers == 0 and scenario.crashes and not through_lambda:
        workers = 1
    try:
        with ScenarioRunner(
            seed=seed,
            keep=keep,
            emit=collect,
            name=scenario.path.stem,
            through_lambda=through_lambda,
            workers=workers,
            environ=environ,
        ) as runner:
            for step in scenario.steps:
                runner.run_step(step)
            kept = runner.kept_files()
            code = 1 if runner.any_step_failed else 0
    except ConfigurationError as exc:
        # A bad WACONNECT_* setting: nothing ran.
        return ReplayResult(path=scenario.path, exit_code=2, problem=str(exc))
    return ReplayResult(path=scenario.path, lines=tuple(lines), exit_code=code, kept=kept)


def _workers(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= count <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_WORKERS}")
    return count


def effect_line(effect: dict[str, Any], *, step: int, label: str) -> dict[str, Any]:
    """An emulator effect as an output line: ``step`` added, keys in the documented order."""
    merged = dict(effect, step=step)
    if label:
        merged["step_label"] = label
    return {key: merged[key] for key in EFFECT_KEY_ORDER if merged.get(key) is not None}


def _json_printer(out: TextIO) -> Emit:
    def emit(line: dict[str, Any]) -> None:
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        out.flush()

    return emit


_PRETTY_DETAILS = ("text", "attachment", "content_type", "size", "duration", "emoji", "reason")


def _pretty_printer(out: TextIO) -> Emit:
    def emit(line: dict[str, Any]) -> None:
        out.write(pretty_line(line) + "\n")
        out.flush()

    return emit


def pretty_line(line: dict[str, Any]) -> str:
    """One effect for a terminal: step, direction, kind, then what matters about it."""
    arrow = {"agent": "→ agent", "customer": "→ customer", "system": "· system"}
    head = f"{line['step']:>3}  {arrow.get(line['to'], line['to']):<11} {line['kind']:<20}"
    details: list[str] = []
    for key in _PRETTY_DETAILS:
        if key in line:
            value = line[key]
            if key == "text":
                details.append(_shorten(str(value)))
            elif key == "size":
                details.append(f"{value:,} bytes")
            elif key == "duration":
                details.append(f"{value} s")
            else:
                details.append(str(value))
    who = _ids(line)
    return f"{head} {'  '.join(details)}{who}".rstrip()


def _ids(line: dict[str, Any]) -> str:
    parts: Iterable[str] = (
        f"{key}={line[key]}" for key in ("customer", "contact_id", "reply_to") if key in line
    )
    joined = " ".join(parts)
    return f"  [{joined}]" if joined else ""


def _shorten(text: str, limit: int = 72) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

"""The sandbox a person drives: one emulated cloud, one bridge, and what was done, kept on disk.

Every action on the page is a replay step (docs/replay.md): it is validated and run exactly as
``waconnect replay`` would run it, then appended to ``DATA_DIR/session/scenario.json`` (files it
names are copied under ``DATA_DIR/session/media/`` first). That file is both "Save as scenario"
and what survives a restart: a sandbox started again on the same directory replays it into
fresh emulators with the same seed, which rebuilds the same chats, messages, media and ids.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import tempfile
import threading
import zipfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

from waconnect.sandbox import defaults
from waconnect.sandbox.bridge_workers import Exit
from waconnect.sandbox.clock import SandboxClock
from waconnect.sandbox.cloud import Cloud
from waconnect.sandbox.live_feed import LiveFeed
from waconnect.sandbox.scenario import load_scenario, parse_steps
from waconnect.sandbox.scenario_runner import ScenarioRunner
from waconnect.sandbox.scenario_steps import Invalid

logger = logging.getLogger(__name__)

SCENARIO_NAME = "scenario.json"


class ActionRefused(Exception):
    """A page action that could not run; the message says why, as replay would."""


class SessionRecord:
    """The steps done so far and the files they name, written so a crash never leaves half."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.media = root / "media"
        self.media.mkdir(parents=True, exist_ok=True)
        self._path = root / SCENARIO_NAME
        self.steps: list[dict[str, Any]] = []
        if self._path.exists():
            self.steps = json.loads(self._path.read_text(encoding="utf-8"))

    def add_file(self, name: str, data: bytes) -> str:
        """Keep ``data`` under a fresh name; returns its path relative to the scenario."""
        # A folder per file keeps the name as given: an agent's file reaches Connect by its name.
        safe = re.sub(r"[^\w .()-]", "_", Path(name).name).strip().lstrip(".") or "file"
        folder = self.media / f"{len(list(self.media.iterdir())) + 1:03d}"
        folder.mkdir()
        _write_atomically(folder / safe, data)
        return f"media/{folder.name}/{safe}"

    def append(self, step: dict[str, Any]) -> None:
        self.steps.append(step)
        text = json.dumps(self.steps, indent=2, ensure_ascii=False) + "\n"
        _write_atomically(self._path, text.encode("utf-8"))

    def as_zip(self) -> bytes:
        """The scenario and its media, as a zip a person can unpack and ``replay``."""
        buffer = BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(SCENARIO_NAME, json.dumps(self.steps, indent=2, ensure_ascii=False))
            for step in self.steps:
                relative = step.get("path")
                if isinstance(relative, str):
                    archive.write(self.root / relative, relative)
        return buffer.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class LiveSandbox:
    """A ScenarioRunner on a real-time clock, fed by the page one step at a time."""

    def __init__(
        self, *, data_dir: Path, seed: int = defaults.SEED, feed: LiveFeed | None = None
    ) -> None:
        self.data_dir = data_dir
        self.feed = feed or LiveFeed()
        self.record = SessionRecord(data_dir / "session")
        self._seed = seed
        self._lock = threading.Lock()
        self._runner: ScenarioRunner | None = None
        self._last_lines: list[dict[str, Any]] = []
        # Every effect line of the steps run, as ``waconnect replay`` prints them.
        self.effects: list[dict[str, Any]] = []
        self.crashes: list[dict[str, Any]] = []

    def start(self) -> LiveSandbox:
        runner = ScenarioRunner(
            seed=self._seed,
            emit=self._last_lines.append,
            name="sandbox",
            clock=SandboxClock(),
            watch=self.feed.notification,
        )
        runner.__enter__()
        runner.world.on_takeover = self._takeover
        self._runner = runner
        try:
            runner.cloud.dispatcher.observe(self.feed.call)
            self._restore()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        self.feed.close()
        with self._lock:
            runner, self._runner = self._runner, None
        if runner is not None:
            runner.__exit__(None, None, None)

    @property
    def cloud(self) -> Cloud:
        return self.runner.cloud

    @property
    def runner(self) -> ScenarioRunner:
        if self._runner is None:
            raise RuntimeError("the sandbox is not started")
        return self._runner

    def _restore(self) -> None:
        if not self.record.steps:
            return
        scenario = load_scenario(self.record.root / SCENARIO_NAME)
        logger.info("restoring %d steps from %s", len(scenario.steps), self.record.root)
        for step in scenario.steps:
            self._last_lines.clear()
            self.runner.run_step(step)
            self.effects.extend(self._last_lines)

    # --- acting ------------------------------------------------------------------------------

    def act(self, step: dict[str, Any]) -> list[dict[str, Any]]:
        """Run one step as replay would; on success it joins the session. Returns its lines."""
        with self._lock:
            runner = self.runner
            step = dict(step, label=step.get("label") or f"s{len(self.record.steps) + 1}")
            scenario = parse_steps([*self.record.steps, step], base=self.record.root)
            last = scenario.steps[-1]
            if isinstance(last.action, Invalid):
                raise ActionRefused(last.action.reason)
            self._last_lines.clear()
            runner.any_step_failed = False
            runner.run_step(last)
            lines = list(self._last_lines)
            if runner.any_step_failed:
                reasons = [str(line.get("reason", "")) for line in lines if "reason" in line]
                raise ActionRefused("; ".join(reasons) or "the step could not run")
            self.record.append(step)
            self.effects.extend(lines)
        self.feed.changed()
        return lines

    def direct(self, change: Callable[[Cloud], object]) -> None:
        """A change to the cloud that is no replay step (a fault switch), then let it settle."""
        with self._lock:
            change(self.cloud)
            self.cloud.settle(timeout=30.0)
        self.feed.changed()

    def _takeover(self, exit_: Exit, fresh: str) -> None:
        self.crashes.append({"killed": exit_.caller, "exit": exit_.exitcode, "fresh": fresh})
        how = "SIGKILL" if exit_.exitcode == -signal.SIGKILL else f"exit {exit_.exitcode}"
        self.feed.note(
            "Bridge",
            f"{exit_.caller} killed ({how}); {fresh} took over on the same state",
            {"killed": exit_.caller, "exitcode": exit_.exitcode, "took_over": fresh},
        )

    def bridge_state(self) -> dict[str, Any]:
        """Where the bridge runs now, and the crashes so far (the page shows them)."""
        pid = self.runner.bridge_pid()
        return {"process": pid or os.getpid(), "child": bool(pid), "crashes": list(self.crashes)}

    def label_of(self, wamid: str) -> str:
        return self.runner.label_of(wamid)

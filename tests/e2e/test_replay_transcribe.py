"""Voice-note transcripts through Amazon Transcribe's adapter and the emulator behind it, in
replay and through the Lambda harness: the step settles only once its transcript arrived."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import ANA, REPO
from waconnect.sandbox.lambda_local import LocalLambda
from waconnect.sandbox.scenario import parse_steps
from waconnect.sandbox.scenario_runner import ScenarioRunner

pytestmark = pytest.mark.slow
pytest.importorskip("pocketsphinx", reason="the offline engine is the [offline] extra")

VOICE = {
    "label": "voice",
    "action": "customer.voice",
    "customer": ANA,
    "path": "media/voice-note.ogg",
}


class Played:
    def __init__(self, runner: ScenarioRunner, lines: list[dict[str, Any]]) -> None:
        self.runner = runner
        self.lines = lines

    def step(self, step: dict[str, Any]) -> list[dict[str, Any]]:
        before = len(self.lines)
        self.runner.run_step(parse_steps([step], base=REPO / "examples").steps[0])
        return self.lines[before:]


def played(engine: str, *, through_lambda: bool = False) -> Iterator[Played]:
    lines: list[dict[str, Any]] = []
    environ = {"WACONNECT_TRANSCRIPTION": engine}
    with ScenarioRunner(
        seed=5, emit=lines.append, through_lambda=through_lambda, environ=environ
    ) as runner:
        yield Played(runner, lines)


def summary(lines: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(line["to"], line["kind"], str(line.get("text", ""))[:2]) for line in lines]


@pytest.mark.parametrize("through_lambda", [False, True], ids=["replay", "lambda"])
def test_a_voice_steps_transcript_belongs_to_that_step(through_lambda: bool) -> None:
    for world in played("transcribe", through_lambda=through_lambda):
        voice = world.step(VOICE)
        after = world.step({"action": "customer.text", "customer": ANA, "text": "still there?"})

        assert ("agent", "attachment", "") in summary(voice)
        [words] = [line for line in voice if line["to"] == "agent" and line["kind"] == "message"]
        assert words["text"].startswith("🔊 ")
        assert len(words["text"]) > 3
        [echo] = [line for line in voice if line["to"] == "customer" and line["kind"] == "text"]
        assert (echo["text"], echo["reply_to"]) == (words["text"], "voice")
        assert [line["kind"] for line in after if line["to"] == "agent"] == ["message"]
        assert world.runner.cloud.transcribe.jobs  # the emulated service did the work
        harness = world.runner.harness
        if through_lambda:
            assert isinstance(harness, LocalLambda)
            assert harness.metric_total("transcribed", function="transcribed") == 1
            assert harness.dead_letters("transcribed") == []
            assert any(call.function == "transcribed" for call in harness.invocations)


def test_the_offline_engine_in_the_bridge_gives_the_same_words() -> None:
    texts = {}
    for engine in ("transcribe", "pocketsphinx"):
        for world in played(engine):
            voice = world.step(VOICE)
            texts[engine] = [line["text"] for line in voice if line["kind"] == "message"]
            if engine == "pocketsphinx":
                assert world.runner.cloud.transcribe.jobs == {}
    assert texts["transcribe"] == texts["pocketsphinx"]
    assert texts["transcribe"][0].startswith("🔊 ")


def test_with_transcription_off_the_voice_step_is_the_recording_alone() -> None:
    for world in played("none"):
        voice = world.step(VOICE)
        assert [line["kind"] for line in voice if line["to"] == "agent"] == ["attachment"]
        assert world.runner.cloud.transcribe.jobs == {}

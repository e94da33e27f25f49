"""A Transcribe job whose EventBridge event is lost (the ``events.lose`` step) still brings its
transcript to the agent, exactly once: in replay through the bridge's checks of its jobs, and
through the Lambda harness through the check ``inbound`` posts on the queue of ``transcribed``.
The real event, arriving after all, adds nothing."""

from __future__ import annotations

import pytest

from tests.e2e.test_replay_transcribe import VOICE, played
from waconnect.sandbox.lambda_local import LocalLambda

pytestmark = pytest.mark.slow
pytest.importorskip("pocketsphinx", reason="the offline engine is the [offline] extra")

ANA = VOICE["customer"]


@pytest.mark.parametrize("through_lambda", [False, True], ids=["replay", "lambda"])
def test_a_lost_job_event_still_brings_the_transcript_once(through_lambda: bool) -> None:
    for world in played("transcribe", through_lambda=through_lambda):
        lose = world.step({"action": "events.lose"})
        voice = world.step(VOICE)
        cloud = world.runner.cloud
        # The job's end was never delivered to the bridge.
        [lost] = cloud.events.lost_events
        assert lost["detail"]["TranscriptionJobStatus"] == "COMPLETED"
        assert cloud.events.delivered == []

        [words] = [line for line in voice if line["to"] == "agent" and line["kind"] == "message"]
        assert words["text"].startswith("🔊 ")
        [echo] = [line for line in voice if line["to"] == "customer" and line["kind"] == "text"]
        assert (echo["text"], echo["reply_to"]) == (words["text"], "voice")

        # EventBridge delivers the event after all (at least once, late): nothing more.
        cloud.events.publish(
            source=lost["source"], detail_type=lost["detail-type"], detail=lost["detail"]
        )
        after = world.step({"action": "customer.text", "customer": ANA, "text": "thanks"})
        assert [line["kind"] for line in after if line["to"] == "agent"] == ["message"]
        assert not [line for line in after if "🔊" in str(line.get("text", ""))]
        refusals = {"ignored", "failed", "rejected"}
        assert not [line for line in lose + voice + after if line["kind"] in refusals]
        if through_lambda:
            harness = world.runner.harness
            assert isinstance(harness, LocalLambda)
            assert harness.metric_total("transcribed", function="transcribed") == 1
            assert harness.dead_letters("transcribed") == []

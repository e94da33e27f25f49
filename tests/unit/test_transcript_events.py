"""Transcripts from an engine that finishes later: the message is done at once, the words come
with the job's end (an EventBridge event), exactly once, and only into the chat they belong to."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tests.fakes import InMemoryRetryStore, InMemoryTranscriptJobs
from tests.unit.test_inbound import OGG, media_message
from tests.worlds import Ports, inbound_service, outbound_service

from waconnect.domain.media import StoredMedia
from waconnect.domain.outgoing import OutgoingText
from waconnect.domain.whatsapp import InboundMessage, MessageType
from waconnect.entrypoints.bridge import Bridge, RetryPolicy
from waconnect.errors import PermanentError, TransientError
from waconnect.ports import TRANSCRIPT_CHECK_SECONDS, Transcript, TranscriptFollowUps
from waconnect.services.chats import ChatLifecycle
from waconnect.services.delivery import Delivery
from waconnect.services.transcript_checks import OverdueTranscripts
from waconnect.services.transcript_events import CHAT_ENDED, TranscriptEvents
from waconnect.services.transcripts import TranscriptSettings, VoiceTranscripts, job_name


@dataclass
class LaterEngine:
    """An engine whose jobs run until the test finishes them (as Transcribe's batch jobs do)."""

    started: dict[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)
    finished: dict[str, Transcript] = field(default_factory=dict)
    # How many of the next reads of a result fail as throttled.
    failing: int = 0
    # A job never started is refused, as Transcribe's NotFoundException (else: still running).
    unknown_is_an_error: bool = False

    def start(self, job: str, recording: Sequence[StoredMedia], *, language: str) -> None:
        self.started.setdefault(job, (tuple(m.content_type for m in recording), language))

    def result(self, job: str) -> Transcript | None:
        if self.failing:
            self.failing -= 1
            raise TransientError("throttled", operation="GetTranscriptionJob")
        if self.unknown_is_an_error and job not in self.started:
            raise PermanentError("The requested job couldn't be found", code="NotFoundException")
        return self.finished.get(job)


def job_event(job: str, status: str = "COMPLETED", **extra: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "event-1",
        "detail-type": "Transcribe Job State Change",
        "source": "aws.transcribe",
        "account": "123456789012",
        "time": "2026-12-02T08:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"TranscriptionJobName": job, "TranscriptionJobStatus": status, **extra},
    }


class World(Ports):
    def __init__(self, *, echo: bool = True, follow_ups: TranscriptFollowUps | None = None) -> None:
        """``follow_ups``: the jobs' checks are posted there (the Lambda shape), not kept."""
        super().__init__()
        self.engine = LaterEngine()
        self.jobs = InMemoryTranscriptJobs(
            clock=self.clock,
            check_after_seconds=TRANSCRIPT_CHECK_SECONDS if follow_ups is None else None,
        )
        self.kept = InMemoryRetryStore()
        self.sleeps: list[float] = []
        transcripts = VoiceTranscripts(
            self.engine,
            whatsapp=self.whatsapp,
            ledger=self.ledger,
            settings=TranscriptSettings(
                language="en-GB", languages=(("1234567890", "pt-PT"),), echo_to_customer=echo
            ),
            jobs=self.jobs,
            clock=self.clock,
            follow_ups=follow_ups,
        )
        events = TranscriptEvents(
            transcripts,
            jobs=self.jobs,
            sessions=self.sessions,
            chats=ChatLifecycle(sessions=self.sessions, connect=self.connect, clock=self.clock),
            delivery=Delivery(
                ledger=self.ledger,
                connect=self.connect,
                whatsapp=self.whatsapp,
                lease_seconds=90,
            ),
            ledger=self.ledger,
            clock=self.clock,
            checks=self.jobs if follow_ups is None else None,
        )
        self.bridge = Bridge(
            inbound_service(self, transcripts=transcripts),
            outbound_service(self),
            retry=RetryPolicy(attempts=2, delay=0.1, max_age=3600),
            sleep=self.sleeps.append,
            kept=self.kept,
            clock=self.clock.now,
            transcripts=events,
            overdue=None if follow_ups is not None else OverdueTranscripts(events, self.jobs),
        )

    def voice(self) -> InboundMessage:
        self.whatsapp.add_customer_media("m1", OGG, "audio/ogg")
        message = media_message(MessageType.AUDIO, "m1", mime_type="audio/ogg", voice=True)
        outcome = self.bridge.handle_message(message)
        assert outcome.kind == "delivered"
        return message

    def chat(self) -> list[str]:
        [chat] = self.connect.chats.values()
        return [e.kind if e.kind != "message" else e.text for e in chat.transcript]

    def echoes(self) -> list[OutgoingText]:
        return [m for _, m in self.whatsapp.sent if isinstance(m, OutgoingText)]


def test_the_message_is_done_before_the_transcript_and_the_job_is_remembered() -> None:
    world = World()
    message = world.voice()

    assert world.chat() == ["attachment"]  # the WAV, and nothing waits for the words
    job = job_name(message.wamid)
    assert world.engine.started[job] == (("audio/ogg", "audio/wav"), "en-GB")
    pending = world.jobs.find(job)
    assert pending is not None
    [chat] = world.connect.chats.values()
    assert (pending.wamid, pending.contact_id, pending.generation) == (
        message.wamid,
        chat.contact_id,
        1,
    )
    assert (pending.customer.identity, pending.business) == (
        message.customer.identity,
        message.business,
    )


def test_the_jobs_end_brings_the_words_to_the_agent_then_the_echo_to_the_customer() -> None:
    world = World()
    message = world.voice()
    job = job_name(message.wamid)
    world.engine.finished[job] = Transcript(text="my parcel never came")

    [outcome] = world.bridge.handle_document(json.dumps(job_event(job)))

    assert (outcome.kind, outcome.wamid) == ("delivered", message.wamid)
    assert world.chat() == ["attachment", "🔊 my parcel never came"]
    [echo] = world.echoes()
    assert (echo.text, echo.reply_to) == ("🔊 my parcel never came", message.wamid)


def test_a_redelivered_event_adds_nothing_to_the_chat_or_the_customer() -> None:
    world = World()
    job = job_name(world.voice().wamid)
    world.engine.finished[job] = Transcript(text="hello there")

    first = world.bridge.handle_transcription_event(job_event(job))
    again = world.bridge.handle_transcription_event(job_event(job))

    assert [o.kind for o in first + again] == ["delivered", "duplicate"]
    assert world.chat() == ["attachment", "🔊 hello there"]
    assert len(world.echoes()) == 1


def test_a_failed_job_or_one_without_words_shows_as_nothing_more_than_the_audio() -> None:
    for status, transcript in (
        ("FAILED", Transcript(failure="The media format does not match")),
        ("COMPLETED", Transcript(text="   ")),
    ):
        world = World()
        job = job_name(world.voice().wamid)
        world.engine.finished[job] = transcript
        [outcome] = world.bridge.handle_transcription_event(job_event(job, status))
        assert outcome.kind == "skipped"
        assert world.chat() == ["attachment"]
        assert world.echoes() == []


def test_when_the_chat_ended_meanwhile_the_words_go_nowhere_and_no_chat_is_opened() -> None:
    world = World()
    job = job_name(world.voice().wamid)
    [chat] = world.connect.chats.values()
    world.connect.end_chat(chat.contact_id)  # ended in Connect; the bridge has not heard yet
    world.engine.finished[job] = Transcript(text="too late")

    [outcome] = world.bridge.handle_transcription_event(job_event(job))

    assert (outcome.kind, outcome.reason) == ("ignored", CHAT_ENDED)
    assert len(world.connect.chats) == 1
    assert world.chat() == ["attachment"]
    assert world.echoes() == []


def test_a_newer_chat_of_the_customer_does_not_receive_an_old_notes_words() -> None:
    world = World()
    message = world.voice()
    job = job_name(message.wamid)
    session = world.sessions.get(world.bridge.inbound.customer_key(message))
    assert session is not None
    world.sessions.save(session.closed())
    world.engine.finished[job] = Transcript(text="old words")

    [outcome] = world.bridge.handle_transcription_event(job_event(job))

    assert outcome.kind == "ignored"
    assert world.chat() == ["attachment"]


def test_jobs_the_bridge_did_not_start_and_unfinished_states_change_nothing() -> None:
    world = World()
    job = job_name(world.voice().wamid)

    [unknown] = world.bridge.handle_transcription_event(job_event("someone-elses-job"))
    [running] = world.bridge.handle_transcription_event(job_event(job, "IN_PROGRESS"))

    assert unknown.kind == "ignored"
    assert running.kind == "skipped"
    assert world.chat() == ["attachment"]


def test_an_event_before_the_result_can_be_read_is_kept_and_handed_in_again() -> None:
    world = World()
    job = job_name(world.voice().wamid)

    [early] = world.bridge.handle_document(job_event(job))
    assert early.kind == "deferred"
    assert len(world.kept.documents) == 1

    world.engine.finished[job] = Transcript(text="now ready")
    world.clock.advance(early.retry_after)
    [again] = world.bridge.run_due()

    assert again.kind == "delivered"
    assert world.chat() == ["attachment", "🔊 now ready"]
    assert world.kept.documents == {}


def test_a_transient_failure_keeps_the_event_and_the_retry_sends_each_part_once() -> None:
    world = World()
    job = job_name(world.voice().wamid)
    world.engine.finished[job] = Transcript(text="try again later")
    throttled = TransientError("throttled", operation="SendMessage")
    world.connect.fail_next(throttled, operation="send_message", times=2)

    [first] = world.bridge.handle_transcription_event(job_event(job))
    assert first.kind == "deferred"
    assert world.sleeps == [0.1]
    world.clock.advance(first.retry_after)
    # The kept copy is what ``handle_document`` keeps; handing it in directly does the same.
    [second] = world.bridge.handle_transcription_event(job_event(job))

    assert second.kind == "delivered"
    assert world.chat() == ["attachment", "🔊 try again later"]
    assert len(world.echoes()) == 1


def test_a_body_that_is_not_a_job_state_change_is_rejected_with_the_field_named() -> None:
    world = World()
    event = job_event("x")
    del event["detail"]["TranscriptionJobStatus"]

    [outcome] = world.bridge.handle_transcription_event(event)

    assert outcome.kind == "rejected"
    assert "detail.TranscriptionJobStatus" in outcome.reason


def test_without_an_engine_that_finishes_later_the_event_is_ignored_not_lost_silently() -> None:
    world = World()
    bridge = Bridge(inbound_service(world), outbound_service(world))
    [outcome] = bridge.handle_document(job_event("waconnect-abc"))
    assert outcome.kind == "ignored"
    assert "WACONNECT_TRANSCRIPTION" in outcome.reason


def test_the_business_numbers_language_is_the_jobs() -> None:
    world = World()
    world.whatsapp.add_customer_media("m1", OGG, "audio/ogg")
    message = media_message(MessageType.AUDIO, "m1", mime_type="audio/ogg", voice=True)
    message = replace(
        message, business=replace(message.business, meta_phone_number_id="1234567890")
    )
    world.bridge.handle_message(message)
    assert world.engine.started[job_name(message.wamid)][1] == "pt-PT"

"""A transcription job whose end was never announced is checked: the words still reach the agent
once, a running job is looked at again, a failed one sends nothing, an old one is forgotten."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
from tests.unit.test_transcript_events import World, job_event

from waconnect.errors import TransientError
from waconnect.ports import (
    LEDGER_TTL_SECONDS,
    TRANSCRIPT_CHECK_MAX_SECONDS,
    TRANSCRIPT_CHECK_SECONDS,
    PendingTranscript,
    Transcript,
)
from waconnect.services.transcript_checks import FORGOTTEN
from waconnect.services.transcript_events import check_delay
from waconnect.services.transcripts import job_name


@dataclass
class Started:
    world: World
    job: str
    at: float

    def run_due(self, after: float) -> list[str]:
        return [outcome.kind for outcome in self.world.bridge.run_due(self.at + after)]


def started(**kwargs: bool) -> Started:
    world = World(**kwargs)
    at = world.clock.now()
    return Started(world=world, job=job_name(world.voice().wamid), at=at)


def test_a_finished_job_whose_event_was_lost_reaches_the_agent_once_at_its_check() -> None:
    note = started()
    note.world.engine.finished[note.job] = Transcript(text="where is my order")

    assert note.run_due(TRANSCRIPT_CHECK_SECONDS - 1) == []
    assert note.run_due(TRANSCRIPT_CHECK_SECONDS) == ["delivered"]
    assert note.run_due(LEDGER_TTL_SECONDS - 1) == []  # handled: never checked again

    assert note.world.chat() == ["attachment", "🔊 where is my order"]
    [echo] = note.world.echoes()
    assert echo.text == "🔊 where is my order"


def test_the_real_event_after_the_check_adds_nothing() -> None:
    note = started()
    note.world.engine.finished[note.job] = Transcript(text="late news")
    assert note.run_due(TRANSCRIPT_CHECK_SECONDS) == ["delivered"]

    [late] = note.world.bridge.handle_document(job_event(note.job))

    assert late.kind == "duplicate"
    assert note.world.chat() == ["attachment", "🔊 late news"]
    assert len(note.world.echoes()) == 1
    assert note.world.kept.documents == {}


def test_a_job_whose_event_was_handled_is_never_checked() -> None:
    note = started()
    note.world.engine.finished[note.job] = Transcript(text="on time")
    [outcome] = note.world.bridge.handle_transcription_event(job_event(note.job))
    assert outcome.kind == "delivered"

    assert note.run_due(LEDGER_TTL_SECONDS - 1) == []
    assert note.world.chat() == ["attachment", "🔊 on time"]


def test_a_running_job_is_checked_again_later_and_not_lost() -> None:
    note = started()
    first = TRANSCRIPT_CHECK_SECONDS

    assert note.run_due(first) == ["deferred"]
    # Looked at again after as long as it has run: the clock stood still at the start here.
    assert note.world.jobs.checks[note.job] == note.at + first + first
    assert note.run_due(2 * first - 1) == []
    assert note.world.chat() == ["attachment"]

    note.world.engine.finished[note.job] = Transcript(text="took a while")
    assert note.run_due(2 * first) == ["delivered"]
    assert note.world.chat() == ["attachment", "🔊 took a while"]


def test_checks_back_off_with_the_jobs_age_up_to_the_maximum() -> None:
    first = TRANSCRIPT_CHECK_SECONDS
    assert check_delay(0.0, 10.0) == first
    assert check_delay(0.0, 3 * first) == 3 * first
    assert check_delay(0.0, 100 * TRANSCRIPT_CHECK_MAX_SECONDS) == TRANSCRIPT_CHECK_MAX_SECONDS
    note = started()
    note.world.clock.advance(2 * first)  # the job has run 10 minutes at its check
    assert note.run_due(2 * first) == ["deferred"]
    assert note.world.jobs.checks[note.job] == note.at + 4 * first


def test_a_failed_job_found_by_its_check_sends_nothing_and_is_not_checked_again() -> None:
    note = started()
    note.world.engine.finished[note.job] = Transcript(failure="The media format does not match")

    assert note.run_due(TRANSCRIPT_CHECK_SECONDS) == ["skipped"]
    assert note.run_due(LEDGER_TTL_SECONDS - 1) == []
    assert note.world.chat() == ["attachment"]
    assert note.world.echoes() == []
    [late] = note.world.bridge.handle_transcription_event(job_event(note.job, "FAILED"))
    assert late.kind == "duplicate"


def test_an_engine_failing_transiently_is_checked_again_after_the_first_delay() -> None:
    note = started()
    note.world.engine.failing = 1

    assert note.run_due(TRANSCRIPT_CHECK_SECONDS) == ["deferred"]
    assert note.world.jobs.checks[note.job] == note.at + 2 * TRANSCRIPT_CHECK_SECONDS
    note.world.engine.finished[note.job] = Transcript(text="back again")
    assert note.run_due(2 * TRANSCRIPT_CHECK_SECONDS) == ["delivered"]
    assert note.world.chat() == ["attachment", "🔊 back again"]


def test_a_job_past_the_retention_is_forgotten_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    note = started()
    note.world.jobs.check_later(note.job, note.at + LEDGER_TTL_SECONDS + 1)
    note.world.engine.finished[note.job] = Transcript(text="far too late")

    with caplog.at_level(logging.WARNING, logger="waconnect.services.transcript_checks"):
        assert note.run_due(LEDGER_TTL_SECONDS + 1) == ["skipped"]

    assert any(FORGOTTEN in record.getMessage() for record in caplog.records)
    assert note.job not in note.world.jobs.checks
    assert note.world.chat() == ["attachment"]


def test_a_check_from_a_queue_is_deferred_while_the_job_runs_then_handled_once() -> None:
    note = started()
    bridge = note.world.bridge

    running = bridge.check_transcription_job(note.job, defer=True)
    assert (running.kind, running.retry_after) == ("deferred", TRANSCRIPT_CHECK_SECONDS)

    note.world.engine.finished[note.job] = Transcript(text="queued check")
    assert bridge.check_transcription_job(note.job, defer=True).kind == "delivered"
    assert bridge.check_transcription_job(note.job, defer=True).kind == "duplicate"
    unknown = bridge.check_transcription_job("waconnect-nobodys", defer=True)
    assert unknown.kind == "skipped"  # not news: nothing shows for it
    assert note.world.chat() == ["attachment", "🔊 queued check"]
    assert len(note.world.echoes()) == 1


def test_a_check_that_meets_a_throttled_chat_is_deferred_and_sends_each_part_once() -> None:
    note = started()
    note.world.engine.finished[note.job] = Transcript(text="throttled once")
    throttled = TransientError("throttled", operation="SendMessage")
    note.world.connect.fail_next(throttled, operation="send_message", times=1)

    assert note.run_due(TRANSCRIPT_CHECK_SECONDS) == ["deferred"]
    assert note.run_due(2 * TRANSCRIPT_CHECK_SECONDS) == ["delivered"]
    assert note.world.chat() == ["attachment", "🔊 throttled once"]
    assert len(note.world.echoes()) == 1


def test_a_job_its_engine_never_started_is_given_up_at_its_first_check() -> None:
    note = started()
    del note.world.engine.started[note.job]
    note.world.engine.unknown_is_an_error = True

    assert note.run_due(TRANSCRIPT_CHECK_SECONDS) == ["skipped"]
    assert note.run_due(LEDGER_TTL_SECONDS - 1) == []  # not asked about again
    assert note.world.chat() == ["attachment"]


def test_a_busy_store_checks_nothing_now_and_loses_no_job() -> None:
    note = started()
    note.world.engine.finished[note.job] = Transcript(text="after the busy spell")
    jobs = note.world.jobs
    busy = TransientError("database is locked", operation="due transcript checks")

    def refuse(now: float) -> list[PendingTranscript]:
        raise busy

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jobs, "due", refuse)
        assert note.run_due(TRANSCRIPT_CHECK_SECONDS) == []
    assert note.run_due(TRANSCRIPT_CHECK_SECONDS) == ["delivered"]
    assert note.world.chat() == ["attachment", "🔊 after the busy spell"]

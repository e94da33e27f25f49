"""AmazonTranscribe against moto's Transcribe and S3: jobs named once, transcripts read back."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from tests.moto_isolation import isolated_mock_aws

from waconnect.adapters.aws.transcribe import AmazonTranscribe
from waconnect.domain.media import StoredMedia
from waconnect.services.transcripts import job_name

REGION = "us-east-1"


def client(service: str) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}),
    )


@pytest.fixture
def world() -> Iterator[tuple[Any, Any, str]]:
    with isolated_mock_aws():
        bucket = f"media-{uuid.uuid4().hex[:12]}"
        s3 = client("s3")
        s3.create_bucket(Bucket=bucket)
        yield client("transcribe"), s3, bucket


NOTE = StoredMedia(key="inbound/wamid.1/", size=1000, content_type="audio/ogg; codecs=opus")
WAV = StoredMedia(key="inbound/wamid.1/converted/voice.wav", size=2000, content_type="audio/wav")


def engine(world: tuple[Any, Any, str], **options: Any) -> AmazonTranscribe:
    transcribe, s3, bucket = world
    return AmazonTranscribe(
        transcribe, s3, bucket=bucket, object_key=lambda key: f"media/{key}", **options
    )


def test_a_job_starts_on_the_original_note_in_the_language_of_the_number(world: Any) -> None:
    job = job_name("wamid.1")
    engine(world).start(job, (NOTE, WAV), language="pt-PT")

    details = world[0].get_transcription_job(TranscriptionJobName=job)["TranscriptionJob"]
    assert details["Media"]["MediaFileUri"] == f"s3://{world[2]}/media/inbound/wamid.1/"
    assert details["LanguageCode"] == "pt-PT"


def test_starting_the_same_note_again_is_recognised_and_harmless(world: Any) -> None:
    job = job_name("wamid.2")
    transcriber = engine(world)
    transcriber.start(job, (NOTE,), language="en-US")
    transcriber.start(job, (NOTE,), language="en-US")  # ConflictException, taken as started
    jobs = world[0].list_transcription_jobs()["TranscriptionJobSummaries"]
    assert [j["TranscriptionJobName"] for j in jobs].count(job) == 1


def test_with_candidate_languages_transcribe_identifies_the_language(world: Any) -> None:
    job = job_name("wamid.3")
    engine(world, language_options=("es-ES", "en-US")).start(job, (NOTE,), language="en-US")
    details = world[0].get_transcription_job(TranscriptionJobName=job)["TranscriptionJob"]
    assert details.get("IdentifyLanguage") is True


def test_the_transcript_is_read_from_its_file_once_the_job_completed(world: Any) -> None:
    _, s3, bucket = world
    job = job_name("wamid.4")
    transcriber = engine(world)
    transcriber.start(job, (NOTE,), language="en-US")
    s3.put_object(
        Bucket=bucket,
        Key=f"transcripts/{job}.json",
        Body=json.dumps({"results": {"transcripts": [{"transcript": "I need help"}]}}),
    )

    seen = [transcriber.result(job) for _ in range(4)]

    # moto moves a job QUEUED → IN_PROGRESS → COMPLETED, one step per look.
    assert seen[0] is None
    done = [t for t in seen if t is not None]
    assert done
    assert done[-1].text == "I need help"
    assert done[-1].failure == ""

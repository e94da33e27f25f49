"""The Transcribe emulator over real HTTP: RPC v2 CBOR calls (what the installed botocore sends)
and JSON 1.1 calls, validated against botocore's model, with model-shaped errors; the offline
engine behind real jobs; Transcribe's output file in S3; the job state change on the event bus.
The production adapter runs against it unchanged."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import botocore.exceptions
import httpx
import pytest

from tests.media.test_transcribe import DIGITS, spoken
from waconnect.adapters.aws.transcribe import AmazonTranscribe
from waconnect.domain.media import StoredMedia
from waconnect.ports import Transcript
from waconnect.sandbox import defaults
from waconnect.sandbox.cloud import Cloud
from waconnect.sandbox.transcribe_api import transcript_items
from waconnect.services.transcripts import job_name

pytest.importorskip("pocketsphinx", reason="the offline engine is the [offline] extra")
NO_RETRY = {"retries": {"total_max_attempts": 1, "mode": "standard"}}
BUCKET = defaults.MEDIA_BUCKET
SETTLE_SECONDS = 120.0


class Events:
    """The job state changes the bus delivered, waited for by job name."""

    def __init__(self, cloud: Cloud) -> None:
        self._seen: dict[str, dict[str, Any]] = {}
        self._arrived = threading.Condition()
        cloud.events.subscribe(self._on_event)

    def _on_event(self, event: dict[str, Any]) -> None:
        with self._arrived:
            self._seen[event["detail"]["TranscriptionJobName"]] = event
            self._arrived.notify_all()

    def of(self, job: str) -> dict[str, Any]:
        with self._arrived:
            assert self._arrived.wait_for(lambda: job in self._seen, SETTLE_SECONDS)
            return self._seen[job]


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    with Cloud() as started:
        yield started


@pytest.fixture(scope="module")
def events(cloud: Cloud) -> Events:
    return Events(cloud)


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return spoken(tmp_path_factory.mktemp("speech"), " ".join(DIGITS))


def adapter(cloud: Cloud, **options: Any) -> AmazonTranscribe:
    return AmazonTranscribe(
        cloud.client("transcribe", **NO_RETRY),
        cloud.client("s3"),
        bucket=BUCKET,
        object_key=lambda key: f"tests/{key}",
        output_prefix="tests/transcripts/",
        **options,
    )


def note(cloud: Cloud, name: str, data: bytes) -> StoredMedia:
    cloud.client("s3").put_object(Bucket=BUCKET, Key=f"tests/{name}", Body=data)
    return StoredMedia(key=name, size=len(data), content_type="audio/wav")


def test_the_adapter_starts_a_job_and_reads_the_offline_engines_words(
    cloud: Cloud, events: Events, speech: bytes
) -> None:
    job = job_name("wamid.emulated.1")
    transcribe = adapter(cloud)

    transcribe.start(job, (note(cloud, "one.wav", speech),), language="en-US")
    event = events.of(job)
    transcript = transcribe.result(job)

    assert event["source"] == "aws.transcribe"
    assert event["detail-type"] == "Transcribe Job State Change"
    assert event["detail"] == {"TranscriptionJobName": job, "TranscriptionJobStatus": "COMPLETED"}
    assert (event["account"], event["region"]) == (defaults.ACCOUNT_ID, defaults.REGION)
    assert transcript is not None
    assert transcript.failure == ""
    assert len(set(transcript.text.split()) & set(DIGITS)) >= 3, transcript.text


def test_the_output_file_has_transcribes_shape_at_the_requested_key(
    cloud: Cloud, events: Events, speech: bytes
) -> None:
    job = job_name("wamid.emulated.2")
    adapter(cloud).start(job, (note(cloud, "two.wav", speech),), language="en-US")
    events.of(job)

    details = cloud.client("transcribe").get_transcription_job(TranscriptionJobName=job)
    uri = details["TranscriptionJob"]["Transcript"]["TranscriptFileUri"]
    assert (
        uri == f"https://s3.{defaults.REGION}.amazonaws.com/{BUCKET}/tests/transcripts/{job}.json"
    )
    body = cloud.client("s3").get_object(Bucket=BUCKET, Key=f"tests/transcripts/{job}.json")
    document = json.loads(body["Body"].read())
    assert (document["jobName"], document["accountId"], document["status"]) == (
        job,
        defaults.ACCOUNT_ID,
        "COMPLETED",
    )
    [transcript] = document["results"]["transcripts"]
    items = document["results"]["items"]
    words = [item["alternatives"][0]["content"] for item in items]
    assert words == transcript["transcript"].split()
    assert [item["id"] for item in items] == list(range(len(items)))
    # Each word says when it is said, in seconds as a string, within the note.
    times = [float(item[end]) for item in items for end in ("start_time", "end_time")]
    assert times == sorted(times)
    assert times, "the engine heard words"
    assert times[0] >= 0
    assert times[-1] <= (len(speech) - 44) / 22_050 / 2 + 0.01
    assert details["TranscriptionJob"]["LanguageCode"] == "en-US"
    # The production adapter reads the file as before.
    read = adapter(cloud).result(job)
    assert read is not None
    assert read.text == transcript["transcript"]


def test_words_without_the_engines_timings_are_spread_evenly_over_what_it_read() -> None:
    items = transcript_items(Transcript(text="call me back"), 3.0)

    assert [
        (item["alternatives"][0]["content"], item["start_time"], item["end_time"]) for item in items
    ] == [("call", "0.000", "1.000"), ("me", "1.000", "2.000"), ("back", "2.000", "3.000")]


def test_a_second_start_of_a_job_name_meets_conflict_and_the_adapter_takes_it_as_started(
    cloud: Cloud, events: Events, speech: bytes
) -> None:
    job = job_name("wamid.emulated.3")
    media = note(cloud, "three.wav", speech)
    adapter(cloud).start(job, (media,), language="en-US")
    client = cloud.client("transcribe", **NO_RETRY)

    with pytest.raises(client.exceptions.ConflictException):
        client.start_transcription_job(
            TranscriptionJobName=job,
            Media={"MediaFileUri": f"s3://{BUCKET}/tests/three.wav"},
            LanguageCode="en-US",
        )
    adapter(cloud).start(job, (media,), language="en-US")  # no error: already started
    assert events.of(job)["detail"]["TranscriptionJobStatus"] == "COMPLETED"


def test_requests_are_validated_against_the_model_with_its_errors(cloud: Cloud) -> None:
    client = cloud.client("transcribe", **NO_RETRY)
    with pytest.raises(client.exceptions.BadRequestException, match="exactly one of"):
        client.start_transcription_job(
            TranscriptionJobName="waconnect-both",
            Media={"MediaFileUri": f"s3://{BUCKET}/tests/x.wav"},
            LanguageCode="en-US",
            IdentifyLanguage=True,
            LanguageOptions=["en-US", "es-US"],
        )
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_transcription_job(TranscriptionJobName="waconnect-never-started")
    with pytest.raises(client.exceptions.BadRequestException, match="does not exist"):
        client.start_transcription_job(
            TranscriptionJobName="waconnect-no-bucket",
            Media={"MediaFileUri": f"s3://{BUCKET}/tests/x.wav"},
            LanguageCode="en-US",
            OutputBucketName="no-such-bucket",
        )


def test_a_body_outside_the_model_is_refused_as_transcribe_refuses_it(cloud: Cloud) -> None:
    # boto3 would refuse the language itself: the request goes out by hand, in its shape.
    answer = httpx.post(
        cloud.endpoint_url,
        timeout=60,
        headers={
            "X-Amz-Target": "Transcribe.StartTranscriptionJob",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261202/us-east-1/transcribe/"
            "aws4_request, SignedHeaders=host, Signature=0",
        },
        content=json.dumps(
            {
                "TranscriptionJobName": "waconnect-klingon",
                "Media": {"MediaFileUri": f"s3://{BUCKET}/tests/x.wav"},
                "LanguageCode": "tlh-QO",
            }
        ),
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/x-amz-json-1.1")
    body = answer.json()
    assert body["__type"] == "BadRequestException"
    assert "LanguageCode" in body["message"]


def test_a_note_missing_from_s3_fails_the_job_with_a_reason_and_an_event(
    cloud: Cloud, events: Events
) -> None:
    job = job_name("wamid.emulated.4")
    transcribe = adapter(cloud)
    missing = StoredMedia(key="never-uploaded.wav", size=10, content_type="audio/wav")

    transcribe.start(job, (missing,), language="en-US")

    assert events.of(job)["detail"]["TranscriptionJobStatus"] == "FAILED"
    transcript = transcribe.result(job)
    assert transcript is not None
    assert "doesn't point to an S3 object" in transcript.failure


def test_identification_among_candidates_reads_the_english_one(
    cloud: Cloud, events: Events, speech: bytes
) -> None:
    job = job_name("wamid.emulated.5")
    adapter(cloud, language_options=("es-US", "en-US")).start(
        job, (note(cloud, "five.wav", speech),), language="pt-BR"
    )
    events.of(job)
    details = cloud.client("transcribe").get_transcription_job(TranscriptionJobName=job)
    assert details["TranscriptionJob"]["IdentifyLanguage"] is True
    assert details["TranscriptionJob"]["LanguageCode"] == "en-US"


def test_the_engine_reads_at_most_the_configured_seconds_and_says_so(
    cloud: Cloud, events: Events, speech: bytes
) -> None:
    job = job_name("wamid.emulated.6")
    cloud.transcribe.max_seconds = 1
    try:
        transcribe = adapter(cloud)
        transcribe.start(job, (note(cloud, "six.wav", speech),), language="en-US")
        events.of(job)
        transcript = transcribe.result(job)
    finally:
        cloud.transcribe.max_seconds = 120
    assert transcript is not None
    assert "(the sandbox transcribed the first 1 s of" in transcript.text


def test_a_language_the_offline_engine_does_not_know_fails_the_job(
    cloud: Cloud, events: Events, speech: bytes
) -> None:
    job = job_name("wamid.emulated.7")
    transcribe = adapter(cloud)
    transcribe.start(job, (note(cloud, "seven.wav", speech),), language="pt-BR")
    assert events.of(job)["detail"]["TranscriptionJobStatus"] == "FAILED"
    transcript = transcribe.result(job)
    assert transcript is not None
    assert transcript.failure == "the offline engine knows English only, not pt-BR"


def test_an_unsigned_or_unknown_target_is_refused(cloud: Cloud) -> None:
    answer = httpx.post(
        cloud.endpoint_url,
        timeout=60,
        headers={
            "X-Amz-Target": "Transcribe.MakeCoffee",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261202/us-east-1/transcribe/"
            "aws4_request, SignedHeaders=host, Signature=0",
        },
        content=b"{}",
    )
    assert answer.status_code == 404
    assert answer.json()["__type"] == "UnknownOperationException"
    with pytest.raises(botocore.exceptions.ClientError):
        cloud.client("transcribe", **NO_RETRY).list_transcription_jobs()


def test_a_json_1_1_client_is_answered_in_json_1_1(
    cloud: Cloud, events: Events, speech: bytes
) -> None:
    job = job_name("wamid.emulated.8")
    adapter(cloud).start(job, (note(cloud, "eight.wav", speech),), language="en-US")
    events.of(job)
    answer = httpx.post(
        cloud.endpoint_url,
        timeout=60,
        headers={
            "X-Amz-Target": "Transcribe.GetTranscriptionJob",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261202/us-east-1/transcribe/"
            "aws4_request, SignedHeaders=host, Signature=0",
        },
        content=json.dumps({"TranscriptionJobName": job}),
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-amz-json-1.1"
    details = answer.json()["TranscriptionJob"]
    assert (details["TranscriptionJobName"], details["TranscriptionJobStatus"]) == (
        job,
        "COMPLETED",
    )

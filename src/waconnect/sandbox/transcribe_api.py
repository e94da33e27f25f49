"""Amazon Transcribe's batch job API, emulated: the offline engine behind the real operations.

``StartTranscriptionJob`` and ``GetTranscriptionJob`` arrive as JSON 1.1 calls, parsed and
validated against botocore's model (``protocol.py``); errors are the model's:
``ConflictException`` for a job name in use, ``BadRequestException`` for a request Transcribe
refuses, ``NotFoundException`` for an unknown job. A started job runs in a thread of its own:
it reads the note from S3 (moto) at its ``MediaFileUri``, decodes it (PyAV) and hands it to
pocketsphinx, which reads at most ``max_seconds`` of it (``WACONNECT_TRANSCRIBE_MAX_SECONDS``;
the transcript then says how much it covers). The result is written as Transcribe writes it
(``jobName``, ``accountId``, ``status``, ``results.transcripts[].transcript``, ``results.items[]``)
to the requested output bucket and key, the job becomes COMPLETED (or FAILED with a reason),
and a "Transcribe Job State Change" event goes to the event bus, as EventBridge would carry it.

A job is in flight from its start to its event, so the cloud settles only once the transcript
(or the failure) is known. Each word is an item with its ``start_time`` and ``end_time`` (seconds,
as strings), as Transcribe writes them: the engine's own timings, else the words spread evenly
over what it read.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from botocore.exceptions import BotoCoreError, ClientError

from waconnect.media.wav import BYTES_PER_SECOND, HEADER_BYTES
from waconnect.ports import Transcript
from waconnect.sandbox.event_bus import EventBus
from waconnect.sandbox.inflight import InFlight
from waconnect.sandbox.protocol import ApiError, Call, Handler

logger = logging.getLogger(__name__)

SOURCE = "aws.transcribe"
DETAIL_TYPE = "Transcribe Job State Change"
DEFAULT_MAX_SECONDS = 120.0
# Where a job without an output bucket is written (Transcribe's own bucket, on AWS).
SERVICE_BUCKET = "aws-transcribe-sandbox-output"
# How each MediaFormat is labelled for the decoder (it sniffs the bytes itself).
_CONTENT_TYPES = {
    "ogg": "audio/ogg",
    "mp3": "audio/mpeg",
    "mp4": "video/mp4",
    "m4a": "audio/mp4",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "amr": "audio/amr",
    "webm": "video/webm",
}
_NO_OBJECT = (
    "The URI that you provided doesn't point to an S3 object. Make sure that the object exists "
    "and that the S3 bucket is in the same region as the job."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    name: str
    status: str
    media_uri: str
    media_format: str
    language_code: str
    identify: bool
    options: tuple[str, ...]
    output_bucket: str
    output_key: str
    created: float
    completed: float = 0.0
    failure: str = ""
    identified: str = ""


class TranscribeApi:
    def __init__(
        self,
        *,
        s3: Any,
        events: EventBus,
        inflight: InFlight,
        now: Callable[[], float],
        workdir: Path,
        region: str,
        account: str,
    ) -> None:
        self._s3 = s3
        self._events = events
        self._inflight = inflight
        self._now = now
        self._workdir = workdir
        self._region = region
        self._account = account
        self._lock = threading.Lock()
        self._engine_lock = threading.Lock()
        self._engine: tuple[Any, Any] | None = None
        self._engine_seconds = 0.0
        self.jobs: dict[str, Job] = {}
        # How much of a note the offline engine reads; the sandbox sets it from the settings.
        self.max_seconds = DEFAULT_MAX_SECONDS

    def handlers(self) -> dict[str, Handler]:
        return {
            "StartTranscriptionJob": self.start_transcription_job,
            "GetTranscriptionJob": self.get_transcription_job,
        }

    # ---- the operations ----------------------------------------------------------------------

    def start_transcription_job(self, call: Call, _headers: Mapping[str, str]) -> dict[str, Any]:
        params = call.params
        name = str(params["TranscriptionJobName"])
        language, identify, options = _languages(params)
        uri = str(params.get("Media", {}).get("MediaFileUri", ""))
        if not uri:
            raise _bad("Media.MediaFileUri is required")
        _s3_location(uri)
        bucket = str(params.get("OutputBucketName", ""))
        if params.get("OutputKey") and not bucket:
            raise _bad("OutputKey needs OutputBucketName")
        if bucket:
            self._check_bucket(bucket)
        key = _output_key(name, str(params.get("OutputKey", "")))
        job = Job(
            name=name,
            status="IN_PROGRESS",
            media_uri=uri,
            media_format=str(params.get("MediaFormat", "")),
            language_code=language,
            identify=identify,
            options=options,
            output_bucket=bucket or SERVICE_BUCKET,
            output_key=key,
            created=self._now(),
        )
        with self._lock:
            if name in self.jobs:
                raise ApiError(
                    "ConflictException",
                    "The requested job name already exists. Use a different job name.",
                )
            self.jobs[name] = job
            # In flight until its event is published (which holds its own count from then on).
            self._inflight.begin()
        threading.Thread(target=self._run, args=(name,), name=f"transcribe-{name}").start()
        return {"TranscriptionJob": self._describe(job)}

    def get_transcription_job(self, call: Call, _headers: Mapping[str, str]) -> dict[str, Any]:
        name = str(call.params["TranscriptionJobName"])
        with self._lock:
            job = self.jobs.get(name)
        if job is None:
            raise ApiError(
                "NotFoundException",
                "The requested job couldn't be found. Check the job name and try again.",
            )
        return {"TranscriptionJob": self._describe(job)}

    # ---- a job's run -------------------------------------------------------------------------

    def _run(self, name: str) -> None:
        try:
            with self._lock:
                job = self.jobs[name]
            finished = self._finish(job)
            with self._lock:
                self.jobs[name] = finished
            self._events.publish(
                source=SOURCE,
                detail_type=DETAIL_TYPE,
                detail={
                    "TranscriptionJobName": name,
                    "TranscriptionJobStatus": finished.status,
                },
            )
        except Exception:
            logger.exception("transcription job %s broke the emulator", name)
        finally:
            self._inflight.end()

    def _finish(self, job: Job) -> Job:
        language = _spoken(job)
        try:
            text, items, failure = self._transcribe(job, language)
        finally:
            for kept in ("data", "meta"):
                shutil.rmtree(self._workdir / kept / job.name, ignore_errors=True)
        if failure:
            logger.info("transcription job %s failed: %s", job.name, failure)
            return replace(job, status="FAILED", failure=failure, completed=self._now())
        self._write_result(job, text, items, language)
        return replace(
            job,
            status="COMPLETED",
            completed=self._now(),
            identified=language if job.identify else "",
        )

    def _transcribe(self, job: Job, language: str) -> tuple[str, list[dict[str, Any]], str]:
        """The words of the note (with what they cover, when not all of it) and their items, or
        why there are none."""
        # The converter and the engine are the bridge's own media code, used as a library.
        from waconnect.errors import PermanentError  # noqa: PLC0415
        from waconnect.media.convert import PyAvConverter  # noqa: PLC0415

        bucket, key = _s3_location(job.media_uri)
        try:
            body = self._s3.get_object(Bucket=bucket, Key=key)["Body"]
        except (BotoCoreError, ClientError):
            return "", [], _NO_OBJECT
        engine, store = self._engine_and_store()
        content_type = _CONTENT_TYPES.get(job.media_format, "application/octet-stream")
        folder = job.name
        original = store.put(
            f"{folder}/note", iter(lambda: body.read(64 * 1024), b""), content_type=content_type
        )
        try:
            wav = PyAvConverter(store).convert(original, target="wav16k", key=f"{folder}/note.wav")
        except PermanentError as exc:
            return "", [], f"Failed to decode the media file: {exc}"
        engine.start(job.name, (original, *wav.files), language=language)
        transcript = engine.result(job.name)
        if transcript is None or transcript.failure:
            return "", [], transcript.failure if transcript is not None else "no result"
        seconds = sum(max(0, part.size - HEADER_BYTES) for part in wav.files) / BYTES_PER_SECOND
        items = transcript_items(transcript, min(seconds, self.max_seconds))
        words = transcript.text.strip()
        if words and transcript.note:
            words += f" (the sandbox transcribed {transcript.note})"
        return words, items, ""

    def _engine_and_store(self) -> tuple[Any, Any]:
        """One engine for the emulator's life (loading its model is the slow part), made again
        only when ``max_seconds`` changed; its files live under the work folder."""
        from waconnect.adapters.local.files import FileMediaStore  # noqa: PLC0415
        from waconnect.media.transcribe import PocketsphinxTranscriber  # noqa: PLC0415

        with self._engine_lock:
            if self._engine is None or self._engine_seconds != self.max_seconds:
                store = FileMediaStore(self._workdir)
                self._engine = (
                    PocketsphinxTranscriber(store, max_seconds=self.max_seconds),
                    store,
                )
                self._engine_seconds = self.max_seconds
            return self._engine

    def _write_result(
        self, job: Job, text: str, items: list[dict[str, Any]], language: str
    ) -> None:
        results: dict[str, Any] = {"transcripts": [{"transcript": text}], "items": items}
        if job.identify:
            results["language_code"] = language
        document = {
            "jobName": job.name,
            "accountId": self._account,
            "status": "COMPLETED",
            "results": results,
        }
        if job.output_bucket == SERVICE_BUCKET:
            self._ensure_bucket(SERVICE_BUCKET)
        self._s3.put_object(
            Bucket=job.output_bucket,
            Key=job.output_key,
            Body=json.dumps(document).encode("utf-8"),
            ContentType="application/json",
        )

    # ---- helpers -----------------------------------------------------------------------------

    def _describe(self, job: Job) -> dict[str, Any]:
        described: dict[str, Any] = {
            "TranscriptionJobName": job.name,
            "TranscriptionJobStatus": job.status,
            "Media": {"MediaFileUri": job.media_uri},
            "CreationTime": job.created,
            "StartTime": job.created,
        }
        if job.media_format:
            described["MediaFormat"] = job.media_format
        if job.language_code:
            described["LanguageCode"] = job.language_code
        if job.identify:
            described["IdentifyLanguage"] = True
            described["LanguageOptions"] = list(job.options)
            if job.identified:
                described["LanguageCode"] = job.identified
                described["IdentifiedLanguageScore"] = 1.0
        if job.status == "COMPLETED":
            described["CompletionTime"] = job.completed
            described["Transcript"] = {
                "TranscriptFileUri": f"https://s3.{self._region}.amazonaws.com/"
                f"{job.output_bucket}/{job.output_key}"
            }
        elif job.status == "FAILED":
            described["CompletionTime"] = job.completed
            described["FailureReason"] = job.failure
        return described

    def _check_bucket(self, bucket: str) -> None:
        try:
            self._s3.head_bucket(Bucket=bucket)
        except ClientError:
            raise _bad(f"The specified S3 bucket {bucket} does not exist.") from None

    def _ensure_bucket(self, bucket: str) -> None:
        try:
            self._s3.head_bucket(Bucket=bucket)
        except ClientError:
            self._s3.create_bucket(Bucket=bucket)


def _languages(params: Mapping[str, Any]) -> tuple[str, bool, tuple[str, ...]]:
    """The job's language, or the candidates to identify it among; exactly one way."""
    language = str(params.get("LanguageCode", ""))
    identify = bool(params.get("IdentifyLanguage"))
    multiple = bool(params.get("IdentifyMultipleLanguages"))
    if sum((bool(language), identify, multiple)) != 1:
        raise _bad(
            "Specify exactly one of LanguageCode, IdentifyLanguage or IdentifyMultipleLanguages."
        )
    if multiple:
        raise _bad("The sandbox identifies one language per note (IdentifyLanguage).")
    options = tuple(str(o) for o in params.get("LanguageOptions", ()))
    if identify and len(options) < 2:
        raise _bad("LanguageOptions needs at least two languages to identify among.")
    return language, identify, options


def transcript_items(transcript: Transcript, seconds: float) -> list[dict[str, Any]]:
    """Transcribe's ``items``, one per word: the engine's timings, else the words spread evenly
    over the ``seconds`` it read."""
    said = transcript.text.split()
    timed = [(w.word, w.start, w.end) for w in transcript.words]
    if [word for word, _, _ in timed] != said:
        step = seconds / len(said) if said else 0.0
        timed = [(word, n * step, (n + 1) * step) for n, word in enumerate(said)]
    return [
        {
            "id": n,
            "type": "pronunciation",
            "start_time": f"{start:.3f}",
            "end_time": f"{end:.3f}",
            "alternatives": [{"confidence": "1.0", "content": word}],
        }
        for n, (word, start, end) in enumerate(timed)
    ]


def _spoken(job: Job) -> str:
    """The language the engine reads the note in: the job's, or the identified one (the offline
    engine knows English, so English wins among the candidates)."""
    if not job.identify:
        return job.language_code
    return next((o for o in job.options if o.startswith("en-")), job.options[0])


def _s3_location(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme == "s3" and parsed.netloc and parsed.path.strip("/"):
        return parsed.netloc, unquote(parsed.path.lstrip("/"))
    raise _bad(f"The S3 URI {uri} isn't valid. Use an s3://<bucket>/<key> URI.")


def _output_key(name: str, key: str) -> str:
    """Transcribe's rule: no key, or a key ending in "/", takes ``<job name>.json``."""
    if not key:
        return f"{name}.json"
    return f"{key}{name}.json" if key.endswith("/") else key


def _bad(message: str) -> ApiError:
    return ApiError("BadRequestException", message)

"""``ports.Transcriber`` over Amazon Transcribe batch jobs, on the voice note in the media bucket.

A job is named from the voice note's wamid (``services.transcripts.job_name``), so a second start
of the same note — a retry, a redelivery — meets Transcribe's ``ConflictException`` and is taken
as "already started". The language is the business number's, or, given a set of candidates,
Transcribe identifies it among them. The transcript JSON is written to the media bucket and read
back from there.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote, urlparse

from waconnect.adapters.aws.errors import translate_errors
from waconnect.domain.media import StoredMedia
from waconnect.errors import PermanentError
from waconnect.media.naming import canonical_type
from waconnect.ports import Transcript

logger = logging.getLogger(__name__)

# MediaFormat values StartTranscriptionJob accepts, by the content type of the stored file.
_FORMATS: dict[str, str] = {
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/amr": "amr",
    "audio/wav": "wav",
    "audio/flac": "flac",
    "video/mp4": "mp4",
    "video/webm": "webm",
}
_RUNNING = frozenset({"QUEUED", "IN_PROGRESS"})


class AmazonTranscribe:
    """Transcribe batch jobs: ``start`` → StartTranscriptionJob, ``result`` → GetTranscriptionJob.

    ``object_key`` maps a media store key to its S3 key in ``bucket`` (the store's prefix).
    ``language_options``: with two or more, Transcribe identifies the language among them and
    the per-number language is not used.
    """

    def __init__(
        self,
        transcribe: Any,
        s3: Any,
        *,
        bucket: str,
        object_key: Callable[[str], str],
        output_prefix: str = "transcripts/",
        language_options: Sequence[str] = (),
    ) -> None:
        self._transcribe = transcribe
        self._s3 = s3
        self._bucket = bucket
        self._object_key = object_key
        self._output_prefix = output_prefix
        self._language_options = tuple(language_options)

    def start(self, job: str, recording: Sequence[StoredMedia], *, language: str) -> None:
        media, media_format = self._readable(recording)
        params: dict[str, Any] = {
            "TranscriptionJobName": job,
            "Media": {"MediaFileUri": f"s3://{self._bucket}/{self._object_key(media.key)}"},
            "MediaFormat": media_format,
            "OutputBucketName": self._bucket,
            "OutputKey": f"{self._output_prefix}{job}.json",
        }
        if len(self._language_options) >= 2:
            params["IdentifyLanguage"] = True
            params["LanguageOptions"] = list(self._language_options)
        else:
            params["LanguageCode"] = language
        try:
            with translate_errors("StartTranscriptionJob", service="transcribe"):
                self._transcribe.start_transcription_job(**params)
        except PermanentError as exc:
            if exc.code != "ConflictException":
                raise
            logger.info("transcription job %s was already started", job)

    def result(self, job: str) -> Transcript | None:
        with translate_errors("GetTranscriptionJob", service="transcribe"):
            found = self._transcribe.get_transcription_job(TranscriptionJobName=job)
        details = found["TranscriptionJob"]
        status = details.get("TranscriptionJobStatus", "")
        if status in _RUNNING:
            return None
        if status != "COMPLETED":
            return Transcript(failure=str(details.get("FailureReason") or f"job {status}"))
        uri = details.get("Transcript", {}).get("TranscriptFileUri", "")
        bucket, key = _bucket_and_key(uri)
        with translate_errors("GetObject", service="s3"):
            body = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        try:
            results = json.loads(body)["results"]
            text = " ".join(str(t["transcript"]) for t in results["transcripts"])
        except (ValueError, KeyError, TypeError) as exc:
            return Transcript(failure=f"unreadable transcript file ({type(exc).__name__})")
        return Transcript(text=text)

    def _readable(self, recording: Sequence[StoredMedia]) -> tuple[StoredMedia, str]:
        """The form of the recording Transcribe reads: the original, else its first WAV."""
        for media in recording:
            media_format = _FORMATS.get(canonical_type(media.content_type))
            if media_format is not None:
                return media, media_format
        raise PermanentError("no form of the recording Transcribe reads", operation="transcribe")


def _bucket_and_key(uri: str) -> tuple[str, str]:
    """Bucket and key of a TranscriptFileUri: ``https://s3.<region>.amazonaws.com/<b>/<key>``
    (path style, as Transcribe writes it) or ``s3://<b>/<key>``."""
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        return parsed.netloc, unquote(parsed.path.lstrip("/"))
    bucket, _, key = parsed.path.lstrip("/").partition("/")
    if not bucket or not key:
        raise PermanentError(f"not a transcript location: {uri!r}", operation="transcribe")
    return bucket, unquote(key)

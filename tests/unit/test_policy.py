"""The media policy table: what happens to each kind of file in each direction."""

from __future__ import annotations

import pytest

from waconnect.domain.outgoing import MediaKind
from waconnect.media.policy import (
    CONNECT_DEFAULT_EXTENSIONS,
    MB,
    ConnectLimits,
    document_instead,
    inbound_plan,
    outbound_plan,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


@pytest.mark.parametrize(
    ("content_type", "filename", "name"),
    [
        ("image/jpeg", "IMG_0001.jpg", "IMG_0001.jpg"),
        ("image/png", "", "image.png"),
        ("application/pdf", "invoice", "invoice.pdf"),
        ("application/msword", "letter.doc", "letter.doc"),
        (DOCX, "letter.docx", "letter.docx"),
        ("application/vnd.ms-excel", "sheet.xls", "sheet.xls"),
        (XLSX, "sheet.xlsx", "sheet.xlsx"),
        ("application/vnd.ms-powerpoint", "deck.ppt", "deck.ppt"),
        (PPTX, "deck.pptx", "deck.pptx"),
        ("text/plain", "notes.txt", "notes.txt"),
        ("text/csv", "orders.csv", "orders.csv"),
        ("application/rtf", "memo.rtf", "memo.rtf"),
        ("video/mp4", "", "video.mp4"),
        ("video/quicktime", "clip.mov", "clip.mov"),
        ("image/heic", "IMG_0002.HEIC", "IMG_0002.heic"),
        ("image/jpeg", "scan.jfif", "scan.jfif"),
        ("audio/wav", "memo.wav", "memo.wav"),
    ],
)
def test_files_connect_accepts_are_attached_as_they_are(
    content_type: str, filename: str, name: str
) -> None:
    plan = inbound_plan(content_type, 1000, filename=filename)
    assert (plan.action, plan.name, plan.content_type) == ("attach", name, content_type)


@pytest.mark.parametrize(
    ("content_type", "filename", "voice", "name"),
    [
        ("audio/ogg; codecs=opus", "", True, "voice-note.wav"),
        ("audio/ogg", "", False, "audio.wav"),
        ("audio/amr", "call.amr", False, "call.wav"),
        ("audio/aac", "", False, "audio.wav"),
        ("audio/mp4", "song.m4a", False, "song.wav"),
        ("audio/mpeg", "podcast.mp3", False, "podcast.wav"),
        ("audio/x-something-new", "sound.xyz", False, "sound.wav"),
    ],
)
def test_audio_connect_refuses_is_converted_to_a_16k_wav(
    content_type: str, filename: str, voice: bool, name: str
) -> None:
    plan = inbound_plan(content_type, 1000, filename=filename, voice=voice)
    assert (plan.action, plan.target, plan.name, plan.content_type) == (
        "convert",
        "wav16k",
        name,
        "audio/wav",
    )


@pytest.mark.parametrize(
    ("content_type", "filename", "reason_names"),
    [
        ("application/zip", "files.zip", ".zip"),
        ("application/x-unheard-of", "", "application/x-unheard-of"),
    ],
)
def test_types_connect_refuses_and_the_bridge_cannot_convert_become_a_notice(
    content_type: str, filename: str, reason_names: str
) -> None:
    plan = inbound_plan(content_type, 1000, filename=filename)
    assert plan.action == "notice"
    assert reason_names in plan.reason
    assert "Connect does not accept" in plan.reason


def test_a_file_over_connects_size_limit_becomes_a_notice_naming_the_limit() -> None:
    plan = inbound_plan("application/pdf", 20 * MB + 1, filename="big.pdf")
    assert (plan.action, plan.name, plan.reason) == ("notice", "big.pdf", "over the 20 MB limit")
    assert inbound_plan("application/pdf", 20 * MB, filename="big.pdf").action == "attach"


def test_the_size_limit_comes_from_the_instances_settings() -> None:
    limits = ConnectLimits(max_bytes=5 * MB)
    plan = inbound_plan("image/jpeg", 6 * MB, filename="p.jpg", limits=limits)
    assert plan.reason == "over the 5 MB limit"


def test_an_instance_that_allows_ogg_gets_voice_notes_untouched() -> None:
    limits = ConnectLimits(allowed_extensions=CONNECT_DEFAULT_EXTENSIONS | {".ogg"})
    plan = inbound_plan("audio/ogg; codecs=opus", 1000, voice=True, limits=limits)
    assert (plan.action, plan.name, plan.content_type) == ("attach", "voice-note.ogg", "audio/ogg")


def test_an_instance_that_allows_webp_gets_stickers_attached() -> None:
    limits = ConnectLimits(allowed_extensions=CONNECT_DEFAULT_EXTENSIONS | {".webp"})
    assert inbound_plan("image/webp", 1000, limits=limits).action == "attach"


def test_audio_becomes_a_notice_when_the_instance_refuses_wav_too() -> None:
    limits = ConnectLimits(allowed_extensions=frozenset({".pdf"}))
    plan = inbound_plan("audio/ogg", 1000, voice=True, limits=limits)
    assert plan.action == "notice"


def test_an_empty_file_becomes_a_notice() -> None:
    assert inbound_plan("image/jpeg", 0).reason == "the file is empty"


@pytest.mark.parametrize(
    ("content_type", "size", "name", "kind", "filename"),
    [
        ("image/jpeg", 5 * MB, "photo.jpg", MediaKind.IMAGE, "photo.jpg"),
        ("image/png", 1000, "", MediaKind.IMAGE, "image.png"),
        ("video/mp4", 16 * MB, "tour.mp4", MediaKind.VIDEO, "tour.mp4"),
        ("application/pdf", 1000, "brochure.pdf", MediaKind.DOCUMENT, "brochure.pdf"),
        ("text/csv", 1000, "rows.csv", MediaKind.DOCUMENT, "rows.csv"),
        (DOCX, 100 * MB, "report", MediaKind.DOCUMENT, "report.docx"),
    ],
)
def test_agent_files_are_sent_as_the_whatsapp_kind_their_type_and_size_allow(
    content_type: str, size: int, name: str, kind: MediaKind, filename: str
) -> None:
    plan = outbound_plan(content_type, size, name=name)
    assert (plan.action, plan.kind, plan.filename, plan.voice) == ("send", kind, filename, False)


@pytest.mark.parametrize(
    ("content_type", "given", "filename", "target", "kind"),
    [
        ("image/webp", "sticker.webp", "sticker.png", "png", "image/png"),
        ("image/gif", "funny.gif", "funny.png", "png", "image/png"),
        ("video/3gpp", "clip.3gp", "clip.mp4", "mp4", "video/mp4"),
    ],
)
def test_stickers_and_3gp_videos_are_converted_to_what_connect_accepts(
    content_type: str, given: str, filename: str, target: str, kind: str
) -> None:
    plan = inbound_plan(content_type, 1000, filename=given)
    assert (plan.action, plan.target, plan.name, plan.content_type) == (
        "convert",
        target,
        filename,
        kind,
    )


def test_a_refused_file_is_a_notice_without_a_download_link() -> None:
    plan = inbound_plan(
        "application/x-msdownload", 1000, filename="invoice.pdf", refusal="it is a program"
    )
    assert (plan.action, plan.reason, plan.link) == ("notice", "it is a program", False)
    assert inbound_plan("application/zip", 1000, filename="a.zip").link


@pytest.mark.parametrize(
    ("content_type", "size", "target", "kind", "max_bytes"),
    [
        ("image/jpeg", 5 * MB + 1, "jpeg", MediaKind.IMAGE, 5 * MB),
        ("image/heic", 1000, "jpeg", MediaKind.IMAGE, 5 * MB),
        ("image/webp", 1000, "jpeg", MediaKind.IMAGE, 5 * MB),
        ("video/mp4", 16 * MB + 1, "mp4", MediaKind.VIDEO, 16 * MB),
        ("video/quicktime", 1000, "mp4", MediaKind.VIDEO, 16 * MB),
    ],
)
def test_agent_images_and_videos_whatsapp_would_refuse_are_converted_to_fit(
    content_type: str, size: int, target: str, kind: MediaKind, max_bytes: int
) -> None:
    plan = outbound_plan(content_type, size, name="file")
    assert (plan.action, plan.target, plan.kind, plan.voice, plan.max_bytes) == (
        "convert",
        target,
        kind,
        False,
        max_bytes,
    )


@pytest.mark.parametrize(
    ("content_type", "size", "too_large"),
    [
        ("application/pdf", 100 * MB + 1, True),
        ("application/zip", 1000, False),
    ],
)
def test_agent_files_whatsapp_would_refuse_are_notices_saying_whether_size_or_type(
    content_type: str, size: int, too_large: bool
) -> None:
    plan = outbound_plan(content_type, size, name="file")
    assert (plan.action, plan.too_large) == ("notice", too_large)
    assert plan.reason


@pytest.mark.parametrize("content_type", ["audio/wav", "audio/mpeg", "audio/ogg", "audio/x-new"])
def test_agent_audio_is_converted_to_an_ogg_opus_voice_note(content_type: str) -> None:
    plan = outbound_plan(content_type, 48_000, name="reply.wav")
    assert (plan.action, plan.target, plan.kind, plan.voice) == (
        "convert",
        "ogg-opus",
        MediaKind.AUDIO,
        True,
    )
    assert (plan.filename, plan.content_type) == ("reply.ogg", "audio/ogg")


def test_an_agent_document_over_100_mb_becomes_a_notice() -> None:
    plan = outbound_plan("application/pdf", 100 * MB + 1, name="huge.pdf")
    assert (plan.action, plan.reason) == ("notice", "over WhatsApp's 100 MB document limit")


def test_an_empty_agent_file_becomes_a_notice() -> None:
    assert outbound_plan("image/png", 0, name="x.png").action == "notice"


def test_a_video_that_does_not_fit_16_mb_is_converted_again_to_go_as_a_document() -> None:
    plan = outbound_plan("video/quicktime", 30 * MB, name="visit.mov")
    instead = document_instead(
        plan, "video/quicktime", 30 * MB, name="visit.mov", does_not_fit=True
    )
    assert instead is not None
    assert (instead.kind, instead.action, instead.target) == (MediaKind.DOCUMENT, "convert", "mp4")
    assert (instead.filename, instead.max_bytes) == ("visit.mp4", 100 * MB)


@pytest.mark.parametrize(
    ("content_type", "name", "size", "expected"),
    [
        ("image/png", "plan.png", 6 * MB, "plan.png"),  # damaged: the original as it is
        ("video/mp4", "clip.mp4", 20 * MB, "clip.mp4"),  # damaged MP4: the original as it is
        ("image/heic", "photo.heic", 6 * MB, None),  # WhatsApp does not upload HEIC
        ("video/quicktime", "visit.mov", 20 * MB, None),  # nor .mov
        ("image/png", "huge.png", 101 * MB, None),  # over the document limit
    ],
)
def test_a_photo_or_video_that_cannot_be_converted_goes_as_it_is_when_whatsapp_takes_it(
    content_type: str, name: str, size: int, expected: str | None
) -> None:
    plan = outbound_plan(content_type, size, name=name)
    instead = document_instead(plan, content_type, size, name=name, does_not_fit=False)
    if expected is None:
        assert instead is None
    else:
        assert instead is not None
        assert (instead.kind, instead.action) == (MediaKind.DOCUMENT, "send")
        assert (instead.filename, instead.content_type) == (expected, content_type)


def test_audio_that_cannot_be_converted_has_no_document_instead() -> None:
    plan = outbound_plan("audio/mpeg", 2 * MB, name="answer.mp3")
    assert (
        document_instead(plan, "audio/mpeg", 2 * MB, name="answer.mp3", does_not_fit=True) is None
    )

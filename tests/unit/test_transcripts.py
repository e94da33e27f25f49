"""A voice note's transcript: after the recording, "🔊 …" to the agent, quoted to the customer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tests.unit.test_inbound import OGG, media_message
from tests.worlds import Ports, inbound_service

from waconnect.domain.media import StoredMedia
from waconnect.domain.outgoing import OutgoingText
from waconnect.domain.text import CONNECT_TEXT_LIMIT
from waconnect.domain.whatsapp import MessageType
from waconnect.errors import PermanentError
from waconnect.ports import Transcript
from waconnect.services.transcripts import TranscriptSettings, VoiceTranscripts, job_name


@dataclass
class ScriptedTranscriber:
    """An engine whose transcripts are set by the test; it records what each job was given."""

    transcript: Transcript | None = None
    error: Exception | None = None
    started: dict[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)

    def start(self, job: str, recording: Sequence[StoredMedia], *, language: str) -> None:
        if self.error is not None:
            raise self.error
        self.started[job] = (tuple(m.content_type for m in recording), language)

    def result(self, job: str) -> Transcript | None:
        return self.transcript if job in self.started else None


class World(Ports):
    def __init__(self, engine: ScriptedTranscriber, *, echo: bool = True) -> None:
        super().__init__()
        self.engine = engine
        self.service = inbound_service(
            self,
            transcripts=VoiceTranscripts(
                engine,
                whatsapp=self.whatsapp,
                ledger=self.ledger,
                settings=TranscriptSettings(
                    language="en-GB",
                    languages=(("1234567890", "pt-PT"),),
                    echo_to_customer=echo,
                ),
            ),
        )

    def voice(self) -> tuple[str, list[str], list[OutgoingText]]:
        self.whatsapp.add_customer_media("m1", OGG, "audio/ogg")
        message = media_message(MessageType.AUDIO, "m1", mime_type="audio/ogg", voice=True)
        outcome = self.service.handle_message(message)
        assert outcome.kind == "delivered"
        [chat] = self.connect.chats.values()
        kinds = [entry.kind for entry in chat.transcript]
        texts = [m for _, m in self.whatsapp.sent if isinstance(m, OutgoingText)]
        return message.wamid, [*kinds, *chat.messages()], texts


def test_the_transcript_follows_the_recording_and_is_quoted_back_to_the_customer() -> None:
    world = World(ScriptedTranscriber(Transcript(text="I need help with my bill")))
    wamid, chat, texts = world.voice()

    assert chat == ["attachment", "message", "🔊 I need help with my bill"]
    [echo] = texts
    assert (echo.text, echo.reply_to) == ("🔊 I need help with my bill", wamid)
    [(job, (forms, language))] = world.engine.started.items()
    assert job == job_name(wamid)
    assert forms == ("audio/ogg", "audio/wav")  # the original first, then its WAV
    assert language == "en-GB"


def test_a_transcript_of_part_of_a_note_says_which_part() -> None:
    words = Transcript(text="hello", note="the first 2:00 min of 12:00 min")
    _, chat, _ = World(ScriptedTranscriber(words)).voice()
    assert chat[-1] == "🔊 hello\n(transcript of the first 2:00 min of 12:00 min)"


def test_a_long_transcript_is_split_at_the_limit_never_cut_short() -> None:
    long = " ".join(f"word{i}" for i in range(CONNECT_TEXT_LIMIT // 3))
    _, chat, _ = World(ScriptedTranscriber(Transcript(text=long))).voice()
    messages = chat[chat.index("attachment") + 1 :]
    pieces = [m for m in messages if m not in {"attachment", "message"}]
    assert len(pieces) >= 2
    assert " ".join(pieces).split() == ["🔊", *long.split()]


def test_the_echo_to_the_customer_can_be_turned_off() -> None:
    _, chat, texts = World(ScriptedTranscriber(Transcript(text="hello")), echo=False).voice()
    assert chat[-1] == "🔊 hello"
    assert texts == []


def test_an_empty_or_failed_transcript_shows_as_nothing_more_than_the_audio() -> None:
    for engine in (
        ScriptedTranscriber(Transcript(text="  ")),
        ScriptedTranscriber(Transcript(failure="engine fell over")),
        ScriptedTranscriber(error=PermanentError("no such bucket", operation="transcribe")),
        ScriptedTranscriber(None),
    ):
        _, chat, texts = World(engine).voice()
        assert chat == ["attachment"]
        assert texts == []

from __future__ import annotations

import pytest

from waconnect.domain.failures import (
    Direction,
    Failure,
    FailureReason,
    failure_from_error,
    failure_from_whatsapp_error,
)
from waconnect.domain.whatsapp import WhatsAppError
from waconnect.errors import (
    ConfigurationError,
    DeliveryError,
    Kind,
    MalformedPayload,
    PermanentError,
    SessionEnded,
    TransientError,
    UnsafeUrl,
    WaconnectError,
)

CUSTOMER_TEXTS = {
    FailureReason.MEDIA_TOO_LARGE: (
        "Sorry, your file “tour.mov” did not reach our agent because it is too large. "
        "Please send a smaller file, or a link to it."
    ),
    FailureReason.MEDIA_TYPE_REFUSED: (
        "Sorry, your file “tour.mov” did not reach our agent because this type of file can't "
        "be received. Please send it as a PDF or a photo instead."
    ),
    FailureReason.FILE_REFUSED: (
        "Sorry, your file “tour.mov” did not reach our agent because this file can't be "
        "received. Please send it as a PDF or a photo instead."
    ),
    FailureReason.MEDIA_FETCH_FAILED: (
        "Sorry, your file “tour.mov” did not reach our agent because we could not download it. "
        "Please send it again."
    ),
    FailureReason.EMPTY_FILE: (
        "Sorry, your file “tour.mov” did not reach our agent because the file is empty. "
        "Please send it again."
    ),
    FailureReason.CONVERSION_FAILED: (
        "Sorry, your file “tour.mov” did not reach our agent because we could not open it. "
        "Please send it again in another format."
    ),
    FailureReason.TRANSCRIPTION_FAILED: None,
    FailureReason.CONNECT_REFUSED: (
        "Sorry, your file “tour.mov” did not reach our agent. "
        "Please try again, or send it another way."
    ),
    FailureReason.CHAT_UNAVAILABLE: (
        "Sorry, your file “tour.mov” did not reach our agent because no chat with an agent "
        "could be opened. Please try again in a few minutes."
    ),
    FailureReason.WHATSAPP_REFUSED: None,
    FailureReason.OUTSIDE_24H_WINDOW: None,
    FailureReason.ATTACHMENT_REJECTED: (
        "Sorry, your file “tour.mov” did not reach our agent because a security check blocked "
        "it. Please check the file and send another one."
    ),
    FailureReason.UNKNOWN_CONTACT: None,
    FailureReason.MALFORMED: None,
    FailureReason.MISCONFIGURED: (
        "Sorry, your file “tour.mov” did not reach our agent because of a problem on our side. "
        "Please try again later."
    ),
    FailureReason.TRANSIENT_EXHAUSTED: (
        "Sorry, your file “tour.mov” may not have reached our agent. "
        "Please send it again in a few minutes."
    ),
    FailureReason.UNCONFIRMED: None,
    FailureReason.UNDELIVERABLE: None,
}

AGENT_WHY = {
    FailureReason.MEDIA_TOO_LARGE: "it is larger than this chat accepts",
    FailureReason.MEDIA_TYPE_REFUSED: "this chat does not accept this type of file",
    FailureReason.FILE_REFUSED: "the bridge does not pass on this file",
    FailureReason.MEDIA_FETCH_FAILED: "the file could not be downloaded",
    FailureReason.EMPTY_FILE: "the file is empty",
    FailureReason.CONVERSION_FAILED: "it could not be converted to a format this chat accepts",
    FailureReason.TRANSCRIPTION_FAILED: "the speech could not be transcribed",
    FailureReason.CONNECT_REFUSED: "Amazon Connect refused it",
    FailureReason.CHAT_UNAVAILABLE: "the chat was not available",
    FailureReason.WHATSAPP_REFUSED: "WhatsApp refused it",
    FailureReason.OUTSIDE_24H_WINDOW: "more than 24 hours have passed",
    FailureReason.ATTACHMENT_REJECTED: "the attachment scan rejected it",
    FailureReason.UNKNOWN_CONTACT: "no WhatsApp conversation is linked to this chat",
    FailureReason.MALFORMED: "its content could not be read",
    FailureReason.MISCONFIGURED: "the bridge is misconfigured",
    FailureReason.TRANSIENT_EXHAUSTED: "the service did not answer in time",
    FailureReason.UNCONFIRMED: "did not confirm it in time; it was not sent again",
    FailureReason.UNDELIVERABLE: "WhatsApp could not deliver it to this customer",
}


def test_every_reason_has_customer_and_agent_words() -> None:
    assert set(CUSTOMER_TEXTS) == set(FailureReason) == set(AGENT_WHY)


@pytest.mark.parametrize("reason", list(FailureReason))
def test_customer_text_is_short_actionable_or_withheld(reason: FailureReason) -> None:
    failure = Failure.of(reason, subject="tour.mov")
    assert failure.customer_text == CUSTOMER_TEXTS[reason]
    if failure.customer_text is not None:
        assert len(failure.customer_text) <= 200


@pytest.mark.parametrize("reason", list(FailureReason))
def test_agent_text_names_what_did_not_arrive_and_why(reason: FailureReason) -> None:
    text = Failure.of(reason, subject="tour.mov").agent_text
    assert text.startswith("⚠️ ")
    assert "“tour.mov”" in text
    assert AGENT_WHY[reason] in text


@pytest.mark.parametrize("reason", list(FailureReason))
def test_the_customer_is_never_told_about_what_the_agent_sent(reason: FailureReason) -> None:
    failure = Failure.of(reason, direction=Direction.TO_CUSTOMER, subject="price-list.pdf")
    assert failure.customer_text is None
    assert failure.agent_text.startswith("⚠️ Your file “price-list.pdf” ")
    assert "the customer" in failure.agent_text


def test_agent_text_for_the_customers_message_says_it_did_not_arrive() -> None:
    failure = Failure.of(FailureReason.MEDIA_TOO_LARGE, subject="tour.mov", detail="45 MB")
    assert failure.agent_text == (
        "⚠️ The customer's file “tour.mov” did not arrive: it is larger than this chat accepts "
        "(45 MB)."
    )


def test_agent_text_for_the_agents_message_names_whatsapp_and_suggests_a_retry() -> None:
    failure = Failure.of(
        FailureReason.MEDIA_FETCH_FAILED, direction=Direction.TO_CUSTOMER, subject="file"
    )
    assert failure.agent_text == (
        "⚠️ Your file did not reach the customer: the file could not be downloaded. "
        "You can try again."
    )


def test_uncertain_failures_say_may_not_have_arrived() -> None:
    failure = Failure.of(FailureReason.CONNECT_REFUSED, subject="image", certain=False)
    assert failure.agent_text.startswith("⚠️ The customer's photo may not have arrived:")
    assert failure.customer_text is not None
    assert failure.customer_text.startswith("Sorry, your photo may not have reached our agent.")


@pytest.mark.parametrize(
    ("subject", "thing"),
    [("", "message"), ("text", "message"), ("audio", "audio message"), ("voice", "voice note"),
     ("location", "location"), ("contacts", "contact card"), ("file", "file")],
)  # fmt: skip
def test_generic_subjects_read_as_words(subject: str, thing: str) -> None:
    text = Failure.of(FailureReason.CONNECT_REFUSED, subject=subject).customer_text
    assert (
        text
        == f"Sorry, your {thing} did not reach our agent. Please try again, or send it another way."
    )


def test_code_and_detail_reach_the_agent_but_not_the_customer() -> None:
    failure = Failure.of(
        FailureReason.WHATSAPP_REFUSED,
        direction=Direction.TO_AGENT,
        subject="message",
        detail="Media upload error",
        code="131053",
    )
    assert "(Media upload error, code 131053)" in failure.agent_text
    assert failure.customer_text is None


def test_a_code_already_in_the_detail_is_not_repeated() -> None:
    failure = Failure.of(
        FailureReason.CONNECT_REFUSED, detail="SendMessage: ValidationException: too long",
        code="ValidationException",
    )  # fmt: skip
    assert failure.agent_text.count("ValidationException") == 1


def test_a_long_detail_is_shortened_for_the_agent() -> None:
    failure = Failure.of(FailureReason.CONNECT_REFUSED, detail="word " * 200)
    assert len(failure.agent_text) < 300
    assert "…" in failure.agent_text


def test_log_fields_carry_codes_and_kinds_but_no_content() -> None:
    failure = Failure.of(
        FailureReason.MEDIA_TOO_LARGE,
        subject="passport-scan-ana.jpg",
        detail="customer said: here is my passport",
        code="413",
        operation="PUT",
    )
    fields = failure.log_fields()
    assert fields == {
        "reason": "media_too_large",
        "direction": "to_agent",
        "certain": True,
        "retry": False,
        "subject": "file",
        "code": "413",
        "operation": "PUT",
    }
    assert "passport" not in repr(fields)


def test_log_fields_keep_a_generic_subject() -> None:
    assert Failure.of(FailureReason.MALFORMED, subject="image").log_fields()["subject"] == "image"


@pytest.mark.parametrize(
    ("reason", "certain", "retry"),
    [
        (FailureReason.MEDIA_TOO_LARGE, True, False),
        (FailureReason.MEDIA_FETCH_FAILED, True, True),
        (FailureReason.CHAT_UNAVAILABLE, True, True),
        (FailureReason.TRANSIENT_EXHAUSTED, False, True),
        (FailureReason.MALFORMED, True, False),
    ],
)
def test_each_reason_comes_with_its_usual_certainty_and_retry_advice(
    reason: FailureReason, certain: bool, retry: bool
) -> None:
    failure = Failure.of(reason)
    assert (failure.certain, failure.retry) == (certain, retry)


def test_certainty_and_retry_can_be_overridden() -> None:
    failure = Failure.of(FailureReason.MEDIA_TOO_LARGE, certain=False, retry=True)
    assert (failure.certain, failure.retry) == (False, True)


def case(
    error: WaconnectError,
    direction: Direction | None,
    *expected: object,
    id: str,
) -> object:
    """One mapping: the error, the direction given, then reason, direction, certain, retry."""
    return pytest.param(error, direction, expected, id=id)


ERROR_CASES = [
    case(
        MalformedPayload("meta", "entry[0].changes", "missing"),
        None, FailureReason.MALFORMED, Direction.TO_AGENT, True, False, id="malformed",
    ),
    case(
        ConfigurationError("CONNECT_INSTANCE_ID is missing"),
        None, FailureReason.MISCONFIGURED, Direction.TO_AGENT, True, True, id="misconfigured",
    ),
    case(
        TransientError("SendMessage: ThrottlingException", operation="SendMessage",
                       code="ThrottlingException"),
        None, FailureReason.TRANSIENT_EXHAUSTED, Direction.TO_AGENT, False, True, id="transient",
    ),
    case(
        TransientError("SendWhatsAppMessage: ThrottledRequestException",
                       operation="SendWhatsAppMessage", code="ThrottledRequestException"),
        None, FailureReason.TRANSIENT_EXHAUSTED, Direction.TO_CUSTOMER, False, True,
        id="transient-toward-customer",
    ),
    case(
        SessionEnded("SendMessage: AccessDeniedException", operation="SendMessage"),
        None, FailureReason.CHAT_UNAVAILABLE, Direction.TO_AGENT, True, True, id="session-ended",
    ),
    case(
        UnsafeUrl("refused host", operation="GET"),
        None, FailureReason.MEDIA_FETCH_FAILED, Direction.TO_AGENT, True, False, id="unsafe-url",
    ),
    case(
        PermanentError("cannot convert an empty file", operation="convert"),
        None, FailureReason.CONVERSION_FAILED, Direction.TO_AGENT, True, False, id="convert",
    ),
    case(
        PermanentError("convert", operation="convert"),
        Direction.TO_CUSTOMER, FailureReason.CONVERSION_FAILED, Direction.TO_CUSTOMER, True,
        False, id="convert-explicit-direction",
    ),
    case(
        PermanentError("StartAttachmentUpload: ValidationException: type",
                       operation="StartAttachmentUpload", code="ValidationException"),
        None, FailureReason.MEDIA_TYPE_REFUSED, Direction.TO_AGENT, True, False,
        id="connect-refuses-file-type",
    ),
    case(
        PermanentError("SendMessage: ValidationException: bad", operation="SendMessage",
                       code="ValidationException"),
        None, FailureReason.CONNECT_REFUSED, Direction.TO_AGENT, True, False, id="connect-refuses",
    ),
    case(
        PermanentError("GetWhatsAppMessageMedia: ResourceNotFoundException",
                       operation="GetWhatsAppMessageMedia", code="ResourceNotFoundException"),
        None, FailureReason.MEDIA_FETCH_FAILED, Direction.TO_AGENT, True, True,
        id="whatsapp-media-missing",
    ),
    case(
        PermanentError("GetAttachment: ResourceNotFoundException", operation="GetAttachment",
                       code="ResourceNotFoundException"),
        None, FailureReason.MEDIA_FETCH_FAILED, Direction.TO_CUSTOMER, True, True,
        id="connect-attachment-missing",
    ),
    case(
        PermanentError("SendWhatsAppMessage: ValidationException: bad",
                       operation="SendWhatsAppMessage", code="ValidationException"),
        None, FailureReason.WHATSAPP_REFUSED, Direction.TO_CUSTOMER, True, False,
        id="whatsapp-refuses",
    ),
    case(
        PermanentError("(#131047) Re-engagement message", operation="send", code="131047",
                       kind=Kind.OUTSIDE_WINDOW),
        None, FailureReason.OUTSIDE_24H_WINDOW, Direction.TO_CUSTOMER, True, False,
        id="outside-24h",
    ),
    case(
        PermanentError("PutObject: AccessDenied", operation="PutObject", code="AccessDenied"),
        None, FailureReason.MEDIA_FETCH_FAILED, Direction.TO_AGENT, True, True,
        id="media-store-refuses",
    ),
    case(
        PermanentError("odd", operation="something_else"),
        Direction.TO_CUSTOMER, FailureReason.WHATSAPP_REFUSED, Direction.TO_CUSTOMER, True, False,
        id="unknown-operation-toward-customer",
    ),
    case(
        DeliveryError("it went wrong somehow"),
        None, FailureReason.CONNECT_REFUSED, Direction.TO_AGENT, False, False,
        id="plain-delivery-error-is-uncertain",
    ),
    case(
        WaconnectError("base"),
        None, FailureReason.CONNECT_REFUSED, Direction.TO_AGENT, False, False,
        id="base-error-is-uncertain",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("error", "direction", "expected"), ERROR_CASES)
def test_failure_from_error_maps_the_error_tree(
    error: WaconnectError,
    direction: Direction | None,
    expected: tuple[FailureReason, Direction, bool, bool],
) -> None:
    failure = failure_from_error(error, subject="scan.pdf", direction=direction)
    assert (failure.reason, failure.direction, failure.certain, failure.retry) == expected
    assert failure.subject == "scan.pdf"


def test_failure_from_error_keeps_operation_and_code_for_the_operator() -> None:
    error = PermanentError("SendMessage: ConflictException: x", operation="SendMessage",
                           code="ConflictException")  # fmt: skip
    fields = failure_from_error(error, subject="message").log_fields()
    assert (fields["operation"], fields["code"]) == ("SendMessage", "ConflictException")


@pytest.mark.parametrize(
    ("error", "reason", "retry", "detail"),
    [
        (WhatsAppError(code=131047, title="Re-engagement message"),
         FailureReason.OUTSIDE_24H_WINDOW, False, "Re-engagement message"),
        (WhatsAppError(code=470, message="Message failed to send because more than 24 hours"),
         FailureReason.OUTSIDE_24H_WINDOW, False, "more than 24 hours"),
        (WhatsAppError(code=131056, title="Pair rate limit hit"),
         FailureReason.TRANSIENT_EXHAUSTED, True, "Pair rate limit hit"),
        (WhatsAppError(code=131053, title="Media upload error", details="Unsupported file"),
         FailureReason.MEDIA_TYPE_REFUSED, False, "Media upload error: Unsupported file"),
        (WhatsAppError(code=131026, title="Message undeliverable"),
         FailureReason.UNDELIVERABLE, False, "Message undeliverable"),
    ],
    ids=["window", "old-window-code", "pair-rate-limit", "media-upload-error", "undeliverable"],
)  # fmt: skip
def test_a_failed_status_becomes_a_certain_failure_toward_the_customer(
    error: WhatsAppError, reason: FailureReason, retry: bool, detail: str
) -> None:
    failure = failure_from_whatsapp_error(error, subject="price-list.pdf")
    assert failure.reason is reason
    assert failure.direction is Direction.TO_CUSTOMER
    assert failure.certain is True
    assert failure.retry is retry
    assert detail in failure.detail
    assert failure.code == str(error.code)
    assert failure.customer_text is None
    assert failure.agent_text.startswith("⚠️ Your file “price-list.pdf” did not reach the customer")

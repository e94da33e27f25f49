"""Stack configuration from CDK context: strings from -c and JSON values from cdk.json alike."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.conftest import CONTEXT
from waconnect_infra.config import (
    TRANSCRIBED_HANDLER,
    ConfigError,
    config_from_context,
    encode_phone_numbers,
)


def read(context: dict[str, Any]) -> Any:
    return config_from_context(context.get)


def test_strings_and_json_values_give_the_same_configuration() -> None:
    as_strings = read({**CONTEXT, "media_expiry_days": "7", "wire_event_destination": "true"})
    as_json = read({**CONTEXT, "media_expiry_days": 7, "wire_event_destination": True})
    assert as_strings == as_json
    assert as_json.media_expiry_days == 7


def test_phone_numbers_from_a_json_object_or_a_string() -> None:
    mapping = {"107000000000001": "phone-number-id-abc", "107000000000002": "phone-number-id-def"}
    config = read({**CONTEXT, "phone_numbers": mapping})
    assert config.eum_phone_number_suffixes == ("abc", "def")
    again = read({**CONTEXT, "phone_numbers": encode_phone_numbers(mapping)})
    assert again.phone_numbers == mapping


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        (
            "107=arn:aws:social-messaging:eu-west-2:123456789012:phone-number-id/abc",
            "expected 'phone-number-id-<hex>', not an ARN",
        ),
        ("107=phone-number-id-abc,107=phone-number-id-def", "107 is mapped twice"),
        ("107", "expected 'metaid=phone-number-id-<hex>'"),
        (" , ", "at least one"),
    ],
    ids=["arn", "mapped-twice", "no-equals", "none"],
)
def test_phone_numbers_are_read_as_the_bridge_reads_them_ids_only(
    value: str, complaint: str
) -> None:
    with pytest.raises(ConfigError, match="phone_numbers") as caught:
        read({**CONTEXT, "phone_numbers": value})
    assert complaint in str(caught.value)


def test_every_missing_or_bad_value_is_named_in_one_error() -> None:
    with pytest.raises(ConfigError) as caught:
        read(
            {
                "contact_flow_id": "not-a-uuid",
                "phone_numbers": "107=phone-number-id-xyz!",
                "media_expiry_days": "0",
                "inbound_max_concurrency": "1",
                "transcription": "whisper",
            }
        )
    message = str(caught.value)
    for key in (
        "connect_instance_id: required",
        "contact_flow_id",
        "phone_numbers",
        "media_expiry_days",
        "inbound_max_concurrency",
        "transcription",
    ):
        assert key in message


def test_wiring_the_event_destination_needs_the_account_id() -> None:
    context = {k: v for k, v in CONTEXT.items() if k != "waba_id"}
    with pytest.raises(ConfigError, match="waba_id: required when wire_event_destination"):
        read(context)


def test_a_retry_schedule_sqs_cannot_hold_is_refused() -> None:
    with pytest.raises(ConfigError, match="retry schedule"):
        read({**CONTEXT, "retry_max_delay_seconds": "30", "max_age_hours": "48"})


def test_bridge_settings_pass_through_as_text() -> None:
    config = read({**CONTEXT, "connect_allowed_extensions": [".pdf", ".ogg"], "mark_read": False})
    assert config.bridge_settings == {
        "connect_allowed_extensions": ".pdf,.ogg",
        "mark_read": "false",
    }


def test_transcribe_is_an_engine_of_the_packaged_bridge_with_its_handler() -> None:
    from waconnect.entrypoints import lambda_handlers
    from waconnect.settings_checks import TRANSCRIPTION_ENGINES

    assert read(CONTEXT).transcription == "transcribe"
    assert read({**CONTEXT, "transcription": "none"}).transcription == "none"
    # The stack deploys the function by this name and passes the setting through.
    assert "transcribe" in TRANSCRIPTION_ENGINES
    assert callable(getattr(lambda_handlers, TRANSCRIBED_HANDLER))

"""Settings: built from the environment and a TOML file, validated all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from waconnect.errors import ConfigurationError
from waconnect.sandbox import defaults
from waconnect.settings import DEFAULT_CONNECT_EXTENSIONS, Settings

BASE = {
    "WACONNECT_REGION": "eu-west-2",
    "WACONNECT_CONNECT_INSTANCE_ID": "instance-0001",
    "WACONNECT_CONTACT_FLOW_ID": "flow-0001",
    "WACONNECT_STREAMING_TOPIC_ARN": "arn:aws:sns:eu-west-2:123456789012:streaming",
    "WACONNECT_MEDIA_BUCKET": "media-bucket",
}


def test_minimal_environment_gives_documented_defaults() -> None:
    settings = Settings.from_env(BASE)

    assert settings.region == "eu-west-2"
    assert settings.media_bucket == "media-bucket"
    assert settings.mark_read is True
    assert settings.file_reaction == "📎"
    assert settings.failure_reaction == "❌"
    assert settings.chat_duration_minutes == 1500
    assert settings.meta_api_version == "v20.0"
    assert settings.connect_allowed_extensions == DEFAULT_CONNECT_EXTENSIONS
    assert ".ogg" not in settings.connect_allowed_extensions
    assert settings.connect_max_attachment_bytes == 20 * 1024 * 1024
    assert settings.transcription == "none"
    assert settings.sqlite_path == settings.state
    assert not settings.uses_dynamodb


def test_every_missing_required_value_is_named_in_one_error() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({})

    message = str(caught.value)
    for name in (
        "WACONNECT_REGION",
        "WACONNECT_CONNECT_INSTANCE_ID",
        "WACONNECT_CONTACT_FLOW_ID",
        "WACONNECT_STREAMING_TOPIC_ARN",
        "WACONNECT_MEDIA_BUCKET",
    ):
        assert name in message


def test_bad_values_are_all_reported_together() -> None:
    environ = {
        **BASE,
        "WACONNECT_MARK_READ": "perhaps",
        "WACONNECT_CHAT_DURATION_MINUTES": "5",
        "WACONNECT_CONNECT_MAX_ATTACHMENT_BYTES": "lots",
        "WACONNECT_STATE": "dynamodb:onlyone",
        "WACONNECT_TRANSCRIPTION": "magic",
        "WACONNECT_ENDPOINT_URL": "ftp://127.0.0.1",
    }
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(environ)

    message = str(caught.value)
    for name in (
        "MARK_READ",
        "CHAT_DURATION_MINUTES",
        "CONNECT_MAX_ATTACHMENT_BYTES",
        "STATE",
        "TRANSCRIPTION",
        "ENDPOINT_URL",
    ):
        assert f"WACONNECT_{name}:" in message


def test_fifo_topic_is_refused_because_connect_streams_only_to_standard_topics() -> None:
    environ = {**BASE, "WACONNECT_STREAMING_TOPIC_ARN": "arn:aws:sns:eu-west-2:1:t.fifo"}
    with pytest.raises(ConfigurationError, match="STREAMING_TOPIC_ARN"):
        Settings.from_env(environ)


def test_values_are_converted_from_strings() -> None:
    settings = Settings.from_env(
        {
            **BASE,
            "WACONNECT_MARK_READ": "false",
            "WACONNECT_ALLOW_HTTP_LOOPBACK": "yes",
            "WACONNECT_FILE_REACTION": "",
            "WACONNECT_CHAT_DURATION_MINUTES": "120",
            "WACONNECT_CONNECT_ALLOWED_EXTENSIONS": "pdf, .OGG png",
            "WACONNECT_STATE": "dynamodb:sessions-table,ledger-table,messages-table",
            "WACONNECT_REMEMBER_SNIPPETS": "off",
        }
    )

    assert settings.mark_read is False
    assert settings.allow_http_loopback is True
    assert settings.file_reaction == ""
    assert settings.chat_duration_minutes == 120
    assert settings.connect_allowed_extensions == (".pdf", ".ogg", ".png")
    assert settings.uses_dynamodb
    assert settings.dynamodb_tables == ("sessions-table", "ledger-table")
    assert settings.message_log_table == "messages-table"
    assert settings.remember_snippets is False
    assert settings.sqlite_path == ""


def test_dynamodb_state_without_a_message_log_table_is_refused() -> None:
    environ = {**BASE, "WACONNECT_STATE": "dynamodb:sessions-table,ledger-table"}
    with pytest.raises(ConfigurationError, match="message log table"):
        Settings.from_env(environ)


def test_snippets_are_remembered_unless_turned_off() -> None:
    assert Settings.from_env(BASE).remember_snippets is True


def test_region_falls_back_to_the_lambda_runtime_variable() -> None:
    environ = {k: v for k, v in BASE.items() if k != "WACONNECT_REGION"}
    environ["AWS_REGION"] = "ap-southeast-2"

    assert Settings.from_env(environ).region == "ap-southeast-2"


def test_toml_file_provides_values_and_environment_overrides_it(tmp_path: Path) -> None:
    config = tmp_path / "waconnect.toml"
    config.write_text(
        'media_bucket = "from-file"\nmedia_prefix = "bridge/"\nmark_read = false\n'
        'connect_allowed_extensions = ["pdf", "ogg"]\nchat_duration_minutes = 90\n',
        encoding="utf-8",
    )
    environ = {**BASE, "WACONNECT_CONFIG": str(config), "WACONNECT_MEDIA_BUCKET": "from-env"}

    settings = Settings.from_env(environ)

    assert settings.media_bucket == "from-env"
    assert settings.media_prefix == "bridge/"
    assert settings.mark_read is False
    assert settings.connect_allowed_extensions == (".pdf", ".ogg")
    assert settings.chat_duration_minutes == 90


def test_toml_file_with_unknown_key_or_missing_file_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('media_bukket = "typo"\n', encoding="utf-8")
    with pytest.raises(ConfigurationError, match="media_bukket"):
        Settings.from_env({**BASE, "WACONNECT_CONFIG": str(config)})
    with pytest.raises(ConfigurationError, match="cannot read"):
        Settings.from_env({**BASE, "WACONNECT_CONFIG": str(tmp_path / "absent.toml")})


def test_sandbox_settings_use_the_sandbox_identities_and_check_urls_as_production() -> None:
    settings = Settings.for_sandbox(
        endpoint_url="http://127.0.0.1:4000",
        s3_endpoint_url="http://127.0.0.1:4001",
        state_path="/tmp/state.sqlite3",
    )

    assert settings.connect_instance_id == defaults.INSTANCE_ID
    assert settings.contact_flow_id == defaults.CONTACT_FLOW_ID
    assert settings.streaming_topic_arn == defaults.STREAMING_TOPIC_ARN
    assert settings.media_bucket == defaults.MEDIA_BUCKET
    assert settings.region == defaults.REGION
    # The emulators hand out HTTPS URLs of AWS's shapes: no exception to the URL check.
    assert settings.allow_http_loopback is False
    assert settings.endpoint_url == "http://127.0.0.1:4000"
    assert settings.sqlite_path == "/tmp/state.sqlite3"
    assert settings.eum_phone_numbers == {
        defaults.META_PHONE_NUMBER_ID: defaults.AWS_PHONE_NUMBER_ID
    }


def test_eum_phone_numbers_map_meta_ids_from_the_environment() -> None:
    arn = "arn:aws:social-messaging:eu-west-2:123456789012:phone-number-id/abcdef0123"
    settings = Settings.from_env(
        {
            **BASE,
            "WACONNECT_EUM_PHONE_NUMBERS": (
                " 100000000000001=phone-number-id-0123456789abcdef, 100000000000002=" + arn
            ),
        }
    )

    assert settings.eum_phone_numbers == {
        "100000000000001": "phone-number-id-0123456789abcdef",
        "100000000000002": arn,
    }


def test_eum_phone_numbers_are_empty_unless_configured() -> None:
    assert dict(Settings.from_env(BASE).eum_phone_numbers) == {}


def test_eum_phone_numbers_from_a_toml_table(tmp_path: Path) -> None:
    config = tmp_path / "waconnect.toml"
    config.write_text(
        '[eum_phone_numbers]\n"100000000000003" = "phone-number-id-00ff"\n', encoding="utf-8"
    )

    settings = Settings.from_env({**BASE, "WACONNECT_CONFIG": str(config)})

    assert settings.eum_phone_numbers == {"100000000000003": "phone-number-id-00ff"}


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("100000000000001", "metaid=phone-number-id"),
        ("100000000000001=pn-123", "100000000000001"),
        ("+1 555 0100=phone-number-id-00ff", "not a Meta phone-number id"),
        ("100000000000001=phone-number-id-00ff,100000000000001=phone-number-id-11ff", "twice"),
    ],
    ids=["no-equals", "bad-eum-id", "bad-meta-id", "mapped-twice"],
)
def test_a_bad_eum_phone_number_map_is_refused_when_settings_are_built(
    value: str, complaint: str
) -> None:
    with pytest.raises(ConfigurationError, match="WACONNECT_EUM_PHONE_NUMBERS") as caught:
        Settings.from_env({**BASE, "WACONNECT_EUM_PHONE_NUMBERS": value})
    assert complaint in str(caught.value)


def test_lambda_queues_and_retry_timing_are_read_and_checked() -> None:
    settings = Settings.from_env(
        {
            **BASE,
            "WACONNECT_INBOUND_QUEUE_URL": "https://sqs.eu-west-2.amazonaws.com/1/in.fifo",
            "WACONNECT_OUTBOUND_QUEUE_URL": "https://sqs.eu-west-2.amazonaws.com/1/out.fifo",
            "WACONNECT_RETRY_MAX_AGE_SECONDS": "3600",
        }
    )
    assert settings.inbound_queue_url.endswith("/in.fifo")
    assert settings.outbound_queue_url.endswith("/out.fifo")
    assert (settings.retry_base_delay_seconds, settings.retry_max_delay_seconds) == (10, 900)
    assert settings.retry_max_age_seconds == 3600

    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(
            {
                **BASE,
                "WACONNECT_INBOUND_QUEUE_URL": "https://sqs.eu-west-2.amazonaws.com/1/in",
                "WACONNECT_RETRY_MAX_DELAY_SECONDS": "86400",
                "WACONNECT_RETRY_MAX_AGE_SECONDS": "0",
            }
        )
    message = str(caught.value)
    assert "WACONNECT_INBOUND_QUEUE_URL: expected a FIFO queue's URL" in message
    assert "WACONNECT_RETRY_MAX_DELAY_SECONDS" in message
    assert "WACONNECT_RETRY_MAX_AGE_SECONDS" in message


def test_the_dead_letter_tools_queue_urls_are_read_and_checked_like_the_functions() -> None:
    queues = Settings.queues_from_env(
        {
            "AWS_REGION": "eu-west-2",
            "WACONNECT_INBOUND_QUEUE_URL": "https://sqs.eu-west-2.amazonaws.com/1/in.fifo",
            "WACONNECT_TRANSCRIBED_QUEUE_URL": " https://sqs.eu-west-2.amazonaws.com/1/tr ",
        }
    )
    assert (queues.inbound_queue_url, queues.transcribed_queue_url) == (
        "https://sqs.eu-west-2.amazonaws.com/1/in.fifo",
        "https://sqs.eu-west-2.amazonaws.com/1/tr",
    )

    with pytest.raises(ConfigurationError) as caught:
        Settings.queues_from_env(
            {
                "WACONNECT_INBOUND_QUEUE_URL": "https://sqs.eu-west-2.amazonaws.com/1/in",
                "WACONNECT_OUTBOUND_QUEUE_URL": "waconnect-outbound.fifo",
                "WACONNECT_TRANSCRIBED_QUEUE_URL": "https://sqs.eu-west-2.amazonaws.com/1/tr.fifo",
                "WACONNECT_SQS_ENDPOINT_URL": "localhost:4566",
            }
        )
    message = str(caught.value)
    for name in ("INBOUND", "OUTBOUND"):
        assert f"WACONNECT_{name}_QUEUE_URL: expected a FIFO queue's URL" in message
    assert "WACONNECT_TRANSCRIBED_QUEUE_URL: expected a standard (not FIFO) queue's URL" in message
    assert "WACONNECT_SQS_ENDPOINT_URL: expected an http(s) URL" in message


@pytest.mark.parametrize(
    "url",
    [
        "sqs.eu-west-2.amazonaws.com/1/tr",
        "https:///1/tr",
        "https://sqs.eu-west-2.amazonaws.com/tr",
        "https://sqs.eu-west-2.amazonaws.com/1/tr?x=1",
    ],
    ids=["no-scheme", "no-host", "no-account", "query"],
)
def test_a_transcribed_queue_url_that_names_no_queue_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="WACONNECT_TRANSCRIBED_QUEUE_URL: expected"):
        Settings.queues_from_env({"WACONNECT_TRANSCRIBED_QUEUE_URL": url})


def test_the_split_length_setting_keeps_under_connects_16384_bytes() -> None:
    assert Settings.from_env({**BASE, "WACONNECT_CONNECT_TEXT_MAX_CHARS": "4096"})
    with pytest.raises(ConfigurationError, match="CONNECT_TEXT_MAX_CHARS: must be 1-4096"):
        Settings.from_env({**BASE, "WACONNECT_CONNECT_TEXT_MAX_CHARS": "4097"})
    assert Settings.from_env(BASE).connect_text_max_chars == 1024


def test_transcript_checks_are_delayed_as_sqs_allows_and_posted_to_a_standard_queue() -> None:
    url = "https://sqs.eu-west-2.amazonaws.com/1/waconnect-transcription"
    settings = Settings.from_env(
        {
            **BASE,
            "WACONNECT_TRANSCRIBED_QUEUE_URL": url,
            "WACONNECT_TRANSCRIPT_CHECK_SECONDS": "900",
        }
    )
    assert (settings.transcribed_queue_url, settings.transcript_check_seconds) == (url, 900)
    assert Settings.from_env(BASE).transcript_check_seconds == 300
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(
            {
                **BASE,
                "WACONNECT_TRANSCRIBED_QUEUE_URL": url + ".fifo",
                "WACONNECT_TRANSCRIPT_CHECK_SECONDS": "901",
            }
        )
    message = str(caught.value)
    assert "WACONNECT_TRANSCRIPT_CHECK_SECONDS: must be 1-900, got 901" in message
    assert "WACONNECT_TRANSCRIBED_QUEUE_URL: expected a standard (not FIFO) queue's URL" in message


def test_amazon_transcribe_is_an_engine_with_languages_per_number_or_identified() -> None:
    settings = Settings.from_env(
        {
            **BASE,
            "WACONNECT_TRANSCRIPTION": "transcribe",
            "WACONNECT_LANGUAGE": "en-GB",
            "WACONNECT_TRANSCRIBE_LANGUAGES": "100000000000001=pt-BR, 100000000000002=es-US",
            "WACONNECT_TRANSCRIBE_LANGUAGE_OPTIONS": "en-US,es-US pt-BR",
        }
    )
    assert settings.transcription == "transcribe"
    assert dict(settings.transcribe_languages) == {
        "100000000000001": "pt-BR",
        "100000000000002": "es-US",
    }
    assert settings.transcribe_language_options == ("en-US", "es-US", "pt-BR")


def test_bad_transcription_languages_are_each_named() -> None:
    environ = {
        **BASE,
        "WACONNECT_LANGUAGE": "english",
        "WACONNECT_TRANSCRIBE_LANGUAGES": "100000000000001=portuguese",
        "WACONNECT_TRANSCRIBE_LANGUAGE_OPTIONS": "en-US",
    }
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(environ)
    message = str(caught.value)
    assert "WACONNECT_LANGUAGE: expected a language code like 'en-US', got 'english'" in message
    assert "WACONNECT_TRANSCRIBE_LANGUAGES: 100000000000001: expected a language code" in message
    assert "WACONNECT_TRANSCRIBE_LANGUAGE_OPTIONS: name two or more languages" in message

"""Log lines: stderr, text or JSON, with the correlation ids and never a secret or a number."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.documents import eum_texts
from tests.worlds import Ports, inbound_service, outbound_service

from waconnect.entrypoints.bridge import Bridge, RetryPolicy
from waconnect.entrypoints.cli import main
from waconnect.errors import ConfigurationError
from waconnect.log_setup import configure_logging, log_ids
from waconnect.services.redact import mask_wamid, redact_text
from waconnect.settings import LogSettings

WAMID = "wamid.HBgLMTU1NTAxMDAwMDEVAgASGBQzQUZBQzQ2RTEwMDAwMDAwMDAwMAA="
SIGNED = (
    "https://bucket.s3.us-east-1.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAEXAMPLE%2F20261124&X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE"
    "&X-Amz-Signature=0123456789abcdef0123456789abcdef"
)


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Log lines as ``configure_logging`` writes them; the root logger restored after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "botocore")}
    out = io.StringIO()
    yield out
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


def bridge_on_fakes() -> Bridge:
    ports = Ports()
    return Bridge(inbound_service(ports), outbound_service(ports), retry=RetryPolicy(attempts=1))


def test_json_lines_carry_the_hashed_wamid_contact_id_and_business_number(
    stream: io.StringIO,
) -> None:
    configure_logging("INFO", "json", stream)
    bridge = bridge_on_fakes()

    [outcome] = bridge.handle_document(
        eum_texts((WAMID, "my number is 15550100001"), wa_id="15550100001", name="Ana")
    )

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    delivered = [line for line in lines if "delivered" in line["message"]]
    assert delivered, lines
    assert delivered[0]["wamid"] == mask_wamid(WAMID)
    assert delivered[0]["contact_id"] == outcome.contact_id
    assert delivered[0]["business_number"] == "100000000000001"
    assert {"time", "level", "logger", "message"} <= set(delivered[0])
    text = stream.getvalue()
    assert WAMID not in text
    assert "15550100001" not in text
    assert "my number is" not in text


def test_text_lines_end_with_the_ids_in_brackets(stream: io.StringIO) -> None:
    configure_logging("INFO", "text", stream)

    with log_ids(wamid="wamid#0123456789", contact_id="c-1", business_number="100"):
        logging.getLogger("waconnect.test").info("delivered")

    [line] = stream.getvalue().splitlines()
    assert line.endswith(
        "INFO waconnect.test: delivered [wamid=wamid#0123456789 contact_id=c-1 business_number=100]"
    )


def test_ids_bound_in_a_block_are_gone_after_it(stream: io.StringIO) -> None:
    configure_logging("INFO", "json", stream)
    with log_ids(contact_id="c-1"):
        pass
    logging.getLogger("waconnect.test").info("later")
    assert "contact_id" not in json.loads(stream.getvalue())


def test_every_line_hashes_wamids_and_cuts_signed_url_secrets(stream: io.StringIO) -> None:
    configure_logging("DEBUG", "text", stream)

    logging.getLogger("waconnect.test").warning("fetching %s for %s", SIGNED, WAMID)

    line = stream.getvalue()
    for secret in ("AKIAEXAMPLE", "FwoGZXIvYXdzEXAMPLE", "0123456789abcdef0123", WAMID):
        assert secret not in line
    assert mask_wamid(WAMID) in line
    assert "X-Amz-Signature=…" in line


def test_a_traceback_in_json_is_redacted_too(stream: io.StringIO) -> None:
    configure_logging("INFO", "json", stream)
    try:
        raise RuntimeError(f"boom at {SIGNED}")
    except RuntimeError:
        logging.getLogger("waconnect.test").exception("unexpected")
    entry = json.loads(stream.getvalue())
    assert "RuntimeError" in entry["exception"]
    assert "0123456789abcdef0123" not in entry["exception"]


def test_http_and_aws_sdk_loggers_stay_quiet_at_info_and_debug(stream: io.StringIO) -> None:
    configure_logging("DEBUG", "text", stream)

    logging.getLogger("httpx").info('HTTP Request: GET %s "HTTP/1.1 200 OK"', SIGNED)
    logging.getLogger("botocore.endpoint").debug("Sending http request: %s", SIGNED)

    assert stream.getvalue() == ""


def test_configuring_twice_never_doubles_lines(stream: io.StringIO) -> None:
    configure_logging("INFO", "text", stream)
    configure_logging("INFO", "text", stream)
    logging.getLogger("waconnect.test").info("once")
    assert stream.getvalue().count("once") == 1


def test_redact_text_leaves_ordinary_words_alone() -> None:
    assert redact_text("message delivered to contact c-1 (image)") == (
        "message delivered to contact c-1 (image)"
    )


def test_log_settings_default_to_warning_text() -> None:
    assert LogSettings.from_env({}) == LogSettings(level="WARNING", format="text")
    assert LogSettings.from_env(
        {"WACONNECT_LOG_LEVEL": "debug", "WACONNECT_LOG_FORMAT": "JSON"}
    ) == LogSettings(level="DEBUG", format="json")


def test_bad_log_settings_are_named_all_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        LogSettings.from_env({"WACONNECT_LOG_LEVEL": "loud", "WACONNECT_LOG_FORMAT": "xml"})
    assert "WACONNECT_LOG_LEVEL" in str(caught.value)
    assert "WACONNECT_LOG_FORMAT" in str(caught.value)


def test_the_command_refuses_a_bad_log_level_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WACONNECT_LOG_LEVEL", "loud")

    code = main(["explain", "nothing.json"])

    assert code == 2
    assert "WACONNECT_LOG_LEVEL: must be one of" in capsys.readouterr().err


def test_the_command_logs_at_the_level_it_is_given(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stream: io.StringIO,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("WACONNECT_LOG_LEVEL", "INFO")
    monkeypatch.setenv("WACONNECT_LOG_FORMAT", "json")
    payload = tmp_path / "account.json"
    payload.write_text(
        json.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [{"id": "1", "changes": [{"field": "account_update", "value": {}}]}],
            }
        ),
        encoding="utf-8",
    )

    main(["explain", str(payload)])

    err = capsys.readouterr().err
    [entry] = [json.loads(line) for line in err.splitlines()]
    assert entry["level"] == "INFO"
    assert "ignoring webhook change of field 'account_update'" in entry["message"]


def test_handled_failures_log_one_line_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.documents import meta_body

    from waconnect.errors import PermanentError, TransientError

    ports = Ports()
    bridge = Bridge(
        inbound_service(ports),
        outbound_service(ports),
        retry=RetryPolicy(attempts=2),
        sleep=lambda _: None,
    )
    photo = {
        "from": "15550100001",
        "id": "wamid.F1",
        "timestamp": "1764000001",
        "type": "image",
        "image": {"id": "media-9", "mime_type": "image/jpeg", "caption": "see"},
    }
    ports.whatsapp.fail_next(
        PermanentError("no media media-9", operation="GetWhatsAppMessageMedia", code="x"),
        operation="fetch_media",
    )

    with caplog.at_level(logging.DEBUG):
        kinds = [o.kind for o in bridge.handle_document(meta_body(photo))]
        ports.connect.fail_next(TransientError("throttled", operation="SendMessage"), times=20)
        kinds += [
            o.kind
            for o in bridge.handle_document(
                eum_texts(("wamid.F2", "hi"), wa_id="15550100002", name="B")
            )
        ]
        kinds += [o.kind for o in bridge.handle_document({"whatsAppWebhookEntry": 42})]

    assert kinds == ["failed", "failed", "rejected"]
    handled = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert handled
    assert [r.getMessage() for r in handled if r.exc_info or "\n" in r.getMessage()] == []

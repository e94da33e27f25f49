"""Log masking: phone numbers keep their last four, wamids become a short stable hash."""

from __future__ import annotations

import hashlib

from waconnect.services.redact import mask, mask_wamid

# Two real-shaped wamids of one customer: base64 of the number plus an id, both ending "MAA=".
WAMID_A = "wamid.HBgLMTU1NTAxMDEyMzQVAgASGBQzQUZBQzQ2RTEwMDAwMDAwMDAwMAA="
WAMID_B = "wamid.HBgLMTU1NTAxMDEyMzQVAgASGBQzQUZBQzQ2RTIwMDAwMDAwMDAwMAA="


def test_phone_numbers_and_ids_show_only_their_last_four() -> None:
    assert mask("15550101234") == "…1234"
    assert mask("US.13491208655302741918") == "…1918"
    assert mask("123") == "…"
    assert mask("") == ""


def test_a_wamid_shows_the_first_ten_hex_digits_of_its_sha256() -> None:
    expected = hashlib.sha256(WAMID_A.encode()).hexdigest()[:10]
    assert mask(WAMID_A) == f"wamid#{expected}"
    assert mask_wamid(WAMID_A) == mask(WAMID_A)


def test_wamids_with_the_same_tail_are_told_apart() -> None:
    assert WAMID_A[-4:] == WAMID_B[-4:]
    assert mask(WAMID_A) != mask(WAMID_B)


def test_a_masked_wamid_reveals_neither_the_wamid_nor_the_number_inside_it() -> None:
    masked = mask(WAMID_A)
    assert "1555" not in masked
    assert WAMID_A[-4:] not in masked
    assert WAMID_A[6:16] not in masked


def test_the_same_wamid_masks_the_same_way_every_time() -> None:
    assert mask(WAMID_A) == mask(str(WAMID_A))
    assert mask_wamid("") == ""

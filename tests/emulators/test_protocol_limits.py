from __future__ import annotations

import logging

import pytest
from botocore.model import Shape, ShapeResolver

from waconnect.sandbox.protocol import check_limits

_SHAPES = {
    "Input": {
        "type": "structure",
        "members": {
            "Tags": {"shape": "Tags"},
            "Payload": {"shape": "Payload"},
            "Code": {"shape": "Code"},
            "Label": {"shape": "Label"},
        },
    },
    "Tags": {"type": "map", "key": {"shape": "Code"}, "value": {"shape": "Code"}, "min": 1},
    "Payload": {"type": "blob", "min": 2},
    "Code": {"type": "string", "pattern": "[A-Z]{2}"},
    # A Java-only construct that Python's re cannot compile.
    "Label": {"type": "string", "pattern": "^\\p{L}+$"},
}


def _input() -> Shape:
    return ShapeResolver(_SHAPES).get_shape_by_name("Input")


def _problems(value: dict[str, object]) -> list[str]:
    problems: list[str] = []
    check_limits(_input(), value, "Input", problems)
    return problems


@pytest.mark.parametrize(
    ("value", "where"),
    [
        pytest.param({"Tags": {}}, "Input.Tags: 0 entries is less than the minimum 1",
                     id="map-below-min"),
        pytest.param({"Payload": b"x"}, "Input.Payload: 1 bytes is less than the minimum 2",
                     id="blob-below-min"),
        pytest.param({"Code": "usa"}, "Input.Code: 'usa' does not match the pattern [A-Z]{2}",
                     id="pattern"),
        pytest.param({"Code": "USA"}, "Input.Code: 'USA' does not match the pattern [A-Z]{2}",
                     id="pattern-must-match-the-whole-value"),
        pytest.param({"Tags": {"ab": "CD"}}, "Input.Tags.key: 'ab' does not match",
                     id="map-key-pattern"),
    ],
)  # fmt: skip
def test_limits_botocore_skips_are_reported(value: dict[str, object], where: str) -> None:
    (problem,) = _problems(value)
    assert problem.startswith(where)


def test_values_within_every_limit_pass() -> None:
    assert _problems({"Tags": {"AB": "CD"}, "Payload": b"xy", "Code": "US", "Label": "x"}) == []


def test_a_pattern_python_cannot_compile_is_skipped_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A pattern no other test uses, so its one warning falls inside this test.
    resolver = ShapeResolver({"Upper": {"type": "string", "pattern": "^\\p{Lu}+$"}})
    upper = resolver.get_shape_by_name("Upper")
    problems: list[str] = []
    with caplog.at_level(logging.WARNING, logger="waconnect.sandbox.protocol"):
        for value in ("lower case 123", "again"):
            check_limits(upper, value, "Upper", problems)
    assert problems == []
    assert len([r for r in caplog.records if "not checked" in r.getMessage()]) == 1

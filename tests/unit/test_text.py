from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from waconnect.domain.text import (
    CONNECT_TEXT_LIMIT,
    WHATSAPP_CAPTION_LIMIT,
    WHATSAPP_TEXT_LIMIT,
    grapheme_starts,
    graphemes,
    shorten,
    split_text,
)

FAMILY = "👨\u200d👩\u200d👧\u200d👦"
# Clusters that must each stay whole, and that never join the cluster next to them.
CLUSTERS = [
    FAMILY,
    "👩🏽\u200d💻",  # woman technologist, medium skin tone
    "👍🏿",  # thumbs up, dark skin tone
    "🇩🇪",  # a flag: two regional indicators
    "🇯🇵",
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland: tag sequence
    "❤\ufe0f",  # heart with emoji presentation selector
    "e\u0301",  # e + combining acute
    "a\u0308\u0323",  # two combining marks
    "क्ष",  # Devanagari conjunct
    "\u1100\u1161\u11a8",  # Hangul syllable from jamo
    "한",
    "\r\n",
    "x",
    "y",
    "z",
    "é",
    "日",
]
SPACES = [" ", " ", " ", "\n", "\n", "\t", "\u00a0", "\r\n"]


@st.composite
def cluster_texts(draw: st.DrawFn) -> tuple[str, list[int]]:
    """A text made of known clusters and the offsets where each of them starts."""
    pieces = draw(st.lists(st.sampled_from(CLUSTERS + SPACES), max_size=80))
    starts, offset = [], 0
    for piece in pieces:
        starts.append(offset)
        offset += len(piece)
    return "".join(pieces), [*starts, offset] if pieces else []


def assert_split_invariants(text: str, parts: list[str], limit: int) -> None:
    position = 0
    for part in parts:
        assert part
        assert not part.isspace()
        assert len(part) <= limit
        found = text.find(part, position)
        assert found >= 0
        assert text[position:found].isspace() or position == found
        position = found + len(part)
    assert not text[position:] or text[position:].isspace()


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("connect", CONNECT_TEXT_LIMIT, 1024),
        ("whatsapp_text", WHATSAPP_TEXT_LIMIT, 4096),
        ("whatsapp_caption", WHATSAPP_CAPTION_LIMIT, 1024),
    ],
)
def test_limits_match_the_documented_api_limits(name: str, value: int, expected: int) -> None:
    assert value == expected, name


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_each_known_cluster_is_one_grapheme(cluster: str) -> None:
    assert list(graphemes(cluster)) == [cluster]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("🇩🇪🇫🇷🇮", ["🇩🇪", "🇫🇷", "🇮"]),
        ("ab", ["a", "b"]),
        ("\r\n\n", ["\r\n", "\n"]),
        ("a\u200db", ["a\u200d", "b"]),
        ("\u0600\u0661", ["\u0600\u0661"]),
        ("ก\u0e33", ["ก\u0e33"]),
        ("", []),
    ],
    ids=[
        "flags-pair-up",
        "letters-apart",
        "crlf-then-lf",
        "zwj-joins-only-pictographs",
        "prepend",
        "spacing-mark",
        "empty",
    ],
)
def test_graphemes_follow_the_cluster_rules(text: str, expected: list[str]) -> None:
    assert list(graphemes(text)) == expected


@settings(max_examples=200)
@given(cluster_texts())
def test_grapheme_starts_find_exactly_the_composed_clusters(
    composed: tuple[str, list[int]],
) -> None:
    text, starts = composed
    assert grapheme_starts(text) == starts


def test_text_that_fits_is_returned_unchanged_as_one_part() -> None:
    assert split_text("  indented\nline  ", 20) == ["  indented\nline  "]


@pytest.mark.parametrize("text", ["", " ", "\n\n\t"])
def test_empty_or_blank_text_gives_no_parts(text: str) -> None:
    assert split_text(text, 10) == []


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        split_text("text", 0)


def test_paragraph_break_is_preferred_to_line_sentence_and_space() -> None:
    text = "First para has words.\n\nSecond one. Line\nnext words here"
    assert split_text(text, 40) == ["First para has words.", "Second one. Line\nnext words here"]


def test_line_break_is_preferred_to_sentence_end() -> None:
    text = "One line of text\nSecond line. More words follow"
    assert split_text(text, 30) == ["One line of text", "Second line. More words follow"]


def test_sentence_end_is_preferred_to_a_plain_space() -> None:
    text = "A first sentence here. Then some more words"
    assert split_text(text, 30) == ["A first sentence here.", "Then some more words"]


def test_closing_quote_after_a_full_stop_still_ends_the_sentence() -> None:
    text = 'He said "stop." and then more words'
    assert split_text(text, 24)[0] == 'He said "stop."'


def test_an_early_paragraph_break_is_skipped_for_a_fuller_part() -> None:
    text = "Hi\n\nthis sentence continues with many words"
    parts = split_text(text, 30)
    assert parts[0] == "Hi\n\nthis sentence continues"


def test_a_word_longer_than_the_limit_is_cut_between_clusters() -> None:
    text = FAMILY * 5  # 35 code points, no spaces
    parts = split_text(text, 10)
    assert parts == [FAMILY, FAMILY, FAMILY, FAMILY, FAMILY]


def test_chinese_sentences_split_after_their_full_stop() -> None:
    text = "今天天气很好。我们去公园散步吧。"
    assert split_text(text, 10) == ["今天天气很好。", "我们去公园散步吧。"]


def test_whitespace_at_the_cut_is_removed_and_nothing_else() -> None:
    text = "alpha beta\n\n   gamma delta"
    parts = split_text(text, 12)
    assert parts == ["alpha beta", "gamma delta"]


def test_a_single_cluster_longer_than_the_limit_is_cut_to_honour_the_limit() -> None:
    parts = split_text("a" + "\u0301" * 12, 5)
    assert [len(part) for part in parts] == [5, 5, 3]


@settings(max_examples=300)
@given(
    st.text(
        alphabet=st.sampled_from([*"ab .!?\n\t", "\u0301", "🇩", "🇪", "\u200d", "👍", "日", "。"]),
        max_size=200,
    ),
    st.integers(min_value=1, max_value=40),
)
def test_parts_are_ordered_slices_within_limit_separated_only_by_whitespace(
    text: str, limit: int
) -> None:
    parts = split_text(text, limit)
    assert_split_invariants(text, parts, limit)
    assert "".join(text.split()) == "".join("".join(part.split()) for part in parts)


@settings(max_examples=300)
@given(cluster_texts(), st.integers(min_value=10, max_value=60))
def test_no_cut_falls_inside_a_grapheme_cluster(
    composed: tuple[str, list[int]], limit: int
) -> None:
    text, starts = composed
    parts = split_text(text, limit)
    assert_split_invariants(text, parts, limit)
    position = 0
    boundaries = set(starts)
    for part in parts:
        begin = text.find(part, position)
        position = begin + len(part)
        assert begin in boundaries
        assert position in boundaries


@settings(max_examples=200)
@given(st.text(max_size=300), st.integers(min_value=1, max_value=1100))
def test_text_within_the_limit_is_never_split(text: str, limit: int) -> None:
    parts = split_text(text, max(limit, len(text)))
    assert parts == ([] if not text or text.isspace() else [text])


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 80, "short"),
        ("  many\n\nspaces   here ", 80, "many spaces here"),
        ("The quick brown fox jumps over the lazy dog", 20, "The quick brown fox…"),
        ("one, two, three, four", 17, "one, two, three…"),
        ("Supercalifragilistic", 10, "Supercali…"),
        (FAMILY * 3, 10, FAMILY + "…"),
    ],
    ids=[
        "fits",
        "collapses-whitespace",
        "word-boundary",
        "drops-trailing-comma",
        "long-word",
        "keeps-clusters",
    ],
)
def test_shorten_cuts_on_a_word_boundary_with_an_ellipsis(
    text: str, limit: int, expected: str
) -> None:
    assert shorten(text, limit) == expected


@settings(max_examples=200)
@given(st.text(max_size=200), st.integers(min_value=2, max_value=100))
def test_shorten_never_exceeds_the_limit(text: str, limit: int) -> None:
    assert len(shorten(text, limit)) <= limit

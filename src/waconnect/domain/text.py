"""Text that must fit a limit: grapheme-safe splitting and shortening.

Lengths are counted in code points, as ``len`` does. A cut never falls inside a grapheme cluster
(an emoji ZWJ sequence, a flag, an emoji with its skin tone, a letter with its combining marks or
variation selector, a Hangul syllable made of jamo, CR LF), so no part shows a broken character.

Clusters follow Unicode's extended grapheme cluster rules (UAX #29) closely enough for chat text,
built from :mod:`unicodedata` categories and a few explicit code point ranges: the standard
library has no segmentation of its own, and the core stays free of third-party packages.
"""

from __future__ import annotations

import enum
import unicodedata
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise

CONNECT_TEXT_LIMIT = 1024
WHATSAPP_TEXT_LIMIT = 4096
WHATSAPP_CAPTION_LIMIT = 1024


class _Gcb(enum.Enum):
    """Grapheme_Cluster_Break values that matter for the rules below."""

    CR = enum.auto()
    LF = enum.auto()
    CONTROL = enum.auto()
    EXTEND = enum.auto()
    ZWJ = enum.auto()
    REGIONAL_INDICATOR = enum.auto()
    PREPEND = enum.auto()
    SPACING_MARK = enum.auto()
    L = enum.auto()
    V = enum.auto()
    T = enum.auto()
    LV = enum.auto()
    LVT = enum.auto()
    OTHER = enum.auto()


_BREAK_AFTER = frozenset({_Gcb.CR, _Gcb.LF, _Gcb.CONTROL})

# Characters whose category alone does not tell their role: skin tones are symbols (Sk) and tags
# are format characters (Cf), yet both extend the emoji before them.
_EXTRA_EXTEND = ((0x200C, 0x200C), (0xFF9E, 0xFF9F), (0x1F3FB, 0x1F3FF), (0xE0020, 0xE007F))
_PREPEND = (
    (0x0600, 0x0605),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x0D4E, 0x0D4E),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x111C2, 0x111C3),
    (0x1193F, 0x1193F),
    (0x11941, 0x11941),
    (0x11A3A, 0x11A3A),
    (0x11A84, 0x11A89),
    (0x11D46, 0x11D46),
)
# Extended_Pictographic, from Unicode's emoji data. Erring wide only joins more after a ZWJ.
_PICTOGRAPHIC = (
    (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049), (0x2122, 0x2122),
    (0x2139, 0x2139), (0x2194, 0x2199), (0x21A9, 0x21AA), (0x231A, 0x231B), (0x2328, 0x2328),
    (0x2388, 0x2388), (0x23CF, 0x23CF), (0x23E9, 0x23F3), (0x23F8, 0x23FA), (0x24C2, 0x24C2),
    (0x25AA, 0x25AB), (0x25B6, 0x25B6), (0x25C0, 0x25C0), (0x25FB, 0x25FE), (0x2600, 0x2605),
    (0x2607, 0x2612), (0x2614, 0x2685), (0x2690, 0x2705), (0x2708, 0x2712), (0x2714, 0x2714),
    (0x2716, 0x2716), (0x271D, 0x271D), (0x2721, 0x2721), (0x2728, 0x2728), (0x2733, 0x2734),
    (0x2744, 0x2744), (0x2747, 0x2747), (0x274C, 0x274C), (0x274E, 0x274E), (0x2753, 0x2755),
    (0x2757, 0x2757), (0x2763, 0x2767), (0x2795, 0x2797), (0x27A1, 0x27A1), (0x27B0, 0x27B0),
    (0x27BF, 0x27BF), (0x2934, 0x2935), (0x2B05, 0x2B07), (0x2B1B, 0x2B1C), (0x2B50, 0x2B50),
    (0x2B55, 0x2B55), (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3297), (0x3299, 0x3299),
    (0x1F000, 0x1F0FF), (0x1F10D, 0x1F10F), (0x1F12F, 0x1F12F), (0x1F16C, 0x1F171),
    (0x1F17E, 0x1F17F), (0x1F18E, 0x1F18E), (0x1F191, 0x1F19A), (0x1F1AD, 0x1F1E5),
    (0x1F201, 0x1F20F), (0x1F21A, 0x1F21A), (0x1F22F, 0x1F22F), (0x1F232, 0x1F23A),
    (0x1F23C, 0x1F23F), (0x1F249, 0x1F3FA), (0x1F400, 0x1F53D), (0x1F546, 0x1F64F),
    (0x1F680, 0x1F6FF), (0x1F774, 0x1F77F), (0x1F7D5, 0x1F7FF), (0x1F80C, 0x1F80F),
    (0x1F848, 0x1F84F), (0x1F85A, 0x1F85F), (0x1F888, 0x1F88F), (0x1F8AE, 0x1F8FF),
    (0x1F90C, 0x1F93A), (0x1F93C, 0x1F945), (0x1F947, 0x1FAFF), (0x1FC00, 0x1FFFD),
)  # fmt: skip
# Indic conjuncts (UAX #29 rule GB9c): a virama between two consonants joins them.
_LINKERS = frozenset({0x094D, 0x09CD, 0x0ACD, 0x0B4D, 0x0C4D, 0x0D4D})
_CONJUNCT_BLOCKS = ((0x0900, 0x0DFF),)


def _in(ranges: tuple[tuple[int, int], ...], cp: int) -> bool:
    index = bisect_right(ranges, (cp, 0x10FFFF)) - 1
    return index >= 0 and ranges[index][0] <= cp <= ranges[index][1]


def _gcb(ch: str) -> _Gcb:
    cp = ord(ch)
    if ch == "\r":
        return _Gcb.CR
    if ch == "\n":
        return _Gcb.LF
    if cp == 0x200D:
        return _Gcb.ZWJ
    if 0x1F1E6 <= cp <= 0x1F1FF:
        return _Gcb.REGIONAL_INDICATOR
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return _Gcb.L
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return _Gcb.V
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return _Gcb.T
    if 0xAC00 <= cp <= 0xD7A3:
        return _Gcb.LV if (cp - 0xAC00) % 28 == 0 else _Gcb.LVT
    if _in(_EXTRA_EXTEND, cp):
        return _Gcb.EXTEND
    if _in(_PREPEND, cp):
        return _Gcb.PREPEND
    category = unicodedata.category(ch)
    if category in ("Mn", "Me"):
        return _Gcb.EXTEND
    if category == "Mc" or cp in (0x0E33, 0x0EB3):
        return _Gcb.SPACING_MARK
    if category in ("Cc", "Cf", "Zl", "Zp"):
        return _Gcb.CONTROL
    return _Gcb.OTHER


def _is_conjunct_consonant(ch: str) -> bool:
    return _in(_CONJUNCT_BLOCKS, ord(ch)) and unicodedata.category(ch) == "Lo"


def _joins(prev: _Gcb, cur: _Gcb) -> bool | None:
    """The pairwise rules GB3 to GB9b; None when only the wider context can decide."""
    if prev is _Gcb.CR and cur is _Gcb.LF:
        return True
    if prev in _BREAK_AFTER or cur in _BREAK_AFTER:
        return False
    if prev is _Gcb.L and cur in (_Gcb.L, _Gcb.V, _Gcb.LV, _Gcb.LVT):
        return True
    if prev in (_Gcb.LV, _Gcb.V) and cur in (_Gcb.V, _Gcb.T):
        return True
    if prev in (_Gcb.LVT, _Gcb.T) and cur is _Gcb.T:
        return True
    if cur in (_Gcb.EXTEND, _Gcb.ZWJ, _Gcb.SPACING_MARK) or prev is _Gcb.PREPEND:
        return True
    return None


def grapheme_starts(text: str) -> list[int]:
    """Offsets where each grapheme cluster of ``text`` starts, then ``len(text)``."""
    starts = [0] if text else []
    prev = _Gcb.CONTROL
    pictographic_run = False  # inside Extended_Pictographic Extend*
    joiner_after_pictograph = False  # the previous character is a ZWJ ending such a run
    regional_run = 0  # regional indicators just before the current character
    conjunct = 0  # 0: none, 1: consonant seen, 2: consonant then a linker (GB9c)
    for index, ch in enumerate(text):
        cur = _gcb(ch)
        pictograph = _in(_PICTOGRAPHIC, ord(ch))
        consonant = _is_conjunct_consonant(ch)
        if index:
            joined = _joins(prev, cur)
            if joined is None:
                joined = (
                    (joiner_after_pictograph and pictograph)
                    or (cur is _Gcb.REGIONAL_INDICATOR and regional_run % 2 == 1)
                    or (consonant and conjunct == 2)
                )
            if not joined:
                starts.append(index)
        joiner_after_pictograph = cur is _Gcb.ZWJ and pictographic_run
        pictographic_run = pictograph or (pictographic_run and cur is _Gcb.EXTEND)
        regional_run = regional_run + 1 if cur is _Gcb.REGIONAL_INDICATOR else 0
        if consonant:
            conjunct = 1
        elif conjunct and ord(ch) in _LINKERS:
            conjunct = 2
        elif conjunct and cur not in (_Gcb.EXTEND, _Gcb.ZWJ):
            conjunct = 0
        prev = cur
    if text:
        starts.append(len(text))
    return starts


def graphemes(text: str) -> Iterator[str]:
    """The grapheme clusters of ``text``, in order; joined they give back ``text``."""
    starts = grapheme_starts(text)
    for begin, end in pairwise(starts):
        yield text[begin:end]


def cap(text: str, limit: int) -> tuple[str, int]:
    """``text`` cut to at most ``limit`` code points at a grapheme boundary, and how many code
    points were cut off (0 when it fits)."""
    if len(text) <= limit:
        return text, 0
    starts = grapheme_starts(text[: limit + 64])
    cut = starts[bisect_right(starts, limit) - 1] or limit
    return text[:cut], len(text) - cut


def shorten(text: str, limit: int, *, ellipsis: str = "…") -> str:
    """``text`` on one line, cut on a word boundary to at most ``limit`` code points.

    Runs of whitespace become single spaces. When something is cut, ``ellipsis`` ends the result
    (and counts toward the limit); a word is only cut inside when no space falls in the second
    half of the room, and then at a grapheme boundary.
    """
    if limit <= len(ellipsis):
        raise ValueError(f"limit {limit} leaves no room next to {ellipsis!r}")
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    room = limit - len(ellipsis)
    space = flat.rfind(" ", 0, room + 1)
    if space > 0 and space >= room // 2:
        head = flat[:space]
        return (head.rstrip(" ,;:") or head) + ellipsis
    starts = grapheme_starts(flat)
    cut = starts[bisect_right(starts, room) - 1] or room
    return flat[:cut] + ellipsis


# A break between parts: what it cuts away (start to end, whitespace only) and how good it is.
@dataclass(frozen=True, slots=True, kw_only=True)
class _Break:
    start: int
    end: int
    rank: int  # 0 paragraph, 1 line, 2 sentence, 3 any space


_PARAGRAPH, _LINE, _SENTENCE, _SPACE = range(4)
_LINE_BREAKS = frozenset({"\n", "\r\n", "\r", "\v", "\f", "\x85", "\u2028"})
_SENTENCE_ENDS = frozenset(".!?…")
# Chinese and Japanese end sentences without a space after them: a break there removes nothing.
_SPACELESS_SENTENCE_ENDS = frozenset("。！？｡")
_CLOSERS = frozenset("\"')]}»”’」』")


def _is_space(cluster: str) -> bool:
    return cluster.isspace()


def _run_rank(clusters: list[str], first: int, last: int) -> int:
    lines = sum(1 for cluster in clusters[first:last] if cluster in _LINE_BREAKS)
    if lines >= 2 or "\u2029" in clusters[first:last]:
        return _PARAGRAPH
    if lines:
        return _LINE
    before = first - 1
    while before >= 0 and clusters[before] in _CLOSERS:
        before -= 1
    if before >= 0 and clusters[before][-1] in _SENTENCE_ENDS:
        return _SENTENCE
    return _SPACE


def _breaks(starts: list[int], clusters: list[str]) -> list[_Break]:
    found: list[_Break] = []
    index = 0
    while index < len(clusters):
        if _is_space(clusters[index]):
            last = index
            while last < len(clusters) and _is_space(clusters[last]):
                last += 1
            rank = _run_rank(clusters, index, last)
            found.append(_Break(start=starts[index], end=starts[last], rank=rank))
            index = last
            continue
        following = index + 1
        if (
            clusters[index][-1] in _SPACELESS_SENTENCE_ENDS
            and following < len(clusters)
            and not _is_space(clusters[following])
        ):
            found.append(_Break(start=starts[following], end=starts[following], rank=_SENTENCE))
        index += 1
    return found


def _choose(breaks: list[_Break], break_starts: list[int], begin: int, limit: int) -> _Break | None:
    """The best break for a part starting at ``begin``: the latest of the best kind that still
    leaves the part at least half full, else the latest of any kind."""
    window = breaks[bisect_right(break_starts, begin) : bisect_right(break_starts, begin + limit)]
    if not window:
        return None
    for rank in (_PARAGRAPH, _LINE, _SENTENCE, _SPACE):
        fitting = [b for b in window if b.rank <= rank]
        if fitting and fitting[-1].start - begin >= limit // 2:
            return fitting[-1]
    return window[-1]


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` code points, on the best boundaries.

    A text that fits is returned unchanged as the only part (none at all when it is empty or only
    whitespace). Otherwise the preferred cut is a paragraph break, then a line break, then the
    end of a sentence, then any space; a word longer than the limit is cut between grapheme
    clusters (and a single cluster longer than the limit, which only abusive stacks of combining
    marks reach, between code points: the limit is a hard bound of the receiving API).

    What is preserved: every part is a slice of ``text``, in order, never empty and never only
    whitespace; what lies before the first part, between two parts and after the last is
    whitespace only — the whitespace removed at each cut, including the text's own leading and
    trailing whitespace. So ``text`` equals the parts joined with that removed whitespace, and
    ``"".join(text.split())`` equals ``"".join("".join(p.split()) for p in parts)``.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    if not text or text.isspace():
        return []
    if len(text) <= limit:
        return [text]
    starts = grapheme_starts(text)
    clusters = [text[a:b] for a, b in pairwise(starts)]
    breaks = _breaks(starts, clusters)
    break_starts = [b.start for b in breaks]
    begin = breaks[0].end if breaks and breaks[0].start == 0 else 0
    end = breaks[-1].start if breaks and breaks[-1].end == len(text) else len(text)
    parts: list[str] = []
    while end - begin > limit:
        chosen = _choose(breaks, break_starts, begin, limit)
        if chosen is not None:
            parts.append(text[begin : chosen.start])
            begin = chosen.end
            continue
        cut = starts[bisect_right(starts, begin + limit) - 1]
        if cut <= begin:
            cut = begin + limit
        _append_unless_blank(parts, text[begin:cut])
        begin = cut
    _append_unless_blank(parts, text[begin:end])
    return parts


def _append_unless_blank(parts: list[str], part: str) -> None:
    # Only a cut between code points can leave a blank piece (a space that carried marks); it is
    # whitespace removed at the cut like any other.
    if part and not part.isspace():
        parts.append(part)

"""Markdown from an agent, written the way WhatsApp formats text.

WhatsApp knows ``*bold*``, ``_italic_``, ``~strike~``, inline `` `code` ``, ```` ```blocks``` ````,
``> `` quotes and ``1. `` lists; everything else Markdown offers is turned into plain words
(links become "text (url)", headings bold lines, bullets "• "). What is not recognised passes
through untouched: a customer reading a stray ``|`` loses less than one missing a word.

URLs, code and emoji are set aside before any marker is rewritten, so an underscore in a link or
the asterisk of a keycap emoji never becomes formatting.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# Private-use code points: markers and placeholders that cannot collide with the agent's text
# (any such code point in the input is set aside like code, and comes back as it was).
_BOLD, _ITALIC, _STRIKE = "\ue000", "\ue001", "\ue002"
_HOLD_OPEN, _HOLD_CLOSE = "\ue003", "\ue004"
_PRIVATE = re.compile("[\ue000-\ue004]")

_FENCE = re.compile(r"^(\s{0,3})(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_QUOTE = re.compile(r"^(\s{0,3}(?:>\s?)+)(.*)$")
_NUMBERED = re.compile(r"^(\s*\d{1,9}[.)]\s+)(.*)$")

_ESCAPE = re.compile(r"\\([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")
_CODE = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\(\s*<?([^\s()<>]+(?:\([^\s()]*\))?)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^\s<>]+)>")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>]*[^\s<>.,;:!?'\")\]]")
_KEYCAP = re.compile("[#*0-9]\ufe0f?\u20e3")

_BOLD_ITALIC = re.compile(r"\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*")
_BOLD_STARS = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_BOLD_UNDERSCORES = re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)")
_ITALIC_STAR = re.compile(r"\*(?=\S)(.+?)(?<=\S)\*")
_ITALIC_UNDERSCORE = re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)")
_STRIKE_TILDES = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")


def markdown_to_whatsapp(text: str) -> str:
    """``text`` (Markdown) rewritten with WhatsApp's formatting marks."""
    lines: list[str] = []
    fence = ""
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        opening = _FENCE.match(line)
        if fence:
            stripped = line.strip()
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                lines.append("```")
                fence = ""
            else:
                lines.append(line)
            continue
        if opening is not None and not (opening[2][0] == "`" and "`" in opening[3]):
            fence = opening[2]
            lines.append("```")
            continue
        lines.append(_block(line))
    if fence:
        lines.append("```")  # an unclosed fence runs to the end, as in Markdown
    return "\n".join(lines)


def _block(line: str) -> str:
    """One line outside code blocks: its block marker, then its inline formatting."""
    if _RULE.match(line):
        return line
    if heading := _HEADING.match(line):
        title = _inline(heading[1], bold_allowed=False)
        return f"*{title}*" if title else ""
    if quote := _QUOTE.match(line):
        return quote[1].rstrip() + " " + _block(quote[2])
    if bullet := _BULLET.match(line):
        return f"{bullet[1]}• {_inline(bullet[2])}"
    if numbered := _NUMBERED.match(line):
        return numbered[1] + _inline(numbered[2])
    return _inline(line)


def _inline(text: str, *, bold_allowed: bool = True) -> str:
    held: list[str] = []

    def hold(value: str) -> str:
        held.append(value)
        return f"{_HOLD_OPEN}{len(held) - 1}{_HOLD_CLOSE}"

    def holding(render: Callable[[re.Match[str]], str]) -> Callable[[re.Match[str]], str]:
        return lambda match: hold(render(match))

    text = _PRIVATE.sub(holding(lambda m: m[0]), text)
    text = _ESCAPE.sub(holding(lambda m: m[1]), text)
    text = _CODE.sub(holding(_code), text)
    text = _LINK.sub(lambda m: _link(m, hold), text)
    text = _AUTOLINK.sub(holding(lambda m: m[1].removeprefix("mailto:")), text)
    text = _URL.sub(holding(lambda m: m[0]), text)
    text = _KEYCAP.sub(holding(lambda m: m[0]), text)
    text = _emphasis(text, bold_allowed=bold_allowed)
    return _restore(text, held)


def _emphasis(text: str, *, bold_allowed: bool) -> str:
    bold = _BOLD if bold_allowed else ""
    text = _BOLD_ITALIC.sub(lambda m: f"{bold}{_ITALIC}{m[1]}{_ITALIC}{bold}", text)
    text = _BOLD_STARS.sub(lambda m: f"{bold}{m[1]}{bold}", text)
    text = _BOLD_UNDERSCORES.sub(lambda m: f"{bold}{m[1]}{bold}", text)
    text = _ITALIC_STAR.sub(lambda m: f"{_ITALIC}{m[1]}{_ITALIC}", text)
    text = _ITALIC_UNDERSCORE.sub(lambda m: f"{_ITALIC}{m[1]}{_ITALIC}", text)
    text = _STRIKE_TILDES.sub(lambda m: f"{_STRIKE}{m[1]}{_STRIKE}", text)
    return text.replace(_BOLD, "*").replace(_ITALIC, "_").replace(_STRIKE, "~")


def _code(match: re.Match[str]) -> str:
    body = match[2]
    if len(match[1]) > 1:
        body = body.strip()  # ``a`b`` pads its backticks with a space
    # WhatsApp's inline code cannot hold a backtick: such a span stays as the agent wrote it.
    return f"`{body}`" if "`" not in body else match[0]


def _link(match: re.Match[str], hold: Callable[[str], str]) -> str:
    label, url = match[1].strip(), match[2]
    shown = url.removeprefix("mailto:")
    if not label or label in (url, shown) or _bare(label) == _bare(shown):
        return hold(shown)
    return f"{label} ({hold(shown)})"


def _bare(url: str) -> str:
    return re.sub(r"^(?:https?://)?(?:www\.)?", "", url).rstrip("/")


def _restore(text: str, held: list[str]) -> str:
    pattern = re.compile(f"{_HOLD_OPEN}(\\d+){_HOLD_CLOSE}")

    # A held code span may hold a placeholder of its own (a private code point inside it); a
    # replacement is never scanned again, so the agent's own private code points stay as they are.
    def put_back(match: re.Match[str]) -> str:
        return pattern.sub(put_back, held[int(match[1])])

    return pattern.sub(put_back, text)

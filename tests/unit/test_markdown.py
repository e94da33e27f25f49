"""An agent's Markdown becomes WhatsApp's own formatting; what is unknown passes through."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from waconnect.domain.markdown import markdown_to_whatsapp

CASES = [
    # emphasis
    ("**Thanks**", "*Thanks*"),
    ("__Thanks__", "*Thanks*"),
    ("*soon*", "_soon_"),
    ("_soon_", "_soon_"),
    ("***both***", "*_both_*"),
    ("**bold with _italic_ inside**", "*bold with _italic_ inside*"),
    ("~~old price~~ new price", "~old price~ new price"),
    ("`ORDER-123`", "`ORDER-123`"),
    ("``a`b``", "``a`b``"),
    # emphasis markers that are not emphasis
    ("snake_case_name", "snake_case_name"),
    ("2 * 3 * 4", "2 * 3 * 4"),
    ("unclosed **bold", "unclosed **bold"),
    ("`**not bold**`", "`**not bold**`"),
    # links and URLs
    ("see [the guide](https://example.com/guide)", "see the guide (https://example.com/guide)"),
    ("[https://example.com](https://example.com)", "https://example.com"),
    ("[example.com](https://www.example.com/)", "https://www.example.com/"),
    ("![receipt](https://example.com/r.png)", "receipt (https://example.com/r.png)"),
    ("<https://example.com/a_b>", "https://example.com/a_b"),
    ("[**docs**](https://example.com/x_y_z)", "*docs* (https://example.com/x_y_z)"),
    (
        "https://example.com/some_path_with_underscores_",
        "https://example.com/some_path_with_underscores_",
    ),
    ("https://example.com/**stars**/page", "https://example.com/**stars**/page"),
    ("mail [us](mailto:help@example.com)", "mail us (help@example.com)"),
    # blocks
    ("# Your order", "*Your order*"),
    ("### **Already bold** ###", "*Already bold*"),
    ("- one\n- two", "• one\n• two"),
    ("* one\n+ two\n  - nested", "• one\n• two\n  • nested"),
    ("1. first\n2) second", "1. first\n2) second"),
    ("> quoted **text**", "> quoted *text*"),
    (">no space", "> no space"),
    ("> - quoted item", "> • quoted item"),
    (
        "```python\nx = a*b*c\n_y_ = 1\n```\nafter **it**",
        "```\nx = a*b*c\n_y_ = 1\n```\nafter *it*",
    ),
    ("~~~\n**raw**\n~~~", "```\n**raw**\n```"),
    ("```\nnever closed **x**", "```\nnever closed **x**\n```"),
    # escapes
    (r"\*not italic\* and 5 \* 3", "*not italic* and 5 * 3"),
    (r"\# not a heading", "# not a heading"),
    (r"\[not a link\](x)", "[not a link](x)"),
    # emoji and unknown constructs
    ("keycap *️⃣ stays, **this** is bold", "keycap *️⃣ stays, *this* is bold"),
    ("👩‍👩‍👧 **family** 🇵🇹", "👩‍👩‍👧 *family* 🇵🇹"),
    ("---", "---"),
    ("| a | b |\n|---|---|\n| 1 | 2 |", "| a | b |\n|---|---|\n| 1 | 2 |"),
    ("<b>html</b>", "<b>html</b>"),
    ("line one\r\nline two", "line one\nline two"),
    ("plain text, nothing to do", "plain text, nothing to do"),
]


@pytest.mark.parametrize(("markdown", "whatsapp"), CASES, ids=[c[0][:30] for c in CASES])
def test_markdown_maps_to_whatsapp_formatting(markdown: str, whatsapp: str) -> None:
    assert markdown_to_whatsapp(markdown) == whatsapp


@given(st.text())
def test_text_without_markdown_characters_is_unchanged(text: str) -> None:
    specials = set("*_~`[]()<>#\\-+>!|\r") | {chr(c) for c in range(0xE000, 0xE005)}
    plain = "".join(ch for ch in text if ch not in specials and not ch.isdigit())
    assert markdown_to_whatsapp(plain) == plain


@given(st.text())
def test_any_text_is_mapped_without_error_and_keeps_its_words(text: str) -> None:
    out = markdown_to_whatsapp(text)
    words = [w for w in text.split() if w.isalpha()]
    for word in words:
        assert word in out


def test_private_use_characters_come_back_as_written() -> None:
    text = "x\ue0030\ue004 and `a\ue000`"
    assert markdown_to_whatsapp(text) == text

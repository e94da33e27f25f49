"""Images with Pillow: stickers to PNG, photos to JPEG that fit WhatsApp, and bomb checks.

Pillow refuses an image above ``Image.MAX_IMAGE_PIXELS`` only with a warning (an error at twice
the limit); a 30 KB PNG can claim 100,000 × 100,000 pixels and take 40 GB to decode. The limit is
set here, on purpose, before any file is opened, and crossing it is an error from the first pixel.
Every encoder setting is written out, so a Pillow upgrade cannot change what customers receive.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from waconnect.errors import DoesNotFit, PermanentError

if TYPE_CHECKING:
    from PIL import Image

# A 200-megapixel phone photo is the largest a customer's camera makes today; decoding one
# takes ~600 MB, so the bridge stops at half of that.
MAX_PIXELS = 100_000_000
# WhatsApp shows photos at most ~1600 px wide: larger only costs bytes.
MAX_SIDE = 4096
_JPEG_QUALITIES = (85, 75, 65, 50)
_SHRINK = 0.75
_MAX_SHRINKS = 8
# WhatsApp's sticker metadata: a JSON object in the WebP's EXIF, listing the sticker's emojis.
_EMOJIS = b'"emojis"'


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageResult:
    """What an image conversion wrote, and the words it carries (a sticker's emoji)."""

    width: int
    height: int
    caption: str = ""


@contextmanager
def open_image(path: Path) -> Iterator[Image.Image]:
    """Open an image for decoding, refusing decompression bombs before any pixel is decoded."""
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415 - only image paths pay for it

    _register_heif()
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PermanentError(
            f"the image claims more than {MAX_PIXELS // 1_000_000} million pixels (an image bomb)",
            operation="convert",
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise PermanentError(
            f"not a readable image ({type(exc).__name__})", operation="convert"
        ) from exc
    with image:
        yield image


def image_problem(path: Path) -> str:
    """Why the image at ``path`` must not be passed on (a bomb); ``""`` when it may.

    Only the header is read. An image Pillow cannot read at all is not refused here: its magic
    number made it an image, and a damaged photo is still the customer's photo.
    """
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415

    _register_heif()
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            # The check below decides from the size alone; the warning would be only noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
    except Image.DecompressionBombError:
        millions = 2 * MAX_PIXELS // 1_000_000
        return f"the image claims more than {millions} million pixels (an image bomb)"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return ""
    if width * height > MAX_PIXELS:
        return (
            f"the image claims {width} × {height} pixels, more than any camera makes "
            "(an image bomb)"
        )
    return ""


def sticker_to_png(source: Path, output: Path) -> ImageResult:
    """The first frame of a (possibly animated) WebP sticker as a PNG with its transparency."""
    with open_image(source) as image:
        caption = sticker_emojis(image.info.get("exif", b""))
        image.seek(0)
        frame = _decoded(image).convert("RGBA")
        frame.save(output, format="PNG", optimize=False, compress_level=6)
        return ImageResult(width=frame.width, height=frame.height, caption=caption)


def to_jpeg(source: Path, output: Path, *, max_bytes: int) -> ImageResult:
    """A JPEG of ``source`` (its first frame) under ``max_bytes``: lower quality, then smaller.

    Raises PermanentError when even the smallest attempt does not fit.
    """
    from PIL import Image, ImageOps  # noqa: PLC0415

    with open_image(source) as image:
        if image.format == "JPEG":
            # Decode at a reduced scale straight from the DCT: a 200 MP photo never fills memory.
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))
        picture = ImageOps.exif_transpose(_decoded(image))
    if picture.mode in {"RGBA", "LA", "P", "PA"}:
        picture = picture.convert("RGBA")
        flat = Image.new("RGB", picture.size, (255, 255, 255))
        flat.paste(picture, mask=picture.getchannel("A"))
        picture = flat
    else:
        picture = picture.convert("RGB")
    picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    for _ in range(_MAX_SHRINKS):
        for quality in _JPEG_QUALITIES:
            picture.save(
                output,
                format="JPEG",
                quality=quality,
                optimize=True,
                progressive=False,
                subsampling="4:2:0",
                exif=b"",
            )
            if output.stat().st_size <= max_bytes:
                return ImageResult(width=picture.width, height=picture.height)
        size = (max(1, int(picture.width * _SHRINK)), max(1, int(picture.height * _SHRINK)))
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    raise DoesNotFit(
        f"the image does not fit in {max_bytes // (1024 * 1024)} MB even made smaller",
        operation="convert",
    )


def sticker_emojis(exif: bytes) -> str:
    """The emojis WhatsApp's sticker metadata names (``"😀 🎉"``), or ``""``."""
    start = exif.find(b"{")
    decoder = json.JSONDecoder()
    while start != -1:
        if _EMOJIS in exif[start:]:
            try:
                found, _ = decoder.raw_decode(exif[start:].decode("utf-8", "replace"))
            except json.JSONDecodeError:
                found = None
            if isinstance(found, dict) and isinstance(found.get("emojis"), list):
                return " ".join(e for e in found["emojis"] if isinstance(e, str) and e.strip())
        start = exif.find(b"{", start + 1)
    return ""


def _decoded(image: Image.Image) -> Image.Image:
    """Decode the pixels, turning a truncated or corrupt file into one clear error."""
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise PermanentError(
            f"the image is damaged and cannot be decoded ({type(exc).__name__})",
            operation="convert",
        ) from exc
    return image


def _register_heif() -> None:
    from pillow_heif import register_heif_opener  # noqa: PLC0415

    # Idempotent: Pillow keeps one opener per format.
    register_heif_opener()

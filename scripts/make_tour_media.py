"""Write the small media files the tour scenario (``examples/tour.json``) sends across the bridge.

Run from the repository root: ``python scripts/make_tour_media.py [OUTPUT_DIR]`` (default
``examples/media``). Importable too: ``write_tour_media(directory)`` returns the paths it wrote.
Every file is generated from a deterministic signal with PyAV, so nothing is downloaded.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from tests.media_samples import audio_file, image_file, pdf_file  # noqa: E402

TOUR_MEDIA: dict[str, Callable[[], bytes]] = {
    "photo.jpg": lambda: image_file("jpeg", width=320, height=240, seed=1, quality=6),
    "receipt.pdf": lambda: pdf_file(
        (
            "Receipt 0042 - Example Coffee Roasters",
            "2 x House blend 250 g        19.00",
            "1 x Hand grinder             35.00",
            "Total                        54.00",
        )
    ),
    "voice-note.ogg": lambda: audio_file("ogg-opus", seconds=4.0),
    "agent-reply.wav": lambda: audio_file("wav16k", seconds=1.5),
    "agent-image.png": lambda: image_file("png", width=160, height=120, seed=3),
    "agent-brochure.pdf": lambda: pdf_file(
        (
            "Example Coffee Roasters - Brochure",
            "Fresh beans roasted every Tuesday.",
            "Free delivery over 40.00.",
        )
    ),
    "second-customer.jpg": lambda: image_file("jpeg", width=240, height=180, seed=4, quality=6),
}


def write_tour_media(directory: Path) -> list[Path]:
    """Write every tour file into ``directory`` (created if needed); returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in TOUR_MEDIA.items():
        path = directory / name
        path.write_bytes(make())
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else _ROOT / "examples" / "media"
    for path in write_tour_media(directory):
        sys.stdout.write(f"{path} ({path.stat().st_size} bytes)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Opening images, with unreadable ones reported as `bad-image` error events."""

from __future__ import annotations

from .protocol import WorkerError


def load_image(path: str):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            # Decode now, so a truncated file fails here with its name rather than deep in a batch.
            return opened.convert("RGB")
    except FileNotFoundError as error:
        raise WorkerError("bad-image", f"image not found: {path}") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise WorkerError("bad-image", f"unreadable image {path}: {error}") from error

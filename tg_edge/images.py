"""Images whose text is to be translated: read from a file or bytes, checked, and turned into RGB pixels.

Pillow decodes them (PNG, JPEG, WebP, GIF, BMP, TIFF), so the vision encoder gets plain pixels whatever
the format; nothing is ever fetched from a URL. A photo's EXIF orientation is applied (a phone's
portrait shot reads upright) and transparency is laid on white (dark text on a transparent PNG would
otherwise vanish into black).
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff")
"""File extensions taken as images (by ``-i`` in a directory, and by ``-i FILE``)."""
MAX_IMAGE_BYTES = 50 * 2**20
MAX_IMAGE_PIXELS = 50_000_000
"""The vision encoder sees a few hundred pixels a side; beyond this an image is refused, not decoded."""
MAX_IMAGE_SIDE = 20_000


@dataclass(frozen=True)
class RgbImage:
    """An image decoded to 8-bit RGB pixels, row by row (``width * height * 3`` bytes)."""

    name: str
    width: int
    height: int
    pixels: bytes


ImageLike = str | os.PathLike[str] | bytes | RgbImage


def is_image_file(path: Path) -> bool:
    """Whether ``path`` is named like an image file."""
    return path.suffix.lower() in IMAGE_SUFFIXES


def read_image(image: ImageLike, *, name: str | None = None) -> RgbImage:
    """Decode ``image`` (a path or the file's bytes; an :class:`RgbImage` is returned as it is);
    :class:`InputError` naming it when it is not a readable image of sane size. ``name`` says what to call
    bytes in messages."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(image, RgbImage):
        return image
    if isinstance(image, bytes):
        label, data = name or "the image", image
    else:
        label = name or str(image)
        data = _read_file(Path(image), label)
    if not data:
        raise InputError(f"{label}: the file is empty, not an image")
    if len(data) > MAX_IMAGE_BYTES:
        raise InputError(
            f"{label}: {len(data) / 2**20:.0f} MB is over the {MAX_IMAGE_BYTES // 2**20} MB an image may have"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
            width, height = opened.size
            if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS:
                raise InputError(
                    f"{label}: {width}×{height} pixels is over what an image may have "
                    f"({MAX_IMAGE_PIXELS // 1_000_000} megapixels, {MAX_IMAGE_SIDE} a side)"
                )
            opened.load()
            upright = ImageOps.exif_transpose(opened)
            rgb = _on_white(upright)
    except UnidentifiedImageError:
        raise InputError(
            f"{label}: not an image of a format tg-edge reads (PNG, JPEG, WebP, GIF, BMP, TIFF)"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(f"{label}: too many pixels to decode safely") from None
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow's errors for truncated and corrupt data
        raise InputError(f"{label}: the image is truncated or corrupt ({exc})") from None
    if rgb.width < 1 or rgb.height < 1:
        raise InputError(f"{label}: the image has no pixels")
    return RgbImage(name=label, width=rgb.width, height=rgb.height, pixels=rgb.tobytes())


def _read_file(path: Path, label: str) -> bytes:
    try:
        if path.stat().st_size > MAX_IMAGE_BYTES:
            raise InputError(
                f"{label}: {path.stat().st_size / 2**20:.0f} MB is over the "
                f"{MAX_IMAGE_BYTES // 2**20} MB an image may have"
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"cannot read {label}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"cannot read {label}: it is a directory") from None
    except OSError as exc:
        raise InputError(f"cannot read {label}: {exc.strerror or exc}") from None


def _on_white(image):
    """RGB pixels, with any transparency composited onto white."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")

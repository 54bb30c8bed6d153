"""Thumbnails of images, made once at upload: a WebP at most THUMB_PX on its longer side,
so a chat shows a phone's 5 MB photo as a few kilobytes. Decoding the image is also the
last check that the bytes are the image their signature says (Pillow, in a thread; an
image of more than MAX_PIXELS pixels is refused before it is decoded)."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

THUMB_PX = 320
MAX_PIXELS = 50_000_000  # a 50-megapixel photo; above it, a decompression bomb
SMALL_BYTES = 48 * 1024  # an image this small and no larger than THUMB_PX is its own thumbnail


class UnreadableImage(ValueError):
    pass


@dataclass(frozen=True)
class Thumbnail:
    width: int  # the image's own size, for the page's layout before it loads
    height: int
    data: bytes | None  # the WebP, or None when the image serves as its own


def make_thumbnail(data: bytes) -> Thumbnail:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                width, height = opened.size
                if width * height > MAX_PIXELS:
                    raise UnreadableImage(f"The image has {width}×{height} pixels; the most is 50 million.")
                image = ImageOps.exif_transpose(opened)  # as the camera was held
                width, height = image.size
                if max(width, height) <= THUMB_PX and len(data) <= SMALL_BYTES:
                    image.load()  # decoded in full: it is an image
                    return Thumbnail(width, height, None)
                image.thumbnail((THUMB_PX, THUMB_PX))
                if image.mode not in ("RGB", "RGBA"):
                    image = image.convert(
                        "RGBA" if "transparency" in image.info or "A" in image.mode else "RGB"
                    )
                out = io.BytesIO()
                image.save(out, "WEBP", quality=80)
                return Thumbnail(width, height, out.getvalue())
    except UnreadableImage:
        raise
    except (
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise UnreadableImage("The image cannot be read: it is damaged or not the image it seems.") from exc

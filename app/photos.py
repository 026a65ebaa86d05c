"""Checking and storing complaint photos.

A photo is accepted only if Pillow decodes it as JPEG, PNG or WebP, whatever
its name or declared type says. It is resized and re-encoded as JPEG, which
drops EXIF (camera, owner and GPS tags) and any other metadata.
"""

from __future__ import annotations

import io
import logging
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from app.errors import ValidationError

logger = logging.getLogger(__name__)

MAX_PHOTOS = 3
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_EDGE_PX = 1600
#: Refuse images whose pixel count could exhaust memory when decoded.
MAX_PIXELS = 60_000_000
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
JPEG_QUALITY = 85


@dataclass
class ProcessedPhoto:
    """A cleaned photo ready to store, and where the camera said it was."""

    data: bytes
    width: int
    height: int
    gps: tuple[float, float] | None = None
    content_type: str = "image/jpeg"


def process_photo(raw: bytes, label: str = "photo") -> ProcessedPhoto:
    """Check, resize and strip one uploaded photo.

    Raises
    ------
    ValidationError
        Too large, not an image, or not JPEG, PNG or WebP; ``label`` names it.
    """
    if len(raw) > MAX_PHOTO_BYTES:
        raise ValidationError(
            f"{label} is {len(raw) / 1048576:.1f} MB; the limit is "
            f"{MAX_PHOTO_BYTES // 1048576} MB")
    image = _open(raw, label)
    gps = photo_gps(image)
    image = ImageOps.exif_transpose(image)
    image.thumbnail((MAX_EDGE_PX, MAX_EDGE_PX))
    if image.mode not in ("RGB", "L"):
        image = _flatten(image)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return ProcessedPhoto(out.getvalue(), image.width, image.height, gps)


def _open(raw: bytes, label: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
            if image.format not in ACCEPTED_FORMATS:
                raise ValidationError(
                    f"{label} is {image.format or 'an unknown'} image; "
                    "send JPEG, PNG or WebP")
            if image.width * image.height > MAX_PIXELS:
                raise ValidationError(f"{label} has too many pixels "
                                      f"({image.width}×{image.height})")
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ValidationError(f"{label} is not a readable JPEG, PNG or WebP "
                              "image") from err
    return image


def _flatten(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def photo_gps(image: Image.Image) -> tuple[float, float] | None:
    """Return ``(lon, lat)`` from a photo's EXIF GPS tags, or None."""
    try:
        gps = image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    except (AttributeError, KeyError, ValueError):
        return None
    try:
        lat = _degrees(gps[ExifTags.GPS.GPSLatitude], gps[ExifTags.GPS.GPSLatitudeRef])
        lon = _degrees(gps[ExifTags.GPS.GPSLongitude],
                       gps[ExifTags.GPS.GPSLongitudeRef])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if abs(lat) > 90 or abs(lon) > 180:
        return None
    return lon, lat


def _degrees(dms, ref) -> float:
    degrees, minutes, seconds = (float(v) for v in dms)
    value = degrees + minutes / 60 + seconds / 3600
    return -value if str(ref).upper() in ("S", "W") else value


class PhotoStore:
    """Photo files under a media folder, named by random keys."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def save(self, photo: ProcessedPhoto) -> str:
        key = f"{secrets.token_hex(1)}/{secrets.token_urlsafe(18)}.jpg"
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(photo.data)
        return key

    def path(self, key: str) -> Path:
        return self.root / key

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)

"""Photos people send us (a customer's meter display in the chat, a field worker's repaired line): checked by what
they are, not what they claim, and encoded anew before anything keeps them.

JPEG, PNG or WebP by the file's first bytes, within a size limit (5 MB unless the caller says otherwise), decoded by
Pillow with a guard against "decompression bombs", then written as a fresh JPEG of at most 1600 px a side, turned
upright, transparency on white, with no metadata (EXIF, GPS) carried over. Refusals are in Chinese, for the sender.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 1600
MAX_PIXELS = 40_000_000  # a "decompression bomb" is refused before it is decoded

EMPTY = "没有收到照片内容（文件是空的），请重新选择。"
NOT_IMAGE = "只能发送JPG、PNG或WebP格式的照片。"
BROKEN = "这张照片打不开，可能已经损坏，请换一张。"


def too_big(limit: int = MAX_BYTES) -> str:
    return f"照片太大了，请选一张{limit // (1024 * 1024)}MB以内的照片。"


TOO_BIG = too_big()


class PhotoRefused(ValueError):
    """Why a photo is not taken, in Chinese for the person who sent it."""


class PhotoTooBig(PhotoRefused):
    """Refused for its size (bytes over the limit, or pixels over MAX_PIXELS)."""


def sniff(data: bytes) -> str | None:
    """JPEG | PNG | WEBP (Pillow's format names) by the file's first bytes; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def reencode(data: bytes, limit: int = MAX_BYTES, side: int = MAX_SIDE) -> tuple[bytes, int, int]:
    """The photo as a fresh JPEG (no metadata, at most `side` px a side) with its width and height, or
    PhotoRefused (PhotoTooBig when over `limit` bytes or MAX_PIXELS pixels)."""
    if not data:
        raise PhotoRefused(EMPTY)
    if len(data) > limit:
        raise PhotoTooBig(too_big(limit))
    kind = sniff(data)
    if kind is None:
        raise PhotoRefused(NOT_IMAGE)
    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as probe:
            if probe.width * probe.height > MAX_PIXELS:
                raise PhotoTooBig(too_big(limit))
            probe.verify()
        with Image.open(io.BytesIO(data), formats=[kind]) as img:
            img.load()
            upright = ImageOps.exif_transpose(img)
            if upright.mode in ("RGBA", "LA", "P"):
                rgba = upright.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
                upright = flat
            rgb = upright.convert("RGB")
            rgb.thumbnail((side, side))
            out = io.BytesIO()
            rgb.save(out, format="JPEG", quality=85, optimize=True)
            return out.getvalue(), rgb.width, rgb.height
    except PhotoRefused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        # Pillow raises many kinds (truncated, bomb, bad syntax): all mean "not usable"
        raise PhotoRefused(BROKEN) from None

"""Photos taken on site: only real JPEG, PNG or WebP images (magic bytes, then Pillow's check when it is
installed), at most a few MB, stored as <root>/orders/<number>/<random>.<ext> and named in the order's history."""

from __future__ import annotations

import contextlib
import io
import re
import secrets
from pathlib import Path

try:  # the app venv has Pillow; without it the magic bytes alone decide
    from PIL import Image
except ImportError:  # pragma: no cover - depends on the venv
    Image = None  # type: ignore[assignment]

NUMBER = re.compile(r"[A-Z0-9]{1,16}")
NAME = re.compile(r"[0-9a-f]{24}\.(?:jpg|png|webp)")
TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
PIL_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}


class BadPhoto(ValueError):
    """Not an image we take (the message is for the person who sent it)."""


class PhotoTooBig(BadPhoto):
    pass


def kind_of(data: bytes) -> str | None:
    """jpg | png | webp from the file's first bytes, whatever its name or declared type says."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def too_big(limit: int) -> str:
    return f"照片太大了，请选择 {limit // (1024 * 1024)}MB 以内的照片。"


def check(data: bytes, limit: int) -> str:
    """The photo's extension if it is a whole JPEG/PNG/WebP within the limit; BadPhoto otherwise."""
    if not data:
        raise BadPhoto("照片是空的，请重新选择。")
    if len(data) > limit:
        raise PhotoTooBig(too_big(limit))
    kind = kind_of(data)
    if kind is None:
        raise BadPhoto("只能上传 JPG、PNG 或 WebP 格式的照片。")
    if Image is not None:
        try:
            with Image.open(io.BytesIO(data)) as img:
                fmt = img.format
                img.verify()
        except Exception:  # noqa: BLE001 - Pillow raises many kinds (truncated, bomb, syntax): all mean "not usable"
            raise BadPhoto("照片文件已损坏，无法识别，请重新拍摄。") from None
        if fmt != PIL_FORMATS[kind]:
            raise BadPhoto("只能上传 JPG、PNG 或 WebP 格式的照片。")
    return kind


class PhotoStore:
    def __init__(self, root: Path, limit: int):
        self.root, self.limit = root, limit

    def save(self, number: str, data: bytes, kind: str) -> str:
        """Writes the (checked) photo; its path relative to the root, as the history records it."""
        if not NUMBER.fullmatch(number) or kind not in TYPES:
            raise ValueError(f"bad photo target {number!r} {kind!r}")
        folder = self.root / "orders" / number
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{secrets.token_hex(12)}.{kind}"
        with open(folder / name, "xb") as f:
            f.write(data)
        return f"orders/{number}/{name}"

    def discard(self, relative: str) -> None:
        """Removes a photo whose order change was refused (nothing stored may point to it)."""
        path = self.path(relative)
        if path is not None:
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # only when empty

    def path(self, relative: str) -> Path | None:
        """The file of a recorded photo (None for anything that is not orders/<number>/<random>.<ext>)."""
        parts = relative.split("/")
        if len(parts) != 3 or parts[0] != "orders" or not NUMBER.fullmatch(parts[1]) or not NAME.fullmatch(parts[2]):
            return None
        return self.root / "orders" / parts[1] / parts[2]


def content_type(relative: str) -> str:
    return TYPES.get(relative.rsplit(".", 1)[-1], "application/octet-stream")

"""Photos taken on site, stored as <root>/orders/<number>/<random>.<ext> and named in the order's history.

What is stored has been through backend.photos (a real JPEG, PNG or WebP within the size limit, encoded anew as a
JPEG without its EXIF/GPS), so new photos are .jpg; older ones kept as .png or .webp are still served."""

from __future__ import annotations

import contextlib
import re
import secrets
from pathlib import Path

NUMBER = re.compile(r"[A-Z0-9]{1,16}")
NAME = re.compile(r"[0-9a-f]{24}\.(?:jpg|png|webp)")
TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


class PhotoStore:
    def __init__(self, root: Path, limit: int):
        self.root, self.limit = root, limit

    def save(self, number: str, data: bytes, kind: str) -> str:
        """Writes the (re-encoded) photo; its path relative to the root, as the history records it."""
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

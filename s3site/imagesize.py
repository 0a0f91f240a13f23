"""The pixel size of an image file, read from its header (PNG, GIF, JPEG, WebP, SVG).

Pages give every image its width and height, so that the layout does not
jump while images load; editors should not have to look the numbers up.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

SVG_SIZE_RE = re.compile(rb"<svg\b[^>]*>", re.DOTALL)
SVG_ATTR_RE = re.compile(rb'\b(width|height|viewBox)\s*=\s*["\']([^"\']+)["\']')


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) in pixels, or None when the file is not an image we can read."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536)
    except OSError:
        return None
    try:
        if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
            return struct.unpack(">II", head[16:24])
        if head[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", head[6:10])
        if head.startswith(b"\xff\xd8"):
            return _jpeg_size(head)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return _webp_size(head)
        if b"<svg" in head[:4096]:
            return _svg_size(head)
    except struct.error:
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    position = 2
    while position + 9 < len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        length = struct.unpack(">H", data[position + 2 : position + 4])[0]
        # Start-of-frame markers carry the size; C4, C8 and CC are not frames.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return width, height
        position += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    kind = data[12:16]
    if kind == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L":
        bits = struct.unpack("<I", data[21:25])[0]
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def _svg_size(data: bytes) -> tuple[int, int] | None:
    tag = SVG_SIZE_RE.search(data)
    if not tag:
        return None
    attributes = {k.decode(): v.decode() for k, v in SVG_ATTR_RE.findall(tag.group(0))}
    width, height = _pixels(attributes.get("width")), _pixels(attributes.get("height"))
    if width and height:
        return width, height
    box = attributes.get("viewBox", "").replace(",", " ").split()
    if len(box) == 4:
        try:
            return round(float(box[2])), round(float(box[3]))
        except ValueError:
            return None
    return None


def _pixels(value: str | None) -> int:
    if not value:
        return 0
    match = re.fullmatch(r"\s*([\d.]+)\s*(px)?\s*", value)
    return round(float(match.group(1))) if match else 0

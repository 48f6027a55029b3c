#!/usr/bin/env python3
"""Writes packaging/windows/lanchat.ico, the Windows icon, with nothing but
the Python standard library.

Run from the crate root:

    python3 packaging/windows/make_ico.py

Four images, drawn from the same geometry as assets/icon.png by
assets/make_assets.py (each size rendered, not downscaled, so 16x16 stays
crisp): 16, 32 and 48 as 32-bit BMPs with an AND mask (what every Windows
version and NSIS read), 256 as PNG (Vista and later), which is
assets/icon.png itself. The output is deterministic.
"""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ left in assets/
sys.path.insert(0, os.path.join(ROOT, "assets"))

from make_assets import render  # noqa: E402


def bmp_image(size):
    """A 32-bit DIB as an icon holds it: header, BGRA rows bottom-up, AND mask."""
    pixels = render(size)
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0, 0, 0, 0, 0, 0)
    xor = bytearray()
    for y in reversed(range(size)):
        for r, g, b, a in pixels[y * size : (y + 1) * size]:
            xor += bytes((b, g, r, a))
    # AND mask: 1 bit a pixel, 1 = transparent; rows padded to 4 bytes.
    row_bytes = ((size + 31) // 32) * 4
    mask = bytearray()
    for y in reversed(range(size)):
        row = bytearray(row_bytes)
        for x in range(size):
            if pixels[y * size + x][3] == 0:
                row[x // 8] |= 0x80 >> (x % 8)
        mask += row
    return header + bytes(xor) + bytes(mask)


def main():
    with open(os.path.join(ROOT, "assets", "icon.png"), "rb") as f:
        png256 = f.read()
    images = [(16, bmp_image(16)), (32, bmp_image(32)), (48, bmp_image(48)), (256, png256)]
    out = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    for size, data in images:
        dim = 0 if size == 256 else size
        out += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    out += b"".join(data for _, data in images)
    with open(os.path.join(HERE, "lanchat.ico"), "wb") as f:
        f.write(out)


if __name__ == "__main__":
    main()

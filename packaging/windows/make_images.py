#!/usr/bin/env python3
"""Writes the Windows installer's images with nothing but the Python
standard library.

Run from the crate root:

    python3 packaging/windows/make_images.py

lanchat.ico, the icon (installer, uninstaller, shortcuts): four images, drawn from the same geometry as assets/icon.png by
assets/make_assets.py (each size rendered, not downscaled, so 16x16 stays
crisp): 16, 32 and 48 as 32-bit BMPs with an AND mask (what every Windows
version and NSIS read), 256 as PNG (Vista and later), which is
assets/icon.png itself.

wizard.bmp, the picture on the installer's first and last pages (164x314,
24-bit, as NSIS's Modern UI wants): the icon on a light blue panel.

The output is deterministic.
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


def wizard_bmp(width=164, height=314, icon=96, top=72, background=(232, 240, 252)):
    """A 24-bit bottom-up BMP: the icon drawn over a plain panel."""
    pixels = render(icon)
    left = (width - icon) // 2
    rows = []
    for y in range(height):
        row = bytearray()
        for x in range(width):
            r, g, b = background
            ix, iy = x - left, y - top
            if 0 <= ix < icon and 0 <= iy < icon:
                pr, pg, pb, pa = pixels[iy * icon + ix]
                r = round((pr * pa + r * (255 - pa)) / 255)
                g = round((pg * pa + g * (255 - pa)) / 255)
                b = round((pb * pa + b * (255 - pa)) / 255)
            row += bytes((b, g, r))
        row += bytes(-len(row) % 4)
        rows.append(bytes(row))
    data = b"".join(reversed(rows))
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(data), 2835, 2835, 0, 0)
    head = struct.pack("<2sIHHI", b"BM", 14 + len(info) + len(data), 0, 0, 14 + len(info))
    return head + info + data


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
    with open(os.path.join(HERE, "wizard.bmp"), "wb") as f:
        f.write(wizard_bmp())


if __name__ == "__main__":
    main()

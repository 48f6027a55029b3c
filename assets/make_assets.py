#!/usr/bin/env python3
"""Regenerates lanchat's binary assets with nothing but the Python standard library.

Run from the crate root:

    python3 assets/make_assets.py

It (re)writes, deterministically:

- assets/icon.png, assets/icon-48.png: the application icon (a blue speech bubble
  with three white dots), RGBA PNG, for the desktop entry and the window;
- assets/tray-22.argb, -32, -48, -64: the same icon as raw ARGB32 pixmaps
  (network byte order, not premultiplied, width*height*4 bytes, no header),
  which is what a StatusNotifierItem sends over D-Bus; src/desktop/tray.rs
  include_bytes!()s them and draws the unread badge on top at run time;
- assets/beep.wav: a short two-tone chime, 16-bit PCM mono 22050 Hz.

The icon is rendered at each size from its geometry (4x4 supersampling), not
downscaled, so the small tray sizes stay crisp.
"""

import math
import os
import struct
import wave
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

BLUE = (30, 110, 230)
WHITE = (255, 255, 255)

# Geometry on a 256x256 canvas.
BODY = (16, 24, 240, 192)  # rounded rectangle: left, top, right, bottom
RADIUS = 52
TAIL = ((52, 180), (116, 180), (36, 240))  # triangle below the body, to the left
DOTS = [(72, 108), (128, 108), (184, 108)]
DOT_R = 20


def in_round_rect(x, y):
    l, t, r, b = BODY
    if x < l or x > r or y < t or y > b:
        return False
    cx = min(max(x, l + RADIUS), r - RADIUS)
    cy = min(max(y, t + RADIUS), b - RADIUS)
    return (x - cx) ** 2 + (y - cy) ** 2 <= RADIUS**2


def in_triangle(x, y):
    (x1, y1), (x2, y2), (x3, y3) = TAIL

    def side(ax, ay, bx, by):
        return (x - bx) * (ay - by) - (ax - bx) * (y - by)

    d1 = side(x1, y1, x2, y2)
    d2 = side(x2, y2, x3, y3)
    d3 = side(x3, y3, x1, y1)
    has_neg = d1 < 0 or d2 < 0 or d3 < 0
    has_pos = d1 > 0 or d2 > 0 or d3 > 0
    return not (has_neg and has_pos)


def in_dot(x, y):
    return any((x - dx) ** 2 + (y - dy) ** 2 <= DOT_R**2 for dx, dy in DOTS)


def render(size, ss=4):
    """Returns size*size (r, g, b, a) tuples, straight alpha."""
    scale = 256.0 / size
    pixels = []
    for py in range(size):
        for px in range(size):
            body = dot = 0
            for sy in range(ss):
                for sx in range(ss):
                    x = (px + (sx + 0.5) / ss) * scale
                    y = (py + (sy + 0.5) / ss) * scale
                    if in_dot(x, y):
                        dot += 1
                    elif in_round_rect(x, y) or in_triangle(x, y):
                        body += 1
            n = ss * ss
            covered = body + dot
            if covered == 0:
                pixels.append((0, 0, 0, 0))
                continue
            # Colour is the coverage-weighted mix of blue and white; alpha the coverage.
            rgb = tuple(round((BLUE[i] * body + WHITE[i] * dot) / covered) for i in range(3))
            pixels.append(rgb + (round(255 * covered / n),))
    return pixels


def write_png(path, size, pixels):
    raw = bytearray()
    for y in range(size):
        raw.append(0)  # filter: none
        for r, g, b, a in pixels[y * size : (y + 1) * size]:
            raw += bytes((r, g, b, a))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    png += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def write_argb(path, pixels):
    with open(path, "wb") as f:
        f.write(b"".join(bytes((a, r, g, b)) for r, g, b, a in pixels))


def write_beep(path):
    rate = 22050
    total = 0.30
    n = int(rate * total)
    # Two bell-like tones a fourth apart (G5 then C6), the second starting as the
    # first decays; each a sine with a soft octave partial and an exponential decay.
    tones = [(783.99, 0.00, 0.22), (1046.50, 0.10, 0.20)]
    samples = []
    for i in range(n):
        t = i / rate
        v = 0.0
        for freq, start, length in tones:
            u = t - start
            if u < 0 or u > length:
                continue
            attack = min(1.0, u / 0.004)
            release = min(1.0, (length - u) / 0.02)
            env = attack * release * math.exp(-u * 14.0)
            v += env * (math.sin(2 * math.pi * freq * u) + 0.25 * math.sin(4 * math.pi * freq * u))
        samples.append(max(-32767, min(32767, round(v * 0.42 * 32767))))
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack("<%dh" % len(samples), *samples))


def main():
    write_png(os.path.join(HERE, "icon.png"), 256, render(256))
    write_png(os.path.join(HERE, "icon-48.png"), 48, render(48))
    for size in (22, 32, 48, 64):
        write_argb(os.path.join(HERE, "tray-%d.argb" % size), render(size))
    write_beep(os.path.join(HERE, "beep.wav"))


if __name__ == "__main__":
    main()

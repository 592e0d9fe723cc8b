"""Short moving sequences made from still images, for training filters of P and B pictures.

The project's only training content is still images (the clips are CTC test content, held out),
so an inter-coded training sequence is a window that pans over an image at a constant sub-pixel
velocity with a slow zoom, resampled with Pillow's bicubic filter. Each image's motion comes
from a hash of its name, so the sequences (and the dataset built from them) are reproducible.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from .yuv import rgb_to_ycbcr420

FRAMES = 9  # a whole RA GOP of 8 after the intra picture (every temporal layer), or LDP 1 + 8
WINDOW = (256, 192)  # at most this size (width, height): a CPU-sized training sequence
MARGIN = 24  # pixels kept around the window for the motion
MAX_SPEED = 2.75  # pixels per frame in x and y
MAX_ZOOM = 0.004  # relative scale change per frame


def window(width: int, height: int) -> tuple[int, int]:
    """The sequence size for an image of width x height (multiples of 8; 0 if too small)."""
    w = min(WINDOW[0], (width - 2 * MARGIN) // 8 * 8)
    h = min(WINDOW[1], (height - 2 * MARGIN) // 8 * 8)
    return max(w, 0), max(h, 0)


def motion(name: str) -> tuple[float, float, float]:
    """(x velocity, y velocity, zoom per frame) of the sequence made from image ``name``."""
    seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    vx, vy = rng.uniform(-MAX_SPEED, MAX_SPEED, 2)
    return float(vx), float(vy), float(rng.uniform(-MAX_ZOOM, MAX_ZOOM))


def moving_frames(
    path: Path, name: str, width: int, height: int, n: int = FRAMES
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``n`` I420 frames of width x height: the window centred on the image at the middle
    frame, moving by ``motion(name)``."""
    from PIL import Image

    vx, vy, zoom = motion(name)
    with Image.open(path) as im:
        grey = im.mode in ("L", "I;16", "I", "1")
        img = im.convert("L" if grey else "RGB")
    iw, ih = img.size
    out = []
    for t in range(n):
        k = t - (n - 1) / 2.0
        s = (1.0 + zoom) ** k
        cx, cy = iw / 2.0 + vx * k, ih / 2.0 + vy * k
        # output (x, y) samples the image at (cx + s (x - width/2), cy + s (y - height/2))
        data = (s, 0.0, cx - s * width / 2.0, 0.0, s, cy - s * height / 2.0)
        a = np.asarray(
            img.transform((width, height), Image.AFFINE, data, resample=Image.BICUBIC),
            dtype=np.float64,
        )
        if grey:
            y = np.clip(np.floor(16.0 + 219.0 * a / 255.0 + 0.5), 0, 255).astype(np.uint8)
            c = np.full((height // 2, width // 2), 128, np.uint8)
            out.append((y, c, c.copy()))
        else:
            out.append(rgb_to_ycbcr420(a))
    return out

"""Helpers for the CTC runner tests: small real clips and sequence lists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from cnnfilter.ctc.builtin import rgb_to_i420


def photo_clip(
    path: Path,
    width: int = 128,
    height: int = 96,
    frames: int = 2,
    origin: tuple[int, int] = (160, 180),
) -> Path:
    """A short I420 clip cut from scikit-image's astronaut photograph: each frame is a crop
    panned by 8 pixels (real content, small enough for fast x265 encodes)."""
    import skimage.data

    rgb = np.asarray(skimage.data.astronaut())
    with path.open("wb") as f:
        for i in range(frames):
            y0, x0 = origin[0] + 8 * i, origin[1] + 8 * i
            f.write(rgb_to_i420(rgb[y0 : y0 + height, x0 : x0 + width]))
    return path


def write_list(path: Path, entries: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({"sequences": entries}, sort_keys=False))
    return path


def entry(name: str, clip: Path, width: int, height: int, frames: int, **extra) -> dict:
    return {
        "name": name,
        "path": str(clip),
        "width": width,
        "height": height,
        "fps": 25,
        "frames": frames,
        "class": "T",
        **extra,
    }

"""The built-in default sequence set: real photographs that scikit-image ships in its wheel.

Used when ``cnnfilter ctc run`` gets no ``--sequences``, so that a CTC run works on a fresh
machine with nothing but ``pip install``. Each photograph becomes a one-frame 8-bit I420
sequence in a cache directory (``$CNNFILTER_CACHE``, else ``$XDG_CACHE_HOME/cnnfilter``, else
``~/.cache/cnnfilter``), converted with BT.601 limited-range coefficients (the ones ffmpeg uses
for ``-pix_fmt yuv420p``), chroma averaged over 2x2 blocks, cropped to even dimensions.

These are still pictures, so they measure All-Intra only; the frame rate is set to 1 so that
"kbps" reads as kilobits per picture. BD-rates do not depend on it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..yuv import rgb_to_ycbcr420
from .sequences import Sequence

# Bump when the conversion changes: cached files carry it in their name.
CONVERSION = "bt601-limited-v1"


def _skimage_data():
    try:
        import skimage.data as data
    except ImportError as e:  # a dependency of cnnfilter: its absence is an install problem
        raise UserError(
            "the built-in CTC sequence set needs scikit-image (a dependency of cnnfilter; "
            "reinstall with `pip install cnnfilter`)"
        ) from e
    return data


def _photos() -> dict[str, Callable[[], np.ndarray]]:
    data = _skimage_data()
    # Colour photographs only (grey ones have flat chroma, which makes U/V PSNR meaningless).
    return {
        "astronaut": data.astronaut,  # 512x512, NASA, public domain
        "coffee": data.coffee,  # 600x400, CC0
        "chelsea": data.chelsea,  # 451x300, CC0
        "motorcycle": lambda: data.stereo_motorcycle()[0],  # 741x500, Middlebury 2014
    }


NAMES = ("astronaut", "coffee", "chelsea", "motorcycle")


def cache_dir() -> Path:
    if os.environ.get("CNNFILTER_CACHE"):
        return Path(os.environ["CNNFILTER_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cnnfilter"


def rgb_to_i420(rgb: np.ndarray) -> bytes:
    """8-bit RGB (H, W, 3) to one I420 frame, BT.601 limited range; odd edges are cropped."""
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        raise UserError(f"expected an RGB image, got shape {rgb.shape}")
    h, w = rgb.shape[0] & ~1, rgb.shape[1] & ~1
    return b"".join(p.tobytes() for p in rgb_to_ycbcr420(rgb[:h, :w]))


def builtin_sequences(directory: Path | None = None) -> list[Sequence]:
    """Writes (once) and returns the built-in one-frame sequences."""
    directory = Path(directory) if directory else cache_dir() / "ctc-builtin"
    directory.mkdir(parents=True, exist_ok=True)
    photos = _photos()
    out = []
    for name in NAMES:
        matches = sorted(directory.glob(f"{name}_*x*_{CONVERSION}.yuv"))
        if matches:
            path = matches[0]
            w, h = (int(v) for v in path.stem.split("_")[1].split("x"))
            if path.stat().st_size != w * h * 3 // 2:  # not ours or damaged: make it again
                path.unlink()
                matches = []
        if not matches:
            try:
                rgb = np.asarray(photos[name]())
            except Exception as e:  # e.g. a scikit-image build without its sample data
                raise UserError(
                    f"cannot load scikit-image's sample photograph '{name}': {e}"
                ) from e
            h, w = rgb.shape[0] & ~1, rgb.shape[1] & ~1
            path = directory / f"{name}_{w}x{h}_{CONVERSION}.yuv"
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(rgb_to_i420(rgb))
            os.replace(tmp, path)
        out.append(
            Sequence(
                name=name,
                path=str(path),
                width=w,
                height=h,
                fps=1.0,
                frames=1,
                cls="photo",
                configs=("AI",),
            )
        )
    return out

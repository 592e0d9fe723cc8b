"""PSNR as HM's encoder reports it: per picture and plane, peak 255, then the mean over pictures."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..yuv import read_frames

# HM prints 999.99 dB for a picture plane identical to the source.
PSNR_IDENTICAL = 999.99


def plane_psnr(ref: np.ndarray, dec: np.ndarray, peak: int = 255) -> float:
    if ref.shape != dec.shape:
        raise UserError(f"plane sizes differ: source {ref.shape}, decoded {dec.shape}")
    diff = ref.astype(np.int32) - dec.astype(np.int32)
    sse = float(np.einsum("ij,ij->", diff, diff, dtype=np.int64))
    if sse == 0:
        return PSNR_IDENTICAL
    return 10.0 * math.log10(peak * peak * ref.size / sse)


def psnr_yuv(y: float, u: float, v: float) -> float:
    """The 6:1:1 weighted PSNR of JVET's CTC."""
    return (6.0 * y + u + v) / 8.0


def sequence_psnr(
    source: str | Path,
    decoded: str | Path,
    width: int,
    height: int,
    frames: int,
    skip: int = 0,
) -> list[tuple[float, float, float]]:
    """Per-picture (Y, U, V) PSNR of ``decoded`` (raw I420, ``frames`` pictures) against the
    source frames ``skip`` .. ``skip + frames - 1``."""
    out = []
    src = read_frames(source, width, height, skip=skip, count=frames)
    dec = read_frames(decoded, width, height, skip=0, count=frames)
    for ref_planes, dec_planes in zip(src, dec, strict=True):
        y, u, v = (plane_psnr(r, d) for r, d in zip(ref_planes, dec_planes, strict=True))
        out.append((y, u, v))
    return out

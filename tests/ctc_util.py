"""Helpers for the CTC runner tests: small real clips and sequence lists."""

from __future__ import annotations

import warnings
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


PROBE_WARNING = "probe: validated with onnxruntime 0.0, this is another: outputs may differ"


def register_warning_setting() -> None:
    """Registers the codec setting 'warnprobe': x265 whose setting warns when it is checked and
    at every encode, as a model set made with another onnxruntime does."""
    from cnnfilter.ctc import settings

    if "warnprobe" in settings._REGISTRY:
        return

    def make(arg):
        base = settings.resolve("x265:no-sao")

        def identity(config):
            warnings.warn(PROBE_WARNING, UserWarning, stacklevel=2)
            return base.identity(config)

        def encode(job, bitstream):
            warnings.warn(PROBE_WARNING, UserWarning, stacklevel=2)
            return base.encode(job, bitstream)

        return settings.Setting("warnprobe", identity, encode, base.check)

    settings._REGISTRY["warnprobe"] = settings._Factory(make, "test", "no")
    settings.resolve.cache_clear()


def execute_job_with_probe(task):
    """runner.execute_job in a pool worker that knows the 'warnprobe' setting."""
    from cnnfilter.ctc import runner

    register_warning_setting()
    return runner.execute_job(task)


if __name__ in ("__main__", "__mp_main__"):
    # `python tests/ctc_util.py ARGS`: the cnnfilter command with 'warnprobe' known, in this
    # process and in its pool workers (spawn runs this file again as __mp_main__ in each).
    register_warning_setting()
    if __name__ == "__main__":
        import sys

        from cnnfilter.cli import main

        sys.exit(main(sys.argv[1:]))

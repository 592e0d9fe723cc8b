"""The in-loop CNN as the codec sees it: a model set called once per picture.

The encoder and decoder call ``filter(y, u, v, info)`` with read-only zero-copy views of the
reconstruction before deblocking; it returns the filtered planes (chroma only when the set has
a chroma model). The decoder finds the model set the stream names by the identity in its SEI.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .errors import UserError, safe_text
from .inference import UnitNeed
from .modelset import MANIFEST, ModelSet, default_models_dirs, load_model_set


class LoopFilter:
    """A model set adapted to the codec's per-picture callback; counts its calls, and the plane
    samples the network read in the last call against those it was given (``last_samples``;
    halos count, skipped CTUs do not)."""

    def __init__(self, model_set: ModelSet, regions: bool = True):
        self.model_set = model_set
        self.regions = regions  # False: filter whole pictures even where few CTUs are flagged
        self.calls = 0
        self.last_samples = (0, 0)

    def __call__(self, y: np.ndarray, u: np.ndarray, v: np.ndarray, info: dict):
        ms = self.model_set
        qp, slice_type = int(info["qp"]), str(info["slice_type"])
        side = info.get("side")
        luma_need = chroma_need = None
        if self.regions and "need_luma" in info:  # the decoder: only flagged CTUs are needed
            ctu = int(info["ctu_size"])
            luma_need = UnitNeed(np.asarray(info["need_luma"]), ctu)
            chroma_need = UnitNeed(np.asarray(info["need_chroma"]), ctu // 2)
        self.calls += 1
        before = _sample_counts(ms)
        out_y = ms.filter_luma(y, qp, slice_type, side, luma_need)
        out_u = out_v = None
        if ms.has_chroma and info.get("chroma", False):
            out_u = ms.filter_chroma(u, 1, qp, slice_type, side, chroma_need)
            out_v = ms.filter_chroma(v, 2, qp, slice_type, side, chroma_need)
        after = _sample_counts(ms)
        self.last_samples = (after[0] - before[0], after[1] - before[1])
        return out_y, out_u, out_v


def _sample_counts(ms: ModelSet) -> tuple[int, int]:
    filters = ms.filters.values()
    return sum(f.samples_read for f in filters), sum(f.samples_total for f in filters)


def _manifests(dirs: list[Path]) -> Iterator[Path]:
    for d in dirs:
        if not d.is_dir():
            continue
        yield from sorted(d.glob(f"*/{MANIFEST}"))


def manifest_identity(manifest: Path) -> bytes:
    """A set's identity from its manifest alone (no model is loaded): the sha256 of the
    manifest bytes followed by each model's ONNX sha256 in sorted order, first 16 bytes."""
    import json

    raw = manifest.read_bytes()
    models = json.loads(raw).get("models", {})
    h = hashlib.sha256(raw)
    for key in sorted(models):
        h.update(str(models[key].get("sha256", "")).encode())
    return h.digest()[:16]


class StreamModels:
    """Resolves the model set a stream asks for (by SEI identity) in the models directories."""

    def __init__(self, models_dir: str | os.PathLike | None = None, regions: bool = True):
        self.dirs = default_models_dirs(models_dir)
        self.regions = regions
        self._loaded: dict[bytes, LoopFilter] = {}
        self.notes: list[str] = []  # said once per set, e.g. an onnxruntime version difference
        self.last_samples = (0, 0)  # samples the CNN read, of all, in the last picture
        self._said: set[tuple[int, str]] = set()

    def filter_for(self, identity: bytes, inference_mode: str) -> LoopFilter:
        if identity in self._loaded:
            return self._loaded[identity]
        for manifest in _manifests(self.dirs):
            if manifest_identity(manifest) == identity:
                ms = load_model_set(manifest.parent)  # verifies every ONNX sha256
                here, there = _mode_fields(ms.inference_mode), _mode_fields(inference_mode)
                version = (here.pop("ort", None), there.pop("ort", None))
                if here != there:
                    raise UserError(
                        f"model set '{safe_text(ms.name)}' runs as '{ms.inference_mode}' here, "
                        f"but the stream was encoded with '{safe_text(inference_mode)}': the CNN "
                        "output would not match the encoder's (use the same inference settings)"
                    )
                if version[0] != version[1]:
                    # Not refused: another onnxruntime version usually gives the same bits, and
                    # the pictures' MD5 SEI decides (docs/models.md, "onnxruntime versions").
                    self.notes.append(
                        f"model set '{safe_text(ms.name)}': the stream was encoded with "
                        f"onnxruntime {safe_text(str(version[1]))}, this is {version[0]}; the MD5 "
                        "SEI checks the output"
                    )
                self._loaded[identity] = LoopFilter(ms, self.regions)
                return self._loaded[identity]
        searched = ", ".join(str(d) for d in self.dirs)
        raise FileNotFoundError(
            f"the stream was encoded with model set {identity.hex()} (inference mode "
            f"'{safe_text(inference_mode)}'); no model set in {searched} has that identity: get "
            "the model set the stream was encoded with (`cnnfilter filter --cnn SET` prints a "
            "set's identity) and give its folder with --models"
        )

    def __call__(self, y: np.ndarray, u: np.ndarray, v: np.ndarray, info: dict):
        f = self.filter_for(info["identity"], info["inference_mode"])
        out = f(y, u, v, info)
        self.last_samples = f.last_samples
        for key, flt in sorted(f.model_set.filters.items()):
            # checked on the first picture that could use regions (OnnxFilter.regions_exact)
            if flt.regions_checked is False and (id(flt), key) not in self._said:
                self._said.add((id(flt), key))
                self.notes.append(
                    f"model set '{safe_text(f.model_set.name)}', model '{safe_text(key)}': this "
                    "onnxruntime does not give a region the whole picture's output bit for bit, "
                    "so the decoder filters whole pictures"
                )
        return out


def _mode_fields(mode: str) -> dict[str, str]:
    """'cpu;ort=1.31.1;threads=1;...' -> {'provider': 'cpu', 'ort': '1.31.1', 'threads': '1'}."""
    parts = mode.split(";")
    fields = {"provider": parts[0]}
    for part in parts[1:]:
        key, _, value = part.partition("=")
        fields[key] = value
    return fields


def resolve(cnn: str | os.PathLike | ModelSet) -> ModelSet:
    """A ModelSet from an object, a shipped set name or a path. An object that is not a path but
    has what the codec uses of a ModelSet (name, identity, inference_mode, has_chroma,
    filters, filter_luma; filter_chroma too when has_chroma) is used as it is, e.g. the
    dataset builder's pre-deblocking recorder."""
    if isinstance(cnn, ModelSet):
        return cnn
    if not isinstance(cnn, (str, os.PathLike)) and all(
        hasattr(cnn, a)
        for a in ("name", "identity", "inference_mode", "has_chroma", "filters", "filter_luma")
    ):
        return cnn
    return load_model_set(cnn)


__all__ = ["LoopFilter", "StreamModels", "manifest_identity", "resolve"]

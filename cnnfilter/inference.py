"""Deterministic ONNX Runtime inference of one filter model on one 8-bit plane.

Deterministic by default: CPU execution provider, a fixed intra-op thread count (1), one
inter-op thread, sequential execution and a pinned graph optimisation level (``disable_all``).
Measured here with onnxruntime 1.31.1 (see ``docs/models.md``): the thread count did not change
any output bit, the optimisation level did (fused Conv+ReLU kernels round differently), so both
are pinned and recorded in the model set. The output is rounded to integer samples and clipped
to 8 bits.

The CUDA provider is used only when asked for (``provider="cuda"`` or ``"auto"``) and
``onnxruntime-gpu`` with a GPU is present. It is **not bit-exact with the CPU provider**, so a
bitstream whose in-loop filter ran on a GPU may not decode identically on a CPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import UserError
from .units import Region, plan_regions

try:
    import onnxruntime as ort
except ImportError as e:  # pragma: no cover - onnxruntime is a core dependency
    raise ImportError("cnnfilter.inference needs onnxruntime: pip install onnxruntime") from e

GRAPH_OPT_LEVELS = {
    "disable_all": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}
PROVIDERS = ("cpu", "cuda", "auto")

CARD_FORMAT = "cnnfilter-modelcard/1"
SLICE_TYPES = ("I", "P", "B")
# Side-information planes the codec hands a filter (hevc/cnn_side.h; docs/models.md, "Side
# information"), with the default scale that maps each to about [0, 1]: QpY per sample,
# prediction mode (0 intra, 1 inter, 2 skip), transform-block boundary (0/1), deblocking boundary
# strength (0..2), the prediction signal, and the residual offset by 128.
SIDE_INPUTS = {
    "qp_map": 51.0,
    "mode": 2.0,
    "boundary": 1.0,
    "bs": 2.0,
    "pred": 255.0,
    "resid": 255.0,
}


@dataclass(frozen=True)
class InferenceSettings:
    """How a model set runs; part of its definition (tiling changes the output)."""

    provider: str = "cpu"
    threads: int = 1
    graph_optimization: str = "disable_all"
    tile: int = 0  # 0 = whole frame; else the core size of square tiles
    tile_overlap: int = 0  # context samples read around each tile core

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise UserError(f"provider '{self.provider}': use one of {', '.join(PROVIDERS)}")
        if self.graph_optimization not in GRAPH_OPT_LEVELS:
            raise UserError(
                f"graph optimisation '{self.graph_optimization}': use one of "
                + ", ".join(GRAPH_OPT_LEVELS)
            )
        if self.threads < 1:
            raise UserError(f"threads must be >= 1, got {self.threads}")
        if self.tile < 0 or self.tile_overlap < 0:
            raise UserError("tile and tile_overlap must be >= 0")
        if self.tile and self.tile < 16:
            raise UserError(f"tile {self.tile} is too small (use 0 for whole frames or >= 16)")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InferenceSettings:
        known = {"provider", "threads", "graph_optimization", "tile", "tile_overlap"}
        return cls(**{k: v for k, v in d.items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "threads": self.threads,
            "graph_optimization": self.graph_optimization,
            "tile": self.tile,
            "tile_overlap": self.tile_overlap,
        }

    def resolved_provider(self) -> str:
        """'cpu' or 'cuda': the provider that will actually run."""
        cuda = "CUDAExecutionProvider" in ort.get_available_providers()
        if self.provider == "cuda" and not cuda:
            raise UserError(
                "provider 'cuda' asked for, but onnxruntime has no CUDAExecutionProvider "
                "(install onnxruntime-gpu on a machine with an NVIDIA GPU, or use 'cpu')"
            )
        if self.provider == "auto":
            return "cuda" if cuda else "cpu"
        return self.provider

    def mode_string(self) -> str:
        tile = f"{self.tile}+{self.tile_overlap}" if self.tile else "0"
        return (
            f"{self.resolved_provider()};ort={ort.__version__};threads={self.threads};"
            f"opt={self.graph_optimization};tile={tile}"
        )


@dataclass(frozen=True)
class ModelCard:
    """The parts of a model card (JSON) that inference needs; ``raw`` keeps the whole card."""

    name: str
    onnx: str
    sha256: str
    component: str  # "luma" or "chroma"
    x_scale: float
    qp_scale: float | None  # None: the model has no QP input
    output: str  # "image" or "residual"
    pad_multiple: int
    qp_range: tuple[int, int]
    trained_qps: tuple[int, ...]
    slice_types: tuple[str, ...]
    side: tuple[tuple[str, float], ...] = ()  # side-information inputs and their scales
    # Samples of context on each side that one output sample depends on (None: undeclared, as
    # for a network with global pooling); lets the decoder filter only the flagged CTUs.
    receptive_field: int | None = None
    raw: dict[str, Any] = field(repr=False, compare=False, hash=False, default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "model card") -> ModelCard:
        if not isinstance(d, dict):
            raise UserError(f"{where}: a model card must be a JSON object")
        try:
            return cls._from_dict(d, where)
        except (TypeError, AttributeError, KeyError) as e:
            # A field of the wrong JSON type (a list where an object belongs, ...).
            raise UserError(f"{where}: malformed card ({type(e).__name__}: {e})") from None

    @classmethod
    def _from_dict(cls, d: dict[str, Any], where: str) -> ModelCard:
        def need(key: str) -> Any:
            if key not in d:
                raise UserError(f"{where}: missing required field '{key}'")
            return d[key]

        if need("format") != CARD_FORMAT:
            raise UserError(f"{where}: format must be '{CARD_FORMAT}', got '{d['format']}'")
        inputs = need("inputs")
        if not isinstance(inputs, dict) or "x" not in inputs:
            raise UserError(f"{where}: 'inputs' must name the picture input 'x' (and maybe 'qp')")
        extra = set(inputs) - {"x", "qp", *SIDE_INPUTS}
        if extra:
            allowed = ", ".join(["x", "qp", *SIDE_INPUTS])
            raise UserError(f"{where}: unknown inputs {sorted(extra)}; allowed are {allowed}")
        output = need("output")
        if output not in ("image", "residual"):
            raise UserError(f"{where}: output must be 'image' or 'residual', got '{output}'")
        component = d.get("component", "luma")
        if component not in ("luma", "chroma"):
            raise UserError(f"{where}: component must be 'luma' or 'chroma', got '{component}'")
        qp_range = tuple(int(v) for v in need("qp_range"))
        if len(qp_range) != 2 or not 0 <= qp_range[0] <= qp_range[1] <= 51:
            raise UserError(f"{where}: qp_range must be [lo, hi] within 0..51, got {qp_range}")
        slice_types = tuple(need("slice_types"))
        bad = [s for s in slice_types if s not in SLICE_TYPES]
        if bad or not slice_types:
            raise UserError(f"{where}: slice_types must be a non-empty subset of I, P, B")
        pad = int(d.get("pad_multiple", 1))
        if pad < 1:
            raise UserError(f"{where}: pad_multiple must be >= 1")
        rf = d.get("receptive_field")
        if rf is not None and (isinstance(rf, bool) or not isinstance(rf, int) or rf < 0):
            raise UserError(f"{where}: receptive_field must be an integer >= 0, got {rf!r}")
        qp_in = inputs.get("qp")
        return cls(
            name=str(need("name")),
            onnx=str(need("onnx")),
            sha256=str(need("sha256")),
            component=component,
            x_scale=float(inputs["x"].get("scale", 255.0)),
            qp_scale=None if qp_in is None else float(qp_in.get("scale", 51.0)),
            output=output,
            pad_multiple=pad,
            qp_range=(qp_range[0], qp_range[1]),
            trained_qps=tuple(int(q) for q in d.get("trained_qps", [])),
            slice_types=slice_types,
            side=tuple(
                (k, float(inputs[k].get("scale", SIDE_INPUTS[k])))
                for k in SIDE_INPUTS
                if k in inputs
            ),
            receptive_field=rf,
            raw=dict(d),
        )


def _check_plane_input(path: Path, name: str, type_: str, shape: list) -> None:
    """Refuses at load time an input that cannot take a (1, 1, H, W) float plane of any size."""
    if type_ != "tensor(float)":
        raise UserError(f"{path}: input '{name}' is {type_}; a filter takes tensor(float)")
    if len(shape) != 4:
        raise UserError(
            f"{path}: input '{name}' has {len(shape)} dimensions; a filter takes (N, 1, H, W)"
        )
    if isinstance(shape[1], int) and shape[1] != 1:
        raise UserError(f"{path}: input '{name}' has {shape[1]} channels; a filter takes 1")
    fixed = [d for d in shape[2:] if isinstance(d, int)]
    if fixed:
        raise UserError(
            f"{path}: input '{name}' has a fixed size {shape[2]}x{shape[3]}; export it with "
            "dynamic height and width (docs/models.md)"
        )


def round_to_8bit(samples: np.ndarray) -> np.ndarray:
    """floor(v + 0.5) clipped to 0..255: the contract's rounding of a filtered plane."""
    return np.clip(np.floor(samples + 0.5), 0, 255).astype(np.uint8)


def _tiles(n: int, core: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """(read_start, read_end, core_start, core_end) intervals covering 0..n."""
    if core <= 0 or n <= core:
        return [(0, n, 0, n)]
    out = []
    for c0 in range(0, n, core):
        c1 = min(c0 + core, n)
        out.append((max(0, c0 - overlap), min(n, c1 + overlap), c0, c1))
    return out


@dataclass(frozen=True)
class UnitNeed:
    """Which CTUs of a plane take the CNN output: ``flags`` (CTU rows, CTU columns), nonzero
    where flagged, and ``ctu`` the CTU size in this plane's samples."""

    flags: np.ndarray
    ctu: int

    def covers(self, y0: int, y1: int, x0: int, x1: int) -> bool:
        """Whether the region [y0, y1) x [x0, x1) overlaps a flagged CTU."""
        c = self.ctu
        return bool(self.flags[y0 // c : -(-y1 // c), x0 // c : -(-x1 // c)].any())


class OnnxFilter:
    """One ONNX model with its card and a session that is created once and reused. Counts the
    inference units (tiles; the whole frame when untiled) it ran and skipped."""

    def __init__(self, onnx_path: str | Path, card: ModelCard, settings: InferenceSettings):
        self.path = Path(onnx_path)
        self.card = card
        self.settings = settings
        self.samples_read = self.samples_total = 0  # plane samples the CNN read, of all
        self.regions_checked: bool | None = None  # regions_exact()'s answer, once asked
        so = ort.SessionOptions()
        so.intra_op_num_threads = settings.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = GRAPH_OPT_LEVELS[settings.graph_optimization]
        so.log_severity_level = 3
        # Busy-waiting worker threads only burn CPU; they do not change results.
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        provider = settings.resolved_provider()
        providers = (
            ["CUDAExecutionProvider", "CPUExecutionProvider"]
            if provider == "cuda"
            else ["CPUExecutionProvider"]
        )
        try:
            self.session = ort.InferenceSession(str(self.path), so, providers=providers)
        except Exception as e:  # onnxruntime raises its own exception types
            raise UserError(f"{self.path}: onnxruntime cannot load this model: {e}") from e
        names = [i.name for i in self.session.get_inputs()]
        want = ["x"] + (["qp"] if card.qp_scale is not None else []) + [k for k, _ in card.side]
        if sorted(names) != sorted(want):
            raise UserError(
                f"{self.path}: the ONNX inputs are {names}, but its card declares {want}"
            )
        for i in self.session.get_inputs():
            _check_plane_input(self.path, i.name, i.type, i.shape)
        outs = self.session.get_outputs()
        if len(outs) != 1:
            raise UserError(f"{self.path}: the model must have exactly one output, has {len(outs)}")
        self._out_name = outs[0].name

    def _run_region(self, x: np.ndarray, qp: int, side: dict[str, np.ndarray]) -> np.ndarray:
        """x: float32 (h, w) normalised, side: the normalised side planes of the same region;
        returns the float32 (h, w) model output."""
        h, w = x.shape
        m = self.card.pad_multiple
        ph, pw = math.ceil(h / m) * m - h, math.ceil(w / m) * m - w

        def prepare(a: np.ndarray) -> np.ndarray:
            if ph or pw:
                a = np.pad(a, ((0, ph), (0, pw)), mode="edge")
            return np.ascontiguousarray(a[None, None])

        feed = {"x": prepare(x)}
        if self.card.qp_scale is not None:
            feed["qp"] = np.full_like(feed["x"], np.float32(qp / self.card.qp_scale))
        for name, plane in side.items():
            feed[name] = prepare(plane)
        try:
            out = self.session.run([self._out_name], feed)[0]
        except Exception as e:  # onnxruntime's own exception types
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise UserError(
                f"{self.path}: onnxruntime failed on a {h}x{w} plane: {first}"
            ) from None
        if out.shape != feed["x"].shape:
            raise UserError(
                f"{self.path}: output shape {out.shape} differs from input shape {feed['x'].shape}"
            )
        return out[0, 0, :h, :w]

    def _side_planes(
        self, side: dict[str, np.ndarray] | None, shape: tuple[int, int]
    ) -> dict[str, np.ndarray]:
        """The normalised side planes the model takes, at the plane's size (chroma models get
        every second sample of the luma-sized planes)."""
        if not self.card.side:
            return {}
        names = [k for k, _ in self.card.side]
        if side is None:
            raise UserError(
                f"{self.path}: the model takes side information ({', '.join(names)}), which only "
                "the codec provides: use it in the loop (encode --cnn, decode), not as a filter "
                "of finished pictures"
            )
        out = {}
        for name, scale in self.card.side:
            a = np.asarray(side[name])
            if a.shape != shape:
                a = a[::2, ::2][: shape[0], : shape[1]]
            out[name] = (a.astype(np.float32) / np.float32(scale)).astype(np.float32)
        return out

    def run_float(
        self,
        plane: np.ndarray,
        qp: int,
        side: dict[str, np.ndarray] | None = None,
        need: UnitNeed | None = None,
    ) -> np.ndarray:
        """The filtered plane in sample units (float64), before rounding. ``side`` holds the
        codec's luma-sized side planes (``SIDE_INPUTS``) for models that take them. With
        ``need`` (the decoder's CTU flags), tiles whose core covers no flagged CTU are not run:
        their samples are the input's, which the codec never uses."""
        plane = np.asarray(plane)
        if plane.dtype != np.uint8 or plane.ndim != 2:
            raise UserError(f"expected a uint8 (H, W) plane, got {plane.dtype} {plane.shape}")
        if not 0 <= int(qp) <= 51:
            raise UserError(f"QP {qp} is outside 0..51")
        scale = self.card.x_scale
        x = (plane.astype(np.float32) / np.float32(scale)).astype(np.float32)
        h, w = plane.shape
        sides = self._side_planes(side, (h, w))
        out = np.zeros((h, w), np.float64)  # zeros: samples no unit covers are set last
        covered = np.zeros((h, w), bool)
        self.samples_total += h * w
        for ry0, ry1, rx0, rx1, cy0, cy1, cx0, cx1 in self._units(h, w, need):
            self.samples_read += (ry1 - ry0) * (rx1 - rx0)
            region = {k: v[ry0:ry1, rx0:rx1] for k, v in sides.items()}
            r = self._run_region(x[ry0:ry1, rx0:rx1], int(qp), region)
            out[cy0:cy1, cx0:cx1] = r[cy0 - ry0 : cy1 - ry0, cx0 - rx0 : cx1 - rx0]
            covered[cy0:cy1, cx0:cx1] = True
        out *= scale
        if self.card.output == "residual":
            out += plane
        # Samples no unit covers are never used by the codec: they keep the input's value.
        out[~covered] = plane[~covered]
        return out

    def _units(
        self, h: int, w: int, need: UnitNeed | None
    ) -> list[tuple[int, int, int, int, int, int, int, int]]:
        """The inference units of an (h, w) plane, as (read rows, read columns, core rows, core
        columns): the set's tiles (those covering a flagged CTU when ``need`` is given), or,
        for a whole-picture set whose card declares its receptive field, the regions around
        the flagged CTUs (``cnnfilter.units``), or the whole picture."""
        s = self.settings
        if s.tile:
            units = [
                (ry0, ry1, rx0, rx1, cy0, cy1, cx0, cx1)
                for ry0, ry1, cy0, cy1 in _tiles(h, s.tile, s.tile_overlap)
                for rx0, rx1, cx0, cx1 in _tiles(w, s.tile, s.tile_overlap)
            ]
            if need is None:
                return units
            return [u for u in units if need.covers(*u[4:])]
        halo, m = self.card.receptive_field, self.card.pad_multiple
        plan = None
        if need is not None and halo is not None:
            plan = plan_regions(need.flags, need.ctu, h, w, halo, m)
        if plan is None or not self.regions_exact():
            return [(0, h, 0, w, 0, h, 0, w)]
        return [(*r.read(halo, m, h, w), r.y0, r.y1, r.x0, r.x1) for r in plan]

    def regions_exact(self) -> bool:
        """Whether regions read with the receptive-field halo get the whole picture's samples
        from this runtime, bit for bit. True in exact arithmetic; in floating point it holds
        when the convolutions sum in the same order wherever a sample lies, which is checked
        once per session on a random picture: an interior core and the two corners."""
        if self.settings.tile or self.card.receptive_field is None:
            return True  # nothing to check: tiles are cut alike everywhere, and no regions
        if self.regions_checked is None:
            halo, m = self.card.receptive_field, self.card.pad_multiple
            h, w = 4 * halo + 3 * 16 + 1, 6 * halo + 5 * 16 + 1  # odd: the padded edges too
            rng = np.random.default_rng(0)
            x = rng.random((h, w), dtype=np.float32)
            sides = {k: rng.random((h, w), dtype=np.float32) for k, _ in self.card.side}
            whole = self._run_region(x, 32, sides)
            self.regions_checked = True
            for core in (
                Region(0, 2 * m, 0, 4 * m),
                Region(halo + 2 * m, halo + 10 * m, halo + 4 * m, halo + 20 * m),
                Region(h - 3 * m, h, w - 5 * m, w),
            ):
                ry0, ry1, rx0, rx1 = core.read(halo, m, h, w)
                r = self._run_region(
                    x[ry0:ry1, rx0:rx1], 32, {k: v[ry0:ry1, rx0:rx1] for k, v in sides.items()}
                )
                a = r[core.y0 - ry0 : core.y1 - ry0, core.x0 - rx0 : core.x1 - rx0]
                if not np.array_equal(a, whole[core.y0 : core.y1, core.x0 : core.x1]):
                    self.regions_checked = False
        return self.regions_checked

    def filter_plane(
        self,
        plane: np.ndarray,
        qp: int,
        side: dict[str, np.ndarray] | None = None,
        need: UnitNeed | None = None,
    ) -> np.ndarray:
        """uint8 (H, W) -> uint8 (H, W): the filtered plane, rounded and clipped to 8 bits."""
        return round_to_8bit(self.run_float(plane, qp, side, need))

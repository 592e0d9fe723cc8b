"""Export a trained network to ONNX with its model card (needs the ``train`` extra)."""

from __future__ import annotations

import inspect
import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .errors import UserError
from .inference import CARD_FORMAT, SIDE_INPUTS, InferenceSettings, ModelCard, OnnxFilter
from .models import count_params, get_arch, require_torch
from .modelset import sha256_file
from .outputs import atomic_output

DEFAULT_OPSET = 17


def synthetic_picture(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A deterministic picture-like uint8 plane (smooth gradients, edges and noise)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = 128 + 60 * np.sin(xx / 7.0) * np.cos(yy / 11.0) + 30 * ((xx // 16 + yy // 16) % 2)
    img += rng.normal(0, 12, (h, w))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def onnx_bytes(
    model: Any, qp_input: bool, opset: int = DEFAULT_OPSET, side: tuple[str, ...] = ()
) -> bytes:
    """ONNX bytes of a folded eval-mode model: inputs 'x' (and 'qp', then the side planes
    ``side``), output 'out', dynamic N/H/W, IR version set to the lowest that the opset needs
    (onnxruntime refuses newer IR versions)."""
    torch = require_torch()
    import onnx
    from onnx import helper

    if opset < 17:
        raise UserError(f"opset {opset}: the contract needs opset 17 or newer")
    model = model.eval()
    names = (["x", "qp"] if qp_input else ["x"]) + list(side)
    dummy = tuple(torch.full((1, 1, 64, 64), 0.5) for _ in names)
    axes = {n: {0: "n", 2: "h", 3: "w"} for n in [*names, "out"]}
    kwargs: dict[str, Any] = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # the TorchScript exporter needs no onnxscript
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            dummy,
            buf,
            input_names=names,
            output_names=["out"],
            dynamic_axes=axes,
            opset_version=opset,
            do_constant_folding=True,
            **kwargs,
        )
    proto = onnx.load_from_string(buf.getvalue())
    proto.ir_version = helper.find_min_ir_version_for(list(proto.opset_import))
    proto.doc_string = ""
    onnx.checker.check_model(proto)
    ops = {n.op_type for n in proto.graph.node}
    if "BatchNormalization" in ops:
        raise UserError("export: a BatchNormalization node survived folding")
    return proto.SerializeToString()


def torch_reference(
    model: Any,
    plane: np.ndarray,
    qp: int,
    pad_multiple: int,
    side: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """The PyTorch output for one uint8 plane, in sample units before rounding (edge padding
    to the pad multiple, exactly as the ONNX runtime path does). ``side``: the plane's
    side-information planes (uint8, ``SIDE_INPUTS`` names) in the model's input order."""
    torch = require_torch()
    h, w = plane.shape
    ph, pw = -h % pad_multiple, -w % pad_multiple

    def tensor(a: np.ndarray, scale: float) -> Any:
        x = (np.asarray(a).astype(np.float32) / np.float32(scale)).astype(np.float32)
        x = np.pad(x, ((0, ph), (0, pw)), mode="edge")
        return torch.from_numpy(np.ascontiguousarray(x))[None, None]

    t = tensor(plane, 255.0)
    planes = [tensor(a, SIDE_INPUTS[n]) for n, a in (side or {}).items()]
    with torch.no_grad():
        if getattr(model, "qp_input", False):
            out = model(t, torch.full_like(t, qp / 51.0), *planes)
        else:
            out = model(t, *planes)
    return out[0, 0, :h, :w].double().numpy() * 255.0


def synthetic_side(h: int, w: int, names: list[str], seed: int = 0) -> dict[str, np.ndarray]:
    """Side-information planes of the codec's value ranges, for export checks."""
    rng = np.random.default_rng(seed)
    return {n: rng.integers(0, int(SIDE_INPUTS[n]) + 1, (h, w)).astype(np.uint8) for n in names}


def export_model(
    model: Any,
    arch: str,
    out: str | Path,
    *,
    qp_range: tuple[int, int],
    trained_qps: list[int],
    slice_types: list[str],
    training: dict[str, Any] | None = None,
    validation: dict[str, Any] | None = None,
    development_artefact: bool = False,
    notes: str = "",
    opset: int = DEFAULT_OPSET,
    side: list[str] | None = None,
) -> tuple[Path, Path]:
    """Writes ``out`` (.onnx) and its card (same stem, .json); checks that onnxruntime gives the
    PyTorch output within 1e-4 (in [0, 1] units) before rounding. Returns both paths. ``side``:
    the side-information planes the model takes after x (and qp), declared on the card."""
    from .models.common import fold_for_export, macs_per_pixel

    info = get_arch(arch)
    out = Path(out)
    if out.suffix != ".onnx":
        raise UserError(f"{out}: the output file must end in .onnx")
    out.parent.mkdir(parents=True, exist_ok=True)
    card_path = out.with_suffix(".json")
    # Both files appear under their final names only once the export has passed its check.
    with (
        atomic_output(out, what="ONNX model") as tmp_onnx,
        atomic_output(card_path, what="model card") as tmp_card,
    ):
        folded = fold_for_export(model)
        qp_input = bool(getattr(model, "qp_input", False))
        side = list(side or [])
        tmp_onnx.write_bytes(onnx_bytes(folded, qp_input, opset, tuple(side)))

        card: dict[str, Any] = {
            "format": CARD_FORMAT,
            "name": out.stem,
            "architecture": arch,
            "title": info.title,
            "onnx": out.name,
            "sha256": sha256_file(tmp_onnx),
            "opset": opset,
            "component": "luma",
            "inputs": {
                "x": {"scale": 255.0},
                **({"qp": {"scale": 51.0}} if qp_input else {}),
                **{n: {"scale": SIDE_INPUTS[n]} for n in side},
            },
            "output": "image",
            "pad_multiple": info.pad_multiple,
            "qp_range": list(qp_range),
            "trained_qps": list(trained_qps),
            "slice_types": list(slice_types),
            "params": count_params(folded),
            "kmac_per_pixel": round(macs_per_pixel(folded) / 1000.0, 3),
            **(
                {"receptive_field": int(folded.receptive_field)}
                if hasattr(folded, "receptive_field")
                else {}
            ),
            "training": training or {},
            "validation": validation or {},
            "development_artefact": development_artefact,
            "notes": notes,
        }
        # check the export: ONNX Runtime (pinned settings) against PyTorch, before rounding
        mc = ModelCard.from_dict(card)
        flt = OnnxFilter(tmp_onnx, mc, InferenceSettings())
        worst = 0.0
        for h, w in ((48, 80), (72, 56)):
            plane = synthetic_picture(h, w)
            sp = synthetic_side(h, w, side) if side else None
            qp = int(trained_qps[0]) if trained_qps else 37
            ref = torch_reference(folded, plane, qp, info.pad_multiple, sp)
            got = flt.run_float(plane, qp, sp)
            worst = max(worst, float(np.max(np.abs(got - ref))) / 255.0)
        if worst > 1e-4:
            raise UserError(f"export check failed: ONNX differs from PyTorch by {worst:.2e} > 1e-4")
        card["export_check"] = {"max_abs_diff_unit": worst, "sizes": ["80x48", "56x72"]}
        tmp_card.write_text(json.dumps(card, indent=2) + "\n")
    return out, card_path


def _validate_all(model: Any, state: dict, data_dir: str | Path, progress: bool) -> dict:
    from .dataset import PairDataset
    from .train import validate

    cfg = state["config"]
    data = PairDataset(data_dir)
    digest = cfg.get("dataset_summary", {}).get("content_sha256_16")
    if digest and data.content_digest() != digest:
        raise UserError(
            f"{data_dir}: not the dataset the checkpoint was trained on (content "
            f"{data.content_digest()}, trained on {digest})"
        )
    qps = [int(q) for q in cfg["qps"]]
    v = validate(
        model, data, qps, get_arch(state["arch"]).pad_multiple, progress=progress,
        slice_types=cfg.get("slice_types"), side=cfg.get("side") or None,
    )  # fmt: skip
    v["step"] = state["step"]
    v["split"] = "val"
    v["metric"] = "mean per-frame Y-PSNR"
    return v


def export_checkpoint(
    ckpt: str | Path,
    out: str | Path,
    *,
    qp_range: tuple[int, int] | None = None,
    slice_types: list[str] | None = None,
    development_artefact: bool = False,
    notes: str = "",
    opset: int = DEFAULT_OPSET,
    validate_on: str | Path | None = None,
    progress: bool = False,
) -> tuple[Path, Path]:
    """Exports a training checkpoint (``cnnfilter train`` output) to ONNX + card.

    ``validate_on``: a dataset whose whole validation split is measured for the card, instead
    of the training run's last (possibly limited) validation."""
    from .train import load_checkpoint_model

    model, state = load_checkpoint_model(ckpt)
    cfg = state["config"]
    validation = state.get("validation", {})
    if validate_on is not None:
        validation = _validate_all(model, state, validate_on, progress)
    qps = [int(q) for q in cfg["qps"]]
    if qp_range is None:
        if cfg.get("qp_conditioned"):
            qp_range = (0, 51)
        else:
            qp_range = (max(0, min(qps) - 2), min(51, max(qps) + 2))
    training = {
        "dataset": cfg.get("dataset_summary", {}),
        "steps": state["step"],
        "cpu_hours": round(state.get("cpu_seconds", 0.0) / 3600.0, 4),
        "patch": cfg["patch"],
        "batch": cfg["batch"],
        "lr": cfg["lr"],
        "loss": cfg["loss"],
        "seed": cfg["seed"],
        "qp_conditioned": bool(cfg.get("qp_conditioned")),
        "torch": state.get("torch_version", ""),
    }
    if cfg["loss"] == "mse+mae":
        training["mae_weight"] = cfg.get("mae_weight")
    if "train_cpu_seconds" in state:  # the budgeted part: the training steps alone
        training["train_cpu_hours"] = round(state["train_cpu_seconds"] / 3600.0, 4)
    if state.get("lr_changes"):
        # [step, new rate] for each --lr given on a --resume; "lr" is the last rate
        training["lr_changes"] = state["lr_changes"]
    if cfg.get("init"):
        # fine-tuned: steps and cpu_hours count this run only, the starting run's are extra
        training["initialised_from"] = Path(cfg["init"]).name
    return export_model(
        model,
        state["arch"],
        out,
        qp_range=qp_range,
        trained_qps=qps,
        slice_types=slice_types or cfg.get("slice_types", ["I"]),
        training=training,
        validation=validation,
        development_artefact=development_artefact,
        notes=notes,
        opset=opset,
        side=cfg.get("side") or None,
    )

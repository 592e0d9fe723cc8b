"""Training of the zoo's networks on a ``cnnfilter dataset build`` dataset (needs the ``train``
extra). Adam, the network's published loss, patch and batch size (see ``cnnfilter.models``),
seeded, with checkpoints, resume, a CPU-time budget and validation delta-PSNR per QP."""

from __future__ import annotations

import functools
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import (
    PairDataset,
    PatchSampler,
    iter_val_pairs,
    iter_val_side,
    psnr,
    slice_qp,
    val_frames,
)
from .errors import UserError
from .inference import SIDE_INPUTS, round_to_8bit
from .models import build_model, get_arch, require_torch, takes_side

CKPT_FORMAT = "cnnfilter-ckpt/1"


@dataclass
class TrainConfig:
    arch: str
    data: str
    out: str
    qps: list[int]
    qp_conditioned: bool = False
    steps: int | None = None
    minutes: float | None = None  # total CPU-time budget (process time), across resumes
    patch: int | None = None  # None: the network's published value
    batch: int | None = None
    lr: float | None = None
    lr_explicit: bool = False  # --lr was given: on --resume it replaces the checkpoint's rate
    loss: str | None = None
    mae_weight: float = 0.5  # EDCNN: L = (1 - w) * MSE + w * MAE
    # QP-conditioned runs: weight each patch's loss by (1 / mean unfiltered MSE at its QP) to
    # this power: 1 gives every QP the same share, 0 is plain MSE (True/False mean 1/0)
    qp_balance: float = 1.0
    seed: int = 0
    val_every: int = 0  # 0: validate only at the end
    val_limit: int | None = None  # None: every validation frame
    val_crop: int = 0  # 0: whole frames
    ckpt_every: int = 200
    threads: int = 1
    init: str | None = None  # a run directory whose last.pt gives the starting weights
    slice_types: list[str] = field(default_factory=lambda: ["I"])
    # side-information planes the network takes (SIDE_INPUTS names, in input order)
    side: list[str] = field(default_factory=list)
    dataset_summary: dict[str, Any] = field(default_factory=dict)

    def resolve(self) -> TrainConfig:
        info = get_arch(self.arch)
        if self.qp_conditioned and not info.qp_conditioned:
            raise UserError(f"--qp-conditioned: '{self.arch}' takes no QP plane (try qpnet)")
        if info.qp_conditioned:
            self.qp_conditioned = True
        if not self.qp_conditioned and len(self.qps) != 1:
            raise UserError(f"'{self.arch}' is a per-QP network: give exactly one --qp")
        if self.steps is None and self.minutes is None:
            raise UserError("give --steps and/or --minutes (a CPU-time budget)")
        if self.steps is not None and self.steps < 1:
            raise UserError("--steps must be >= 1")
        self.patch = self.patch or info.patch
        self.batch = self.batch or info.batch
        self.lr_explicit = self.lr_explicit or self.lr is not None
        self.lr = self.lr or info.lr
        self.loss = self.loss or info.loss
        if self.loss not in ("mse", "mse+mae"):
            raise UserError(f"loss '{self.loss}': use 'mse' or 'mse+mae'")
        if float(self.qp_balance) < 0.0:
            raise UserError("--qp-balance must be >= 0")
        if not 0.0 <= self.mae_weight <= 1.0:
            raise UserError("--mae-weight must be within 0..1")
        unknown = [s for s in self.side if s not in SIDE_INPUTS]
        if unknown or len(set(self.side)) != len(self.side):
            raise UserError(
                f"--side {' '.join(self.side)}: give each of {', '.join(SIDE_INPUTS)} at most once"
            )
        if self.side and not takes_side(self.arch):
            raise UserError(f"--side: '{self.arch}' takes no side-information planes (try ours)")
        if self.patch % info.pad_multiple:
            raise UserError(f"--patch must be a multiple of {info.pad_multiple} for {self.arch}")
        return self


@dataclass
class TrainResult:
    checkpoint: Path
    step: int
    cpu_seconds: float
    probe_loss_start: float
    probe_loss_end: float
    validation: dict[str, Any]


def _loss(
    torch: Any, out: Any, target: Any, kind: str, mae_weight: float, weights: Any = None
) -> Any:
    """MSE or (1 - w) MSE + w MAE; ``weights`` (one per patch) balance the QPs."""
    mse = torch.mean((out - target) ** 2, dim=(1, 2, 3))
    per = (
        mse
        if kind == "mse"
        else (1.0 - mae_weight) * mse
        + mae_weight * torch.mean(torch.abs(out - target), dim=(1, 2, 3))
    )
    return torch.mean(per if weights is None else per * weights)


def qp_weights(data: PairDataset, qps: list[int], power: float = 1.0) -> dict[int, float]:
    """Per-QP loss weights: the inverse of the training split's mean unfiltered MSE at that QP,
    to ``power``, normalised to a mean of 1. With power 1 every QP has the same share of the
    loss; without weights a QP-conditioned net's loss is dominated by the highest QP (its MSE
    is ~15x that of QP 22)."""
    train = data.split("train")
    inv = {}
    for q in qps:
        ps = [f.qp_info[str(q)]["psnr"] for f in train.frames if str(q) in f.qp_info]
        if not ps:
            raise UserError(f"the dataset manifest has no PSNR for QP {q}")
        inv[q] = (1.0 / float(np.mean(10.0 ** (-np.asarray(ps) / 10.0)))) ** power
    norm = float(np.mean(list(inv.values())))
    return {q: v / norm for q, v in inv.items()}


def _init_weights(run: str | Path, model: Any, arch: str) -> dict[str, Any]:
    """The weights of another run's last checkpoint for ``model`` (see ``widen_state``)."""
    try:
        src, state = load_checkpoint_model(run)
    except FileNotFoundError as e:
        raise FileNotFoundError(f"--init: {e}") from e
    # the same network, or one that extends it (more input planes: side information)
    kind = state.get("arch")
    what = f"--init: {run} is a '{kind}' run" + ("" if kind == arch else f", not '{arch}'")
    return widen_state(src.state_dict(), model, what)


def widen_state(src: dict[str, Any], model: Any, what: str) -> dict[str, Any]:
    """``src`` (a state dict) as a state dict for ``model``, a network that extends it (e.g.
    qpvrcnn, VRCNN plus a QP input and QP gains; or ours with side-information planes): every
    tensor of the source must exist in the target with the same shape, or with more input
    channels (dim 1), which start at zero. Tensors only the target has keep their fresh
    initialisation, so an extension whose new parts start neutral starts as the source net."""
    out = {k: v.clone() for k, v in model.state_dict().items()}
    for k, v in src.items():
        t = out.get(k)
        fits = t is not None and (
            t.shape == v.shape
            or (t.dim() == 4 and t.shape[0] == v.shape[0] and t.shape[2:] == v.shape[2:])
            and t.shape[1] > v.shape[1]
        )
        if not fits:
            raise UserError(f"{what}, and its weights do not fit ('{k}')")
        if t.shape == v.shape:
            out[k] = v.clone()
        else:
            out[k].zero_()
            out[k][:, : v.shape[1]] = v
    return out


def side_kwargs(side: list[str] | None) -> dict[str, Any]:
    """``build_model`` arguments for a network taking the side planes ``side``."""
    return {"side": len(side)} if side else {}


def _forward(
    torch: Any,
    model: Any,
    rec_u8: np.ndarray,
    qp: np.ndarray,
    side_u8: np.ndarray | None = None,
    side: list[str] | None = None,
) -> Any:
    """The model on a batch; ``side_u8`` (n, len(side), p, p) holds the side planes ``side``,
    each divided by its scale (``SIDE_INPUTS``) as the runtime does."""
    x = torch.from_numpy(rec_u8.astype(np.float32) / np.float32(255.0)).unsqueeze(1)
    planes = [
        torch.from_numpy(side_u8[:, j].astype(np.float32) / np.float32(SIDE_INPUTS[n])).unsqueeze(1)
        for j, n in enumerate(side or [])
    ]
    if getattr(model, "qp_input", False):
        q = torch.from_numpy((qp.astype(np.float32) / np.float32(51.0)).reshape(-1, 1, 1, 1))
        return model(x, q.expand_as(x).contiguous(), *planes)
    return model(x, *planes)


def filter_plane_torch(
    model: Any,
    plane: np.ndarray,
    qp: int,
    pad_multiple: int,
    side: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Whole-plane PyTorch inference with the runtime's padding and rounding (uint8 out)."""
    from .export import torch_reference

    return round_to_8bit(torch_reference(model, plane, qp, pad_multiple, side))


def validate(
    model: Any,
    data: PairDataset,
    qps: list[int],
    pad_multiple: int,
    limit: int | None = None,
    crop: int = 0,
    progress: bool = False,
    slice_types: list[str] | None = None,
    side: list[str] | None = None,
) -> dict[str, Any]:
    """Mean per-frame Y-PSNR of the unfiltered reconstruction, of the filtered output and, when
    the dataset has them, of the deblocking+SAO reconstruction, per QP; delta-PSNR over both.
    Only frames of ``slice_types`` (all when None), each filtered at its slice QP, with the
    side planes ``side`` for a network that takes them."""
    from tqdm import tqdm

    val = data.split("val")
    was = model.training
    model.eval()
    res: dict[str, Any] = {"delta_psnr_db": {}, "psnr_rec_db": {}, "psnr_filtered_db": {}}
    n = 0
    try:
        for q in qps:
            pr, pf, pl = [], [], []
            pairs = iter_val_pairs(val, q, limit, crop, slice_types)
            qs = [slice_qp(val, i, q) for i in val_frames(val, limit, slice_types)]
            sides = (
                iter_val_side(val, q, side, limit, crop, slice_types)
                if side
                else iter([None] * len(qs))
            )
            for (rec, org, lf), sq, sp in zip(
                tqdm(pairs, desc=f"validate QP {q}", leave=False, disable=not progress),
                qs,
                sides,
                strict=True,
            ):
                out = filter_plane_torch(model, rec, sq, pad_multiple, sp)
                pr.append(psnr(rec, org))
                pf.append(psnr(out, org))
                if lf is not None:
                    pl.append(psnr(lf, org))
            n = len(pr)
            res["psnr_rec_db"][str(q)] = round(float(np.mean(pr)), 4)
            res["psnr_filtered_db"][str(q)] = round(float(np.mean(pf)), 4)
            res["delta_psnr_db"][str(q)] = round(float(np.mean(pf) - np.mean(pr)), 4)
            if pl and len(pl) == n:  # the same frames with deblocking + SAO on
                res.setdefault("psnr_dbf_sao_db", {})[str(q)] = round(float(np.mean(pl)), 4)
                res.setdefault("delta_psnr_vs_dbf_sao_db", {})[str(q)] = round(
                    float(np.mean(pf) - np.mean(pl)), 4
                )
    finally:
        model.train(was)
    res.update({"frames": n, "crop": crop, "split": "val", "metric": "mean per-frame Y-PSNR"})
    return res


def _save(path: Path, state: dict[str, Any]) -> None:
    """Writes a temporary file, flushes it to disk and renames it over ``path``: a run killed at
    any moment (kill -9 included) leaves the previous checkpoint or the new one, never a torn
    one."""
    torch = require_torch()
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _write_metrics(out: Path, arch: str, val_history: list[dict[str, Any]]) -> None:
    """OUT/metrics.json: every periodic validation so far (the learning curve), atomically."""
    tmp = out / "metrics.json.tmp"
    tmp.write_text(json.dumps({"arch": arch, "validations": val_history}, indent=1) + "\n")
    os.replace(tmp, out / "metrics.json")


def load_checkpoint_model(ckpt: str | Path) -> tuple[Any, dict[str, Any]]:
    """(model in eval mode, checkpoint dict) of a ``cnnfilter train`` checkpoint."""
    torch = require_torch()
    p = Path(ckpt)
    if p.is_dir():
        p = p / "last.pt"
    if not p.is_file():
        raise FileNotFoundError(f"checkpoint not found: {p}")
    try:
        state = torch.load(p, map_location="cpu", weights_only=False)
    except Exception as e:  # pickle and zip errors of a file that is no checkpoint
        raise UserError(f"{p}: not a cnnfilter training checkpoint ({type(e).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != CKPT_FORMAT:
        raise UserError(f"{p}: not a cnnfilter training checkpoint")
    model = build_model(state["arch"], **side_kwargs(state["config"].get("side")))
    model.load_state_dict(state["model"])
    return model.eval(), state


def train(
    cfg: TrainConfig, resume: bool = False, progress: bool = True, log_lines: bool = False
) -> TrainResult:
    """Trains (or, with ``resume``, continues) a run. ``progress`` shows a progress bar;
    ``log_lines`` prints one plain line per 50 steps and per validation instead (for logs)."""
    torch = require_torch()
    from tqdm import tqdm

    cfg.resolve()
    torch.set_num_threads(cfg.threads)
    info = get_arch(cfg.arch)
    data = PairDataset(cfg.data)
    missing = [q for q in cfg.qps if q not in data.qps]
    if missing:
        raise UserError(f"QP {missing} not in the dataset (it has {data.qps})")
    cfg.dataset_summary = data.summary()
    present = {f.slice_type for f in data.split("train").frames}
    if not set(cfg.slice_types) <= present:
        raise UserError(
            f"--slice-types {','.join(cfg.slice_types)}: the dataset's training frames are "
            f"{','.join(sorted(present))} (build one with --cfg LDP or RA for P/B)"
        )
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    last = out / "last.pt"

    torch.manual_seed(cfg.seed)
    model = build_model(cfg.arch, **side_kwargs(cfg.side))
    groups = model.optim_groups(cfg.lr) if hasattr(model, "optim_groups") else model.parameters()
    opt = torch.optim.Adam(groups, lr=cfg.lr)
    types = list(cfg.slice_types)
    side = list(cfg.side)
    sampler = PatchSampler(
        data.split("train"), cfg.qps, cfg.patch, cfg.seed, slice_types=types, side=side
    )
    probe = PatchSampler(
        data.split("train"), cfg.qps, cfg.patch, cfg.seed + 7919, slice_types=types, side=side
    )
    probe_batch = probe.sample(cfg.batch)
    probe_nominal, probe_side = probe.nominal, probe.side_batch
    step, cpu_prev, history, validation = 0, 0.0, [], {}
    # CPU time of the training steps alone, across sessions: what --minutes budgets, so that a
    # run's validation settings do not change how much it trains
    spent = 0.0
    lr_changes: list[list[float]] = []
    # every periodic validation with the CPU time spent so far: the learning curve
    val_history: list[dict[str, Any]] = []
    # [step, content digest] whenever a resume found a dataset with other contents
    data_changes: list[list[Any]] = []

    if resume:
        if not last.is_file():
            raise FileNotFoundError(f"--resume: no checkpoint {last}")
        state = torch.load(last, map_location="cpu", weights_only=False)
        if state.get("arch") != cfg.arch:
            raise UserError(f"--resume: {last} is a '{state.get('arch')}' run, not '{cfg.arch}'")
        old = state["config"]
        for k in ("qps", "patch", "batch", "loss", "seed", "qp_conditioned", "qp_balance", "side"):
            if k == "qp_balance" and float(old.get(k, 1.0)) == float(cfg.qp_balance):
                continue
            if old.get(k, [] if k == "side" else None) != getattr(cfg, k):
                raise UserError(f"--resume: {k} differs from the checkpoint ({old.get(k)})")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        lr_changes = state.get("lr_changes", [])
        if cfg.lr_explicit and old.get("lr") and cfg.lr != old["lr"]:
            # The optimiser state carries the old rates; scale every group (biases keep
            # their ratio) so that --lr on a resume is obeyed, and log where it changed.
            for g in opt.param_groups:
                g["lr"] *= cfg.lr / old["lr"]
            lr_changes.append([state["step"], cfg.lr])
            if progress:
                print(f"learning rate {old['lr']:g} -> {cfg.lr:g} from step {state['step']}")
        else:
            cfg.lr = old.get("lr", cfg.lr)
        sampler.rng.bit_generator.state = state["sampler_rng"]
        torch.set_rng_state(state["torch_rng"])
        step, cpu_prev = state["step"], state["cpu_seconds"]
        # checkpoints written before the split counted validation too: the conservative reading
        spent = state.get("train_cpu_seconds", cpu_prev)
        history, validation = state.get("history", []), state.get("validation", {})
        val_history = state.get("val_history", [])
        data_changes = state.get("data_changes", [])
        was = old.get("dataset_summary", {}).get("content_sha256_16")
        now = cfg.dataset_summary.get("content_sha256_16")
        if was and now != was and (not data_changes or data_changes[-1][1] != now):
            # a rebuilt dataset should be identical (same encoder, same images); a changed
            # encoder makes other data, which the run accepts but records
            data_changes.append([state["step"], now])
            print(
                f"warning: {cfg.data} holds other data than the run was trained on so far "
                f"(content digest {now}, was {was}); recorded in the checkpoint"
            )
    elif last.exists():
        raise UserError(f"{last} exists: use --resume to continue it, or another --out")
    elif cfg.init:
        model.load_state_dict(_init_weights(cfg.init, model, cfg.arch))

    balance = float(cfg.qp_balance)
    wq = qp_weights(data, cfg.qps, balance) if balance and len(cfg.qps) > 1 else None

    def weight_of(qp: np.ndarray) -> Any:
        if wq is None:
            return None
        return torch.tensor([wq[int(q)] for q in qp], dtype=torch.float32)

    def probe_loss() -> float:
        model.eval()
        with torch.no_grad():
            o = _forward(torch, model, probe_batch[0], probe_batch[2], probe_side, side)
            t = torch.from_numpy(probe_batch[1].astype(np.float32) / 255.0).unsqueeze(1)
            v = float(_loss(torch, o, t, cfg.loss, cfg.mae_weight, weight_of(probe_nominal)))
        model.train()
        return v

    def snapshot() -> dict[str, Any]:
        return {
            "format": CKPT_FORMAT,
            "arch": cfg.arch,
            "config": asdict(cfg),
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "step": step,
            "cpu_seconds": cpu_prev + (time.process_time() - t0),
            "train_cpu_seconds": spent,
            "history": history,
            "val_history": val_history,
            "data_changes": data_changes,
            "lr_changes": lr_changes,
            "validation": validation,
            "sampler_rng": sampler.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "torch_version": torch.__version__,
        }

    def do_validate() -> dict[str, Any]:
        v = validate(
            model, data, cfg.qps, info.pad_multiple, cfg.val_limit, cfg.val_crop,
            progress=progress, slice_types=types, side=side,
        )  # fmt: skip
        v["step"] = step
        v["train_cpu_seconds"] = round(spent, 3)
        v["cpu_seconds"] = round(cpu_prev + time.process_time() - t0, 3)
        keep = ("delta_psnr_db", "delta_psnr_vs_dbf_sao_db", "frames", "crop")
        val_history.append(
            {
                "step": step,
                "train_cpu_seconds": v["train_cpu_seconds"],
                "cpu_seconds": v["cpu_seconds"],
                **{k: v[k] for k in keep if k in v},
            }
        )
        _write_metrics(out, cfg.arch, val_history)
        return v

    t0 = time.process_time()
    start_loss = probe_loss()
    if cfg.init and not resume and cfg.val_every:
        # a fine-tune's learning curve starts where the network it extends stood
        validation = do_validate()
    budget = cfg.minutes * 60.0 if cfg.minutes is not None else math.inf
    target = cfg.steps if cfg.steps is not None else None
    bar = tqdm(
        total=target,
        initial=step if target else 0,
        desc=f"train {cfg.arch}",
        unit="step",
        disable=not progress,
    )
    say = functools.partial(print, flush=True) if log_lines else bar.write
    model.train()
    run_loss, run_n = 0.0, 0
    while (target is None or step < target) and spent < budget:
        ts = time.process_time()
        rec, org, qp = sampler.sample(cfg.batch)
        o = _forward(torch, model, rec, qp, sampler.side_batch, side)
        t = torch.from_numpy(org.astype(np.float32) / np.float32(255.0)).unsqueeze(1)
        loss = _loss(torch, o, t, cfg.loss, cfg.mae_weight, weight_of(sampler.nominal))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        run_loss += loss.item()
        run_n += 1
        bar.update(1)
        spent += time.process_time() - ts
        if step % 10 == 0 or step == 1:
            bar.set_postfix(loss=f"{run_loss / run_n:.3e}", cpu_min=f"{spent / 60.0:.1f}")
        if step % 50 == 0:
            history.append([step, run_loss / run_n])
            if log_lines:
                print(
                    f"step {step}: loss {run_loss / run_n:.4e}, {spent / 60.0:.1f} CPU-min",
                    flush=True,
                )
            run_loss, run_n = 0.0, 0
        if cfg.val_every and step % cfg.val_every == 0:
            validation = do_validate()
            if progress or log_lines:
                say(f"step {step}: validation dPSNR {validation['delta_psnr_db']}")
        if cfg.ckpt_every and step % cfg.ckpt_every == 0:
            _save(last, snapshot())
    bar.close()
    if run_n:
        history.append([step, run_loss / run_n])
    end_loss = probe_loss()
    if not (val_history and val_history[-1]["step"] == step):
        validation = do_validate()
    _save(last, snapshot())
    summary = {
        "arch": cfg.arch,
        "step": step,
        "cpu_seconds": round(cpu_prev + time.process_time() - t0, 1),
        "train_cpu_seconds": round(spent, 1),
        "probe_loss_start": start_loss,
        "probe_loss_end": end_loss,
        "lr_changes": lr_changes,
        "validation": validation,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return TrainResult(last, step, summary["cpu_seconds"], start_loss, end_loss, validation)

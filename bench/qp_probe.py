"""Short, seeded training probes that isolate why a QP-conditioned net learns slowly.

Each probe trains one network for a fixed number of Adam steps on one core and reports, at a
few points, the gain of the net over the unfiltered reconstruction on a fixed set of
validation patches, per QP: 10 log10(MSE(rec) / MSE(net)) in dB (no rounding). The patches are
the same for every probe, so probes compare like for like.

    python bench/qp_probe.py --data /work/data/ds-small --arch qpnet --steps 300 \
        --variant balance=0 lr=1e-3

Variants (``key=value``): ``balance`` (the power of the per-QP loss weighting, 0 = off),
``lr``, ``batch``, ``patch``, ``kwargs`` (JSON: the network's constructor arguments),
``qps`` (e.g. ``37`` or ``22,27,32,37``), ``gains`` (0: FiLM gains frozen at 1),
``bias_lr`` (bias learning-rate multiplier), ``seed``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnfilter.dataset import PairDataset, PatchSampler  # noqa: E402
from cnnfilter.models import build_model, get_arch  # noqa: E402
from cnnfilter.train import _forward, _loss, qp_weights  # noqa: E402


def val_patches(data: PairDataset, qps: list[int], patch: int, n: int) -> dict[int, tuple]:
    out = {}
    for q in qps:
        s = PatchSampler(data.split("val"), [q], patch, seed=12345, augment=False)
        out[q] = s.sample(n)
    return out


def gains_db(torch, model, vp) -> dict[int, float]:
    model.eval()
    res = {}
    with torch.no_grad():
        for q, (rec, org, qp) in vp.items():
            o = _forward(torch, model, rec, qp).squeeze(1).numpy() * 255.0
            e_out = float(np.mean((o - org.astype(np.float32)) ** 2))
            e_rec = float(np.mean((rec.astype(np.float32) - org.astype(np.float32)) ** 2))
            res[q] = round(10.0 * np.log10(e_rec / e_out), 4)
    model.train()
    return res


def main() -> None:
    import torch

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--arch", default="qpnet")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--report", type=int, nargs="+", default=[100, 200, 300])
    ap.add_argument("--variant", nargs="*", default=[])
    ap.add_argument("--val-n", type=int, default=48)
    ap.add_argument("--json", help="append the result as one JSON line to this file")
    a = ap.parse_args()
    v = dict(kv.split("=", 1) for kv in a.variant)
    info = get_arch(a.arch)
    seed = int(v.get("seed", 0))
    qps = [int(q) for q in v.get("qps", "22,27,32,37").split(",")]
    lr = float(v.get("lr", info.lr))
    batch = int(v.get("batch", info.batch))
    patch = int(v.get("patch", info.patch))
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    data = PairDataset(a.data)
    model = build_model(a.arch, **json.loads(v.get("kwargs", "{}")))
    if v.get("gains", "1") == "0":
        for n, p in model.named_parameters():
            if n.startswith("gain"):
                p.requires_grad_(False)
    bias_mult = float(v.get("bias_lr", 1.0))
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [
        {"params": [p for n, p in params if not n.endswith("bias")], "lr": lr},
        {"params": [p for n, p in params if n.endswith("bias")], "lr": lr * bias_mult},
    ]
    opt = torch.optim.Adam(groups, lr=lr)
    power = float(v.get("balance", "1"))
    wq = qp_weights(data, qps, power) if power and len(qps) > 1 else None
    sampler = PatchSampler(data.split("train"), qps, patch, seed=seed)
    vp = val_patches(data, [22, 27, 32, 37], 64, a.val_n)
    curve = []
    t0 = time.process_time()
    for step in range(1, a.steps + 1):
        rec, org, qp = sampler.sample(batch)
        o = _forward(torch, model, rec, qp)
        t = torch.from_numpy(org.astype(np.float32) / np.float32(255.0)).unsqueeze(1)
        w = None if wq is None else torch.tensor([wq[int(q)] for q in qp], dtype=torch.float32)
        loss = _loss(torch, o, t, "mse", 0.0, w)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step in a.report:
            cpu = time.process_time() - t0
            curve.append(
                {"step": step, "cpu_s": round(cpu, 1), "gain_db": gains_db(torch, model, vp)}
            )
            print(json.dumps({"arch": a.arch, "variant": v, **curve[-1]}), flush=True)
    if a.json:
        with open(a.json, "a") as f:
            f.write(json.dumps({"arch": a.arch, "variant": v, "curve": curve}) + "\n")


if __name__ == "__main__":
    main()

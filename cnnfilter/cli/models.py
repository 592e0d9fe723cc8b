"""``cnnfilter models``: the network zoo with parameter counts and kMAC/pixel."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "models",
        help="list the CNN filter networks (parameters, kMAC/pixel)",
        description="List the networks of the model zoo with their parameter count and cost, "
        "computed by building each network (needs the 'train' extra for PyTorch).",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..models import ARCHS, model_cost, require_torch

    torch = require_torch()
    torch.set_num_threads(1)
    rows = []
    for name, info in ARCHS.items():
        params, folded, kmac = model_cost(name)
        rows.append(
            {
                "name": name,
                "title": info.title,
                "params": params,
                "params_folded": folded,
                "kmac_per_pixel": round(kmac, 1),
                "qp_conditioned": info.qp_conditioned,
                "loss": info.loss,
                "patch": info.patch,
                "batch": info.batch,
                "lr": info.lr,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"{'name':9s} {'params':>11s} {'kMAC/px':>9s}  {'QP plane':8s} {'loss':7s} "
        f"{'patch':>5s} {'batch':>5s}  description"
    )
    for r in rows:
        print(
            f"{r['name']:9s} {r['params']:>11,d} {r['kmac_per_pixel']:>9.1f}  "
            f"{'yes' if r['qp_conditioned'] else 'no':8s} {r['loss']:7s} {r['patch']:>5d} "
            f"{r['batch']:>5d}  {r['title']}"
        )
    print(
        "kMAC/pixel: multiply-accumulates of every conv per output sample, measured at 256x256; "
        "parameters before folding weight/batch norm."
    )
    return 0

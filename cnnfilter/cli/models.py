"""``cnnfilter models``: the network zoo with parameter counts and kMAC/pixel, and the shipped
model sets with their cards' figures."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "models",
        help="list the CNN filter networks (parameters, kMAC/pixel) and the shipped model sets",
        description="List the networks of the model zoo with their parameter count and cost "
        "(from the table that the test suite checks against the built networks; --measure "
        "builds each network again, which needs PyTorch), then the shipped model sets with the "
        "figures of their model cards.",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--measure",
        action="store_true",
        help="build every network and measure its cost now (needs the 'train' extra; ~20 s)",
    )
    p.set_defaults(func=run)


def _shipped_sets() -> list[dict]:
    from ..modelset import MANIFEST, default_models_dirs

    rows = []
    for d in default_models_dirs():
        for manifest in sorted(d.glob(f"*/{MANIFEST}")):
            try:
                m = json.loads(manifest.read_text())
                cards = [
                    json.loads((manifest.parent / e["card"]).read_text())
                    for e in m["models"].values()
                ]
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                rows.append({"set": manifest.parent.name, "error": "unreadable manifest or card"})
                continue
            rows.append(
                {
                    "set": manifest.parent.name,
                    "models": len(cards),
                    "architecture": sorted({str(c.get("architecture", "?")) for c in cards}),
                    "kmac_per_pixel": max(float(c.get("kmac_per_pixel", 0)) for c in cards),
                    "development_artefact": bool(m.get("development_artefact", False)),
                }
            )
    return rows


def run(args: argparse.Namespace) -> int:
    from ..models import ARCHS, cost_table, model_cost, require_torch

    if args.measure:
        require_torch().set_num_threads(1)
        costs = {}
        for name in ARCHS:
            params, folded, kmac = model_cost(name)
            costs[name] = {"params": params, "params_folded": folded, "kmac_per_pixel": kmac}
    else:
        costs = cost_table()
    rows = []
    for name, info in ARCHS.items():
        c = costs.get(name, {})
        rows.append(
            {
                "name": name,
                "title": info.title,
                "params": c.get("params"),
                "params_folded": c.get("params_folded"),
                "kmac_per_pixel": None if not c else round(c["kmac_per_pixel"], 1),
                "qp_conditioned": info.qp_conditioned,
                "loss": info.loss,
                "patch": info.patch,
                "batch": info.batch,
                "lr": info.lr,
            }
        )
    sets = _shipped_sets()
    if args.json:
        print(json.dumps({"networks": rows, "shipped_sets": sets}, indent=2))
        return 0
    print(
        f"{'name':9s} {'params':>11s} {'kMAC/px':>9s}  {'QP plane':8s} {'loss':7s} "
        f"{'patch':>5s} {'batch':>5s}  description"
    )
    for r in rows:
        params = "?" if r["params"] is None else f"{r['params']:,d}"
        kmac = "?" if r["kmac_per_pixel"] is None else f"{r['kmac_per_pixel']:.1f}"
        print(
            f"{r['name']:9s} {params:>11s} {kmac:>9s}  "
            f"{'yes' if r['qp_conditioned'] else 'no':8s} {r['loss']:7s} {r['patch']:>5d} "
            f"{r['batch']:>5d}  {r['title']}"
        )
    print(
        "kMAC/pixel: multiply-accumulates of every conv per output sample, measured at 256x256; "
        "parameters before folding weight/batch norm"
        + ("." if args.measure else " (table checked by the tests; --measure rebuilds).")
    )
    if sets:
        print()
        print(f"{'shipped set':18s} {'models':>6s} {'kMAC/px':>9s}  architecture")
        for s in sets:
            if "error" in s:
                print(f"{s['set']:18s} {s['error']}")
                continue
            note = "  (development artefact)" if s["development_artefact"] else ""
            print(
                f"{s['set']:18s} {s['models']:>6d} {s['kmac_per_pixel']:>9.1f}  "
                f"{', '.join(s['architecture'])}{note}"
            )
    return 0

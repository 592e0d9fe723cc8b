"""``cnnfilter export``: checkpoint -> ONNX (opset >= 17, dynamic H/W, norms folded) + card."""

from __future__ import annotations

import argparse
import json

from ..errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a training checkpoint to ONNX with its model card",
        description="Export a 'cnnfilter train' checkpoint to ONNX (inputs 'x' and, for "
        "QP-conditioned networks, 'qp'; dynamic N/H/W; batch norm and weight norm folded) and "
        "write its model card next to it (same name, .json). The export is checked against "
        "PyTorch (within 1e-4 before rounding) with the deterministic runtime settings.",
    )
    p.add_argument("-c", "--checkpoint", required=True, help="checkpoint file or run directory")
    p.add_argument("-o", "--out", required=True, help="output .onnx file")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (>= 17)")
    p.add_argument("--qp-range", type=int, nargs=2, metavar=("LO", "HI"), help="card QP range")
    p.add_argument("--slice-types", default=None, help="comma list, e.g. I or I,P,B")
    p.add_argument("--dev", action="store_true", help="mark the card under-trained")
    p.add_argument("--notes", default="", help="free text for the card")
    p.add_argument(
        "--validate",
        metavar="DATA",
        default=None,
        help="measure the card's validation on the whole validation split of this dataset "
        "(default: the training run's last validation)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..export import export_checkpoint
    from ..models import require_torch

    if args.opset < 17:
        raise UserError(f"--opset {args.opset}: the contract needs opset 17 or newer")
    require_torch().set_num_threads(1)
    onnx_path, card_path = export_checkpoint(
        args.checkpoint,
        args.out,
        qp_range=tuple(args.qp_range) if args.qp_range else None,
        slice_types=args.slice_types.split(",") if args.slice_types else None,
        development_artefact=args.dev,
        notes=args.notes,
        opset=args.opset,
        validate_on=args.validate,
        progress=True,
    )
    card = json.loads(card_path.read_text())
    print(f"wrote {onnx_path} (sha256 {card['sha256'][:16]}...) and {card_path}")
    print(
        f"  {card['architecture']}: {card['params']:,} parameters, "
        f"{card['kmac_per_pixel']:.1f} kMAC/px, QP {card['qp_range']}, "
        f"ONNX vs PyTorch max diff {card['export_check']['max_abs_diff_unit']:.1e}"
    )
    return 0

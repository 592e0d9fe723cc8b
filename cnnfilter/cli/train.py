"""``cnnfilter train``: train one network of the zoo on a dataset (needs the 'train' extra)."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a CNN filter (Adam, published loss/patch/batch, checkpoints, resume)",
        description="Train a network of the zoo. Per-QP networks take one --qp; QP-conditioned "
        "networks (qpnet) train on every QP of the dataset. The run stops at --steps or when the "
        "training steps have used --minutes of CPU time (counted across resumes, validation left "
        "out), whichever comes first; "
        "it then validates (delta-PSNR per QP over the unfiltered reconstruction) and writes "
        "OUT/last.pt and OUT/summary.json.",
    )
    p.add_argument("--arch", required=True, help="network name (see 'cnnfilter models')")
    p.add_argument("--data", required=True, help="dataset directory ('cnnfilter dataset build')")
    p.add_argument("-o", "--out", required=True, help="run directory (checkpoints, summary)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--qp", type=int, help="train a per-QP model at this QP")
    g.add_argument("--qp-conditioned", action="store_true", help="one model for all QPs")
    p.add_argument("--steps", type=int, help="total optimiser steps")
    p.add_argument(
        "--minutes", type=float, help="total CPU-time budget of the training steps in minutes"
    )
    p.add_argument("--resume", action="store_true", help="continue OUT/last.pt")
    p.add_argument(
        "--init",
        metavar="RUN",
        help="start from the weights of another run of the same network (RUN/last.pt), e.g. "
        "a per-QP model fine-tuned from the next higher QP's; the optimiser starts afresh",
    )
    p.add_argument(
        "--slice-types",
        metavar="T,...",
        help="train on frames of these slice types (default: I for an All-Intra dataset, its P "
        "or B pictures for an LDP or RA one); the model card and set apply to them",
    )
    p.add_argument(
        "--side",
        nargs="+",
        metavar="PLANE",
        default=[],
        help="side-information planes the network takes, in this order (qp_map, mode, "
        "boundary; a dataset built with --side; ours only). With --init from a run without "
        "them, the new input channels start at zero: the net starts as the one it extends",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--patch", type=int, help="patch size (default: the published one)")
    p.add_argument("--batch", type=int, help="batch size (default: the published one)")
    p.add_argument(
        "--lr",
        type=float,
        help="Adam learning rate (default: the published one); with --resume, the new rate "
        "from the checkpoint's step on",
    )
    p.add_argument("--loss", choices=["mse", "mse+mae"], help="default: the published loss")
    p.add_argument(
        "--mae-weight", type=float, default=0.5, help="MAE weight w of the mixed loss (EDCNN)"
    )
    p.add_argument(
        "--qp-balance",
        type=float,
        default=1.0,
        metavar="P",
        help="QP-conditioned runs: weight each QP's loss by (1 / its mean unfiltered MSE)^P; "
        "1 (default) gives every QP the same share, 0 is plain MSE",
    )
    p.add_argument(
        "--no-qp-balance",
        action="store_true",
        help="QP-conditioned runs: plain MSE instead of weighting each QP by 1/its mean MSE",
    )
    p.add_argument("--val-every", type=int, default=0, help="validate every N steps (0: at end)")
    p.add_argument("--val-limit", type=int, help="validate on N evenly spaced frames (all)")
    p.add_argument("--val-crop", type=int, default=0, help="validate on centred crops (0: whole)")
    p.add_argument("--ckpt-every", type=int, default=200, help="checkpoint every N steps")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..dataset import PairDataset
    from ..models import get_arch
    from ..train import TrainConfig, train

    info = get_arch(args.arch)
    if args.qp is not None:
        qps = [args.qp]
    elif args.qp_conditioned or info.qp_conditioned:
        qps = PairDataset(args.data).qps
    else:
        raise UserError(f"'{args.arch}' is a per-QP network: give --qp N")
    cfg = TrainConfig(
        arch=args.arch,
        data=args.data,
        out=args.out,
        qps=qps,
        qp_conditioned=args.qp_conditioned,
        steps=args.steps,
        minutes=args.minutes,
        patch=args.patch,
        batch=args.batch,
        lr=args.lr,
        loss=args.loss,
        mae_weight=args.mae_weight,
        seed=args.seed,
        val_every=args.val_every,
        val_limit=args.val_limit,
        val_crop=args.val_crop,
        ckpt_every=args.ckpt_every,
        threads=args.threads,
        init=args.init,
        qp_balance=0.0 if args.no_qp_balance else args.qp_balance,
        slice_types=_slice_types(args),
        side=list(args.side),
    )
    # a progress bar on a terminal; plain lines in a log (a long background run's nohup file)
    tty = sys.stderr.isatty()
    res = train(cfg, resume=args.resume, progress=tty, log_lines=not tty)
    print(
        f"{res.step} steps, {res.cpu_seconds / 60:.1f} CPU-min; probe loss "
        f"{res.probe_loss_start:.4e} -> {res.probe_loss_end:.4e}; checkpoint {res.checkpoint}"
    )
    print("validation:", json.dumps(res.validation))
    return 0


def _slice_types(args: argparse.Namespace) -> list[str]:
    """--slice-types, or the dataset's: I for an All-Intra one, its P or B for LDP or RA."""
    if args.slice_types:
        types = [t.strip() for t in args.slice_types.split(",") if t.strip()]
        if not types or any(t not in ("I", "P", "B") for t in types):
            raise UserError(f"--slice-types {args.slice_types}: use I, P and/or B, e.g. P,B")
        return types
    from ..dataset import PairDataset

    ds_types = PairDataset(args.data).manifest.get("slice_types", ["I"])
    return [t for t in ds_types if t != "I"] or ["I"]

"""``cnnfilter dataset build``: training pairs (reconstruction without deblocking/SAO, original,
QP, slice type) at QP 22/27/32/37, All-Intra, or LDP/RA moving sequences whose P/B pictures
predict from unfiltered or (``--references filtered``) filtered references."""

from __future__ import annotations

import argparse
import json

from ..dataset import DEFAULT_QPS, REFERENCES, SIDE_PLANES, VALIDATION_SETS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dataset",
        help="build or describe a training dataset",
        description="Training data for the CNN filters.",
    )
    dsub = p.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    b = dsub.add_parser(
        "build",
        help="encode the shared images and store (rec, orig, QP, slice type) pairs",
        description="Encode every picture under SOURCE/images (All-Intra, or with --cfg LDP or "
        "RA as a moving sequence) with deblocking and SAO "
        "off at each QP, and store the luma of (reconstruction, original) with a manifest "
        "(--references filtered: LDP/RA coded with them on, storing the reconstruction before "
        "deblocking). "
        f"Validation = {' + '.join(VALIDATION_SETS)} (never used for training). Held out "
        "entirely: images/skimage and the clips under SOURCE/video, which are the CTC test "
        "sequences. Everything else is training data.",
    )
    b.add_argument("-o", "--out", required=True, help="output directory (must not hold a dataset)")
    b.add_argument("--source", default="../shared/data", help="content root (holds images/)")
    b.add_argument(
        "--codec",
        choices=["ours", "x265"],
        default="ours",
        help="ours = cnnfilter.encode (the project's encoder); x265 = x265 --keyint 1 "
        "--no-deblock --no-sao, decoded by cnnfilter.decode",
    )
    b.add_argument("--qp", type=int, nargs="+", default=list(DEFAULT_QPS), help="QPs")
    b.add_argument(
        "--cfg",
        help="AI (default), LDP or RA: the configuration (LDP and RA code a moving 9-frame "
        "sequence made from each image, so the pairs include P or B pictures); or an All-Intra "
        "encoder configuration file for --codec ours",
    )
    b.add_argument(
        "--references",
        choices=list(REFERENCES),
        default="unfiltered",
        help="with --cfg LDP or RA, what P/B pictures predict from: 'unfiltered' (default: coded "
        "with deblocking and SAO off, each frame's reconstruction stored) or 'filtered' (coded "
        "with them on, as in the loop; each frame's reconstruction before deblocking, what the "
        "in-loop CNN receives, is stored)",
    )
    b.add_argument(
        "--side",
        action="store_true",
        help="also store, with every reconstruction, the side-information planes the encoder "
        f"hands the in-loop CNN ({', '.join(SIDE_PLANES)}; --codec ours): the data for models "
        f"that take them ({len(SIDE_PLANES)} uint8 planes per picture and QP more)",
    )
    b.add_argument("--limit", type=int, help="at most N sources per collection (smoke builds)")
    b.add_argument(
        "--jobs", type=int, default=1, help="sources coded at once (the data does not change)"
    )
    b.set_defaults(func=run_build)
    b.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip coding the validation pictures a second time with deblocking+SAO on",
    )
    bl = dsub.add_parser(
        "baseline",
        help="add the deblocking+SAO reconstructions of the validation split to a dataset",
        description="Code the validation pictures again with the dataset's codec and QPs, "
        "deblocking and SAO on, so that validation reports the gain over them too.",
    )
    bl.add_argument("path", help="dataset directory")
    bl.add_argument("--cfg", help="encoder configuration file for codec 'ours'")
    bl.add_argument("--jobs", type=int, default=1, help="sources coded at once")
    bl.set_defaults(func=run_baseline)
    s = dsub.add_parser("show", help="summarise a dataset")
    s.add_argument("path", help="dataset directory")
    s.set_defaults(func=run_show)


CONFIGS = ("AI", "LDP", "RA")


def run_build(args: argparse.Namespace) -> int:
    from ..dataset import PairDataset, build_dataset

    path = build_dataset(
        args.source,
        args.out,
        codec=args.codec,
        qps=tuple(args.qp),
        limit=args.limit,
        cfg=None if args.cfg in CONFIGS else args.cfg,
        baseline=not args.no_baseline,
        jobs=args.jobs,
        config=args.cfg if args.cfg in CONFIGS else "AI",
        references=args.references,
        side=args.side,
    )
    print(f"dataset written: {path}")
    print(json.dumps(PairDataset(path.parent).summary(), indent=2))
    return 0


def run_baseline(args: argparse.Namespace) -> int:
    from ..dataset import add_baseline

    print(f"updated {add_baseline(args.path, cfg=args.cfg, jobs=args.jobs)}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    import numpy as np

    from ..dataset import PairDataset

    ds = PairDataset(args.path)
    print(json.dumps(ds.summary(), indent=2))
    for name, sp in ds.splits.items():
        for q in ds.qps:
            ps = [f.qp_info.get(str(q), {}).get("psnr", np.nan) for f in sp.frames]
            line = (
                f"{name:5s} QP {q}: {len(sp.frames)} frames, mean Y-PSNR of the reconstruction "
                f"{np.nanmean(ps):.3f} dB"
            )
            if sp.rec_lf:
                pl = [f.qp_info.get(str(q), {}).get("psnr_lf", np.nan) for f in sp.frames]
                line += f", with deblocking+SAO {np.nanmean(pl):.3f} dB"
            print(line)
    return 0
